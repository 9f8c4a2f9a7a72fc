//! Output files of the CLI: format by extension, the checks made before any work, and the test
//! behind `--skip-existing`.
//!
//! Files are written by `vksplat-io` atomically (a unique temporary sibling created without
//! following links, fsync, rename; see `vksplat_io::write_bytes_atomic`). So a file under a
//! frame's name is always complete, whatever happened to the process, and an existing symbolic
//! link at an output's name is replaced, never followed.
//!
//! Before a command reads its inputs, [`check_outputs`] refuses (exit 6) a file name longer
//! than `NAME_MAX`, a directory or special file (FIFO, socket, device) at an output path
//! (never opening it, so a FIFO cannot block), and an output directory that does not accept a
//! new file. Missing output directories are created first (`mkdir -p`, mode from the umask),
//! unless `--no-create-dirs` is given: they stay even if the command fails later.
//!
//! `--skip-existing` keeps a file only if ([`existing`]) it is a regular file (not a link:
//! links are rendered again, which replaces them), it is complete (a PNG: signature, an IHDR
//! chunk first with a correct CRC, a chunk walk that ends with IEND exactly at the end of the
//! file; an EXR: single-part scanline, its last chunk ends exactly at the end of the file), its
//! image size is the job's, and its recorded command line (EXR string attribute or PNG
//! `tEXt`/`iTXt` chunk `command_line`) is this job's; a file without a recorded command line is
//! judged by size alone. Anything else is rendered again, so a file truncated by something else
//! or left by another job is never trusted.

use std::collections::HashSet;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::CliError;

/// Output image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Exr,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Exr => "EXR",
        }
    }
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

/// Checks every output path before any input is read (see the module docs): the name, what
/// exists under it, and its directory, created first when `create_dirs` is set. Each directory
/// is checked once. Leaves nothing behind but the created directories.
pub fn check_outputs<'a>(
    paths: impl IntoIterator<Item = &'a Path>,
    create_dirs: bool,
) -> Result<(), CliError> {
    let mut dirs = HashSet::new();
    for path in paths {
        vksplat_io::check_output_path(path)?;
        let dir = parent_dir(path);
        if dirs.insert(dir.to_path_buf()) {
            check_dir(path, dir, create_dirs)?;
        }
    }
    Ok(())
}

