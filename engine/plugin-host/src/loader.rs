//! Loading a plugin library and negotiating its ABI.
//!
//! Order of checks, each failing with a message that names the plugin and the file:
//! the manifest's ABI version; the library file exists, lies inside the manifest's directory
//! and nobody but its owner or root can have changed it or the manifest ([`crate::trust`]);
//! only then is it loaded, which runs its constructors; it exports
//! `vksplat_plugin_negotiate`; negotiation succeeds (the plugin's ABI version is in this
//! engine's range); the plugin's layout fingerprint is the one frozen for its version
//! (`vksplat_abi::layout::plugin_layout_accepted`); its function table has the
//! right `s_type`, is at least as large as the negotiated version requires, and has the
//! required functions; its name matches the manifest.
//!
//! Libraries are never unloaded (their code may still be referenced by instances, panics or
//! thread-locals): a loaded library is leaked and cached by path for the life of the process,
//! so loading a plugin twice returns the same library.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use vksplat_abi::*;

use crate::error::PluginError;
use crate::manifest::Manifest;
use crate::trust::{self, Policy};

thread_local! {
    /// The message the last plugin call on this thread gave `set_error`.
    static PLUGIN_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The plugin this thread called last: whose log lines `host_log` receives on it.
    static CURRENT_PLUGIN: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Plugin log lines are `log` records with the target `plugin:NAME` (NAME from the manifest;
/// `plugin:?` for a line logged from a thread the host never called the plugin on), so every
/// face's logger sees them: the CLI's on stderr (`-v`), the C API's host callback.
pub const LOG_TARGET_PREFIX: &str = "plugin:";

unsafe extern "C" fn host_set_error(message: *const c_char) {
    let text = if message.is_null() {
        "(no message)".to_string()
    } else {
        // SAFETY: the plugin passes a NUL-terminated string, valid during the call.
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    };
    PLUGIN_ERROR.with(|e| *e.borrow_mut() = Some(text));
}

/// The `log` level of a `VKSPLAT_LOG_*` level (levels this ABI version does not know: below
/// info is debug, above warning is error).
pub fn log_level(level: i32) -> log::Level {
    match level {
        l if l < VKSPLAT_LOG_INFO => log::Level::Debug,
        VKSPLAT_LOG_INFO => log::Level::Info,
        VKSPLAT_LOG_WARNING => log::Level::Warn,
        _ => log::Level::Error,
    }
}

unsafe extern "C" fn host_log(level: i32, message: *const c_char) {
    if message.is_null() {
        return;
    }
    // SAFETY: as above.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
    // Control characters become spaces, so a plugin's message cannot forge extra lines in any
    // sink; a panicking logger must not unwind into the plugin's `extern "C"` code.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let _ = std::panic::catch_unwind(|| {
        let name = CURRENT_PLUGIN.with(|p| p.borrow().clone());
        let target = format!(
            "{LOG_TARGET_PREFIX}{}",
            if name.is_empty() { "?" } else { &name }
        );
        log::log!(target: &target, log_level(level), "{text}");
    });
}

struct SyncHostApi(VksplatHostApi);
// SAFETY: the table holds function pointers and a null pointer only.
unsafe impl Sync for SyncHostApi {}

static HOST_API: SyncHostApi = SyncHostApi(VksplatHostApi {
    s_type: VKSPLAT_STRUCT_HOST_API,
    s_size: std::mem::size_of::<VksplatHostApi>() as u32,
    next: std::ptr::null(),
    abi_version: VKSPLAT_PLUGIN_ABI_VERSION,
    reserved: 0,
    set_error: Some(host_set_error),
    log: Some(host_log),
});

/// The host function table given to plugins.
pub fn host_api() -> *const VksplatHostApi {
    &HOST_API.0
}

/// Before every call into `plugin`: clears this thread's error slot and records which plugin
/// runs on the thread (the target of the log lines it sends during the call).
pub(crate) fn clear_plugin_error(plugin: &str) {
    PLUGIN_ERROR.with(|e| *e.borrow_mut() = None);
    CURRENT_PLUGIN.with(|p| {
        let mut p = p.borrow_mut();
        if *p != plugin {
            p.clear();
            p.push_str(plugin);
        }
    });
}

/// Turns a failed plugin call into an error naming the plugin and the call.
pub(crate) fn call_error(plugin: &str, call: &str, code: VksplatResult) -> PluginError {
    let message = PLUGIN_ERROR
        .with(|e| e.borrow_mut().take())
        .unwrap_or_else(|| "(the plugin gave no message)".into());
    let text = format!("plugin '{plugin}': {call} failed: {message} (code {code})");
    match code {
        VKSPLAT_ERROR_PANIC => PluginError::Panic(text),
        VKSPLAT_ERROR_ABI | VKSPLAT_ERROR_STRUCT_SIZE => PluginError::Abi(text),
        _ => PluginError::Plugin(text),
    }
}

/// A loaded, negotiated plugin library.
pub struct Plugin {
    pub manifest: Manifest,
    /// The plugin's version string from its function table.
    pub version: String,
    /// The negotiated plugin ABI version.
    pub abi_version: u32,
    pub(crate) api: VksplatPluginApi,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.manifest.name)
            .field("library", &self.manifest.library)
            .field("abi_version", &self.abi_version)
            .finish()
    }
}

// SAFETY: the function table points at static data and functions of a library that is never
// unloaded; plugin functions are called with instance-level synchronisation by `Instance`.
unsafe impl Send for Plugin {}
// SAFETY: as for Send: shared access only reads the table and calls through `Instance`.
unsafe impl Sync for Plugin {}

