//! Owned handles over shaderc's C API (the `shaderc-sys` declarations).
//!
//! Every object the library hands out — compiler, compile options, compilation result (a
//! failed one too), include result — lives in exactly one Rust value whose `Drop` releases it,
//! so no return path (success, compile error, include error, unwinding) can leak one. The
//! `shaderc` crate's `compile_into_spirv` returned early on a failed compile without releasing
//! the result; this module replaces it. [`live`] counts the objects alive for the tests.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use shaderc_sys as sys;

use crate::CompileError;

/// `shaderc_compute_shader` (shaderc.h).
const KIND_COMPUTE: i32 = 2;
/// `shaderc_target_env_vulkan` (env.h).
const TARGET_ENV_VULKAN: i32 = 0;
/// `shaderc_env_version_vulkan_1_2` (env.h).
const ENV_VERSION_VULKAN_1_2: u32 = (1 << 22) | (2 << 12);
/// `shaderc_optimization_level_performance` (shaderc.h).
const OPTIMIZE_PERFORMANCE: i32 = 2;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// C objects of shaderc and SPIRV-Tools currently alive in this process.
pub(crate) fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

pub(crate) fn created() {
    LIVE.fetch_add(1, Ordering::SeqCst);
}

pub(crate) fn released() {
    LIVE.fetch_sub(1, Ordering::SeqCst);
}

/// A shaderc compiler.
struct Compiler(NonNull<sys::ShadercCompiler>);

impl Compiler {
    fn new() -> Result<Compiler, CompileError> {
        // SAFETY: no preconditions; a null return is handled.
        let raw = unsafe { sys::shaderc_compiler_initialize() };
        let raw = NonNull::new(raw)
            .ok_or_else(|| CompileError("shaderc: could not create a compiler".into()))?;
        created();
        Ok(Compiler(raw))
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        // SAFETY: created by shaderc_compiler_initialize, released once.
        unsafe { sys::shaderc_compiler_release(self.0.as_ptr()) };
        released();
    }
}

/// Resolves `#include "requested"` seen in `requester` to (resolved name, text), or a message.
pub(crate) type Resolver = dyn Fn(&str, &str) -> Result<(String, String), String>;

/// What the include callbacks' `user_data` points at.
struct Includer {
    resolve: Box<Resolver>,
}

/// Compile options, with the include resolver they point at.
pub(crate) struct Options {
    raw: NonNull<sys::ShadercCompileOptions>,
    /// Referenced by `raw` (as the callbacks' user data): dropped after `raw` is released.
    includer: Option<Box<Includer>>,
}

impl Options {
    /// Options for the engine's shaders: Vulkan 1.2, optimised for performance, with debug
    /// information (names in validation messages and captures).
    pub(crate) fn vulkan_1_2() -> Result<Options, CompileError> {
        // SAFETY: no preconditions; a null return is handled.
        let raw = unsafe { sys::shaderc_compile_options_initialize() };
        let raw = NonNull::new(raw)
            .ok_or_else(|| CompileError("shaderc: could not create compile options".into()))?;
        created();
        let options = Options {
            raw,
            includer: None,
        };
        // SAFETY: a live options object.
        unsafe {
            sys::shaderc_compile_options_set_target_env(
                raw.as_ptr(),
                TARGET_ENV_VULKAN,
                ENV_VERSION_VULKAN_1_2,
            );
            sys::shaderc_compile_options_set_optimization_level(raw.as_ptr(), OPTIMIZE_PERFORMANCE);
            sys::shaderc_compile_options_set_generate_debug_info(raw.as_ptr());
        }
        Ok(options)
    }

    /// Adds `#define name value`.
    pub(crate) fn define(&mut self, name: &str, value: &str) -> Result<(), CompileError> {
        let nul = |what: &str| CompileError(format!("define {name:?}: the {what} contains NUL"));
        let c_name = CString::new(name).map_err(|_| nul("name"))?;
        let c_value = CString::new(value).map_err(|_| nul("value"))?;
        // SAFETY: a live options object; the strings are copied by shaderc.
        unsafe {
            sys::shaderc_compile_options_add_macro_definition(
                self.raw.as_ptr(),
                c_name.as_ptr(),
                name.len(),
                c_value.as_ptr(),
                value.len(),
            )
        };
        Ok(())
    }

    /// Routes `#include` to `resolve`.
    pub(crate) fn set_resolver(&mut self, resolve: Box<Resolver>) {
        let includer = Box::new(Includer { resolve });
        let user_data = &*includer as *const Includer as *mut c_void;
        // SAFETY: a live options object; `user_data` stays valid while `self` holds the box,
        // which outlives every use of the options (Drop releases them before the box).
        unsafe {
            sys::shaderc_compile_options_set_include_callbacks(
                self.raw.as_ptr(),
                resolve_include,
                release_include,
                user_data,
            )
        };
        self.includer = Some(includer);
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: created by shaderc_compile_options_initialize, released once, before
        // `includer` (a later field) is dropped.
        unsafe { sys::shaderc_compile_options_release(self.raw.as_ptr()) };
        released();
    }
}