fn check_dir(path: &Path, dir: &Path, create: bool) -> Result<(), CliError> {
    let fail = |why: String| CliError::Output(format!("{}: cannot write: {why}", path.display()));
    if !dir.is_dir() {
        if dir.exists() {
            return Err(fail(format!(
                "output directory {} is not a directory",
                dir.display()
            )));
        }
        if !create {
            return Err(fail(format!(
                "output directory {} does not exist (not created: --no-create-dirs)",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            fail(format!(
                "cannot create output directory {}: {e}",
                dir.display()
            ))
        })?;
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

/// What the current job would write to a file.
pub struct Expected {
    pub width: u32,
    pub height: u32,
    /// Recorded command lines that count as this job's (more than one when a detail, such as
    /// the mode a scene file's flag picks, is only known after reading the scene).
    pub command_lines: Vec<String>,
}

/// What `--skip-existing` makes of an output path.
#[derive(Debug, PartialEq, Eq)]
pub enum Existing {
    /// Nothing there: render.
    Missing,
    /// A complete file of this job: keep it.
    Keep,
    /// Something else: render again; the reason completes "exists but …".
    Redo(String),
}

/// Whether the file at `path` can stand for this job's output (see the module docs). Never
/// opens anything but a regular file, and never blocks.
pub fn existing(path: &Path, format: Format, expected: &Expected) -> Existing {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Existing::Missing,
        Err(e) => return Existing::Redo(format!("cannot be examined ({e})")),
        Ok(m) if !m.file_type().is_file() => {
            return Existing::Redo(
                "is not a regular file (a link is replaced, not followed)".into(),
            )
        }
        Ok(_) => {}
    }
    let Some(info) = image_info(path, format) else {
        return Existing::Redo(format!("is incomplete or not a {} file", format.name()));
    };
    if (info.width, info.height) != (expected.width, expected.height) {
        return Existing::Redo(format!(
            "is {}x{}, this job renders {}x{}",
            info.width, info.height, expected.width, expected.height
        ));
    }
    match info.command_line {
        Some(c) if !expected.command_lines.contains(&c) => {
            Existing::Redo(format!("was rendered by another command ({c})"))
        }
        _ => Existing::Keep,
    }
}

/// What [`image_info`] reads from a complete image.
#[derive(Debug, PartialEq, Eq)]
struct ImageInfo {
    width: u32,
    height: u32,
    command_line: Option<String>,
}

/// The size and recorded command line of a complete image of `format`; `None` for anything
/// incomplete, malformed or unreadable. Opened without following links and without blocking
/// (should a FIFO appear at the path after the type check).
fn image_info(path: &Path, format: Format) -> Option<ImageInfo> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.file_type().is_file() {
        return None;
    }
    let len = meta.len();
    let mut file = BufReader::with_capacity(1 << 16, file);
    match format {
        Format::Png => png_info(&mut file, len).ok().flatten(),
        Format::Exr => exr_info(&mut file, len).ok().flatten(),
    }
}

/// Text chunk values longer than this are not read (a command line is far shorter).
const MAX_TEXT: u32 = 1 << 16;

fn png_info<R: Read + Seek>(file: &mut R, len: u64) -> std::io::Result<Option<ImageInfo>> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    // Signature, IHDR (12 + 13), IEND (12).
    if len < 8 + 25 + 12 {
        return Ok(None);
    }
    let mut head = [0u8; 33];
    file.read_exact(&mut head)?;
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if &head[..8] != SIGNATURE
        || be32(&head[8..]) != 13
        || &head[12..16] != b"IHDR"
        || crc32(&head[12..29]) != be32(&head[29..])
    {
        return Ok(None);
    }
    let (width, height) = (be32(&head[16..]), be32(&head[20..]));
    if width == 0 || height == 0 {
        return Ok(None);
    }
    let mut command_line = None;
    let mut pos = 33u64;
    loop {
        if pos + 12 > len {
            return Ok(None);
        }
        let mut h = [0u8; 8];
        file.read_exact(&mut h)?;
        let size = be32(&h);
        let end = pos + 12 + u64::from(size);
        if size > i32::MAX as u32 || end > len {
            return Ok(None);
        }
        let kind = &h[4..8];
        let text = kind == b"tEXt" || kind == b"iTXt";
        if kind == b"IEND" || (text && size <= MAX_TEXT) {
            let mut data = vec![0u8; size as usize + 4];
            file.read_exact(&mut data)?;
            let (body, crc) = data.split_at(size as usize);
            let mut covered = kind.to_vec();
            covered.extend_from_slice(body);
            if crc32(&covered) != be32(crc) {
                return Ok(None);
            }
            if kind == b"IEND" {
                return Ok((size == 0 && end == len).then_some(ImageInfo {
                    width,
                    height,
                    command_line,
                }));
            }
            if let Some(value) = png_text(kind, body, "command_line") {
                command_line = Some(value);
            }
        } else {
            file.seek_relative(i64::from(size) + 4)?;
        }
        pos = end;
    }
}

/// The value of a `tEXt` or uncompressed `iTXt` chunk whose keyword is `key`.
fn png_text(kind: &[u8], body: &[u8], key: &str) -> Option<String> {
    let nul = body.iter().position(|&b| b == 0)?;
    if &body[..nul] != key.as_bytes() {
        return None;
    }
    let rest = &body[nul + 1..];
    let value = if kind == b"iTXt" {
        // compression flag, method, language tag \0, translated keyword \0, text.
        let (&flag, rest) = rest.split_first()?;
        if flag != 0 {
            return None;
        }
        let rest = rest.get(1..)?;
        let lang = rest.iter().position(|&b| b == 0)?;
        let rest = &rest[lang + 1..];
        let translated = rest.iter().position(|&b| b == 0)?;
        &rest[translated + 1..]
    } else {
        rest
    };
    // tEXt is Latin-1; a writer that stored UTF-8 there is read as UTF-8.
    Some(match std::str::from_utf8(value) {
        Ok(s) => s.to_string(),
        Err(_) => value.iter().map(|&b| char::from(b)).collect(),
    })
}

/// CRC-32 as PNG defines it (ISO 3309, reflected polynomial 0xEDB88320). Only ever run on a
/// few small chunks, so bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |mut c, &b| {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        c
    })
}

/// Scanlines per chunk for each EXR compression method (none, RLE, ZIPS, ZIP, PIZ, PXR24, B44,
/// B44A, DWAA, DWAB).
const EXR_LINES_PER_CHUNK: [u64; 10] = [1, 1, 1, 16, 32, 16, 32, 32, 32, 256];

