//! Atomic, symlink-safe file replacement shared by every writer in the crate.
//!
//! Invariants:
//! * A reader of the target path sees either the old file or a complete new one, never a
//!   partial write: the data goes to a temporary sibling (same directory, hence same
//!   filesystem), is flushed and fsynced, and is then renamed over the target; the directory
//!   is fsynced afterwards (best effort).
//! * The temporary file is always a new file of this process: its name is unique
//!   (`.<name>.<host>.<pid>.<random>.tmp`, see [`temp_name`]) and it is created with
//!   `O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`, mode 0600, so a file or symbolic link planted
//!   under any name in a shared output directory is never opened, followed or truncated. The
//!   final mode (what a plain create gives: 0666 minus the umask) is set just before the
//!   rename. Two processes writing the same target each write their own temporary file: the
//!   last rename wins and every published file is complete.
//! * An existing symbolic link at the target's name is replaced by the rename: the link itself
//!   is replaced, the file it points to is never opened or changed. A directory or a special
//!   file (FIFO, socket, character or block device) at the target's name is refused
//!   ([`check_output_path`]) and never opened, so a FIFO cannot block a writer.
//! * A target whose file name is longer than [`NAME_MAX`] bytes is refused; for long valid
//!   names the temporary name keeps a prefix of the name plus a hash of all of it, so it never
//!   exceeds [`NAME_MAX`] either.
//! * Every temporary file being written is listed in a process-wide registry until it is
//!   renamed or removed; [`remove_temp_files_in_flight`] (called by a signal handler thread
//!   before the process exits) removes them all and makes later writes fail, so an aborted
//!   process leaves no temporary file behind.
//! * Stale temporary files of killed runs are removed by the next write of the same target,
//!   but only when they are certainly dead: written on this host (same host name and pid
//!   namespace, which the `<host>` tag encodes) by a process id that no longer exists. No age
//!   rule: a slow writer on another node (a large scene over NFS) cannot be told from a dead one
//!   by age, so other hosts' files are left to their own next run. A directory is scanned once
//!   per process, at the first write into it.
//!
//! On any failure the temporary file is removed and an [`IoError::Output`] naming the
//! *target* path is returned.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, ErrorKind, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::IoError;

/// The longest file name (one path component, in bytes) Linux filesystems accept.
pub const NAME_MAX: usize = 255;

/// Names up to this many bytes are used verbatim inside temporary names; longer ones are
/// shortened. 255 minus the longest suffix [`temp_name`] adds: `.` + `.<tag ≤ 33>` +
/// `.<pid ≤ 10>` + `.<16 hex>` + `.tmp` = 1 + 34 + 11 + 17 + 4 = 67, rounded down.
const MAX_BASE: usize = 180;