fn loaded() -> &'static Mutex<HashMap<PathBuf, Arc<Plugin>>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<Plugin>>>> = OnceLock::new();
    LOADED.get_or_init(Default::default)
}

impl Plugin {
    /// Loads (once per process) and negotiates the plugin a manifest describes, after the
    /// manifest and file checks of [`crate::trust`] pass under `policy`.
    pub fn load(manifest: &Manifest, policy: &Policy) -> Result<Arc<Plugin>, PluginError> {
        let name = &manifest.name;
        let at = format!("plugin '{name}' ({})", manifest.path.display());
        if !manifest.abi_supported() {
            return Err(PluginError::Abi(format!(
                "{at}: needs plugin ABI version {}, this vksplat loads versions \
                 {VKSPLAT_PLUGIN_ABI_MIN}..={VKSPLAT_PLUGIN_ABI_VERSION}",
                manifest.abi_version
            )));
        }
        // Everything about the files is checked before the library is opened: opening it
        // runs its constructors.
        let audit = trust::audit(manifest)?;
        trust::enforce(manifest, &audit, policy)?;
        let key = audit.library;
        let mut cache = loaded().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&key) {
            return Ok(p.clone());
        }
        // SAFETY: loading a library runs its initialisers, which this host cannot check: this
        // is the trust boundary of plugins (only trusted plugins may be installed). The
        // checked real path is opened, in directories only its owner or root can change.
        let lib = unsafe { libloading::Library::new(&key) }.map_err(|e| {
            PluginError::Plugin(format!(
                "{at}: cannot load {}: {e}",
                manifest.library.display()
            ))
        })?;
        // Never unloaded: leaked for the life of the process.
        let lib: &'static libloading::Library = Box::leak(Box::new(lib));
        // SAFETY: the symbol's type is the frozen entry point's.
        let entry: libloading::Symbol<VksplatNegotiateFn> =
            unsafe { lib.get(b"vksplat_plugin_negotiate\0") }.map_err(|_| {
                PluginError::Plugin(format!(
                    "{at}: {} has no vksplat_plugin_negotiate entry point (not a vksplat \
                     plugin, or built without VKSPLAT_PLUGIN_EXPORT)",
                    manifest.library.display()
                ))
            })?;
        let mut n = VksplatNegotiation {
            s_type: VKSPLAT_STRUCT_NEGOTIATION,
            s_size: std::mem::size_of::<VksplatNegotiation>() as u32,
            next: std::ptr::null(),
            host_abi_min: VKSPLAT_PLUGIN_ABI_MIN,
            host_abi_max: VKSPLAT_PLUGIN_ABI_VERSION,
            host: host_api(),
            plugin_abi_version: 0,
            reserved: 0,
            layout_fingerprint: 0,
            api: std::ptr::null(),
        };
        clear_plugin_error(name);
        // SAFETY: a valid negotiation struct; the plugin fills its out fields.
        let code = unsafe { entry(&mut n) };
        if code == VKSPLAT_ERROR_ABI
            || (code == VKSPLAT_OK
                && !(VKSPLAT_PLUGIN_ABI_MIN..=VKSPLAT_PLUGIN_ABI_VERSION)
                    .contains(&n.plugin_abi_version))
        {
            return Err(PluginError::Abi(format!(
                "{at}: speaks plugin ABI version {} (too {}), this vksplat loads versions \
                 {VKSPLAT_PLUGIN_ABI_MIN}..={VKSPLAT_PLUGIN_ABI_VERSION}; rebuild the plugin \
                 against this vksplat",
                n.plugin_abi_version,
                if n.plugin_abi_version < VKSPLAT_PLUGIN_ABI_MIN {
                    "old"
                } else {
                    "new"
                }
            )));
        }
        if code != VKSPLAT_OK {
            return Err(call_error(name, "vksplat_plugin_negotiate", code));
        }
        if !vksplat_abi::layout::plugin_layout_accepted(n.plugin_abi_version, n.layout_fingerprint)
        {
            let known: Vec<String> = vksplat_abi::layout::fingerprints_of(n.plugin_abi_version)
                .map(|f| format!("{f:#018x}"))
                .collect();
            return Err(PluginError::Abi(format!(
                "{at}: was built against a different vksplat ABI layout (fingerprint {:#018x}; \
                 plugin ABI version {} has {}); rebuild it against this vksplat's \
                 include/vksplat.h or vksplat-plugin-sdk",
                n.layout_fingerprint,
                n.plugin_abi_version,
                known.join(" or ")
            )));
        }
        // The growth rule: copy the part of the table both sides know (the plugin's `s_size`
        // bytes, at least the version-1 table); newer fields stay zero. The pointer is never
        // turned into a reference to the whole struct, which may be longer than the plugin's.
        // SAFETY: the plugin returns NULL or a pointer to its static table of `s_size` bytes
        // (the ABI's contract for negotiate); `read` checks NULL, s_type and s_size.
        let api = unsafe { vksplat_abi::grow::read(n.api, "the function table") }
            .map_err(|e| PluginError::Abi(format!("{at}: {e}")))?;
        if api.open.is_none() || api.close.is_none() || api.describe.is_none() {
            return Err(PluginError::Abi(format!(
                "{at}: function table lacks open, close or describe"
            )));
        }
        let c = |p: *const c_char| {
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: static NUL-terminated strings of the plugin.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        let lib_name = c(api.name);
        if lib_name != *name {
            return Err(PluginError::Plugin(format!(
                "{at}: the library calls itself '{lib_name}', the manifest '{name}'"
            )));
        }
        let plugin = Arc::new(Plugin {
            manifest: manifest.clone(),
            version: c(api.version),
            abi_version: n.plugin_abi_version,
            api,
        });
        cache.insert(key, plugin.clone());
        Ok(plugin)
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}
