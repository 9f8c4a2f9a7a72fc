//! Atomic file replacement shared by every writer in the crate.
//!
//! Invariant: a reader of the target path sees either the old file or the
//! complete new one, never a partial write. We write to a sibling temporary
//! file named `.<file name>.tmp` (same directory, hence same filesystem, so
//! the final `rename` is atomic), flush and fsync it, then rename it over the
//! target. On any failure the temporary file is removed and an
//! [`IoError::Output`] naming the *target* path is returned.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::IoError;

/// Writes `path` atomically; `fill` streams the file contents into the writer.
pub(crate) fn write_atomic<F>(path: &Path, fill: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let tmp = temp_path(path)?;
    let result = write_and_sync(&tmp, fill).and_then(|()| std::fs::rename(&tmp, path));
    match result {
        Ok(()) => {
            // Persist the rename itself. Best effort: some filesystems refuse
            // to fsync a directory, and the data is already safely written.
            if let Some(dir) = parent_dir(path) {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(IoError::output(path, e.to_string()))
        }
    }
}

fn write_and_sync<F>(tmp: &Path, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let file = File::create(tmp)?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    fill(&mut writer)?;
    writer.flush()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// The directory containing `path`, or `None` for the current directory.
fn parent_dir(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// `dir/.<name>.tmp` for target `dir/<name>`.
fn temp_path(path: &Path) -> Result<PathBuf, IoError> {
    let name = path
        .file_name()
        .ok_or_else(|| IoError::output(path, "the path does not name a file"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    Ok(match parent_dir(path) {
        Some(dir) => dir.join(tmp_name),
        None => PathBuf::from(tmp_name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_name_is_hidden_sibling() {
        assert_eq!(
            temp_path(Path::new("a/b/out.exr")).unwrap(),
            PathBuf::from("a/b/.out.exr.tmp")
        );
        assert_eq!(
            temp_path(Path::new("out.png")).unwrap(),
            PathBuf::from(".out.png.tmp")
        );
        assert!(temp_path(Path::new("/")).is_err());
    }
}
