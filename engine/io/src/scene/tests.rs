//! Scene dispatch tests: sniffing, every format's round trip, metadata.

use super::*;
use crate::test_util::{Rng, TempDir};

fn random_scene(rng: &mut Rng, n: usize, sh_degree: u32) -> Splats {
    let k = crate::formats::coeffs_for_degree(sh_degree);
    let mut s = crate::formats::zeroed(n, sh_degree).unwrap();
    for i in 0..n {
        s.means[i] = [
            rng.range(-5.0, 5.0),
            rng.range(-5.0, 5.0),
            rng.range(-5.0, 5.0),
        ];
        s.rotations[i] = crate::math::normalised_quat([
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
        ]);
        s.log_scales[i] = [
            rng.range(-6.0, 0.0),
            rng.range(-6.0, 0.0),
            rng.range(-6.0, 0.0),
        ];
        s.opacity_logits[i] = rng.range(-5.0, 5.0);
        for v in &mut s.sh[i * k * 3..(i + 1) * k * 3] {
            *v = rng.range(-0.9, 0.9);
        }
    }
    s
}

#[test]
fn every_format_round_trips_through_read_scene() {
    let dir = TempDir::new("scene-roundtrip");
    let mut rng = Rng::new(11);
    for degree in 0..=3 {
        let s = random_scene(&mut rng, 300, degree);
        for (name, format, version) in [
            ("a.ply", OutputFormat::Ply, 3),
            ("a.compressed.ply", OutputFormat::CompressedPly, 3),
            ("a2.spz", OutputFormat::Spz, 2),
            ("a3.spz", OutputFormat::Spz, 3),
            ("a4.spz", OutputFormat::Spz, 4),
            ("a.splat", OutputFormat::Splat, 3),
        ] {
            let path = dir.path().join(name);
            let opts = WriteOptions {
                antialiased: true,
                spz_version: version,
                ..Default::default()
            };
            let report = write_scene(&path, &s, format, &opts).unwrap();
            assert_eq!(report.bytes, std::fs::metadata(&path).unwrap().len());
            let back = read_scene(&path).unwrap();
            assert_eq!(back.splats.len(), s.len(), "{name}");
            let want_degree = if format == OutputFormat::Splat {
                0
            } else {
                degree
            };
            assert_eq!(back.splats.sh_degree, want_degree, "{name}");
            assert_eq!(back.antialiased, format != OutputFormat::Splat, "{name}");
            back.splats.validate().unwrap();
            match format {
                OutputFormat::Ply => {
                    assert_eq!(back.splats, s);
                    assert_eq!(back.format, Format::Ply(PlyEncoding::BinaryLe));
                }
                OutputFormat::Spz => {
                    assert_eq!(
                        back.format,
                        Format::Spz {
                            version,
                            container: if version == 4 {
                                SpzContainer::Zstd
                            } else {
                                SpzContainer::Gzip
                            }
                        }
                    );
                    assert_eq!(back.frame, Axes::Rub);
                    for i in 0..s.len() {
                        for a in 0..3 {
                            let d = (back.splats.means[i][a] - s.means[i][a]).abs();
                            assert!(d <= 0.5 / 4096.0 + 1e-6, "{name} mean {i} {a}: {d}");
                        }
                    }
                }
                _ => {}
            }
            // Content, not name, decides: the same bytes under a misleading name.
            let renamed = dir.path().join("renamed.bin");
            std::fs::copy(&path, &renamed).unwrap();
            let again = read_scene(&renamed).unwrap();
            assert_eq!(again.format, back.format, "{name}");
            assert_eq!(again.splats, back.splats, "{name}");
        }
    }
}

#[test]
fn unknown_and_empty_files_are_input_errors() {
    let dir = TempDir::new("scene-unknown");
    let p = dir.path().join("x.ksplat");
    std::fs::write(&p, [7u8; 100]).unwrap();
    let e = read_scene(&p).unwrap_err();
    assert!(matches!(e, IoError::Input { .. }));
    assert!(
        e.to_string().contains(".ksplat main header alone has 4096"),
        "{e}"
    );
    let p = dir.path().join("empty.ply");
    std::fs::write(&p, []).unwrap();
    assert!(read_scene(&p).unwrap_err().to_string().contains("empty"));
    assert!(read_scene(dir.path()).is_err());
    assert!(read_scene(&dir.path().join("missing.spz")).is_err());
}

#[test]
fn ply_comment_marks_antialiasing() {
    let dir = TempDir::new("scene-aa");
    let s = random_scene(&mut Rng::new(5), 3, 0);
    let p = dir.path().join("aa.ply");
    write_scene(
        &p,
        &s,
        OutputFormat::Ply,
        &WriteOptions {
            antialiased: true,
            ..Default::default()
        },
    )
    .unwrap();
    let text = std::fs::read(&p).unwrap();
    assert!(text
        .windows(26)
        .any(|w| w == b"comment antialiased=true\ne"));
    assert!(read_scene(&p).unwrap().antialiased);
    write_scene(&p, &s, OutputFormat::Ply, &WriteOptions::default()).unwrap();
    assert!(!read_scene(&p).unwrap().antialiased);
}

#[test]
fn output_formats_by_name() {
    let f = |p: &str| OutputFormat::from_path(Path::new(p));
    assert_eq!(f("a/b.PLY"), Some(OutputFormat::Ply));
    assert_eq!(f("b.compressed.ply"), Some(OutputFormat::CompressedPly));
    assert_eq!(f("b.Spz"), Some(OutputFormat::Spz));
    assert_eq!(f("b.splat"), Some(OutputFormat::Splat));
    assert_eq!(f("b.ksplat"), None);
    assert_eq!(f("b"), None);
}

#[test]
fn lossy_writers_refuse_invalid_scenes() {
    let dir = TempDir::new("scene-invalid");
    let mut s = random_scene(&mut Rng::new(9), 4, 1);
    s.means[2][1] = f32::NAN;
    let e = write_scene(
        &dir.path().join("x.spz"),
        &s,
        OutputFormat::Spz,
        &WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, IoError::Output { .. }));
    assert!(e.to_string().contains("splat 2"), "{e}");
}
