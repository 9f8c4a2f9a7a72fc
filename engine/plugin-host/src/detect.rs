//! Picking the plugin that reads a file by its content, from what manifests declare
//! (`"reads"`), without running plugin code. Both faces call [`detect`]: `vksplat render FILE`
//! and `vksplat info FILE` without `--plugin`, and the C API's `vksplat_scene_load`.
//!
//! A manifest's `"reads"` is a list of matchers; a file matches the plugin when any matcher
//! matches, and a matcher matches when every key it gives holds:
//!
//! - `"suffix": ".splatv"`: the file name ends with this (ASCII case-insensitive);
//! - `"magic": "674b0000"`: the file starts with these bytes (hex);
//! - `"ply_properties": ["trbf_center", …]`: a PLY file whose `vertex` element has every one of
//!   these properties (the header alone is read, by vksplat-io's PLY header parser);
//! - `"npz_arrays": ["means3D", …]`: a zip/npz archive with an entry `NAME.npy` for each (its
//!   central directory alone is read);
//! - `"gltf_arrays": ["skins", …]`: a glTF file (`.gltf` JSON or binary `.glb`) whose top-level
//!   JSON has a non-empty array under each of these names (the JSON alone is read, at most
//!   [`MAX_GLTF_JSON`] bytes; a rigged model has `skins`, a splat scene may have none);
//! - `"directory": true`: the path is a directory, or a frame pattern (`frames/f####.ply`,
//!   `frames/time_%05d.ply`); the other keys then apply to the directory's first file in
//!   name order (with `suffix`, the first file that has it) or the pattern's first existing
//!   frame (the lowest number). Without it the path must be a regular file.
//!
//! Precedence: the caller's explicit plugin wins; otherwise plugin matchers are tried before
//! the static formats (a Spacetime Gaussians PLY is also a valid static PLY, and the plugin
//! must win); two plugins that both match are an [`PluginError::Ambiguous`] error naming both.
//! Only the winning manifest of each name on the search path is tried.
//!
//! Invariants: reads are bounded (at most the magic's length, a PLY header's first MiB, a zip
//! central directory checked against the file size) and go through vksplat-io's opener, which
//! refuses FIFOs, devices and directories before opening and never blocks; a file that cannot
//! be read or parsed simply does not match (the static reader then reports what is wrong with
//! it). Symlinks are followed to regular files and directories only.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::PluginError;
use crate::manifest::{Manifest, SearchPath};

/// The longest `magic` a manifest may give, in bytes.
pub const MAX_MAGIC: usize = 64;
/// Directory entries looked at when finding a directory's first file or a pattern's first
/// frame (a larger directory is still read, but only this many names are compared).
const MAX_ENTRIES: usize = 1 << 20;
/// The largest glTF JSON (a `.gltf` file, or a `.glb`'s JSON chunk) `gltf_arrays` reads.
pub const MAX_GLTF_JSON: u64 = 64 << 20;

/// One matcher of a manifest's `"reads"`, as written in the JSON.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatcher {
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    magic: Option<String>,
    #[serde(default)]
    ply_properties: Option<Vec<String>>,
    #[serde(default)]
    npz_arrays: Option<Vec<String>>,
    #[serde(default)]
    gltf_arrays: Option<Vec<String>>,
    #[serde(default)]
    directory: bool,
}

/// One checked matcher (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matcher {
    /// Lower-case; compared ASCII case-insensitively with the file name's end.
    pub suffix: Option<String>,
    pub magic: Option<Vec<u8>>,
    pub ply_properties: Vec<String>,
    pub npz_arrays: Vec<String>,
    pub gltf_arrays: Vec<String>,
    pub directory: bool,
}

impl RawMatcher {
    /// Checks the matcher; `Err` says what is wrong (the caller names the manifest).
    pub(crate) fn check(self, index: usize) -> Result<Matcher, String> {
        let at = |why: String| format!("field \"reads\"[{index}]: {why}");
        if self.suffix.is_none()
            && self.magic.is_none()
            && self.ply_properties.is_none()
            && self.npz_arrays.is_none()
            && self.gltf_arrays.is_none()
            && !self.directory
        {
            return Err(at(
                "gives no key (suffix, magic, ply_properties, npz_arrays, gltf_arrays, \
                 directory), so it \
                 would match every file"
                    .into(),
            ));
        }
        if self.suffix.as_ref().is_some_and(|s| s.is_empty()) {
            return Err(at("\"suffix\" is empty".into()));
        }
        let magic = match &self.magic {
            None => None,
            Some(hex) => Some(parse_hex(hex).map_err(|why| at(format!("\"magic\" {why}")))?),
        };
        for (key, list) in [
            ("ply_properties", &self.ply_properties),
            ("npz_arrays", &self.npz_arrays),
            ("gltf_arrays", &self.gltf_arrays),
        ] {
            if let Some(list) = list {
                if list.is_empty() || list.iter().any(|s| s.is_empty()) {
                    return Err(at(format!(
                        "\"{key}\" must be a non-empty list of non-empty names"
                    )));
                }
            }
        }
        Ok(Matcher {
            suffix: self.suffix.map(|s| s.to_ascii_lowercase()),
            magic,
            ply_properties: self.ply_properties.unwrap_or_default(),
            npz_arrays: self.npz_arrays.unwrap_or_default(),
            gltf_arrays: self.gltf_arrays.unwrap_or_default(),
            directory: self.directory,
        })
    }
}

