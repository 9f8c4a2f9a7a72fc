//! Frame lists: `--frames 1-100`, `1,3,7-20:2`, `1-100x5`, `10-1`.
//!
//! Grammar (whitespace around items is ignored):
//!
//! ```text
//! list  := item (',' item)*
//! item  := int | int '-' int [step]
//! step  := ':' int | 'x' int     every |int|-th frame from the start (OpenJD ':', OpenCue/Deadline 'x')
//!        | 'y' int               the frames of the range that 'x' would NOT give (OpenCue)
//! int   := ['-'] digits          (frames may be negative: '-5--1')
//! ```
//!
//! A range whose start is above its end counts down (`10-1` is 10, 9, …, 1); the sign of the
//! step is ignored, a zero step is an error. The result keeps the order written, without
//! duplicates (the first occurrence wins). An empty list is an error. Chunks handed out by
//! OpenJD (`{{Task.Param.Frame}}` of a `CHUNK[INT]` parameter, e.g. `1-5` or `1-3,7`) and by
//! Deadline/OpenCue (`1-10x2`) parse with this grammar.

use std::collections::HashSet;

/// Upper bound on the frames of one list: a typo like `1-1000000000` fails fast instead of
/// allocating gigabytes.
pub const MAX_FRAMES: u64 = 1_000_000;

/// Parses a frame list (see the module docs); the error is one line naming the bad item.
pub fn parse(s: &str) -> Result<Vec<i64>, String> {
    if s.trim().is_empty() {
        return Err("the frame list is empty".into());
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for raw in s.split(',') {
        let item = raw.trim();
        if item.is_empty() {
            return Err(format!("empty item in frame list '{s}'"));
        }
        let frames = parse_item(item).map_err(|e| format!("frame list item '{item}': {e}"))?;
        for f in frames {
            if seen.insert(f) {
                out.push(f);
                if out.len() as u64 > MAX_FRAMES {
                    return Err(format!(
                        "frame list '{s}' has more than {MAX_FRAMES} frames"
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Reads an optionally negative integer at the start of `s`; returns it and the rest.
fn int(s: &str) -> Result<(i64, &str), String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return Err(format!("expected a number at '{s}'"));
    }
    let v: i64 = digits[..len]
        .parse()
        .map_err(|_| format!("'{}' is out of range", &digits[..len]))?;
    // Frames are kept well inside i64 so that ranges and padding never overflow.
    if v > (1i64 << 52) {
        return Err(format!("{v} is out of range"));
    }
    Ok((if neg { -v } else { v }, &digits[len..]))
}

fn parse_item(item: &str) -> Result<Vec<i64>, String> {
    let (start, rest) = int(item)?;
    if rest.is_empty() {
        return Ok(vec![start]);
    }
    let rest = rest
        .strip_prefix('-')
        .ok_or_else(|| format!("unexpected '{rest}' (expected '-' and an end frame)"))?;
    let (end, rest) = int(rest)?;
    let (step, invert) = if rest.is_empty() {
        (1, false)
    } else {
        let mut chars = rest.chars();
        let kind = chars.next().unwrap();
        let invert = match kind {
            ':' | 'x' => false,
            'y' => true,
            _ => {
                return Err(format!(
                    "unexpected '{rest}' (a step is ':N', 'xN' or 'yN')"
                ))
            }
        };
        let (step, tail) = int(chars.as_str())?;
        if !tail.is_empty() {
            return Err(format!("unexpected '{tail}' after the step"));
        }
        if step == 0 {
            return Err("the step must not be 0".into());
        }
        (step.unsigned_abs(), invert)
    };
    let span = start.abs_diff(end);
    let count = if invert { span + 1 } else { span / step + 1 };
    if count > MAX_FRAMES {
        return Err(format!("more than {MAX_FRAMES} frames"));
    }
    let dir: i64 = if end >= start { 1 } else { -1 };
    if invert {
        Ok((0..=span)
            .filter(|i| i % step != 0)
            .map(|i| start + dir * i as i64)
            .collect())
    } else {
        Ok((0..count)
            .map(|k| start + dir * (k * step) as i64)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert_eq!(parse("7").unwrap(), [7]);
        assert_eq!(parse("1-5").unwrap(), [1, 2, 3, 4, 5]);
        assert_eq!(parse("1,3,7-11:2").unwrap(), [1, 3, 7, 9, 11]);
        assert_eq!(parse("1-10x4").unwrap(), [1, 5, 9]);
        assert_eq!(parse("1-10y4").unwrap(), [2, 3, 4, 6, 7, 8, 10]);
        assert_eq!(parse("5-1").unwrap(), [5, 4, 3, 2, 1]);
        assert_eq!(parse("10-1:-3").unwrap(), [10, 7, 4, 1]);
        assert_eq!(parse("-3--1, 0").unwrap(), [-3, -2, -1, 0]);
        assert_eq!(parse("-2-1").unwrap(), [-2, -1, 0, 1]);
        assert!(parse(" 1 - 2 ").unwrap_err().contains("'1 - 2'"));
        assert_eq!(parse("1-3,2-5").unwrap(), [1, 2, 3, 4, 5]);
        assert_eq!(parse("3,3,3").unwrap(), [3]);
        assert_eq!(parse("1-1").unwrap(), [1]);
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            " ",
            ",",
            "1,",
            ",1",
            "1,,2",
            "a",
            "1-",
            "-",
            "1-b",
            "1-5:0",
            "1-5x",
            "1-5z2",
            "1-5:2:3",
            "1.5",
            "1-5:1.5",
            "99999999999999999999",
            "1-2000000",
            "0-10000000:1",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("1-5:0").unwrap_err().contains("'1-5:0'"));
    }

    #[test]
    fn large_sparse_range_is_fine() {
        let f = parse("0-100000000:1000").unwrap();
        assert_eq!(f.len(), 100_001);
        assert_eq!(*f.last().unwrap(), 100_000_000);
    }
}
