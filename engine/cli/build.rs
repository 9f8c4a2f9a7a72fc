//! Build-time facts for `vksplat --version` (see `src/version.rs`):
//! * `VKSPLAT_GIT_HASH`: the short commit hash of the checkout this crate is built from,
//!   `-dirty` appended when tracked files differ from it, `unknown` outside a git checkout
//!   (a source tarball, git not installed) — never a parent repository's commit;
//! * `VKSPLAT_BUILD_DATE`: the UTC build date, YYYY-MM-DD; `SOURCE_DATE_EPOCH` (reproducible
//!   builds) replaces the clock.
//!
//! Only local `git` commands run; nothing touches the network. The script reruns when the
//! commit moves (HEAD, the branch it points to, packed refs) and when the sources that make up
//! the binary change (so `-dirty` follows edits there; an edit elsewhere, e.g. under tests/,
//! shows up at the next rerun).

#[path = "src/civil_date.rs"]
mod civil_date;

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(root: &Path, args: &[&str]) -> Option<String> {
    // --no-optional-locks: `git status` must not rewrite the index (that would look like a
    // change and rerun this script on every build).
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The short hash (+ `-dirty`) of the checkout at `root`, or None when `root` is not the top
/// of a git work tree.
fn git_hash(root: &Path) -> Option<String> {
    let top = PathBuf::from(git(root, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != root.canonicalize().ok()? {
        return None;
    }
    let hash = git(root, &["rev-parse", "--short=12", "HEAD"])?;
    // Untracked files (build outputs, scratch files) do not make a build dirty.
    let dirty = git(root, &["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    watch_git(root);
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// rerun-if-changed on the files that move when the commit does.
fn watch_git(root: &Path) {
    let abs = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            root.join(p)
        }
    };
    let Some(git_dir) = git(root, &["rev-parse", "--git-dir"]).map(abs) else {
        return;
    };
    let common = git(root, &["rev-parse", "--git-common-dir"])
        .map(abs)
        .unwrap_or_else(|| git_dir.clone());
    let mut watch = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD")) {
        if let Some(reference) = head.trim().strip_prefix("ref: ") {
            watch.push(common.join(reference));
        }
    }
    for path in watch {
        // Cargo treats a missing file as changed on every build; only existing ones.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let hash = git_hash(&root).unwrap_or_else(|| "unknown".into());

    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let date = civil_date::utc_date(seconds);

    // The sources of the binary: an edit there changes `-dirty` (directories are scanned
    // recursively by cargo).
    for dir in ["engine", "shaders", "include", "Cargo.toml", "Cargo.lock"] {
        let path = root.join(dir);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=VKSPLAT_GIT_HASH={hash}");
    println!("cargo:rustc-env=VKSPLAT_BUILD_DATE={date}");
}