/// Writes `path` atomically; `fill` streams the file contents into the writer.
pub(crate) fn write_atomic<F>(path: &Path, fill: F) -> Result<(), IoError>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    check_output_path(path)?;
    let fail = |e: std::io::Error| IoError::output(path, e.to_string());
    let name = path
        .file_name()
        .ok_or_else(|| IoError::output(path, "the path does not name a file"))?;
    let dir = parent_dir(path);
    let base = temp_base(name);
    remove_stale_temps(dir.unwrap_or(Path::new(".")), &base);
    let (temp, file) = TempFile::create(dir, &base).map_err(fail)?;
    write_and_sync(file, fill).map_err(fail)?;
    // Last look before the rename: a special file planted since the first check is refused
    // rather than replaced.
    check_output_path(path)?;
    temp.publish(path).map_err(fail)?;
    // Persist the rename itself. Best effort: some filesystems refuse to fsync a directory,
    // and the data is already safely written.
    if let Ok(d) = File::open(dir.unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (same rules as every other writer of the crate: unique
/// temporary file, fsync, rename; see the module docs).
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Checks that `path` may be written by this crate's writers, without opening it: its file
/// name is at most [`NAME_MAX`] bytes, and nothing but a regular file or a symbolic link (which
/// the write replaces, never follows) exists under that name. A missing file is fine; the
/// directory itself is not checked here.
pub fn check_output_path(path: &Path) -> Result<(), IoError> {
    let fail = |why: String| IoError::output(path, why);
    let name = path
        .file_name()
        .ok_or_else(|| fail("the path does not name a file".into()))?;
    if name.len() > NAME_MAX {
        return Err(fail(format!(
            "the file name is {} bytes long; file names may have at most {NAME_MAX} bytes",
            name.len()
        )));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            let ft = meta.file_type();
            let special = if ft.is_dir() {
                Some("a directory")
            } else if ft.is_fifo() {
                Some("a FIFO (named pipe)")
            } else if ft.is_socket() {
                Some("a socket")
            } else if ft.is_char_device() {
                Some("a character device")
            } else if ft.is_block_device() {
                Some("a block device")
            } else {
                None
            };
            match special {
                Some(what) => Err(fail(format!(
                    "it is {what}; only a regular file or a symbolic link is replaced"
                ))),
                None => Ok(()),
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Removes every temporary file this process is writing and makes further writes fail. For a
/// signal handler thread that is about to end the process: no temporary file is left behind,
/// and no writer can create a new one afterwards. Safe to call more than once.
pub fn remove_temp_files_in_flight() {
    let mut reg = registry();
    reg.aborted = true;
    for path in reg.files.drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

fn write_and_sync<F>(file: File, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    fill(&mut writer)?;
    writer.flush()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))?;
    file.sync_all()
}

/// The directory containing `path`, or `None` for the current directory.
fn parent_dir(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

// ---------------------------------------------------------------------------------------------
// Temporary files and their registry

/// Temporary files being written by this process.
struct Registry {
    /// Set by [`remove_temp_files_in_flight`]: the process is ending, no new temporary file.
    aborted: bool,
    files: Vec<PathBuf>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
        aborted: false,
        files: Vec::new(),
    });
    // A writer that panicked leaves consistent data (a list of paths): keep going.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

fn aborting() -> std::io::Error {
    std::io::Error::new(ErrorKind::Interrupted, "the process is stopping")
}

/// A registered temporary file; removed (and unregistered) on drop unless published.
struct TempFile {
    path: PathBuf,
    published: bool,
}

impl TempFile {
    /// Creates a new temporary file for the target whose shortened name is `base` in `dir`.
    /// The registry lock is held while the file is created, so an abort either sees the file
    /// registered or prevents its creation.
    fn create(dir: Option<&Path>, base: &OsStr) -> std::io::Result<(TempFile, File)> {
        let mut last = None;
        // A clash needs the same host, pid and 64 random bits: retry a few times, then give up.
        for _ in 0..8 {
            let name = temp_name(base, host_tag(), std::process::id(), random_u64());
            let path = match dir {
                Some(d) => d.join(name),
                None => PathBuf::from(name),
            };
            let mut reg = registry();
            if reg.aborted {
                return Err(aborting());
            }
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&path)
            {
                Ok(file) => {
                    reg.files.push(path.clone());
                    return Ok((
                        TempFile {
                            path,
                            published: false,
                        },
                        file,
                    ));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no unique temporary name")))
    }

    /// Renames the file over `target`. Under the registry lock, so that an abort either
    /// removes the temporary file first (the rename then fails) or finds it already renamed.
    fn publish(mut self, target: &Path) -> std::io::Result<()> {
        let mut reg = registry();
        if reg.aborted {
            return Err(aborting());
        }
        std::fs::rename(&self.path, target)?;
        reg.files.retain(|p| *p != self.path);
        self.published = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.published {
            let mut reg = registry();
            reg.files.retain(|p| *p != self.path);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `.<base>.<host>.<pid>.<random as 16 hex digits>.tmp`. Hidden (a leading dot), so that
/// globs such as `shot.*.exr` never pick it up.
fn temp_name(base: &OsStr, host: &str, pid: u32, random: u64) -> OsString {
    let mut name = Vec::with_capacity(base.len() + 64);
    name.push(b'.');
    name.extend_from_slice(base.as_bytes());
    name.extend_from_slice(format!(".{host}.{pid}.{random:016x}.tmp").as_bytes());
    OsString::from_vec(name)
}

/// The part of a target's file name that goes into its temporary names: the name itself when
/// it is at most [`MAX_BASE`] bytes, else a prefix of it, `~` and a hash of the whole name.
fn temp_base(name: &OsStr) -> OsString {
    let bytes = name.as_bytes();
    if bytes.len() <= MAX_BASE {
        return name.to_owned();
    }
    let hash = format!("~{:016x}", fnv1a(bytes));
    let mut cut = MAX_BASE - hash.len();
    // Keep whole UTF-8 characters when the name is UTF-8, for a readable listing.
    if let Ok(s) = std::str::from_utf8(bytes) {
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
    }
    let mut base = bytes[..cut].to_vec();
    base.extend_from_slice(hash.as_bytes());
    OsString::from_vec(base)
}

/// Parses a temporary name made by [`temp_name`] for `base`: (host tag, pid).
fn parse_temp_name<'a>(name: &'a [u8], base: &OsStr) -> Option<(&'a str, u32)> {
    let rest = name.strip_prefix(b".")?.strip_prefix(base.as_bytes())?;
    let rest = std::str::from_utf8(rest.strip_prefix(b".")?).ok()?;
    let rest = rest.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let random = parts.next()?;
    let pid = parts.next()?;
    let host = parts.next()?;
    let well_formed = random.len() == 16
        && random.bytes().all(|b| b.is_ascii_hexdigit())
        && pid.bytes().all(|b| b.is_ascii_digit())
        && !host.is_empty()
        && !host.contains('.');
    if !well_formed {
        return None;
    }
    Some((host, pid.parse().ok()?))
}

// ---------------------------------------------------------------------------------------------
// Stale temporary files of killed runs

/// Dead temporary files found in each directory at the first write into it, by name.
fn stale_by_dir() -> MutexGuard<'static, HashMap<PathBuf, Vec<OsString>>> {
    static STALE: OnceLock<Mutex<HashMap<PathBuf, Vec<OsString>>>> = OnceLock::new();
    STALE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Removes the stale temporary files of the target `base` in `dir` (see the module docs).
/// Best effort: a file that cannot be listed or removed is left alone.
fn remove_stale_temps(dir: &Path, base: &OsStr) {
    let mut stale = stale_by_dir();
    if !stale.contains_key(dir) {
        // A directory that cannot be listed (yet) is looked at again at the next write.
        let Some(found) = scan_stale(dir) else {
            return;
        };
        stale.insert(dir.to_path_buf(), found);
    }
    let Some(names) = stale.get_mut(dir) else {
        return;
    };
    names.retain(|name| {
        let ours = parse_temp_name(name.as_bytes(), base).is_some();
        if ours {
            let path = dir.join(name);
            // Only plain files: whatever else carries such a name was not made by a writer.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                let _ = std::fs::remove_file(path);
            }
        }
        !ours
    });
}

/// Temporary names in `dir` written on this host by processes that no longer exist; `None`
/// when `dir` cannot be listed.
fn scan_stale(dir: &Path) -> Option<Vec<OsString>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let me = std::process::id();
    let suffix = format!(".{}.", host_tag());
    entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .filter(|name| {
            let b = name.as_bytes();
            if !(b.starts_with(b".") && b.ends_with(b".tmp")) {
                return false;
            }
            // `<base>.<host>.<pid>.<random>.tmp`: read from the end, the base may hold dots.
            let s = String::from_utf8_lossy(&b[b.len().saturating_sub(80)..]);
            let Some(at) = s.rfind(&suffix) else {
                return false;
            };
            let mut tail = s[at + suffix.len()..].split('.');
            let (Some(pid), Some(random), Some("tmp"), None) =
                (tail.next(), tail.next(), tail.next(), tail.next())
            else {
                return false;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                return false;
            };
            random.len() == 16 && pid != me && pid_alive(pid) == Some(false)
        })
        .collect::<Vec<_>>()
        .into()
}

/// Whether process `pid` exists on this host (in this pid namespace); `None` when that cannot
/// be told (no `/proc`).
fn pid_alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    // Also true for a thread id: such a file is kept, which is the safe side.
    Some(Path::new(&format!("/proc/{pid}")).exists())
}

/// This host in temporary names: the host name (letters, digits and `-` only, at most 24
/// characters, for a readable listing), `-` and a hash of the full host name and the pid
/// namespace (two containers with one host name but separate process ids get different tags,
/// so neither takes the other's live files for dead ones).
fn host_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| {
                let s = std::fs::read_to_string(p).ok()?;
                let s = s.trim();
                (!s.is_empty()).then(|| s.to_string())
            })
            .unwrap_or_else(|| "localhost".into());
        let pid_ns = std::fs::read_link("/proc/self/ns/pid")
            .map(|p| p.as_os_str().to_owned())
            .unwrap_or_default();
        let mut key = host.as_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(pid_ns.as_bytes());
        let short: String = host
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(24)
            .collect();
        format!("{short}-{:08x}", fnv1a(&key) as u32)
    })
}

/// The process's umask, read without changing it (`Umask:` in `/proc/self/status`); 022 when
/// it cannot be read.
fn umask() -> u32 {
    static UMASK: OnceLock<u32> = OnceLock::new();
    *UMASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .map_or(0o022, |m| m & 0o777)
    })
}

