//! Numbered file sequences named by a pattern: in the file name, a run of `#` (`frame_####.ply`)
//! or a printf-style `%d`, `%Nd` or `%0Nd` (`time_%05d.ply`) stands for the frame number.
//!
//! One parser for every reader of input sequences (plugin detection, keyframe sequences, mesh
//! sequences). Invariants: only the file name holds the pattern (directories are literal); a
//! file matches when its name is the prefix, then at least `width` (and at least one, at most
//! 19) ASCII digits, then the suffix; frames come back in number order, and two files with the
//! same number (`f7.ply`, `f07.ply`) are an error rather than a silent pick.

use std::path::{Path, PathBuf};

use crate::error::IoError;

/// At most this many directory entries are looked at (a hostile directory cannot stall a read).
const MAX_ENTRIES: usize = 1 << 20;

/// A parsed sequence pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramePattern {
    /// The path as given (errors name it).
    pattern: PathBuf,
    dir: PathBuf,
    prefix: String,
    width: usize,
    suffix: String,
}

/// A file name split around its frame number: `f####.ply` → ("f", 4, ".ply");
/// `time_%05d.ply` → ("time_", 5, ".ply"); `%d` has width 0. `None`: no pattern.
pub fn split(name: &str) -> Option<(&str, usize, &str)> {
    if let Some(start) = name.find('#') {
        let width = name[start..].bytes().take_while(|&b| b == b'#').count();
        return Some((&name[..start], width, &name[start + width..]));
    }
    let mut from = 0;
    while let Some(i) = name[from..].find('%').map(|i| i + from) {
        let rest = &name[i + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if rest.as_bytes().get(digits) == Some(&b'd') {
            let width = rest[..digits].parse().unwrap_or(0);
            return Some((&name[..i], width, &rest[digits + 1..]));
        }
        from = i + 1;
    }
    None
}

impl FramePattern {
    /// The pattern in `path`'s file name, or `None` when the name holds none.
    pub fn parse(path: &Path) -> Option<FramePattern> {
        let name = path.file_name()?.to_str()?;
        let (prefix, width, suffix) = split(name)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(FramePattern {
            pattern: path.to_path_buf(),
            dir,
            prefix: prefix.to_string(),
            width,
            suffix: suffix.to_string(),
        })
    }

    /// The frame number of a file name, when it matches.
    pub fn frame_of(&self, name: &str) -> Option<u64> {
        let digits = name
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        let ok = !digits.is_empty()
            && digits.len() >= self.width
            && digits.len() <= 19
            && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| digits.parse().ok()).flatten()
    }

    /// The file of frame `n`, zero-padded to the pattern's width.
    pub fn path_of(&self, n: u64) -> PathBuf {
        let width = self.width;
        self.dir
            .join(format!("{}{n:0width$}{}", self.prefix, self.suffix))
    }

    /// The regular files that match, in (frame number, path) order, duplicates included. An
    /// unreadable directory is an error naming it.
    pub fn existing(&self) -> Result<Vec<(u64, PathBuf)>, IoError> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| IoError::input(&self.dir, format!("cannot list the directory: {e}")))?;
        let mut frames = Vec::new();
        for entry in entries.take(MAX_ENTRIES) {
            let entry = entry.map_err(|e| {
                IoError::input(&self.dir, format!("cannot list the directory: {e}"))
            })?;
            let Some(n) = entry.file_name().to_str().and_then(|s| self.frame_of(s)) else {
                continue;
            };
            let path = entry.path();
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                frames.push((n, path));
            }
        }
        frames.sort();
        Ok(frames)
    }

    /// [`existing`](Self::existing) for reading a sequence: at least one frame, and two files
    /// with one number are an error naming both.
    pub fn sequence(&self) -> Result<Vec<(u64, PathBuf)>, IoError> {
        let frames = self.existing()?;
        if frames.is_empty() {
            return Err(IoError::input(&self.pattern, "no file matches the pattern"));
        }
        if let Some(w) = frames.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(IoError::input(
                &w[1].1,
                format!(
                    "has the same frame number ({}) as {}",
                    w[0].0,
                    w[0].1.display()
                ),
            ));
        }
        Ok(frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_split_around_the_number() {
        assert_eq!(split("f####.ply"), Some(("f", 4, ".ply")));
        assert_eq!(split("time_%05d.ply"), Some(("time_", 5, ".ply")));
        assert_eq!(split("t%3d.obj"), Some(("t", 3, ".obj")));
        assert_eq!(split("a%d"), Some(("a", 0, "")));
        assert_eq!(split("100%.ply"), None);
        assert_eq!(split("50%_%d.ply"), Some(("50%_", 0, ".ply")));
        assert_eq!(split("plain.ply"), None);
    }

    #[test]
    fn frames_match_at_least_the_width_and_come_in_number_order() {
        let p = FramePattern::parse(Path::new("dir/f##.ply")).unwrap();
        assert_eq!(p.frame_of("f07.ply"), Some(7));
        assert_eq!(p.frame_of("f123.ply"), Some(123));
        assert_eq!(p.frame_of("f7.ply"), None);
        assert_eq!(p.frame_of("f0x.ply"), None);
        assert_eq!(p.frame_of("f07.PLY"), None);
        assert_eq!(p.frame_of("f99999999999999999999.ply"), None);
        assert_eq!(p.path_of(3), Path::new("dir/f03.ply"));
        assert_eq!(p.path_of(123), Path::new("dir/f123.ply"));

        let dir =
            std::env::temp_dir().join(format!("vksplat-frame-pattern-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["m10.obj", "m2.obj", "m1.obj", "m1.txt", "mx.obj"] {
            std::fs::write(dir.join(n), b"").unwrap();
        }
        std::fs::create_dir_all(dir.join("m3.obj")).unwrap();
        let p = FramePattern::parse(&dir.join("m%d.obj")).unwrap();
        let frames: Vec<u64> = p.sequence().unwrap().iter().map(|f| f.0).collect();
        assert_eq!(frames, [1, 2, 10]);
        std::fs::write(dir.join("m01.obj"), b"").unwrap();
        assert_eq!(p.existing().unwrap().len(), 4);
        let err = p.sequence().unwrap_err().to_string();
        assert!(err.contains("same frame number (1)"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = FramePattern::parse(&dir.join("m%d.obj")).unwrap();
        assert!(missing.existing().is_err());
        let none = FramePattern::parse(Path::new("n####.ply")).unwrap();
        let err = none.sequence().unwrap_err().to_string();
        assert!(err.starts_with("n####.ply: no file matches"), "{err}");
    }
}
