//! Plugin manifests and the search path.
//!
//! A manifest is a JSON file named `NAME.vksplat.json` beside the plugin library:
//! `{"name": "wave", "version": "1.0.0", "abi_version": 1, "library": "vksplat_wave",
//! "description": "…", "reads": [{"suffix": ".wave"}]}` (`reads` is optional: the files the
//! plugin reads, by content, see [`mod@crate::detect`]). `library` is a path relative to the
//! manifest's directory that stays inside it (not absolute, no `..`; [`crate::trust`] also
//! checks where symlinks lead); a bare name without an extension is the platform's file name
//! for it (`libvksplat_wave.so`, `vksplat_wave.dll`, `libvksplat_wave.dylib`). Listing
//! plugins reads manifests and file metadata only and never runs plugin code.
//!
//! The search path is the `--plugin-dir` directories in order, then `VKSPLAT_PLUGIN_PATH`
//! (separated like `PATH`), then the default directories ([`default_dirs`]): the directory of
//! the vksplat binary (or of libvksplat for the C API), where `cargo build` puts the plugins
//! shipped in `plugins/`, and `../lib/vksplat/plugins` from there (an installed layout).
//! Within a directory, manifests are read in file-name order. The first manifest with a name
//! wins; later ones are shadowed, and finding a shadowed name warns (unless what it shadows is
//! a bundled plugin in a default directory: overriding those is what --plugin-dir is for).
//! The trust checks apply to every directory alike.

#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::PluginError;
use crate::trust::Policy;

/// File name suffix of plugin manifests.
pub const MANIFEST_SUFFIX: &str = ".vksplat.json";
/// Environment variable with more plugin directories.
pub const PLUGIN_PATH_VAR: &str = "VKSPLAT_PLUGIN_PATH";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    version: String,
    abi_version: u32,
    library: String,
    #[serde(default)]
    description: String,
    /// What files the plugin reads (see [`mod@crate::detect`]).
    #[serde(default)]
    reads: Vec<crate::detect::RawMatcher>,
}

/// A parsed manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub abi_version: u32,
    pub description: String,
    /// The library, resolved against the manifest's directory.
    pub library: PathBuf,
    /// The manifest file.
    pub path: PathBuf,
    /// The files the plugin reads, by content (`"reads"`, [`mod@crate::detect`]); empty when the
    /// manifest declares none (the plugin is then only used when named).
    pub reads: Vec<crate::detect::Matcher>,
}

impl Manifest {
    /// Reads and checks a manifest file.
    pub fn read(path: &Path) -> Result<Manifest, PluginError> {
        let fail = |why: String| {
            PluginError::NotFound(format!("plugin manifest {}: {why}", path.display()))
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let raw: RawManifest =
            serde_json::from_str(&text).map_err(|e| fail(format!("invalid: {e}")))?;
        if raw.name.is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(fail(format!(
                "name '{}' must be non-empty ASCII letters, digits, '-' or '_'",
                raw.name
            )));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let lib = Path::new(&raw.library);
        if let Some(why) = escapes(lib) {
            return Err(PluginError::Untrusted(format!(
                "plugin manifest {}: field \"library\" ({}) {why}; it must be a path relative \
                 to the manifest's directory and inside it (put the library next to the \
                 manifest)",
                path.display(),
                raw.library
            )));
        }
        let reads = raw
            .reads
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.check(i))
            .collect::<Result<Vec<_>, String>>()
            .map_err(&fail)?;
        let library = if lib.components().count() == 1 && lib.extension().is_none() {
            dir.join(libloading::library_filename(lib.as_os_str()))
        } else {
            dir.join(lib)
        };
        Ok(Manifest {
            name: raw.name,
            version: raw.version,
            abi_version: raw.abi_version,
            description: raw.description,
            library,
            path: path.to_path_buf(),
            reads,
        })
    }

    /// True when this engine loads the manifest's ABI version.
    pub fn abi_supported(&self) -> bool {
        (vksplat_abi::VKSPLAT_PLUGIN_ABI_MIN..=vksplat_abi::VKSPLAT_PLUGIN_ABI_VERSION)
            .contains(&self.abi_version)
    }
}

/// Why a manifest's `library` value would leave the manifest's directory, or `None`.
fn escapes(lib: &Path) -> Option<&'static str> {
    if lib.as_os_str().is_empty() {
        return Some("is empty");
    }
    for c in lib.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => return Some("is an absolute path"),
            Component::ParentDir => return Some("contains a '..' component"),
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    None
}

/// The directories searched after `--plugin-dir` and `VKSPLAT_PLUGIN_PATH`: the directory of
/// the file this code runs from — the vksplat binary, or the libvksplat shared library a host
/// loaded — and `../lib/vksplat/plugins` from it (for `PREFIX/bin/vksplat` beside
/// `PREFIX/lib/vksplat/plugins`, and for `PREFIX/lib/libvksplat.so`). Computed once.
pub fn default_dirs() -> &'static [PathBuf] {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let Some(dir) = own_file().and_then(|f| f.parent().map(Path::to_path_buf)) else {
            return Vec::new();
        };
        let installed = dir.join("../lib/vksplat/plugins");
        let installed = installed.canonicalize().unwrap_or(installed);
        vec![dir, installed]
    })
}