/// One include result handed to shaderc: the C view first, then the storage it points into.
#[repr(C)]
struct IncludeResult {
    raw: sys::shaderc_include_result,
    name: String,
    content: String,
}

/// shaderc's include callback: never unwinds, never returns null. An error is a result with an
/// empty name and the message as content (shaderc's convention).
extern "C" fn resolve_include(
    user_data: *mut c_void,
    requested: *const c_char,
    _kind: c_int,
    requester: *const c_char,
    _depth: usize,
) -> *mut sys::shaderc_include_result {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_data` is the `Includer` of the options being compiled with (see
        // `set_resolver`); the names are NUL-terminated strings valid during the call.
        let includer = unsafe { &*(user_data as *const Includer) };
        // SAFETY: shaderc passes NUL-terminated names, valid during the call.
        let requested = unsafe { CStr::from_ptr(requested) }.to_string_lossy();
        // SAFETY: as above.
        let requester = unsafe { CStr::from_ptr(requester) }.to_string_lossy();
        (includer.resolve)(&requested, &requester)
    }));
    let (name, content) = match outcome {
        Ok(Ok((name, content))) if !name.is_empty() => (name, content),
        Ok(Ok((_, _))) => (String::new(), "include resolved to an empty name".into()),
        Ok(Err(message)) => (String::new(), message),
        Err(_) => (String::new(), "include callback panicked".into()),
    };
    let mut result = Box::new(IncludeResult {
        raw: sys::shaderc_include_result {
            source_name: std::ptr::null(),
            source_name_length: 0,
            content: std::ptr::null(),
            content_length: 0,
            user_data: std::ptr::null_mut(),
        },
        name,
        content,
    });
    result.raw.source_name = result.name.as_ptr() as *const c_char;
    result.raw.source_name_length = result.name.len();
    result.raw.content = result.content.as_ptr() as *const c_char;
    result.raw.content_length = result.content.len();
    created();
    // `raw` is the first field of a repr(C) struct: the pointer shaderc gets back in
    // `release_include` is the box's.
    Box::into_raw(result) as *mut sys::shaderc_include_result
}

extern "C" fn release_include(_user_data: *mut c_void, result: *mut sys::shaderc_include_result) {
    if result.is_null() {
        return;
    }
    // SAFETY: every result shaderc releases came from `resolve_include`'s Box::into_raw and is
    // released once.
    drop(unsafe { Box::from_raw(result as *mut IncludeResult) });
    released();
}

/// A compilation result, successful or not.
struct CompileResult(NonNull<sys::ShadercCompilationResult>);

impl Drop for CompileResult {
    fn drop(&mut self) {
        // SAFETY: returned by shaderc_compile_into_spv, released once.
        unsafe { sys::shaderc_result_release(self.0.as_ptr()) };
        released();
    }
}

/// Compiles GLSL compute source to SPIR-V words (entry point `main`).
pub(crate) fn compile_compute(
    source: &str,
    name: &str,
    options: &Options,
) -> Result<Vec<u32>, CompileError> {
    let compiler = Compiler::new()?;
    let c_name = CString::new(name)
        .map_err(|_| CompileError(format!("shader name {name:?} contains NUL")))?;
    // SAFETY: live compiler and options; the source is passed with its length, the names are
    // NUL-terminated and outlive the call.
    let raw = unsafe {
        sys::shaderc_compile_into_spv(
            compiler.0.as_ptr(),
            source.as_ptr() as *const c_char,
            source.len(),
            KIND_COMPUTE,
            c_name.as_ptr(),
            c"main".as_ptr(),
            options.raw.as_ptr(),
        )
    };
    let result = CompileResult(
        NonNull::new(raw)
            .ok_or_else(|| CompileError(format!("{name}: shaderc returned no result")))?,
    );
    created();
    // From here `result` is released on every return.
    let r = result.0.as_ptr();
    // SAFETY: a live result.
    let status = unsafe { sys::shaderc_result_get_compilation_status(r) };
    if status != 0 {
        // SAFETY: a live result; the message is NUL-terminated and owned by it.
        let (errors, message) = unsafe {
            let p = sys::shaderc_result_get_error_message(r);
            let text = if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().trim_end().to_string()
            };
            (sys::shaderc_result_get_num_errors(r), text)
        };
        let what = match status {
            1 => "invalid stage".to_string(),
            2 if errors == 1 => "1 compilation error".to_string(),
            2 => format!("{errors} compilation errors"),
            3 => "internal error".to_string(),
            6 => "validation error".to_string(),
            s => format!("shaderc status {s}"),
        };
        let sep = if message.contains('\n') { "\n" } else { " " };
        return Err(CompileError(if message.is_empty() {
            format!("{name}: {what}")
        } else {
            format!("{what}:{sep}{message}")
        }));
    }
    // SAFETY: a live result holding `length` bytes of SPIR-V.
    let bytes = unsafe {
        let len = sys::shaderc_result_get_length(r);
        let p = sys::shaderc_result_get_bytes(r) as *const u8;
        if p.is_null() || len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(p, len)
        }
    };
    if bytes.is_empty() || bytes.len() % 4 != 0 {
        return Err(CompileError(format!(
            "{name}: shaderc produced {} bytes, not SPIR-V words",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}
