//! Opening input files (scenes, cameras) so that a hostile path cannot block or exhaust us.
//!
//! Invariants:
//! * only regular files are read. The path's metadata is checked *before* it is opened (so a
//!   FIFO never blocks `open`, and `/dev/zero` or a directory is refused instead of read
//!   forever); the file is then opened with `O_NONBLOCK` and its handle checked again, so a
//!   path swapped for a FIFO in between cannot block either;
//! * a whole-file read allocates the size the handle reports, fallibly, and reads at most that
//!   many bytes.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use crate::IoError;

/// What a non-regular file is, for messages.
fn kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn check_regular(path: &Path, meta: &Metadata) -> Result<(), IoError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(IoError::input(
        path,
        format!(
            "is {}, not a regular file; vksplat reads scenes and cameras from regular files only",
            kind(meta)
        ),
    ))
}

fn cannot_read(path: &Path, e: std::io::Error) -> IoError {
    IoError::input(path, format!("cannot read: {e}"))
}

/// Opens a regular file for reading; returns it with its length.
pub(crate) fn open(path: &Path) -> Result<(File, u64), IoError> {
    use std::os::unix::fs::OpenOptionsExt;
    let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, e))?;
    check_regular(path, &meta)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| cannot_read(path, e))?;
    let meta = file.metadata().map_err(|e| cannot_read(path, e))?;
    check_regular(path, &meta)?;
    Ok((file, meta.len()))
}

/// [`open`] for other crates (the plugin host's content detection): a regular file opened
/// without blocking, with its length; anything else is an input error naming the path.
pub fn open_regular(path: &Path) -> Result<(File, u64), IoError> {
    open(path)
}

/// Reads a whole regular file (the memory for it is allocated fallibly).
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>, IoError> {
    let (file, len) = open(path)?;
    read_rest(path, file, len, Vec::new())
}

/// Appends the rest of `file` (whose whole length is `len`) to `head`, which holds what was
/// already read from it.
pub(crate) fn read_rest(
    path: &Path,
    mut file: File,
    len: u64,
    mut head: Vec<u8>,
) -> Result<Vec<u8>, IoError> {
    let total =
        usize::try_from(len).map_err(|_| crate::memory::AllocError { bytes: len }.at(path))?;
    let more = total.saturating_sub(head.len());
    crate::memory::reserve(&mut head, more).map_err(|e| e.at(path))?;
    (&mut file)
        .take(more as u64)
        .read_to_end(&mut head)
        .map_err(|e| cannot_read(path, e))?;
    if head.len() != total {
        return Err(IoError::input(
            path,
            format!(
                "cannot read: the file changed while it was read ({} bytes, {} expected)",
                head.len(),
                total
            ),
        ));
    }
    Ok(head)
}

/// Reads a whole regular file as UTF-8 text (camera JSON).
pub(crate) fn read_text(path: &Path) -> Result<String, IoError> {
    String::from_utf8(read_all(path)?)
        .map_err(|e| IoError::input(path, format!("cannot read: not UTF-8 text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_by_kind() {
        let e = open(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(e, IoError::Input { .. }), "{e:?}");
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = read_all(Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = read_all(Path::new("/nonexistent/x.ply")).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn fifo_does_not_block() {
        let dir = crate::test_util::TempDir::new("input-fifo");
        let fifo = dir.path().join("scene.ply");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success(), "mkfifo");
        let e = read_all(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let file = dir.path().join("a.json");
        std::fs::write(&file, "[1]").unwrap();
        assert_eq!(read_text(&file).unwrap(), "[1]");
    }
}
