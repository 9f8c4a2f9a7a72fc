//! Output files of `vksplat render`: format by extension, writability checks before any work,
//! the completeness test behind `--skip-existing`, and the temporary name used while a file is
//! written.
//!
//! Files are written by `vksplat-io` atomically: `dir/.<name>.tmp`, fsync, rename to
//! `dir/<name>`, fsync of the directory. So a file under a frame's name is always complete,
//! whatever happened to the process. `--skip-existing` still checks that an existing file is
//! complete (a PNG ends with its IEND chunk; an EXR's last scanline chunk ends exactly at the end
//! of the file) so that a file truncated by something else (a copy, a full disk under another
//! tool) is rendered again rather than trusted.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Output image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Exr,
}

/// The format named by the output's extension (case-insensitive).
pub fn output_format(path: &Path) -> Result<Format, CliError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("exr") => Ok(Format::Exr),
        other => Err(CliError::Usage(format!(
            "{}: unsupported output extension {} (use .png or .exr)",
            path.display(),
            other.map_or("(none)".to_string(), |e| format!("'.{e}'"))
        ))),
    }
}

/// The directory a path's file goes into.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Checks that `path` can be created: its directory exists and accepts a new file, and the
/// path itself is not a directory. Leaves nothing behind.
pub fn check_output_writable(path: &Path) -> Result<(), CliError> {
    let dir = parent_dir(path);
    let fail = |why: String| CliError::Output(format!("{}: cannot write: {why}", path.display()));
    if !dir.is_dir() {
        return Err(fail(format!(
            "output directory {} does not exist",
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    check_dir_writable(dir).map_err(|e| {
        fail(format!(
            "output directory {} is not writable: {e}",
            dir.display()
        ))
    })
}

fn check_dir_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".vksplat-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        // A leftover probe of a crashed run with our pid: the directory is writable enough.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The temporary sibling `vksplat-io` writes before renaming (`dir/.<name>.tmp`).
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".tmp");
    parent_dir(path).join(name)
}

/// Whether `path` holds a complete image of `format` (see the module docs). Any read problem
/// counts as incomplete.
pub fn is_complete(path: &Path, format: Format) -> bool {
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    match format {
        Format::Png => png_complete(&mut file, len).unwrap_or(false),
        Format::Exr => exr_complete(&mut file, len).unwrap_or(false),
    }
}

fn png_complete(file: &mut File, len: u64) -> std::io::Result<bool> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    const IEND: &[u8] = b"\0\0\0\0IEND\xae\x42\x60\x82";
    if len < (SIGNATURE.len() + IEND.len()) as u64 {
        return Ok(false);
    }
    let mut head = [0u8; 8];
    file.read_exact(&mut head)?;
    let mut tail = [0u8; 12];
    file.seek(SeekFrom::End(-12))?;
    file.read_exact(&mut tail)?;
    Ok(head == SIGNATURE && tail == IEND)
}

/// Scanlines per chunk for each EXR compression method (none, RLE, ZIPS, ZIP, PIZ, PXR24, B44,
/// B44A, DWAA, DWAB).
const EXR_LINES_PER_CHUNK: [u64; 10] = [1, 1, 1, 16, 32, 16, 32, 32, 32, 256];

fn exr_complete(file: &mut File, len: u64) -> std::io::Result<bool> {
    // Headers are small; 64 KiB covers any header vksplat or a compositor writes.
    let mut header = Vec::new();
    file.by_ref().take(1 << 16).read_to_end(&mut header)?;
    let le32 = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if header.len() < 8 || header[..4] != 20000630u32.to_le_bytes() {
        return Ok(false);
    }
    let flags = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if flags & 0x1a00 != 0 {
        // Tiled, deep or multi-part: not ours; a valid magic is all we check.
        return Ok(true);
    }
    let mut pos = 8;
    let mut window = None;
    let mut compression = None;
    let cstr = |pos: &mut usize| -> Option<String> {
        let end = header[*pos..].iter().position(|&b| b == 0)? + *pos;
        let s = String::from_utf8_lossy(&header[*pos..end]).into_owned();
        *pos = end + 1;
        Some(s)
    };
    loop {
        let Some(name) = cstr(&mut pos) else {
            return Ok(false);
        };
        if name.is_empty() {
            break;
        }
        let Some(_ty) = cstr(&mut pos) else {
            return Ok(false);
        };
        if pos + 4 > header.len() {
            return Ok(false);
        }
        let size = le32(&header[pos..]);
        pos += 4;
        let Ok(size) = usize::try_from(size) else {
            return Ok(false);
        };
        if pos + size > header.len() {
            return Ok(false);
        }
        let value = &header[pos..pos + size];
        match name.as_str() {
            "dataWindow" if size == 16 => window = Some((le32(&value[4..]), le32(&value[12..]))),
            "compression" if size == 1 => compression = Some(value[0]),
            _ => {}
        }
        pos += size;
    }
    let (Some((y0, y1)), Some(c)) = (window, compression) else {
        return Ok(false);
    };
    let Some(&lines) = EXR_LINES_PER_CHUNK.get(c as usize) else {
        return Ok(false);
    };
    let height = i64::from(y1) - i64::from(y0) + 1;
    if height < 1 {
        return Ok(false);
    }
    let chunks = (height as u64).div_ceil(lines);
    // The last chunk's offset, then its 8-byte prefix (y, data size).
    let table_end = pos as u64 + chunks * 8;
    if table_end > len {
        return Ok(false);
    }
    let mut b = [0u8; 8];
    file.seek(SeekFrom::Start(table_end - 8))?;
    file.read_exact(&mut b)?;
    let last = u64::from_le_bytes(b);
    if last < table_end || last + 8 > len {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(last))?;
    file.read_exact(&mut b)?;
    let size = le32(&b[4..]);
    Ok(size >= 0 && last + 8 + size as u64 == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(output_format(Path::new("a/b.PNG")).unwrap(), Format::Png);
        assert_eq!(output_format(Path::new("b.exr")).unwrap(), Format::Exr);
        assert!(matches!(
            output_format(Path::new("b.jpg")),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            output_format(Path::new("b")),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn completeness() {
        let dir = std::env::temp_dir().join(format!("vksplat-outputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exr = dir.join("a.exr");
        let png = dir.join("a.png");
        let (w, h) = (5u32, 3u32);
        let rgba: Vec<f32> = (0..w * h * 4).map(|i| i as f32).collect();
        let depth = vec![1.0; (w * h) as usize];
        vksplat_io::write_exr(&exr, w, h, &rgba, &depth, &[("k", "v")]).unwrap();
        vksplat_io::write_png(&png, w, h, &rgba).unwrap();
        assert!(is_complete(&exr, Format::Exr));
        assert!(is_complete(&png, Format::Png));
        assert!(!is_complete(&exr, Format::Png));
        assert!(!is_complete(&dir.join("missing.exr"), Format::Exr));
        for (path, format) in [(&exr, Format::Exr), (&png, Format::Png)] {
            let bytes = std::fs::read(path).unwrap();
            for cut in [0, 1, 8, bytes.len() / 2, bytes.len() - 1] {
                std::fs::write(path, &bytes[..cut]).unwrap();
                assert!(
                    !is_complete(path, format),
                    "{} cut at {cut}",
                    path.display()
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            std::fs::write(path, &longer).unwrap();
            assert!(!is_complete(path, format));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn temp_names() {
        assert_eq!(
            temp_path(Path::new("a/b/out.0001.exr")),
            PathBuf::from("a/b/.out.0001.exr.tmp")
        );
        assert_eq!(
            temp_path(Path::new("out.png")),
            PathBuf::from("./.out.png.tmp")
        );
    }
}
