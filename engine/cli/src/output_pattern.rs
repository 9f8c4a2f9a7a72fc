//! Output path patterns: where frame N goes.
//!
//! Three spellings of the frame number, usable anywhere in the path and more than once:
//!
//! * `####` — a run of `#` is the frame zero-padded to the run's length (`shot.####.exr`,
//!   Blender/Houdini/Nuke style);
//! * `%d`, `%04d` — printf style (Nuke, ffmpeg);
//! * `{frame}`, `{frame:04}`, `{frame:04d}` — Python/Rust format style.
//!
//! Padding never truncates (frame 12345 in `##` is `12345`); negative frames keep their sign
//! inside the width (`-1` in `####` is `-001`, as printf does). A `%` or `{` that does not
//! start one of these tokens is literal text.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// The frame number, zero-padded to this many characters (0: no padding).
    Frame(usize),
}

/// A parsed `--output` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPattern {
    pieces: Vec<Piece>,
}

/// Padding widths above this are surely a mistake (and would make absurd file names).
const MAX_PAD: usize = 32;

impl OutputPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let token = match c {
                '#' => {
                    let n = rest.bytes().take_while(|&b| b == b'#').count();
                    Some((n, n))
                }
                '%' => printf_token(rest),
                '{' => brace_token(rest),
                _ => None,
            };
            match token {
                Some((consumed, pad)) => {
                    if pad > MAX_PAD {
                        return Err(format!(
                            "output pattern '{s}': frame padding {pad} is more than {MAX_PAD}"
                        ));
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Frame(pad));
                    rest = &rest[consumed..];
                }
                None => {
                    text.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(OutputPattern { pieces })
    }

    /// Whether the pattern contains a frame number at all.
    pub fn has_frame(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Frame(_)))
    }

    /// The path of `frame`.
    pub fn path(&self, frame: i64) -> PathBuf {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => s.push_str(t),
                Piece::Frame(pad) => s.push_str(&format!("{frame:0pad$}")),
            }
        }
        PathBuf::from(s)
    }
}

/// `%d` or `%0Nd` / `%Nd` at the start of `s`: (bytes consumed, padding).
fn printf_token(s: &str) -> Option<(usize, usize)> {
    let body = &s[1..];
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if body.as_bytes().get(digits) != Some(&b'd') {
        return None;
    }
    let pad = if digits == 0 {
        0
    } else {
        body[..digits].parse().ok()?
    };
    Some((1 + digits + 1, pad))
}

/// `{frame}`, `{frame:N}`, `{frame:0N}`, `{frame:0Nd}` at the start of `s`.
fn brace_token(s: &str) -> Option<(usize, usize)> {
    let end = s.find('}')?;
    let inner = &s[1..end];
    let spec = inner.strip_prefix("frame")?;
    let pad = if spec.is_empty() {
        0
    } else {
        let spec = spec.strip_prefix(':')?;
        let spec = spec.strip_suffix('d').unwrap_or(spec);
        if spec.is_empty() || !spec.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        spec.parse().ok()?
    };
    Some((end + 1, pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pattern: &str, frame: i64) -> String {
        OutputPattern::parse(pattern)
            .unwrap()
            .path(frame)
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn spellings() {
        assert_eq!(p("shot.####.exr", 7), "shot.0007.exr");
        assert_eq!(p("shot.#.exr", 12), "shot.12.exr");
        assert_eq!(p("shot.%04d.exr", 7), "shot.0007.exr");
        assert_eq!(p("shot.%d.exr", 7), "shot.7.exr");
        assert_eq!(p("shot.{frame:04}.exr", 7), "shot.0007.exr");
        assert_eq!(p("shot.{frame:04d}.exr", 7), "shot.0007.exr");
        assert_eq!(p("shot.{frame}.exr", 7), "shot.7.exr");
        assert_eq!(p("out/####/beauty.####.png", 3), "out/0003/beauty.0003.png");
        assert_eq!(p("shot.####.exr", 123456), "shot.123456.exr");
        assert_eq!(p("shot.####.exr", -1), "shot.-001.exr");
    }

    #[test]
    fn literals() {
        for plain in [
            "render.png",
            "100%.png",
            "a%x.png",
            "{frame.png",
            "{other}.png",
            "%-4d.png",
        ] {
            let pat = OutputPattern::parse(plain).unwrap();
            assert!(!pat.has_frame(), "{plain}");
            assert_eq!(p(plain, 5), plain);
        }
        assert!(OutputPattern::parse("a.###.exr").unwrap().has_frame());
        assert!(OutputPattern::parse("a.%099d.exr").is_err());
    }
}
