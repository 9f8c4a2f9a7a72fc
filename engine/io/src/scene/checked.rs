//! Reading a scene and judging it in one step: what every face (CLI `render`, `convert`,
//! `info`, the C API) does with a scene file, so that they agree on what is invalid and on
//! what dropping invalid splats means.
//!
//! A scene is invalid when [`Splats::validate`] says so (a non-finite value, a zero-length
//! quaternion, a log-scale whose scale overflows f32, inconsistent lengths, an SH degree above
//! 3). The caller's [`InvalidSplats`] policy decides what happens then.

use std::path::Path;

use super::{read_scene, SceneFile};
use crate::{IoError, Splats};

/// What [`read_scene_checked`] does with an invalid scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidSplats {
    /// Fail with an input error `PATH: invalid scene: PROBLEM`, followed by ` (HINT)` when a
    /// hint is given (how the caller's face drops such splats, e.g. a flag).
    Reject { hint: Option<&'static str> },
    /// Remove every invalid splat ([`Splats::drop_invalid`]) and say how many
    /// ([`Check::Dropped`]). What dropping cannot fix (an SH degree above 3) is still an error.
    Drop,
    /// Keep the scene as read and report its first problem ([`Check::Invalid`]), for tools
    /// that describe a file before they judge it.
    Report,
}

/// The verdict on a scene read by [`read_scene_checked`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Every splat is valid.
    Valid,
    /// [`InvalidSplats::Drop`] removed `count` splats; `problem` is the first one found.
    Dropped { count: usize, problem: String },
    /// [`InvalidSplats::Report`]: the scene is invalid and was kept as read.
    Invalid(String),
}

/// A scene file read and judged.
#[derive(Clone, Debug)]
pub struct CheckedScene {
    /// The file's splats (after dropping, under [`InvalidSplats::Drop`]), its format, its
    /// antialiasing flag ([`SceneFile::antialiased`]) and the reader's notes.
    pub file: SceneFile,
    /// What the check found.
    pub check: Check,
}

impl CheckedScene {
    /// The splats to render.
    pub fn splats(&self) -> &Splats {
        &self.file.splats
    }

    /// The file says the scene was trained with antialiasing.
    pub fn antialiased(&self) -> bool {
        self.file.antialiased
    }

    /// Adaptations the reader made (skipped extensions, dropped SH band 4, …).
    pub fn notes(&self) -> &[String] {
        &self.file.notes
    }
}

/// The error of an invalid scene, `PATH: invalid scene: PROBLEM[ (HINT)]`: the same words in
/// every face (also for callers that report first and fail afterwards).
pub fn invalid_scene(path: &Path, problem: &str, hint: Option<&str>) -> IoError {
    let hint = hint.map_or(String::new(), |h| format!(" ({h})"));
    IoError::input(path, format!("invalid scene: {problem}{hint}"))
}

/// Reads a scene file of any format ([`read_scene`]) and validates it under `policy`.
pub fn read_scene_checked(path: &Path, policy: InvalidSplats) -> Result<CheckedScene, IoError> {
    let file = read_scene(path)?;
    check_scene(file, path, policy)
}