fn parse_hex(hex: &str) -> Result<Vec<u8>, String> {
    let digits = hex.as_bytes();
    if digits.is_empty() || !digits.len().is_multiple_of(2) || digits.len() / 2 > MAX_MAGIC {
        return Err(format!(
            "'{hex}' must be 1..={MAX_MAGIC} bytes written as pairs of hex digits"
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("'{hex}' is not hex digits"))
        })
        .collect()
}

impl Matcher {
    /// Whether `path` matches (see the module docs). Never fails: what cannot be read does
    /// not match.
    pub fn matches(&self, path: &Path) -> bool {
        let Some(file) = self.target(path) else {
            return false;
        };
        if let Some(suffix) = &self.suffix {
            if !ends_with_ignore_case(&file, suffix) {
                return false;
            }
        }
        if let Some(magic) = &self.magic {
            if !starts_with(&file, magic) {
                return false;
            }
        }
        if !self.ply_properties.is_empty() {
            let names: Vec<&str> = self.ply_properties.iter().map(String::as_str).collect();
            match vksplat_io::ply::read_vertex_info(&file) {
                Ok(info) if info.has_all(&names) => {}
                _ => return false,
            }
        }
        if !self.npz_arrays.is_empty() {
            match vksplat_io::numpy::Npz::open(&file) {
                Ok(npz) if self.npz_arrays.iter().all(|a| npz.contains(a)) => {}
                _ => return false,
            }
        }
        if !self.gltf_arrays.is_empty() {
            let has_all = gltf_json(&file).is_some_and(|json| {
                self.gltf_arrays.iter().all(|key| {
                    json.get(key)
                        .and_then(serde_json::Value::as_array)
                        .is_some_and(|a| !a.is_empty())
                })
            });
            if !has_all {
                return false;
            }
        }
        true
    }

    /// The file the keys apply to: `path` itself (a regular file), or with `directory` the
    /// directory's first file or the pattern's first frame.
    fn target(&self, path: &Path) -> Option<PathBuf> {
        let meta = std::fs::metadata(path).ok();
        if !self.directory {
            return meta.filter(|m| m.is_file()).map(|_| path.to_path_buf());
        }
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return first_file(path, self.suffix.as_deref());
        }
        if meta.is_none() {
            return first_frame(path);
        }
        None
    }
}

fn ends_with_ignore_case(path: &Path, lower_suffix: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(lower_suffix)
}

/// Whether the regular file `path` starts with `magic` (reads at most `magic.len()` bytes).
fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let Ok((file, len)) = vksplat_io::open_regular(path) else {
        return false;
    };
    if len < magic.len() as u64 {
        return false;
    }
    let mut head = Vec::with_capacity(magic.len());
    if file
        .take(magic.len() as u64)
        .read_to_end(&mut head)
        .is_err()
    {
        return false;
    }
    head == magic
}

