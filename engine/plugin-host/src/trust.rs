//! Deciding whether a plugin may be loaded: the checks that run before any plugin code does.
//!
//! Loading a shared library runs its constructors (static initialisers) before vksplat can
//! call or check anything in it: that is what loading means. So the host loads only files that
//! nobody but their owner (you or root) can have changed, and only from where the manifest
//! says. [`audit`] checks, reading metadata only:
//!
//! - **Containment** (always an error): the manifest's `library`, with symlinks resolved,
//!   lies inside the manifest's directory. (The field's syntax, relative without `..`, is
//!   checked when the manifest is read.)
//! - **Permissions** (an error unless [`Policy::allow_insecure`], then a warning), Unix only:
//!   - the manifest and the library (their real files, after symlinks) and the directories
//!     that hold them, up to and including the manifest's directory: not writable by every
//!     user; not group-writable unless the group is the owner's primary group (under the
//!     user-private-group scheme of most Linux distributions, umask 002, every file a user
//!     creates is group-writable by a group only that user is in; any other group, such as a
//!     shared team group, lets other people replace the file); owned by you or root (an owner
//!     can always make a file writable again, so trusting a file means trusting its owner);
//!   - every directory above those, on the path as given and with symlinks resolved: not
//!     writable by every user nor by a foreign group, unless the sticky bit is set (`/tmp`:
//!     others cannot rename or delete entries they do not own). Their owners are not checked
//!     (a checkout below a directory owned by another account is common on build machines).
//!
//! Root needs no such permission and is trusted anyway. The checks cannot make a library's own
//! code safe: install only plugins you trust.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::PluginError;
use crate::manifest::Manifest;

/// Environment variable that, set to anything but `""` or `0`, allows insecure plugin files
/// (the C API's and the CLI's equivalent of `--allow-insecure-plugins`).
pub const ALLOW_INSECURE_VAR: &str = "VKSPLAT_ALLOW_INSECURE_PLUGINS";

/// How strictly plugins are checked, and where the host's warnings go.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Load plugins whose files or directories others can change, with a warning.
    pub allow_insecure: bool,
    /// Receives one warning line (without a newline), e.g. a shadowed plugin.
    pub warn: fn(&str),
}

impl Policy {
    /// Strict unless [`ALLOW_INSECURE_VAR`] is set; warnings go to stderr.
    pub fn from_env() -> Policy {
        Policy {
            allow_insecure: env_allows_insecure(),
            warn: warn_to_stderr,
        }
    }
}

/// True when [`ALLOW_INSECURE_VAR`] asks for insecure plugins to be allowed.
pub fn env_allows_insecure() -> bool {
    std::env::var_os(ALLOW_INSECURE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Writes `text` as one line to stderr in one write, control characters replaced, errors
/// ignored (the host may run inside another program whose stderr is closed).
pub fn warn_to_stderr(text: &str) {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.push('\n');
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
}

/// What [`audit`] found out about a manifest's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    /// The library's real path (symlinks resolved); inside the manifest's directory.
    pub library: PathBuf,
    /// Why someone other than the files' owner or root could change what gets loaded, each
    /// naming a path and the fix. Empty when nobody can.
    pub insecure: Vec<String>,
}

/// Checks a manifest's library location and the permissions of everything loading it would
/// trust. Errors: the library is missing or resolves outside the manifest's directory.
pub fn audit(m: &Manifest) -> Result<Audit, PluginError> {
    let at = format!("plugin '{}' ({})", m.name, m.path.display());
    let dir = m
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let real_dir = dir.canonicalize().map_err(|e| {
        PluginError::NotFound(format!(
            "{at}: cannot resolve the manifest's directory: {e}"
        ))
    })?;
    let library = match m.library.canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PluginError::NotFound(format!(
                "{at}: library {} does not exist",
                m.library.display()
            )))
        }
        Err(e) => {
            return Err(PluginError::NotFound(format!(
                "{at}: library {}: {e}",
                m.library.display()
            )))
        }
    };
    if !library.starts_with(&real_dir) {
        return Err(PluginError::Untrusted(format!(
            "{at}: field \"library\" ({}) resolves to {}, outside the manifest's directory {} \
             (symlinks may not lead out of it); put the library itself next to the manifest",
            m.library.display(),
            library.display(),
            real_dir.display()
        )));
    }
    if !library.is_file() {
        return Err(PluginError::NotFound(format!(
            "{at}: library {} is not a file",
            library.display()
        )));
    }
    let manifest = m
        .path
        .canonicalize()
        .map_err(|e| PluginError::NotFound(format!("{at}: cannot resolve the manifest: {e}")))?;
    let insecure = permission_problems(&manifest, &library, dir, &real_dir);
    Ok(Audit { library, insecure })
}