fn exr_info<R: Read + Seek>(file: &mut R, len: u64) -> std::io::Result<Option<ImageInfo>> {
    // Headers are small; 64 KiB covers any header vksplat or a compositor writes.
    let mut header = Vec::new();
    file.by_ref().take(1 << 16).read_to_end(&mut header)?;
    let le32 = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if header.len() < 8 || header[..4] != 20000630u32.to_le_bytes() {
        return Ok(None);
    }
    let flags = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if flags & 0x1a00 != 0 {
        // Tiled, deep or multi-part: never written by vksplat.
        return Ok(None);
    }
    let mut pos = 8;
    let mut window = None;
    let mut compression = None;
    let mut command_line = None;
    let cstr = |pos: &mut usize| -> Option<String> {
        let end = header[*pos..].iter().position(|&b| b == 0)? + *pos;
        let s = String::from_utf8_lossy(&header[*pos..end]).into_owned();
        *pos = end + 1;
        Some(s)
    };
    loop {
        let Some(name) = cstr(&mut pos) else {
            return Ok(None);
        };
        if name.is_empty() {
            break;
        }
        let Some(ty) = cstr(&mut pos) else {
            return Ok(None);
        };
        if pos + 4 > header.len() {
            return Ok(None);
        }
        let size = le32(&header[pos..]);
        pos += 4;
        let Ok(size) = usize::try_from(size) else {
            return Ok(None);
        };
        if pos + size > header.len() {
            return Ok(None);
        }
        let value = &header[pos..pos + size];
        match name.as_str() {
            "dataWindow" if size == 16 => {
                window = Some([0, 4, 8, 12].map(|o| le32(&value[o..])));
            }
            "compression" if size == 1 => compression = Some(value[0]),
            "command_line" if ty == "string" => {
                command_line = Some(String::from_utf8_lossy(value).into_owned());
            }
            _ => {}
        }
        pos += size;
    }
    let (Some([x0, y0, x1, y1]), Some(c)) = (window, compression) else {
        return Ok(None);
    };
    let Some(&lines) = EXR_LINES_PER_CHUNK.get(c as usize) else {
        return Ok(None);
    };
    let width = i64::from(x1) - i64::from(x0) + 1;
    let height = i64::from(y1) - i64::from(y0) + 1;
    let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Ok(None);
    };
    if width == 0 || height == 0 {
        return Ok(None);
    }
    let chunks = u64::from(height).div_ceil(lines);
    // The last chunk's offset, then its 8-byte prefix (y, data size).
    let table_end = pos as u64 + chunks * 8;
    if table_end > len {
        return Ok(None);
    }
    let mut b = [0u8; 8];
    file.seek(SeekFrom::Start(table_end - 8))?;
    file.read_exact(&mut b)?;
    let last = u64::from_le_bytes(b);
    if last < table_end || last.checked_add(8).is_none_or(|e| e > len) {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(last))?;
    file.read_exact(&mut b)?;
    let size = le32(&b[4..]);
    let complete = size >= 0 && last + 8 + size as u64 == len;
    Ok(complete.then_some(ImageInfo {
        width,
        height,
        command_line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("vksplat-outputs-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

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

    fn expected(w: u32, h: u32, cmd: &str) -> Expected {
        Expected {
            width: w,
            height: h,
            command_lines: vec![cmd.to_string()],
        }
    }

    #[test]
    fn completeness_size_and_command_line() {
        let dir = Scratch::new("complete");
        let exr = dir.0.join("a.exr");
        let png = dir.0.join("a.png");
        let (w, h) = (5u32, 3u32);
        let rgba: Vec<f32> = (0..w * h * 4).map(|i| i as f32).collect();
        let depth = vec![1.0; (w * h) as usize];
        vksplat_io::write_exr(&exr, w, h, &rgba, &depth, &[("command_line", "vk a")]).unwrap();
        vksplat_io::write_png(&png, w, h, &rgba).unwrap();
        let ok = expected(w, h, "vk a");
        assert_eq!(existing(&exr, Format::Exr, &ok), Existing::Keep);
        assert_eq!(existing(&png, Format::Png, &ok), Existing::Keep);
        assert!(
            matches!(existing(&exr, Format::Png, &ok), Existing::Redo(r) if r.contains("incomplete"))
        );
        assert_eq!(
            existing(&dir.0.join("missing.exr"), Format::Exr, &ok),
            Existing::Missing
        );
        // A stale size or another job's command line is rendered again.
        for format in [Format::Exr, Format::Png] {
            let path = if format == Format::Exr { &exr } else { &png };
            let r = existing(path, format, &expected(4, 3, "vk a"));
            assert!(
                matches!(&r, Existing::Redo(m) if m.contains("5x3") && m.contains("4x3")),
                "{r:?}"
            );
        }
        let r = existing(&exr, Format::Exr, &expected(w, h, "vk b"));
        assert!(
            matches!(&r, Existing::Redo(m) if m.contains("another command")),
            "{r:?}"
        );
        // A PNG without a recorded command line is judged by its size alone.
        assert_eq!(
            existing(&png, Format::Png, &expected(w, h, "vk b")),
            Existing::Keep
        );

        for (path, format) in [(&exr, Format::Exr), (&png, Format::Png)] {
            let bytes = std::fs::read(path).unwrap();
            for cut in [0, 1, 8, 20, 33, bytes.len() / 2, bytes.len() - 1] {
                std::fs::write(path, &bytes[..cut]).unwrap();
                assert!(
                    matches!(existing(path, format, &ok), Existing::Redo(_)),
                    "{} cut at {cut}",
                    path.display()
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            std::fs::write(path, &longer).unwrap();
            assert!(matches!(existing(path, format, &ok), Existing::Redo(_)));
            std::fs::write(path, &bytes).unwrap();
        }
    }

    /// A PNG chunk with its CRC.
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let crc = crc32(&c[4..]);
        c.extend_from_slice(&crc.to_be_bytes());
        c
    }

    fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut f = b"\x89PNG\r\n\x1a\n".to_vec();
        for c in chunks {
            f.extend_from_slice(c);
        }
        f
    }

    #[test]
    fn png_structure_is_walked() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&96u32.to_be_bytes());
        ihdr.extend_from_slice(&54u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let iend = chunk(b"IEND", b"");
        let text = chunk(b"tEXt", b"command_line\0vksplat render x --frames 3");
        let itxt = chunk(b"iTXt", "command_line\0\0\0\0\0vksplat é".as_bytes());
        let dir = Scratch::new("png");
        let path = dir.0.join("p.png");
        let info = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            image_info(&path, Format::Png)
        };
        // The old 20-byte test: signature + IEND is not an image.
        assert_eq!(info(&png_with(std::slice::from_ref(&iend))), None);
        let good = png_with(&[
            chunk(b"IHDR", &ihdr),
            text.clone(),
            chunk(b"IDAT", &[1; 40]),
            iend.clone(),
        ]);
        assert_eq!(
            info(&good),
            Some(ImageInfo {
                width: 96,
                height: 54,
                command_line: Some("vksplat render x --frames 3".into())
            })
        );
        let utf8 = png_with(&[chunk(b"IHDR", &ihdr), itxt, iend.clone()]);
        assert_eq!(
            info(&utf8).unwrap().command_line.as_deref(),
            Some("vksplat é")
        );
        // Broken IHDR CRC, IHDR not first, a chunk overrunning the file, bytes after IEND.
        let mut bad_crc = good.clone();
        bad_crc[20] ^= 1;
        assert_eq!(info(&bad_crc), None);
        assert_eq!(
            info(&png_with(&[
                chunk(b"IDAT", &[0; 13]),
                chunk(b"IHDR", &ihdr),
                iend.clone()
            ])),
            None
        );
        let mut overrun = png_with(&[chunk(b"IHDR", &ihdr)]);
        overrun.extend_from_slice(&1000u32.to_be_bytes());
        overrun.extend_from_slice(b"IDAT");
        overrun.extend_from_slice(&iend);
        assert_eq!(info(&overrun), None);
        let mut trailing = good.clone();
        trailing.extend_from_slice(&iend);
        assert_eq!(info(&trailing), None);
    }

    #[test]
    fn output_checks_create_directories_and_refuse_special_files() {
        let dir = Scratch::new("checks");
        let deep = dir.0.join("a/b/c.png");
        // --no-create-dirs: a missing directory is an output error, nothing is created.
        let err = check_outputs([deep.as_path()], false).unwrap_err();
        assert!(
            matches!(&err, CliError::Output(m) if m.contains("does not exist")),
            "{err:?}"
        );
        assert!(!dir.0.join("a").exists());
        check_outputs([deep.as_path()], true).unwrap();
        assert!(dir.0.join("a/b").is_dir());
        // A FIFO at the output path is refused without being opened (this would block).
        let fifo = dir.0.join("a/fifo.png");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let err = check_outputs([fifo.as_path()], true).unwrap_err();
        assert!(
            matches!(&err, CliError::Output(m) if m.contains("FIFO")),
            "{err:?}"
        );
        assert!(matches!(
            existing(&fifo, Format::Png, &expected(1, 1, "")),
            Existing::Redo(m) if m.contains("not a regular file")
        ));
        let long = dir.0.join(format!("{}.png", "n".repeat(252)));
        let err = check_outputs([long.as_path()], true).unwrap_err();
        assert!(
            matches!(&err, CliError::Output(m) if m.contains("256 bytes")),
            "{err:?}"
        );
        // A file where a directory should be.
        let file_dir = dir.0.join("a/b/c.png/x.png");
        std::fs::write(dir.0.join("a/b/c.png"), b"").unwrap();
        let err = check_outputs([file_dir.as_path()], true).unwrap_err();
        assert!(matches!(&err, CliError::Output(_)), "{err:?}");
    }
}