/// The names of the regular files in `dir` (following symlinks to regular files), sorted.
/// The top-level JSON object of a glTF file: a binary `.glb`'s JSON chunk, or a whole `.gltf`
/// file that starts with `{`; `None` for anything else or anything over [`MAX_GLTF_JSON`].
fn gltf_json(path: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    let (file, size) = vksplat_io::open_regular(path).ok()?;
    let mut head = [0u8; 20];
    let mut reader = file.take(MAX_GLTF_JSON + 20);
    reader.read_exact(&mut head).ok()?;
    let json = if &head[..4] == b"glTF" {
        // GLB: 12-byte header, then the first chunk (length, type "JSON", data).
        let len = u64::from(u32::from_le_bytes(head[12..16].try_into().ok()?));
        if &head[16..20] != b"JSON" || len > MAX_GLTF_JSON || 20 + len > size {
            return None;
        }
        let mut json = vec![0u8; len as usize];
        reader.read_exact(&mut json).ok()?;
        json
    } else {
        if size > MAX_GLTF_JSON || head.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        let mut json = head.to_vec();
        reader.read_to_end(&mut json).ok()?;
        json
    };
    match serde_json::from_slice(&json).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

fn files_in(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .take(MAX_ENTRIES)
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(_, p)| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    names.sort();
    names
}

/// The first regular file of `dir` in name order (with a suffix: the first that has it;
/// hidden files are skipped).
fn first_file(dir: &Path, lower_suffix: Option<&str>) -> Option<PathBuf> {
    files_in(dir)
        .into_iter()
        .filter(|(n, _)| !n.starts_with('.'))
        .find(|(_, p)| lower_suffix.is_none_or(|s| ends_with_ignore_case(p, s)))
        .map(|(_, p)| p)
}

/// The existing file of a frame pattern with the lowest frame number (`None` when `path` is
/// no pattern or no frame exists).
pub fn first_frame(path: &Path) -> Option<PathBuf> {
    let pattern = vksplat_io::frame_pattern::FramePattern::parse(path)?;
    pattern.existing().ok()?.into_iter().next().map(|(_, p)| p)
}

/// The plugin whose manifest says it reads `path`, or `None` when no plugin does (the static
/// formats apply). Two plugins that both read it: [`PluginError::Ambiguous`], naming both.
/// Reads manifests and the file's first bytes only; loads nothing.
pub fn detect(search: &SearchPath, path: &Path) -> Result<Option<Manifest>, PluginError> {
    let found = search.discover();
    let hits: Vec<&Manifest> = found
        .iter()
        .filter(|f| f.shadowed_by.is_none())
        .filter_map(|f| f.manifest.as_ref().ok())
        .filter(|m| m.reads.iter().any(|r| r.matches(path)))
        .collect();
    match hits.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        [a, b, ..] => Err(PluginError::Ambiguous(format!(
            "{}: plugins '{}' ({}) and '{}' ({}) both read this file; choose one with \
             --plugin NAME (in the C API: a plugin scene naming the plugin)",
            path.display(),
            a.name,
            a.path.display(),
            b.name,
            b.path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_are_checked() {
        let raw = |json: &str| serde_json::from_str::<RawMatcher>(json).unwrap().check(0);
        assert!(raw("{}").unwrap_err().contains("every file"));
        assert!(raw(r#"{"magic": "6"}"#).unwrap_err().contains("magic"));
        assert!(raw(r#"{"magic": "zz"}"#).unwrap_err().contains("hex"));
        assert!(raw(r#"{"ply_properties": []}"#).is_err());
        assert!(raw(r#"{"suffix": ""}"#).is_err());
        let m = raw(r#"{"suffix": ".SplatV", "magic": "674B0000"}"#).unwrap();
        assert_eq!(m.suffix.as_deref(), Some(".splatv"));
        assert_eq!(m.magic, Some(vec![0x67, 0x4b, 0, 0]));
        assert!(serde_json::from_str::<RawMatcher>(r#"{"sufix": ".x"}"#).is_err());
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("vksplat-detect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn matcher(json: &str) -> Matcher {
        serde_json::from_str::<RawMatcher>(json)
            .unwrap()
            .check(0)
            .unwrap()
    }

    #[test]
    fn each_key_is_checked_against_the_file() {
        let dir = temp_dir("keys");
        let ply = dir.join("scene.PLY");
        let xs = [0.0f32, 1.0];
        vksplat_io::ply::write_columns(&ply, &[("x", &xs), ("trbf_center", &xs)], &[]).unwrap();
        assert!(matcher(r#"{"suffix": ".ply"}"#).matches(&ply));
        assert!(!matcher(r#"{"suffix": ".splatv"}"#).matches(&ply));
        assert!(matcher(r#"{"magic": "706c790a"}"#).matches(&ply));
        assert!(!matcher(r#"{"magic": "674b0000"}"#).matches(&ply));
        assert!(matcher(r#"{"ply_properties": ["trbf_center", "x"]}"#).matches(&ply));
        assert!(!matcher(r#"{"ply_properties": ["trbf_center", "motion_0"]}"#).matches(&ply));
        // All keys of one matcher must hold.
        assert!(!matcher(r#"{"suffix": ".ply", "magic": "00"}"#).matches(&ply));
        // A file is not a directory, and a directory needs "directory".
        assert!(!matcher(r#"{"directory": true, "suffix": ".ply"}"#).matches(&ply));
        assert!(!matcher(r#"{"suffix": ".ply"}"#).matches(&dir));
        // Not a zip: no match, no error.
        assert!(!matcher(r#"{"npz_arrays": ["means3D"]}"#).matches(&ply));
        // A truncated header does not match (and does not hang).
        let cut = dir.join("cut.ply");
        std::fs::write(
            &cut,
            b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nproperty float trbf_center\n",
        )
        .unwrap();
        assert!(!matcher(r#"{"ply_properties": ["trbf_center"]}"#).matches(&cut));
        assert!(!matcher(r#"{"magic": "706c790a00"}"#).matches(&dir.join("missing.ply")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn gltf_arrays_read_the_json_of_gltf_and_glb_files() {
        let dir = temp_dir("gltf");
        let rigged = br#"{"asset": {"version": "2.0"}, "skins": [{"joints": [0]}], "nodes": [{}]}"#;
        let splats = br#"{"asset": {"version": "2.0"}, "skins": [], "nodes": [{}]}"#;
        let m = matcher(r#"{"gltf_arrays": ["skins", "nodes"]}"#);
        let gltf = dir.join("a.gltf");
        std::fs::write(&gltf, [b"  \n".as_slice(), rigged].concat()).unwrap();
        assert!(m.matches(&gltf));
        std::fs::write(&gltf, splats).unwrap();
        assert!(
            !m.matches(&gltf),
            "an empty skins array is not a rigged model"
        );
        // The same JSON in a GLB (header, JSON chunk padded with spaces, no BIN chunk).
        let glb = dir.join("a.glb");
        let mut json = rigged.to_vec();
        json.resize(json.len().next_multiple_of(4), b' ');
        let mut bytes = b"glTF".to_vec();
        bytes.extend(2u32.to_le_bytes());
        bytes.extend((20 + json.len() as u32).to_le_bytes());
        bytes.extend((json.len() as u32).to_le_bytes());
        bytes.extend(b"JSON");
        bytes.extend(&json);
        std::fs::write(&glb, &bytes).unwrap();
        assert!(m.matches(&glb));
        // A JSON chunk longer than the file, broken JSON, a PLY: no match, no error.
        std::fs::write(&glb, &bytes[..bytes.len() - 3]).unwrap();
        assert!(!m.matches(&glb));
        std::fs::write(&gltf, b"{\"skins\": [1,").unwrap();
        assert!(!m.matches(&gltf));
        std::fs::write(&gltf, b"ply\nformat ascii 1.0\nend_header\n").unwrap();
        assert!(!m.matches(&gltf));
        assert!(RawMatcher {
            gltf_arrays: Some(vec![]),
            ..Default::default()
        }
        .check(0)
        .is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn directories_and_patterns_use_their_first_frame() {
        let dir = temp_dir("frames");
        let frames = dir.join("frames");
        std::fs::create_dir(&frames).unwrap();
        let a = [0.0f32];
        std::fs::write(frames.join("README.txt"), b"not a frame").unwrap();
        for (i, prop) in [(10, "trbf_center"), (2, "x"), (7, "x")] {
            let path = frames.join(format!("f{i:04}.ply"));
            vksplat_io::ply::write_columns(&path, &[(prop, &a)], &[]).unwrap();
        }
        // The directory: its first .ply in name order is f0002.ply.
        let m = matcher(r#"{"directory": true, "suffix": ".ply", "ply_properties": ["x"]}"#);
        assert!(m.matches(&frames));
        // Without a suffix the first file is README.txt, which is no PLY.
        assert!(!matcher(r#"{"directory": true, "ply_properties": ["x"]}"#).matches(&frames));
        // Patterns: the lowest frame number (2), in either spelling.
        assert_eq!(
            first_frame(&frames.join("f####.ply")),
            Some(frames.join("f0002.ply"))
        );
        assert_eq!(
            first_frame(&frames.join("f%04d.ply")),
            Some(frames.join("f0002.ply"))
        );
        assert_eq!(first_frame(&frames.join("g####.ply")), None);
        assert!(m.matches(&frames.join("f####.ply")));
        assert!(
            !m.matches(&frames.join("f0002.ply")),
            "a file is no directory"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_never_blocks_and_never_matches() {
        let dir = temp_dir("fifo");
        let fifo = dir.join("x.ply");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(!matcher(r#"{"magic": "706c79"}"#).matches(&fifo));
        assert!(!matcher(r#"{"ply_properties": ["x"]}"#).matches(&fifo));
        assert!(!matcher(r#"{"npz_arrays": ["x"]}"#).matches(&fifo));
        assert!(!matcher(r#"{"suffix": ".ply"}"#).matches(&fifo));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