/// Turns an audit's permission problems into a refusal, or into a warning when the policy
/// allows insecure plugins.
pub(crate) fn enforce(m: &Manifest, audit: &Audit, policy: &Policy) -> Result<(), PluginError> {
    if audit.insecure.is_empty() {
        return Ok(());
    }
    let at = format!("plugin '{}' ({})", m.name, m.path.display());
    let problems = audit.insecure.join("; ");
    if policy.allow_insecure {
        (policy.warn)(&format!(
            "warning: {at}: loading it although others can change it ({ALLOW_INSECURE_VAR} or \
             --allow-insecure-plugins): {problems}"
        ));
        return Ok(());
    }
    Err(PluginError::Untrusted(format!(
        "{at}: refusing to load: {problems}. Anyone who can change these files can run code \
         inside vksplat; fix the permissions, or pass --allow-insecure-plugins (C API: set \
         {ALLOW_INSECURE_VAR}=1) to load it anyway"
    )))
}

/// How a path is judged (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The manifest, the library, and the directories from theirs up to the manifest's.
    Owned,
    /// A directory above: writability only, sticky directories exempt.
    Above,
}

/// A path's owner, group and mode bits.
#[derive(Clone, Copy, Debug)]
struct Stat {
    uid: u32,
    gid: u32,
    mode: u32,
}

/// Why others could change a path with `stat`, or `None`. `primary_gid` maps a user to their
/// primary group (`None` when unknown); `me` is the effective user id.
fn judge(
    path: &Path,
    stat: Stat,
    role: Role,
    me: u32,
    primary_gid: &mut dyn FnMut(u32) -> Option<u32>,
) -> Option<String> {
    const STICKY: u32 = 0o1000;
    const GROUP_W: u32 = 0o020;
    const OTHER_W: u32 = 0o002;
    let p = path.display();
    let exempt = role == Role::Above && stat.mode & STICKY != 0;
    if stat.mode & OTHER_W != 0 && !exempt {
        return Some(format!(
            "{p} is writable by every user (mode {:04o}; fix: chmod o-w {p})",
            stat.mode & 0o7777
        ));
    }
    if stat.mode & GROUP_W != 0 && !exempt && primary_gid(stat.uid) != Some(stat.gid) {
        return Some(format!(
            "{p} is writable by group {}, which is not its owner's primary group (mode {:04o}; \
             fix: chmod g-w {p})",
            stat.gid,
            stat.mode & 0o7777
        ));
    }
    if role == Role::Owned && stat.uid != 0 && stat.uid != me {
        return Some(format!(
            "{p} is owned by user {} (neither you, user {me}, nor root), who can change it at \
             will (fix: chown it to root or yourself)",
            stat.uid
        ));
    }
    None
}

/// The directories from `from` up to and including `to` (`to` must be an ancestor).
fn dirs_between(from: &Path, to: &Path) -> Vec<PathBuf> {
    from.ancestors()
        .take_while(|d| d.starts_with(to))
        .map(Path::to_path_buf)
        .collect()
}

/// Every permission problem of the files loading a manifest's library trusts.
#[cfg(unix)]
fn permission_problems(
    manifest: &Path,
    library: &Path,
    dir: &Path,
    real_dir: &Path,
) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;

    let mut owned: BTreeSet<PathBuf> = BTreeSet::new();
    owned.insert(manifest.to_path_buf());
    owned.insert(library.to_path_buf());
    owned.extend(dirs_between(library.parent().unwrap_or(real_dir), real_dir));
    if let Some(parent) = manifest.parent() {
        owned.insert(parent.to_path_buf());
    }
    let mut above: BTreeSet<PathBuf> = BTreeSet::new();
    let as_given = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    for start in owned.iter().chain([&as_given]) {
        above.extend(start.ancestors().skip(1).map(Path::to_path_buf));
    }
    // The directory as given is judged like the real one it names.
    owned.insert(as_given);

    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mut gids: std::collections::HashMap<u32, Option<u32>> = Default::default();
    let mut primary = |uid: u32| *gids.entry(uid).or_insert_with(|| primary_gid(uid));
    let mut problems = Vec::new();
    let roles = owned.iter().map(|p| (p, Role::Owned)).chain(
        above
            .iter()
            .filter(|p| !owned.contains(*p))
            .map(|p| (p, Role::Above)),
    );
    for (path, role) in roles {
        // Paths above may be unreadable (no search permission): that is not others' access.
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let stat = Stat {
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode(),
        };
        if let Some(problem) = judge(path, stat, role, me, &mut primary) {
            problems.push(problem);
        }
    }
    problems
}

