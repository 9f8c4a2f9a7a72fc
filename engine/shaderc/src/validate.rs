//! The SPIRV-Tools validator (`spvValidateBinary`), from the SPIRV-Tools library shaderc is
//! already linked with (build.rs links Debian's static libSPIRV-Tools; elsewhere
//! libshaderc_combined contains it). Declared here from `spirv-tools/libspirv.h`; the context
//! and the diagnostic are owned by guards that release them on every path.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::NonNull;

use crate::sys::{created, released};
use crate::CompileError;

/// `SPV_ENV_VULKAN_1_2` of `spv_target_env` (libspirv.h).
const SPV_ENV_VULKAN_1_2: c_int = 23;
/// `SPV_SUCCESS`.
const SPV_SUCCESS: c_int = 0;

#[repr(C)]
struct SpvPosition {
    line: usize,
    column: usize,
    index: usize,
}

/// `spv_diagnostic_t`.
#[repr(C)]
struct SpvDiagnostic {
    position: SpvPosition,
    error: *mut c_char,
    is_text_source: bool,
}

extern "C" {
    fn spvContextCreate(env: c_int) -> *mut c_void;
    fn spvContextDestroy(context: *mut c_void);
    fn spvValidateBinary(
        context: *const c_void,
        words: *const u32,
        num_words: usize,
        diagnostic: *mut *mut SpvDiagnostic,
    ) -> c_int;
    fn spvDiagnosticDestroy(diagnostic: *mut SpvDiagnostic);
}

struct Context(NonNull<c_void>);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: created by spvContextCreate, destroyed once.
        unsafe { spvContextDestroy(self.0.as_ptr()) };
        released();
    }
}

struct Diagnostic(NonNull<SpvDiagnostic>);

impl Drop for Diagnostic {
    fn drop(&mut self) {
        // SAFETY: filled in by spvValidateBinary, destroyed once.
        unsafe { spvDiagnosticDestroy(self.0.as_ptr()) };
        released();
    }
}

/// Validates SPIR-V for Vulkan 1.2 (the engine's target) with the SPIRV-Tools validator: the
/// module's structure, types, decorations, block layouts (std430/std140 offsets and strides,
/// relaxed as Vulkan 1.1+ allows) and the Vulkan environment rules. The message is the
/// validator's, on one line, with the word offset of the offending instruction.
pub fn validate_spirv(words: &[u32]) -> Result<(), CompileError> {
    // SAFETY: no preconditions; a null return is handled.
    let context = NonNull::new(unsafe { spvContextCreate(SPV_ENV_VULKAN_1_2) })
        .ok_or_else(|| CompileError("SPIRV-Tools: could not create a context".into()))?;
    created();
    let context = Context(context);
    let mut diagnostic: *mut SpvDiagnostic = std::ptr::null_mut();
    // SAFETY: a live context; `words` is valid for its length; the diagnostic out pointer is
    // valid and receives an object we own (or stays null).
    let code = unsafe {
        spvValidateBinary(
            context.0.as_ptr(),
            words.as_ptr(),
            words.len(),
            &mut diagnostic,
        )
    };
    let diagnostic = NonNull::new(diagnostic).map(|d| {
        created();
        Diagnostic(d)
    });
    if code == SPV_SUCCESS {
        return Ok(());
    }
    let (text, index) = match &diagnostic {
        Some(d) => {
            // SAFETY: a live diagnostic; `error` is a NUL-terminated string it owns.
            let d = unsafe { d.0.as_ref() };
            let text = if d.error.is_null() {
                String::new()
            } else {
                // SAFETY: as above.
                unsafe { CStr::from_ptr(d.error) }
                    .to_string_lossy()
                    .into_owned()
            };
            (text, d.position.index)
        }
        None => (String::new(), 0),
    };
    let text: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let at = if index > 0 {
        format!(", at word {index}")
    } else {
        String::new()
    };
    Err(CompileError(format!(
        "invalid SPIR-V (SPIRV-Tools validator, code {code}{at}): {}",
        if text.is_empty() {
            "no message".to_string()
        } else {
            text.join(" | ")
        }
    )))
}