/// Validates a scene already read; `path` labels errors.
pub fn check_scene(
    mut file: SceneFile,
    path: &Path,
    policy: InvalidSplats,
) -> Result<CheckedScene, IoError> {
    let Err(problem) = file.splats.validate() else {
        return Ok(CheckedScene {
            file,
            check: Check::Valid,
        });
    };
    let check = match policy {
        InvalidSplats::Reject { hint } => return Err(invalid_scene(path, &problem, hint)),
        InvalidSplats::Report => Check::Invalid(problem),
        InvalidSplats::Drop => {
            let count = file.splats.drop_invalid();
            // Dropping leaves only finite splats with consistent lengths, except for an
            // unsupported SH degree, which no dropping can fix.
            file.splats
                .validate()
                .map_err(|p| invalid_scene(path, &p, None))?;
            Check::Dropped { count, problem }
        }
    };
    Ok(CheckedScene { file, check })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;

    /// Four valid splats in a PLY, with `spoil` applied.
    fn scene_file(
        dir: &TempDir,
        name: &str,
        spoil: impl FnOnce(&mut Splats),
    ) -> std::path::PathBuf {
        let n = 4;
        let mut s = Splats {
            means: (0..n).map(|i| [i as f32, 0.0, 5.0]).collect(),
            rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
            log_scales: vec![[-2.0; 3]; n],
            opacity_logits: vec![1.0; n],
            sh_degree: 0,
            sh: vec![0.5; n * 3],
        };
        spoil(&mut s);
        let path = dir.path().join(name);
        crate::write_ply(&path, &s).unwrap();
        path
    }

    const POLICIES: [InvalidSplats; 3] = [
        InvalidSplats::Reject { hint: None },
        InvalidSplats::Drop,
        InvalidSplats::Report,
    ];

    #[test]
    fn a_valid_scene_is_valid_under_every_policy() {
        let dir = TempDir::new("checked-valid");
        let path = scene_file(&dir, "ok.ply", |_| {});
        for policy in POLICIES {
            let c = read_scene_checked(&path, policy).unwrap();
            assert_eq!(c.check, Check::Valid, "{policy:?}");
            assert_eq!(c.splats().len(), 4);
            assert!(!c.antialiased());
        }
    }

    #[test]
    fn reject_names_the_file_and_the_splat() {
        let dir = TempDir::new("checked-reject");
        let path = scene_file(&dir, "nan.ply", |s| s.opacity_logits[2] = f32::NAN);
        let e = read_scene_checked(&path, InvalidSplats::Reject { hint: None }).unwrap_err();
        assert!(matches!(e, IoError::Input { .. }));
        assert_eq!(
            e.to_string(),
            format!(
                "{}: invalid scene: splat 2: opacity_logit[0] is NaN",
                path.display()
            )
        );
        let hint = Some("--drop-invalid removes such splats");
        let e = read_scene_checked(&path, InvalidSplats::Reject { hint }).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("is NaN (--drop-invalid removes such splats)"),
            "{e}"
        );
    }

    #[test]
    fn drop_removes_exactly_the_invalid_splats() {
        let dir = TempDir::new("checked-drop");
        let path = scene_file(&dir, "bad.ply", |s| {
            s.rotations[0] = [0.0; 4];
            s.log_scales[3][1] = 89.0;
        });
        let c = read_scene_checked(&path, InvalidSplats::Drop).unwrap();
        match &c.check {
            Check::Dropped { count, problem } => {
                assert_eq!(*count, 2);
                assert!(problem.starts_with("splat 0: rotation"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
        let means: Vec<f32> = c.splats().means.iter().map(|m| m[0]).collect();
        assert_eq!(means, [1.0, 2.0]);
        assert_eq!(c.splats().validate(), Ok(()));
    }

    #[test]
    fn drop_cannot_fix_an_unsupported_sh_degree() {
        let dir = TempDir::new("checked-degree");
        let path = dir.path().join("deg4.ply");
        let file = SceneFile {
            splats: Splats {
                sh_degree: 4,
                ..Splats::default()
            },
            format: super::super::Format::Splat,
            antialiased: false,
            frame: super::super::Axes::Rdf,
            file_bytes: 0,
            header_bytes: 0,
            bytes_per_splat: 0.0,
            notes: Vec::new(),
            spz_extra: Default::default(),
        };
        let e = check_scene(file, &path, InvalidSplats::Drop).unwrap_err();
        assert!(
            e.to_string().contains("invalid scene: sh_degree is 4"),
            "{e}"
        );
    }

    #[test]
    fn report_keeps_the_scene_and_its_problem() {
        let dir = TempDir::new("checked-report");
        let path = scene_file(&dir, "inf.ply", |s| s.means[1][2] = f32::INFINITY);
        let c = read_scene_checked(&path, InvalidSplats::Report).unwrap();
        assert_eq!(c.splats().len(), 4);
        assert_eq!(c.splats().means[1][2], f32::INFINITY);
        match &c.check {
            Check::Invalid(p) => assert!(p.starts_with("splat 1: mean[2] is inf"), "{p}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_antialiasing_flag_and_notes_come_through() {
        let dir = TempDir::new("checked-aa");
        let s = Splats {
            means: vec![[0.0, 0.0, 1.0]],
            rotations: vec![[1.0, 0.0, 0.0, 0.0]],
            log_scales: vec![[-2.0; 3]],
            opacity_logits: vec![0.0],
            sh_degree: 0,
            sh: vec![0.0; 3],
        };
        let path = dir.path().join("aa.ply");
        let options = super::super::WriteOptions {
            antialiased: true,
            ..Default::default()
        };
        super::super::write_scene(&path, &s, super::super::OutputFormat::Ply, &options).unwrap();
        for policy in POLICIES {
            let c = read_scene_checked(&path, policy).unwrap();
            assert!(c.antialiased(), "{policy:?}");
            assert!(c.notes().is_empty());
        }
        // A missing file is the reader's error, whatever the policy.
        let missing = dir.path().join("missing.ply");
        for policy in POLICIES {
            assert!(matches!(
                read_scene_checked(&missing, policy),
                Err(IoError::Input { .. })
            ));
        }
    }
}