/// Windows and other systems: no Unix permission bits to check.
#[cfg(not(unix))]
fn permission_problems(_: &Path, _: &Path, _: &Path, _: &Path) -> Vec<String> {
    Vec::new()
}

/// A user's primary group from the user database, `None` when the user is unknown.
#[cfg(unix)]
fn primary_gid(uid: u32) -> Option<u32> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: `passwd` is plain old data for which zero is valid; getpwuid_r writes into
        // `pwd` and `buf` (whose length it is given) and sets `result` to `&pwd` or null.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: as above; `buf.len()` is the buffer's real length.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return (rc == 0 && !result.is_null()).then_some(pwd.pw_gid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    fn check(stat: (u32, u32, u32), role: Role) -> Option<String> {
        // Users 1000 and 1001 have private primary groups 1000 and 1001; 0 is root.
        let mut primary = |uid: u32| match uid {
            0 | 1000 | 1001 => Some(uid),
            _ => None,
        };
        let (uid, gid, mode) = stat;
        judge(
            Path::new("/p/x"),
            Stat { uid, gid, mode },
            role,
            ME,
            &mut primary,
        )
    }

    #[test]
    fn world_writable_is_refused_unless_a_sticky_directory_above() {
        let p = check((ME, ME, 0o100666), Role::Owned).unwrap();
        assert!(
            p.contains("/p/x is writable by every user") && p.contains("chmod o-w /p/x"),
            "{p}"
        );
        assert!(check((0, 0, 0o40777), Role::Above).is_some());
        assert!(check((0, 0, 0o41777), Role::Above).is_none());
        // The plugin directory itself may not be world-writable even when sticky: others
        // could add manifests to it.
        assert!(check((ME, ME, 0o41777), Role::Owned).is_some());
    }

    #[test]
    fn group_writable_only_for_the_owners_primary_group() {
        assert!(check((ME, ME, 0o100664), Role::Owned).is_none());
        assert!(check((0, 0, 0o40775), Role::Above).is_none());
        let p = check((ME, 50, 0o100664), Role::Owned).unwrap();
        assert!(
            p.contains("group 50") && p.contains("chmod g-w /p/x"),
            "{p}"
        );
        assert!(check((ME, 50, 0o40775), Role::Above).is_some());
        assert!(check((ME, 50, 0o41775), Role::Above).is_none());
        // An owner missing from the user database has no known primary group.
        assert!(check((4242, 4242, 0o40775), Role::Above).is_some());
        // Read-only for the group is fine whatever the group.
        assert!(check((ME, 50, 0o100644), Role::Owned).is_none());
    }

    #[test]
    fn files_must_be_owned_by_me_or_root() {
        assert!(check((0, 0, 0o100644), Role::Owned).is_none());
        assert!(check((ME, ME, 0o100755), Role::Owned).is_none());
        let p = check((1001, 1001, 0o100644), Role::Owned).unwrap();
        assert!(p.contains("owned by user 1001"), "{p}");
        // Directories above may belong to anyone.
        assert!(check((1001, 1001, 0o40755), Role::Above).is_none());
    }

    #[test]
    fn dirs_between_stops_at_the_manifest_directory() {
        let got = dirs_between(Path::new("/a/b/c/d"), Path::new("/a/b"));
        let want: Vec<PathBuf> = ["/a/b/c/d", "/a/b/c", "/a/b"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }

    #[cfg(unix)]
    #[test]
    fn root_has_primary_group_0() {
        assert_eq!(primary_gid(0), Some(0));
    }
}