/// 64 random bits: the standard library's randomly keyed hasher over the time and a counter.
fn random_u64() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// FNV-1a, 64 bits: a stable hash (the same in every process, unlike `RandomState`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;
    use std::os::unix::fs::MetadataExt;

    fn write(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
        write_bytes_atomic(path, bytes)
    }

    /// Names in `dir` other than `keep`.
    fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !keep.contains(&n.as_str()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn temp_names_are_unique_hidden_siblings() {
        let base = temp_base(OsStr::new("out.0001.exr"));
        assert_eq!(base, "out.0001.exr");
        let a = temp_name(&base, "node-1a2b3c4d", 4242, 0xfeed);
        assert_eq!(a, ".out.0001.exr.node-1a2b3c4d.4242.000000000000feed.tmp");
        assert_eq!(
            parse_temp_name(a.as_bytes(), &base),
            Some(("node-1a2b3c4d", 4242))
        );
        // Not a temporary of another target, nor the old fixed name.
        assert_eq!(parse_temp_name(a.as_bytes(), OsStr::new("out.0001")), None);
        assert_eq!(parse_temp_name(b".out.0001.exr.tmp", &base), None);
        assert_ne!(random_u64(), random_u64());
        let tag = host_tag();
        assert!(!tag.contains('.') && tag.len() <= 33, "{tag}");
    }

    #[test]
    fn long_names_get_short_temp_names() {
        for len in [MAX_BASE, MAX_BASE + 1, NAME_MAX] {
            let name = "é".repeat(len / 2) + &"x".repeat(len % 2);
            assert_eq!(name.len(), len);
            let base = temp_base(OsStr::new(&name));
            let tmp = temp_name(&base, host_tag(), u32::MAX, u64::MAX);
            assert!(tmp.len() <= NAME_MAX, "{len}: {} bytes", tmp.len());
            assert!(std::str::from_utf8(base.as_bytes()).is_ok());
            assert!(base.len() <= MAX_BASE);
        }
        // Two long names with one prefix get different temporary names.
        let a = "a".repeat(250) + "1";
        let b = "a".repeat(250) + "2";
        assert_ne!(temp_base(OsStr::new(&a)), temp_base(OsStr::new(&b)));

        let dir = TempDir::new("atomic_long");
        let path = dir.path().join("z".repeat(NAME_MAX));
        write(&path, b"long").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"long");
        let too_long = dir.path().join("z".repeat(NAME_MAX + 1));
        let err = write(&too_long, b"x").unwrap_err().to_string();
        assert!(err.contains("256 bytes") && err.contains("255"), "{err}");
    }

    #[test]
    fn planted_symlinks_are_never_followed() {
        let dir = TempDir::new("atomic_symlink");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        // Every name a writer could plausibly use, including the old fixed one, points at the
        // victim; so does the target itself.
        for name in [".out.png.tmp", "out.png.tmp", ".out.png"] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        let target = dir.path().join("out.png");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write(&target, b"new image").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        // The link at the target was replaced by a regular file.
        let meta = std::fs::symlink_metadata(&target).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(std::fs::read(&target).unwrap(), b"new image");
        assert_eq!(
            others(dir.path(), &["victim", "out.png"]),
            [".out.png", ".out.png.tmp", "out.png.tmp"]
        );
    }

    #[test]
    fn special_files_and_directories_are_refused_unopened() {
        let dir = TempDir::new("atomic_special");
        let fifo = dir.path().join("fifo.png");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening the FIFO for writing would block forever: the check must not open it.
        let err = write(&fifo, b"x").unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        let err = write(dir.path(), b"x").unwrap_err();
        assert!(matches!(err, IoError::Output { .. }));
        let sub = dir.path().join("sub.png");
        std::fs::create_dir(&sub).unwrap();
        assert!(write(&sub, b"x")
            .unwrap_err()
            .to_string()
            .contains("directory"));
        let err = check_output_path(Path::new("/dev/null")).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        assert_eq!(others(dir.path(), &[]), ["fifo.png", "sub.png"]);
    }

    #[test]
    fn final_mode_follows_the_umask_and_no_temp_is_left() {
        let dir = TempDir::new("atomic_mode");
        let path = dir.path().join("m.bin");
        write(&path, b"abc").unwrap();
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask());
        // Replacing keeps working and leaves nothing else.
        write(&path, b"defg").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"defg");
        assert_eq!(others(dir.path(), &["m.bin"]), Vec::<String>::new());
        // A failing writer removes its temporary file.
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("encoder failed"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("encoder failed"));
        assert_eq!(std::fs::read(&path).unwrap(), b"defg");
        assert_eq!(others(dir.path(), &["m.bin"]), Vec::<String>::new());
    }

    #[test]
    fn stale_temps_of_dead_local_writers_are_removed_others_kept() {
        let dir = TempDir::new("atomic_stale");
        let base = OsStr::new("f.exr");
        // A process that has exited: its pid is free (until reused, which keeps the file).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let live = std::process::id();
        let names = [
            temp_name(base, host_tag(), dead, 1), // dead, here: removed
            temp_name(base, "other-node-00000000", dead, 2), // another host: kept
            temp_name(base, host_tag(), live, 3), // alive: kept
            temp_name(OsStr::new("g.exr"), host_tag(), dead, 4), // another target: kept
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), b"stale").unwrap();
        }
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = temp_name(base, host_tag(), dead, 5); // a planted link: left alone
        std::os::unix::fs::symlink(&victim, dir.path().join(&link)).unwrap();

        write(&dir.path().join("f.exr"), b"frame").unwrap();
        let left = others(dir.path(), &["f.exr", "victim"]);
        let mut want: Vec<String> = names[1..]
            .iter()
            .chain([&link])
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        want.sort();
        assert_eq!(left, want);
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }
}