/// The executable or shared library this code is part of, canonical.
fn own_file() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok();
    #[cfg(unix)]
    {
        // SAFETY: dladdr only reads the dynamic linker's tables; `info` is plain data it fills.
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: as above; the address is a function of this object.
        let found = unsafe { libc::dladdr(own_file as *const libc::c_void, &mut info) } != 0;
        if found && !info.dli_fname.is_null() {
            // SAFETY: a NUL-terminated path owned by the dynamic linker.
            let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
            let name = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
            // For the main program glibc reports argv[0], which may be relative or a bare
            // name found on PATH: the kernel's answer (current_exe) is the reliable one.
            let is_main = std::env::args_os().next().as_deref() == Some(name.as_os_str());
            if !is_main && !name.as_os_str().is_empty() {
                if let Ok(path) = name.canonicalize() {
                    return Some(path);
                }
            }
        }
    }
    exe.and_then(|e| e.canonicalize().ok())
}

/// Where plugins are looked for.
#[derive(Clone, Debug, Default)]
pub struct SearchPath {
    pub dirs: Vec<PathBuf>,
}

/// One manifest found on the search path (or a manifest that failed to parse).
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    pub manifest: Result<Manifest, PluginError>,
    /// The earlier manifest with the same name, which wins over this one.
    pub shadowed_by: Option<PathBuf>,
}

/// How the search path picks among manifests with the same name, for messages.
pub const SHADOWING_RULE: &str = "the first directory on the search path wins: --plugin-dir \
     directories in order, then VKSPLAT_PLUGIN_PATH, then the directory of vksplat itself and \
     its ../lib/vksplat/plugins; within a directory, manifest files in name order";

impl SearchPath {
    /// `dirs` (from `--plugin-dir`), then `VKSPLAT_PLUGIN_PATH`, then [`default_dirs`].
    pub fn new(dirs: &[PathBuf]) -> SearchPath {
        let mut all = dirs.to_vec();
        if let Some(var) = std::env::var_os(PLUGIN_PATH_VAR) {
            all.extend(std::env::split_paths(&var).filter(|p| !p.as_os_str().is_empty()));
        }
        // A default directory also given explicitly is searched once, where it was given.
        let given: Vec<PathBuf> = all.iter().filter_map(|d| d.canonicalize().ok()).collect();
        all.extend(
            default_dirs()
                .iter()
                .filter(|d| !given.contains(d))
                .cloned(),
        );
        SearchPath { dirs: all }
    }

    /// Every manifest in the search path, in search order (files sorted by name per
    /// directory). Missing directories are skipped.
    pub fn discover(&self) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(MANIFEST_SUFFIX))
                })
                .collect();
            paths.sort();
            for path in paths {
                let manifest = Manifest::read(&path);
                let shadowed_by = manifest.as_ref().ok().and_then(|m| {
                    out.iter()
                        .find(|f| {
                            f.shadowed_by.is_none()
                                && f.manifest.as_ref().is_ok_and(|o| o.name == m.name)
                        })
                        .map(|f| f.path.clone())
                });
                out.push(Found {
                    path,
                    manifest,
                    shadowed_by,
                });
            }
        }
        out
    }

    /// The manifest for `name_or_path`: a path to a manifest file (contains a path separator
    /// or ends in `.json`), or the first manifest with that name on the search path. Other
    /// manifests with that name get a warning through `policy` naming both and the rule.
    pub fn find(&self, name_or_path: &str, policy: &Policy) -> Result<Manifest, PluginError> {
        if name_or_path.ends_with(".json") || name_or_path.contains(std::path::MAIN_SEPARATOR) {
            return Manifest::read(Path::new(name_or_path));
        }
        let mut found = self.discover();
        let file_name = format!("{name_or_path}{MANIFEST_SUFFIX}");
        // The first manifest with the name, or a broken one whose file is named after the
        // plugin (which explains the miss).
        let hit = found.iter().position(|f| match &f.manifest {
            Ok(m) => m.name == name_or_path,
            Err(_) => f.path.file_name().and_then(|n| n.to_str()) == Some(file_name.as_str()),
        });
        if let Some(i) = hit {
            let f = found.remove(i);
            if f.manifest.is_ok() {
                let bundled = |p: &Path| default_dirs().iter().any(|d| p.parent() == Some(d));
                for other in found
                    .iter()
                    .filter(|o| o.shadowed_by.as_ref() == Some(&f.path) && !bundled(&o.path))
                {
                    (policy.warn)(&format!(
                        "warning: plugin '{name_or_path}': using {}; {} also provides it and is \
                         shadowed ({SHADOWING_RULE})",
                        f.path.display(),
                        other.path.display()
                    ));
                }
            }
            return f.manifest;
        }
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        Err(PluginError::NotFound(format!(
            "plugin '{name_or_path}': no manifest named {name_or_path}{MANIFEST_SUFFIX} in the \
             plugin search path [{}] (add one with --plugin-dir or {PLUGIN_PATH_VAR})",
            dirs.join(", ")
        )))
    }
}
