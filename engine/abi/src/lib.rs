//! The vksplat C ABI: the one contract between the engine, C/C++ hosts and plugins.
//!
//! `include/vksplat.h` is generated from this crate by `tools/gen-header` (cbindgen) and is
//! never edited by hand; a test regenerates it and fails on any difference.
//!
//! Rules, which every type here follows:
//! - Only C types cross the boundary: fixed-width integers, floats, `uint32_t` booleans,
//!   pointers with lengths, opaque handles and NUL-terminated UTF-8 `const char*`.
//! - Every descriptor struct and function table starts with a header
//!   (`s_type`, `s_size`, `next`). The writer sets `s_size = sizeof(struct)` as *it* knows the
//!   struct; structs only ever grow at the end. The growth rule lives in [`grow`] and nowhere
//!   else: a reader copies the `s_size` bytes it is given into a zeroed struct (fields beyond
//!   them read as zero), a writer of an out-struct fills only the bytes `s_size` covers, an
//!   `s_size` below the struct's `*_V1_SIZE` or a wrong `s_type` is `VKSPLAT_ERROR_STRUCT_SIZE`,
//!   a non-zero `reserved*` field of an in-struct is `VKSPLAT_ERROR_INVALID_ARGUMENT` (so that it
//!   can gain a meaning later), and an extension struct in `next` whose `s_type` the reader does
//!   not know is `VKSPLAT_ERROR_UNSUPPORTED` (a request the reader cannot honour is never
//!   silently dropped).
//! - Every function returns a `VksplatResult`: 0 ok, negative errors, positive statuses. The
//!   message of the last error on the calling thread is `vksplat_last_error()`.
//! - Whoever allocates frees, through its own call.
//!
//! The [`layout`] module lists every struct's size, alignment, field offsets and field types;
//! from the plugin ABI's structs comes `VKSPLAT_LAYOUT_FINGERPRINT`, which a plugin reports at
//! negotiation. Each released plugin ABI version has one frozen fingerprint
//! ([`layout::PLUGIN_ABI_FINGERPRINTS`]); the host loads a plugin whose version and fingerprint
//! are in that table, and refuses any other layout with a message.
//!
//! The structs' `*_V1_SIZE` constants and the header's size assertions are those of 64-bit
//! targets, the only ones this crate builds for.

#![forbid(unsafe_op_in_unsafe_fn)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("the vksplat ABI (struct sizes, fingerprints) is defined for 64-bit targets");

use core::ffi::{c_char, c_void};
use core::marker::PhantomData;

pub mod grow;
mod host;
pub mod layout;

pub use host::*;

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/// Major version of this header (the vksplat release it came with).
pub const VKSPLAT_VERSION_MAJOR: u32 = 0;
/// Minor version of this header.
pub const VKSPLAT_VERSION_MINOR: u32 = 1;
/// Patch version of this header.
pub const VKSPLAT_VERSION_PATCH: u32 = 0;
/// `VKSPLAT_MAKE_VERSION(major, minor, patch)` of this header; compare with `vksplat_version()`.
pub const VKSPLAT_VERSION: u32 =
    (VKSPLAT_VERSION_MAJOR << 22) | (VKSPLAT_VERSION_MINOR << 12) | VKSPLAT_VERSION_PATCH;
/// Version of the host C API's binary interface. A library whose `vksplat_abi_version()`
/// differs from the header the program was compiled with must not be used.
pub const VKSPLAT_ABI_VERSION: u32 = 1;
/// The plugin ABI version this header describes (what a plugin built against it speaks).
/// Version 2 grew `VksplatDescription` by the scene's time range.
pub const VKSPLAT_PLUGIN_ABI_VERSION: u32 = 2;
/// Oldest plugin ABI version this engine still loads.
pub const VKSPLAT_PLUGIN_ABI_MIN: u32 = 1;
/// Fingerprint of the plugin ABI (`VKSPLAT_PLUGIN_ABI_VERSION`): FNV-1a over the name, size and
/// alignment of every struct a plugin shares with the host, and the name, offset, size and type
/// of each of their fields, callback signatures included (see the vksplat-abi crate's `layout`
/// module). Frozen once the version is released. Plugins report it at negotiation; the host
/// accepts the fingerprint of every version in `VKSPLAT_PLUGIN_ABI_MIN..=VKSPLAT_PLUGIN_ABI_VERSION`.
pub const VKSPLAT_LAYOUT_FINGERPRINT: u64 =
    ((VKSPLAT_LAYOUT_FINGERPRINT_HI as u64) << 32) | VKSPLAT_LAYOUT_FINGERPRINT_LO as u64;
/// High 32 bits of `VKSPLAT_LAYOUT_FINGERPRINT`.
pub const VKSPLAT_LAYOUT_FINGERPRINT_HI: u32 = 0x5e8b_205f;
/// Low 32 bits of `VKSPLAT_LAYOUT_FINGERPRINT`.
pub const VKSPLAT_LAYOUT_FINGERPRINT_LO: u32 = 0xc33b_12ca;
/// Name of the one exported function every plugin library has (frozen forever).
pub const VKSPLAT_PLUGIN_ENTRY_NAME: &str = "vksplat_plugin_negotiate";

// ---------------------------------------------------------------------------------------------
// Result codes
// ---------------------------------------------------------------------------------------------

/// Result of every call: `VKSPLAT_OK` (0), a negative error or a positive status.
pub type VksplatResult = i32;

/// Success.
pub const VKSPLAT_OK: VksplatResult = 0;
/// Status: a plugin frame left the splats unchanged (nothing to upload).
pub const VKSPLAT_UNCHANGED: VksplatResult = 1;
/// A submitted frame is still running on the GPU (`vksplat_frame_poll`).
pub const VKSPLAT_NOT_READY: VksplatResult = 2;
/// A submitted frame finished but needed more tile intersections than vksplat had allocated:
/// it was clamped (some splats are missing). The capacity has grown; render the frame again.
pub const VKSPLAT_INCOMPLETE: VksplatResult = 3;
/// A pointer was NULL, a value out of range, or a string not UTF-8.
pub const VKSPLAT_ERROR_INVALID_ARGUMENT: VksplatResult = -1;
/// A struct's `s_size` is smaller than the oldest layout of that struct, or `s_type` is wrong.
pub const VKSPLAT_ERROR_STRUCT_SIZE: VksplatResult = -2;
/// A file could not be read.
pub const VKSPLAT_ERROR_IO: VksplatResult = -3;
/// A scene, camera or parameter value is invalid (non-finite values, wrong lengths).
pub const VKSPLAT_ERROR_INVALID_INPUT: VksplatResult = -4;
/// No usable Vulkan device (or no Vulkan loader).
pub const VKSPLAT_ERROR_NO_DEVICE: VksplatResult = -5;
/// A Vulkan call failed while rendering.
pub const VKSPLAT_ERROR_VULKAN: VksplatResult = -6;
/// The scene or image does not fit the device.
pub const VKSPLAT_ERROR_TOO_LARGE: VksplatResult = -7;
/// A plugin speaks an ABI version (or struct layout) this engine does not.
pub const VKSPLAT_ERROR_ABI: VksplatResult = -8;
/// A plugin could not be found or loaded, or a plugin call failed.
pub const VKSPLAT_ERROR_PLUGIN: VksplatResult = -9;
/// A plugin shader did not compile or does not match the stage's rules (bindings, push
/// constants, workgroup size).
pub const VKSPLAT_ERROR_SHADER: VksplatResult = -10;
/// A plugin produced non-finite splat values.
pub const VKSPLAT_ERROR_INVALID_OUTPUT: VksplatResult = -11;
/// A Rust panic was caught at the boundary (a bug; the message says where).
pub const VKSPLAT_ERROR_PANIC: VksplatResult = -12;
/// The request is valid but not supported by this build or object.
pub const VKSPLAT_ERROR_UNSUPPORTED: VksplatResult = -13;
/// A well-formed scene, image or readback needs more host memory than the process can get, or
/// more device memory than the context's budget (`VksplatContextDesc::memory_budget`) allows
/// (the message says how many bytes, the budget and what holds memory); the same call can
/// succeed with more memory. Nothing was allocated and the context stays usable.
pub const VKSPLAT_ERROR_OUT_OF_MEMORY: VksplatResult = -14;

// ---------------------------------------------------------------------------------------------
// Struct types (`s_type`)
// ---------------------------------------------------------------------------------------------

/// `s_type` of `VksplatContextDesc`.
pub const VKSPLAT_STRUCT_CONTEXT_DESC: u32 = 1;
/// `s_type` of `VksplatLimits`.
pub const VKSPLAT_STRUCT_LIMITS: u32 = 2;
/// `s_type` of `VksplatCamera`.
pub const VKSPLAT_STRUCT_CAMERA: u32 = 3;
/// `s_type` of `VksplatSceneDesc`.
pub const VKSPLAT_STRUCT_SCENE_DESC: u32 = 4;
/// `s_type` of `VksplatSceneInfo`.
pub const VKSPLAT_STRUCT_SCENE_INFO: u32 = 5;
/// `s_type` of `VksplatPluginSceneDesc`.
pub const VKSPLAT_STRUCT_PLUGIN_SCENE_DESC: u32 = 6;
/// `s_type` of `VksplatRenderDesc`.
pub const VKSPLAT_STRUCT_RENDER_DESC: u32 = 7;
/// `s_type` of `VksplatImage`.
pub const VKSPLAT_STRUCT_IMAGE: u32 = 8;
/// `s_type` of `VksplatVulkanRequirements`.
pub const VKSPLAT_STRUCT_VULKAN_REQUIREMENTS: u32 = 20;
/// `s_type` of `VksplatVulkanDevice`.
pub const VKSPLAT_STRUCT_VULKAN_DEVICE: u32 = 21;
/// `s_type` of `VksplatVulkanTarget`.
pub const VKSPLAT_STRUCT_VULKAN_TARGET: u32 = 22;
/// `s_type` of `VksplatSceneInstance`.
pub const VKSPLAT_STRUCT_SCENE_INSTANCE: u32 = 23;
/// `s_type` of `VksplatMemoryStats`.
pub const VKSPLAT_STRUCT_MEMORY_STATS: u32 = 24;
/// `s_type` of `VksplatHostDepth`.
pub const VKSPLAT_STRUCT_HOST_DEPTH: u32 = 25;
/// `s_type` of `VksplatNegotiation`.
pub const VKSPLAT_STRUCT_NEGOTIATION: u32 = 100;
/// `s_type` of `VksplatHostApi`.
pub const VKSPLAT_STRUCT_HOST_API: u32 = 101;
/// `s_type` of `VksplatPluginApi`.
pub const VKSPLAT_STRUCT_PLUGIN_API: u32 = 102;
/// `s_type` of `VksplatOpenDesc`.
pub const VKSPLAT_STRUCT_OPEN_DESC: u32 = 103;
/// `s_type` of `VksplatDescription`.
pub const VKSPLAT_STRUCT_DESCRIPTION: u32 = 104;
/// `s_type` of `VksplatGpuStage`.
pub const VKSPLAT_STRUCT_GPU_STAGE: u32 = 105;
/// `s_type` of `VksplatFrameInput`.
pub const VKSPLAT_STRUCT_FRAME_INPUT: u32 = 106;

// ---------------------------------------------------------------------------------------------
// Struct sizes at ABI version 1 (64-bit targets): the smallest `s_size` a reader accepts.
// Frozen: a struct grows at the end, and these stay.
// ---------------------------------------------------------------------------------------------

/// `sizeof(VksplatContextDesc)` at ABI version 1 (before `log`).
pub const VKSPLAT_CONTEXT_DESC_V1_SIZE: u32 = 32;
/// `sizeof(VksplatLimits)` at ABI version 1 (before `max_image_pixels`).
pub const VKSPLAT_LIMITS_V1_SIZE: u32 = 312;
/// `sizeof(VksplatCamera)` at ABI version 1.
pub const VKSPLAT_CAMERA_V1_SIZE: u32 = 104;
/// `sizeof(VksplatSceneDesc)` at ABI version 1.
pub const VKSPLAT_SCENE_DESC_V1_SIZE: u32 = 104;
/// `sizeof(VksplatPluginSceneDesc)` at ABI version 1.
pub const VKSPLAT_PLUGIN_SCENE_DESC_V1_SIZE: u32 = 48;
/// `sizeof(VksplatSceneInfo)` at ABI version 1 (before `antialiased`).
pub const VKSPLAT_SCENE_INFO_V1_SIZE: u32 = 40;
/// `sizeof(VksplatRenderDesc)` at ABI version 1 (before `flags`).
pub const VKSPLAT_RENDER_DESC_V1_SIZE: u32 = 40;
/// `sizeof(VksplatImage)` at ABI version 1 (before `pixels_size`).
pub const VKSPLAT_IMAGE_V1_SIZE: u32 = 56;
/// `sizeof(VksplatVulkanRequirements)` at ABI version 1.
pub const VKSPLAT_VULKAN_REQUIREMENTS_V1_SIZE: u32 = 48;
/// `sizeof(VksplatVulkanDevice)` at ABI version 1.
pub const VKSPLAT_VULKAN_DEVICE_V1_SIZE: u32 = 88;
/// `sizeof(VksplatVulkanTarget)` at ABI version 1.
pub const VKSPLAT_VULKAN_TARGET_V1_SIZE: u32 = 152;
/// `sizeof(VksplatSceneInstance)` at ABI version 1.
pub const VKSPLAT_SCENE_INSTANCE_V1_SIZE: u32 = 96;
/// `sizeof(VksplatMemoryStats)` at ABI version 1.
pub const VKSPLAT_MEMORY_STATS_V1_SIZE: u32 = 96;
/// `sizeof(VksplatHostDepth)` at ABI version 1.
pub const VKSPLAT_HOST_DEPTH_V1_SIZE: u32 = 96;
/// `sizeof(VksplatHostApi)` at plugin ABI version 1.
pub const VKSPLAT_HOST_API_V1_SIZE: u32 = 40;
/// `sizeof(VksplatNegotiation)` at plugin ABI version 1.
pub const VKSPLAT_NEGOTIATION_V1_SIZE: u32 = 56;
/// `sizeof(VksplatOpenDesc)` at plugin ABI version 1.
pub const VKSPLAT_OPEN_DESC_V1_SIZE: u32 = 48;
/// `sizeof(VksplatDescription)` at plugin ABI version 1 (before `time_start`).
pub const VKSPLAT_DESCRIPTION_V1_SIZE: u32 = 112;
/// `sizeof(VksplatGpuStage)` at plugin ABI version 1.
pub const VKSPLAT_GPU_STAGE_V1_SIZE: u32 = 72;
/// `sizeof(VksplatFrameInput)` at plugin ABI version 1.
pub const VKSPLAT_FRAME_INPUT_V1_SIZE: u32 = 40;

// ---------------------------------------------------------------------------------------------
// Enumerations (plain `uint32_t` values)
// ---------------------------------------------------------------------------------------------

/// Render mode: gsplat 1.5.3 "classic" rules.
pub const VKSPLAT_MODE_CLASSIC: u32 = 0;
/// Render mode: opacity times the blur compensation (Mip-Splatting style).
pub const VKSPLAT_MODE_ANTIALIASED: u32 = 1;
/// Render mode: the original INRIA rasterizer's rules.
pub const VKSPLAT_MODE_INRIA: u32 = 2;
/// Render mode: glTF KHR_gaussian_splatting's rules (cut at Mahalanobis distance 3, sorted by
/// distance from the camera centre; README "Modes").
pub const VKSPLAT_MODE_KHR: u32 = 3;

/// `VksplatRenderDesc::flags`: render in `mode`. Without it the scene's default mode is used:
/// `VKSPLAT_MODE_ANTIALIASED` for a scene whose file marks it as trained with antialiasing
/// (`VksplatSceneInfo::antialiased`), else `VKSPLAT_MODE_CLASSIC`.
pub const VKSPLAT_RENDER_MODE: u32 = 1;
/// `VksplatRenderDesc::flags`: evaluate a plugin scene at `time` (and make it the scene's
/// time). Without it the scene's time (`vksplat_scene_set_time`, initially 0) is used.
pub const VKSPLAT_RENDER_TIME: u32 = 2;
/// `VksplatRenderDesc::flags`: cull splats nearer than `clip_near` (camera depth).
pub const VKSPLAT_RENDER_CLIP_NEAR: u32 = 4;
/// `VksplatRenderDesc::flags`: cull splats farther than `clip_far` (camera depth).
pub const VKSPLAT_RENDER_CLIP_FAR: u32 = 8;

/// `VksplatRenderDesc::depth_kind`: the expected depth Σ αᵢTᵢzᵢ / (1 − T) (the default).
pub const VKSPLAT_DEPTH_EXPECTED: u32 = 0;
/// `VksplatRenderDesc::depth_kind`: the median depth, the camera depth of the splat at which the
/// accumulated opacity reaches one half (T falls to 0.5 or below); 0 where it never does.
pub const VKSPLAT_DEPTH_MEDIAN: u32 = 1;
/// `VksplatRenderDesc::depth_kind`: the first-hit depth, the camera depth of the first splat
/// that blends at the pixel; 0 where none does.
pub const VKSPLAT_DEPTH_FIRST: u32 = 2;

/// `VksplatHostDepth::convention`: linear camera depth (positive along the view axis, in the
/// scene's units, as vksplat's depth output).
pub const VKSPLAT_HOST_DEPTH_LINEAR: u32 = 1;
/// `VksplatHostDepth::convention`: depth 0..1 from `depth_near` to `depth_far`: Vulkan,
/// Direct3D, and an OpenGL depth buffer or depth texture (window depth with the default
/// `glDepthRange(0, 1)`).
pub const VKSPLAT_HOST_DEPTH_ZERO_TO_ONE: u32 = 2;
/// `VksplatHostDepth::convention`: OpenGL NDC depth −1..1 (z/w of the clip position).
pub const VKSPLAT_HOST_DEPTH_MINUS_ONE_TO_ONE: u32 = 3;
/// `VksplatHostDepth::flags`: reversed Z (the near plane has the larger depth).
pub const VKSPLAT_HOST_DEPTH_REVERSED: u32 = 1;
/// `VksplatHostDepth::flags`: the host's projection is orthographic (depth is affine in camera
/// depth; `depth_far` must be finite).
pub const VKSPLAT_HOST_DEPTH_ORTHOGRAPHIC: u32 = 2;

/// Image format: 4 floats per pixel, RGB composited over the background, A = 1 − T.
pub const VKSPLAT_FORMAT_RGBA32F: u32 = 0;
/// Image format: 4 bytes per pixel, `round(clamp(v, 0, 1) · 255)` of the RGBA32F values.
pub const VKSPLAT_FORMAT_RGBA8: u32 = 1;

/// `VksplatSceneDesc::flags`: copy the caller's arrays during the call (the default; the
/// caller may free them on return).
pub const VKSPLAT_SCENE_COPY: u32 = 0;
/// `VksplatSceneDesc::flags`: zero-copy. The engine keeps the caller's pointers (no host copy
/// is made), reads them again on `vksplat_scene_refresh`, and calls `deleter(deleter_user)` when
/// the scene is destroyed. If creation fails the deleter is not called.
pub const VKSPLAT_SCENE_BORROW: u32 = 1;

/// How a plugin scene is evaluated: the GPU path when the plugin has one, else the CPU path.
pub const VKSPLAT_EVAL_AUTO: u32 = 0;
/// Evaluate with the plugin's compute shader (first stage of the frame).
pub const VKSPLAT_EVAL_GPU: u32 = 1;
/// Evaluate with the plugin's CPU path (the plugin fills host arrays; the engine uploads them).
pub const VKSPLAT_EVAL_CPU: u32 = 2;

/// `vksplat_camera_from_clip`: OpenGL clip space (NDC y up, depth −1..1; view looks along −z).
pub const VKSPLAT_CLIP_OPENGL: u32 = 0;
/// Vulkan clip space (NDC y down, depth 0..1; view looks along −z).
pub const VKSPLAT_CLIP_VULKAN: u32 = 1;
/// Direct3D clip space (NDC y up, depth 0..1; view looks along +z).
pub const VKSPLAT_CLIP_DIRECT3D: u32 = 2;

/// Parameter type: one number (`double`), with a range.
pub const VKSPLAT_PARAM_FLOAT: u32 = 0;
/// Parameter type: one integer (passed as a `double` holding an integer), with a range.
pub const VKSPLAT_PARAM_INT: u32 = 1;
/// Parameter type: an array of elements of `components` floats each (3 = a vertex,
/// 16 = a row-major 4×4 matrix), with an element-count range.
pub const VKSPLAT_PARAM_FLOAT_ARRAY: u32 = 2;
/// Parameter type (plugin ABI version 2): text (a path, a name), read at open only
/// (`VKSPLAT_PARAM_OPEN` must be set). The plugin receives the user's string unchanged in
/// `VksplatOpenDesc::options`; the host never parses it as a number. `min`, `max` and
/// `default_value` are zero; an absent key means the plugin's default.
pub const VKSPLAT_PARAM_TEXT: u32 = 3;

/// `VksplatParamDesc::flags`: read when the instance is opened (`options`), not per frame.
pub const VKSPLAT_PARAM_OPEN: u32 = 1;

/// Output bit: means (3 floats per splat: x, y, z).
pub const VKSPLAT_OUTPUT_MEANS: u32 = 1;
/// Output bit: rotations (4 floats per splat: w, x, y, z; need not be normalised).
pub const VKSPLAT_OUTPUT_ROTATIONS: u32 = 2;
/// Output bit: log scales (3 floats per splat).
pub const VKSPLAT_OUTPUT_LOG_SCALES: u32 = 4;
/// Output bit: opacity logits (1 float per splat; opacity = sigmoid).
pub const VKSPLAT_OUTPUT_OPACITY_LOGITS: u32 = 8;
/// Output bit: SH coefficients ((deg+1)² × 3 floats per splat, coefficient-major, RGB
/// interleaved: `sh[(i·K + k)·3 + c]`).
pub const VKSPLAT_OUTPUT_SH: u32 = 16;
/// Output bit: world-space 3×3 covariances (6 floats per splat: xx, xy, xz, yy, yz, zz). Needs
/// `VKSPLAT_VARIANT_COVARIANCE`.
pub const VKSPLAT_OUTPUT_COVARIANCES: u32 = 32;
/// Output bit: opacity multipliers (1 float per splat, multiplies the opacity after the
/// sigmoid). Needs `VKSPLAT_VARIANT_OPACITY_SCALE`.
pub const VKSPLAT_OUTPUT_OPACITY_SCALE: u32 = 64;
/// Every output bit.
pub const VKSPLAT_OUTPUT_ALL: u32 = 127;

/// `VksplatDescription::flags`: the scene takes a 3×3 covariance per splat instead of
/// rotation + scale.
pub const VKSPLAT_VARIANT_COVARIANCE: u32 = 1;
/// `VksplatDescription::flags`: the scene has a per-splat opacity multiplier.
pub const VKSPLAT_VARIANT_OPACITY_SCALE: u32 = 2;
/// `VksplatDescription::flags` (plugin ABI version 2): `time_start` and `time_end` hold the
/// scene's time range, in the scene's own time units. Without it the scene has no range
/// (any time is valid, or the scene does not move).
pub const VKSPLAT_VARIANT_TIME_RANGE: u32 = 4;

/// `VksplatGpuStage::language`: `code` is NUL-terminated GLSL 4.50 compute source, compiled
/// by the engine with shaderc; `#include "variant.glsl"` declares the engine's splat buffers.
pub const VKSPLAT_SHADER_GLSL: u32 = 0;
/// `VksplatGpuStage::language`: `code` is SPIR-V, `code_size` bytes (a multiple of 4).
pub const VKSPLAT_SHADER_SPIRV: u32 = 1;

/// The engine's splat buffers occupy bindings 0..8 of set 0 in a plugin shader; the plugin's
/// static buffers follow from this binding, then its frame buffer.
pub const VKSPLAT_FIRST_PLUGIN_BINDING: u32 = 9;
/// Largest push-constant block a plugin stage may declare, in bytes.
pub const VKSPLAT_MAX_PUSH_CONSTANT_SIZE: u32 = 128;
/// Largest workgroup (x · y · z invocations) a plugin stage may declare.
pub const VKSPLAT_MAX_WORKGROUP_INVOCATIONS: u32 = 1024;

/// Log level (`VksplatHostApi::log`, `VksplatContextDesc::log`): detail for debugging.
pub const VKSPLAT_LOG_DEBUG: i32 = -1;
/// Log level: information.
pub const VKSPLAT_LOG_INFO: i32 = 0;
/// Log level: a warning.
pub const VKSPLAT_LOG_WARNING: i32 = 1;
/// Log level: an error (the call that fails also returns it).
pub const VKSPLAT_LOG_ERROR: i32 = 2;

// ---------------------------------------------------------------------------------------------
// Opaque handles (declared in the header as incomplete struct types)
// ---------------------------------------------------------------------------------------------

/// A device and renderer (C API). Created by `vksplat_context_create`.
#[repr(C)]
pub struct VksplatContext {
    _private: [u8; 0],
    _not_send: PhantomData<*mut u8>,
}

/// A scene on a context's device: from a file, caller arrays or a plugin (C API).
#[repr(C)]
pub struct VksplatScene {
    _private: [u8; 0],
    _not_send: PhantomData<*mut u8>,
}

/// A plugin's instance: defined by the plugin (`struct VksplatInstance { … }` in C), opaque to
/// the engine.
#[repr(C)]
pub struct VksplatInstance {
    _private: [u8; 0],
    _not_send: PhantomData<*mut u8>,
}

// ---------------------------------------------------------------------------------------------
// Host C API structs
// ---------------------------------------------------------------------------------------------

/// How to create a context (standalone: the engine creates its own Vulkan instance and device).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatContextDesc {
    /// `VKSPLAT_STRUCT_CONTEXT_DESC`.
    pub s_type: u32,
    /// `sizeof(VksplatContextDesc)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// Device choice as the CLI's `--device`: "auto", "cpu", an index or part of a name;
    /// NULL means "auto".
    pub device: *const c_char,
    /// Non-zero: enable the Vulkan validation layers (also `VKSPLAT_VALIDATION=1`).
    pub validation: u32,
    /// Zero.
    pub reserved: u32,
    /// Optional (NULL: no messages). Receives, while the context lives, the engine's log
    /// messages and the log lines of plugins of level `log_level` and above, from any thread
    /// (see `VksplatLogFn`).
    pub log: VksplatLogFn,
    /// Passed to `log` unchanged.
    pub log_user: *mut c_void,
    /// The least severe level passed to `log`: `VKSPLAT_LOG_DEBUG`, `VKSPLAT_LOG_INFO` (0, the
    /// default), `VKSPLAT_LOG_WARNING` or `VKSPLAT_LOG_ERROR`.
    pub log_level: i32,
    /// Zero.
    pub reserved2: u32,
    /// Optional `const VkAllocationCallbacks *` (NULL: the driver's allocator). vksplat copies
    /// the struct and passes it to every Vulkan create and destroy call of its own objects
    /// (its instance and device when it creates them, command pool, semaphore, query pools,
    /// buffers, images, pipelines and their layouts, shader modules); for a host's device
    /// (`vksplat_context_create_vulkan`) these are the callbacks used for vksplat's objects on
    /// it. Not for `vkAllocateMemory`: vksplat's memory allocator passes none there. The
    /// callbacks must be thread-safe and, with their `pUserData`, stay valid until the
    /// context and every scene made on it are destroyed (scenes keep the device alive).
    pub allocation_callbacks: *const c_void,
    /// The most bytes of device memory (buffers and images, host-visible staging included)
    /// the context may hold; 0: no budget. An allocation beyond it fails with
    /// `VKSPLAT_ERROR_OUT_OF_MEMORY` naming the budget, the request and what holds memory
    /// (`vksplat_memory_stats`).
    pub memory_budget: u64,
}

/// Device memory a context holds (`vksplat_memory_stats`), in bytes. The caller sets `s_type`
/// and `s_size`; the engine fills the fields that `s_size` covers.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatMemoryStats {
    /// `VKSPLAT_STRUCT_MEMORY_STATS`.
    pub s_type: u32,
    /// `sizeof(VksplatMemoryStats)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *mut c_void,
    /// Bytes of every buffer and image vksplat holds now (the sum of the four classes below).
    pub device_bytes: u64,
    /// The highest `device_bytes` since the context was created.
    pub peak_device_bytes: u64,
    /// Scenes' splat data (and plugin scenes' own buffers).
    pub scene_bytes: u64,
    /// Per-frame working buffers, kept for the largest frame so far (and those that frames
    /// still in flight use).
    pub frame_bytes: u64,
    /// Host-visible staging: uploads, readbacks and the readback slots of the frames in
    /// flight.
    pub staging_bytes: u64,
    /// Anything else.
    pub other_bytes: u64,
    /// The part of `device_bytes` vksplat allocated host-visible (staging and readback; on a
    /// CPU device such as lavapipe all of it is host memory anyway).
    pub host_visible_bytes: u64,
    /// Bytes of the `VkDeviceMemory` blocks vksplat's allocator holds for them (at least
    /// `device_bytes`: it sub-allocates from larger blocks).
    pub reserved_bytes: u64,
    /// The budget (`VksplatContextDesc::memory_budget`; 0: none).
    pub budget: u64,
    /// Live buffers and images.
    pub allocations: u64,
}

/// A context's log callback (`VksplatContextDesc::log`): `level` is a `VKSPLAT_LOG_*` value,
/// `message` one line of NUL-terminated UTF-8 valid during the call. It is called from any
/// thread that logs, possibly while the engine holds a lock of the context: it must be
/// thread-safe, return quickly and not call vksplat functions. Messages come through the Rust
/// `log` facade of the library: if the process installed another Rust logger first, messages
/// go to that logger instead.
pub type VksplatLogFn =
    Option<unsafe extern "C" fn(user: *mut c_void, level: i32, message: *const c_char)>;

/// Limits and identity of a context's device (`vksplat_context_limits`). The caller sets
/// `s_type` and `s_size`; the engine fills the fields that `s_size` covers.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatLimits {
    /// `VKSPLAT_STRUCT_LIMITS`.
    pub s_type: u32,
    /// `sizeof(VksplatLimits)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *mut c_void,
    /// Largest image width and height this device renders (`max_image_pixels` bounds their
    /// product).
    pub max_image_side: u32,
    /// Subgroup size of the device.
    pub subgroup_size: u32,
    /// Largest storage buffer the device binds, in bytes.
    pub max_buffer_bytes: u64,
    /// Largest splat count of a scene of SH degree 3 (the most memory per splat): a scene of
    /// any SH degree with at most this many splats fits the device. Scenes of lower degree
    /// may hold up to `max_splats_by_sh_degree[degree]`; scene creation refuses more with
    /// `VKSPLAT_ERROR_TOO_LARGE`.
    pub max_splats: u64,
    /// `VKSPLAT_ABI_VERSION` of the library.
    pub abi_version: u32,
    /// Plugin ABI versions the library loads: `plugin_abi_min..=plugin_abi_max`.
    pub plugin_abi_min: u32,
    pub plugin_abi_max: u32,
    /// Zero.
    pub reserved: u32,
    /// Device name, NUL-terminated UTF-8 (truncated).
    pub device_name: [c_char; 256],
    /// Largest width × height of an image this device renders (from its buffer limits and the
    /// camera rule of at most 2^28 pixels); `vksplat_render` refuses larger images.
    pub max_image_pixels: u64,
    /// Largest splat count of a scene, by SH degree (index 0..3); scene creation and loading
    /// refuse more with `VKSPLAT_ERROR_TOO_LARGE`.
    pub max_splats_by_sh_degree: [u64; 4],
}

/// A pinhole camera with OpenCV axes (x right, y down, z forward).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatCamera {
    /// `VKSPLAT_STRUCT_CAMERA`.
    pub s_type: u32,
    /// `sizeof(VksplatCamera)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// Image size in pixels.
    pub width: u32,
    pub height: u32,
    /// Focal lengths and principal point, in pixels.
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
    /// World-to-camera transform, row-major 4×4.
    pub world_to_camera: [f32; 16],
    /// `VKSPLAT_PROJECTION_*`; 0 (perspective) for a camera of `VKSPLAT_CAMERA_V1_SIZE` bytes.
    pub projection: u32,
    /// Zero.
    pub reserved: u32,
}

/// `VksplatCamera::projection`: a pinhole camera, pixel = (fx·x/z + cx, fy·y/z + cy).
pub const VKSPLAT_PROJECTION_PERSPECTIVE: u32 = 0;
/// `VksplatCamera::projection`: parallel rays along the camera's z axis, pixel =
/// (fx·x + cx, fy·y + cy) with `fx`, `fy` in pixels per world unit.
pub const VKSPLAT_PROJECTION_ORTHOGRAPHIC: u32 = 1;

/// Called when a borrowed (`VKSPLAT_SCENE_BORROW`) scene is destroyed.
pub type VksplatDeleter = Option<unsafe extern "C" fn(user: *mut c_void)>;

/// A scene from caller arrays (`vksplat_scene_create`). Array layouts per splat i:
/// `means[3i..3i+3]`, `rotations[4i..4i+4]` (w, x, y, z), `log_scales[3i..3i+3]`,
/// `opacity_logits[i]`, `sh[(i·K + k)·3 + c]` with K = (sh_degree + 1)²,
/// `covariances[6i..6i+6]` (xx, xy, xz, yy, yz, zz; optional: used instead of rotation and
/// scale), `opacity_scale[i]` (optional multiplier). All values must be finite.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatSceneDesc {
    /// `VKSPLAT_STRUCT_SCENE_DESC`.
    pub s_type: u32,
    /// `sizeof(VksplatSceneDesc)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// Number of splats.
    pub count: u64,
    /// SH degree 0..3.
    pub sh_degree: u32,
    /// `VKSPLAT_SCENE_COPY` or `VKSPLAT_SCENE_BORROW`.
    pub flags: u32,
    pub means: *const f32,
    /// May be NULL when `covariances` is given.
    pub rotations: *const f32,
    /// May be NULL when `covariances` is given.
    pub log_scales: *const f32,
    pub opacity_logits: *const f32,
    pub sh: *const f32,
    /// Optional (NULL).
    pub covariances: *const f32,
    /// Optional (NULL).
    pub opacity_scale: *const f32,
    /// `VKSPLAT_SCENE_BORROW` only: called with `deleter_user` when the scene is destroyed.
    pub deleter: VksplatDeleter,
    pub deleter_user: *mut c_void,
}

/// One `key=value` pair of UTF-8 strings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatKeyValue {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// A scene produced by a plugin (`vksplat_scene_open_plugin`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatPluginSceneDesc {
    /// `VKSPLAT_STRUCT_PLUGIN_SCENE_DESC`.
    pub s_type: u32,
    /// `sizeof(VksplatPluginSceneDesc)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// The plugin's manifest name (searched in the context's plugin directories, then
    /// `VKSPLAT_PLUGIN_PATH`) or a path to its manifest (`*.json`).
    pub plugin: *const c_char,
    /// The plugin's input file (its own format), or NULL.
    pub source: *const c_char,
    /// `key=value` parameters: open-time options and initial frame-parameter values.
    pub params: *const VksplatKeyValue,
    pub param_count: u32,
    /// `VKSPLAT_EVAL_AUTO`, `VKSPLAT_EVAL_GPU` or `VKSPLAT_EVAL_CPU`.
    pub eval: u32,
}

/// What a scene is (`vksplat_scene_info`). The caller sets `s_type` and `s_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatSceneInfo {
    /// `VKSPLAT_STRUCT_SCENE_INFO`.
    pub s_type: u32,
    /// `sizeof(VksplatSceneInfo)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *mut c_void,
    pub count: u64,
    pub sh_degree: u32,
    /// Non-zero for a plugin scene.
    pub is_plugin: u32,
    /// Plugin scenes: `VKSPLAT_EVAL_GPU` or `VKSPLAT_EVAL_CPU`; 0 otherwise.
    pub eval: u32,
    /// Plugin scenes: number of parameters the plugin describes.
    pub param_count: u32,
    /// Non-zero when the scene's file marks it as trained with antialiasing (SPZ flag, PLY
    /// comment `antialiased=true`): `vksplat_render` then defaults to
    /// `VKSPLAT_MODE_ANTIALIASED`, as the CLI does.
    pub antialiased: u32,
    /// Zero.
    pub reserved: u32,
    /// Plugin scenes whose plugin declares one: the scene's first and last time, in its own
    /// units (what `VksplatRenderDesc::time` takes). Valid when `has_time_range` is non-zero;
    /// zero otherwise. (A caller whose `s_size` ends before them gets neither.)
    pub time_start: f64,
    pub time_end: f64,
    /// Non-zero when `time_start` and `time_end` hold the scene's time range.
    pub has_time_range: u32,
    /// Zero.
    pub reserved2: u32,
    /// The axis-aligned box of the splat centres in the scene's frame (smallest and largest
    /// x, y, z), valid when `has_bounds` is non-zero: scenes from files and from arrays
    /// (`vksplat_scene_refresh` updates it) with at least one splat. Plugin scenes move their
    /// splats every frame and report none. (The splats' extent reaches beyond the centres.)
    pub bounds_min: [f32; 3],
    pub bounds_max: [f32; 3],
    /// Non-zero when `bounds_min` and `bounds_max` hold the box.
    pub has_bounds: u32,
    /// Zero.
    pub reserved3: u32,
}

/// One frame's settings (`vksplat_render`). A zero-initialised descriptor (with `s_type`,
/// `s_size` and `camera` set) renders the scene's default mode, on black, at the scene's time.
/// A field that `flags` does not enable must be zero: a non-zero `mode` or `time` without its
/// flag is `VKSPLAT_ERROR_INVALID_ARGUMENT` (it would be ignored otherwise).
///
/// A descriptor of `VKSPLAT_RENDER_DESC_V1_SIZE` bytes (compiled against ABI version 1, which
/// had no `flags`) keeps that version's rules: `mode` is always used, and a finite `time` is
/// the frame's time (NaN: the scene's time).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatRenderDesc {
    /// `VKSPLAT_STRUCT_RENDER_DESC`.
    pub s_type: u32,
    /// `sizeof(VksplatRenderDesc)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// `VKSPLAT_MODE_*`, used when `flags` has `VKSPLAT_RENDER_MODE`.
    pub mode: u32,
    /// Linear RGB behind the splats.
    pub background: [f32; 3],
    /// Plugin scenes: the frame's time in seconds, used (and kept as the scene's time) when
    /// `flags` has `VKSPLAT_RENDER_TIME`.
    pub time: f64,
    /// `VKSPLAT_RENDER_MODE` | `VKSPLAT_RENDER_TIME` | `VKSPLAT_RENDER_CLIP_NEAR` |
    /// `VKSPLAT_RENDER_CLIP_FAR`, or 0.
    pub flags: u32,
    /// Zero.
    pub reserved: u32,
    /// The frame's camera; its width and height are the image's. NULL uses the camera of the
    /// deprecated `vksplat_set_camera`. Pass it here so that threads sharing a context cannot
    /// render each other's camera.
    pub camera: *const VksplatCamera,
    /// Near clip plane, used when `flags` has `VKSPLAT_RENDER_CLIP_NEAR`: splats whose camera
    /// depth is below it are not drawn (a finite depth >= 0; the mode's fixed near, 0.01 or
    /// 0.2 in `VKSPLAT_MODE_INRIA`, applies as well). Not named `near`: windows.h defines
    /// `near` and `far` away.
    pub clip_near: f32,
    /// Far clip plane, used when `flags` has `VKSPLAT_RENDER_CLIP_FAR`: splats whose camera depth
    /// is above it are not drawn (finite, beyond `clip_near`).
    pub clip_far: f32,
    /// `VKSPLAT_DEPTH_*`: what the depth output holds (camera depth; 0 = no value). Zero (and
    /// a descriptor too small to hold it) is `VKSPLAT_DEPTH_EXPECTED`.
    pub depth_kind: u32,
    /// Zero.
    pub reserved2: u32,
}

/// A host's depth buffer that occludes splats per pixel, so that splats composite with the
/// host's rasterised geometry: chained into `VksplatRenderDesc::next`. A splat does not blend at
/// a pixel where its centre's camera depth is beyond the host's depth there (the far clip
/// plane's rule: a constant host depth z renders as `clip_far` = z). A value at the far plane
/// (1, or the near end with `VKSPLAT_HOST_DEPTH_REVERSED`: a cleared depth buffer), +inf and NaN
/// occlude nothing. Exactly one source is set: `values` (every render call), or `image` or
/// `buffer` (`vksplat_render_vulkan*` and `vksplat_render_record`, on the context's device).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatHostDepth {
    /// `VKSPLAT_STRUCT_HOST_DEPTH`.
    pub s_type: u32,
    /// `sizeof(VksplatHostDepth)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// `VKSPLAT_HOST_DEPTH_LINEAR`, `VKSPLAT_HOST_DEPTH_ZERO_TO_ONE` or
    /// `VKSPLAT_HOST_DEPTH_MINUS_ONE_TO_ONE`.
    pub convention: u32,
    /// `VKSPLAT_HOST_DEPTH_REVERSED` | `VKSPLAT_HOST_DEPTH_ORTHOGRAPHIC`, or 0.
    pub flags: u32,
    /// The host projection's near plane (camera depth > 0; >= 0 when orthographic); unused for
    /// `VKSPLAT_HOST_DEPTH_LINEAR`.
    pub depth_near: f32,
    /// Its far plane, beyond `depth_near`; `INFINITY` for an infinite-far perspective.
    pub depth_far: f32,
    /// Host memory: `value_count` = width × height floats, rows top first, read during the call.
    pub values: *const f32,
    pub value_count: u64,
    /// A `VkImage` of the context's device: `image_format` `VK_FORMAT_D32_SFLOAT`,
    /// `VK_FORMAT_R32_SFLOAT`, `VK_FORMAT_D32_SFLOAT_S8_UINT`, `VK_FORMAT_D16_UNORM`,
    /// `VK_FORMAT_X8_D24_UNORM_PACK32` or `VK_FORMAT_D24_UNORM_S8_UINT`, the camera's size, one
    /// sample, `VK_IMAGE_USAGE_TRANSFER_SRC_BIT`, in `image_layout` when the frame runs (a
    /// defined layout: its contents are read) and left in it; valid until the frame has
    /// finished. Its depth aspect is copied in the frame's own commands, after the frame's
    /// waits.
    pub image: u64,
    pub image_format: u32,
    pub image_layout: u32,
    /// The image's owning queue family: the context's, or `VK_QUEUE_FAMILY_IGNORED`.
    pub image_queue_family: u32,
    /// Zero.
    pub reserved: u32,
    /// A `VkBuffer` of the context's device (`VK_BUFFER_USAGE_TRANSFER_SRC_BIT`) holding width ×
    /// height floats at `buffer_offset` (a multiple of 4), rows top first.
    pub buffer: u64,
    pub buffer_size: u64,
    pub buffer_offset: u64,
}

/// One object of a frame of several (`vksplat_render_instances`): a scene placed in the world.
/// Every field must be set: a zero transform is refused (not invertible) and a zero opacity
/// hides the object.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatSceneInstance {
    /// `VKSPLAT_STRUCT_SCENE_INSTANCE`.
    pub s_type: u32,
    /// `sizeof(VksplatSceneInstance)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// A scene of the context (a plugin scene is evaluated once per frame at the frame's
    /// time; `vksplat_render_record` refuses plugin scenes). One scene may appear in several
    /// instances.
    pub scene: *mut VksplatScene,
    /// Object → world, row-major (`transform[4 * row + column]`, translation in column 3):
    /// an invertible affine map (last row 0 0 0 1). Means and covariances are transformed and
    /// the SH view direction is taken in the object's frame.
    pub transform: [f32; 16],
    /// Multiplies the opacity of every splat (after the sigmoid), in 0..=1.
    pub opacity: f32,
    /// Zero.
    pub reserved: u32,
}

/// Caller memory that receives a frame (`vksplat_render`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatImage {
    /// `VKSPLAT_STRUCT_IMAGE`.
    pub s_type: u32,
    /// `sizeof(VksplatImage)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// Must equal the camera's size.
    pub width: u32,
    pub height: u32,
    /// `VKSPLAT_FORMAT_RGBA32F` or `VKSPLAT_FORMAT_RGBA8`.
    pub format: u32,
    /// Zero.
    pub reserved: u32,
    /// Row-major pixels, top row first; may be NULL (depth only).
    pub pixels: *mut c_void,
    /// Bytes from one row to the next; 0 means tightly packed.
    pub row_bytes: u64,
    /// Optional (NULL): expected depth, one float per pixel, tightly packed rows.
    pub depth: *mut f32,
    /// Bytes the caller allocated at `pixels`: at least `(height − 1) · row_bytes + width ·
    /// bytes per pixel`, else `vksplat_render` fails with `VKSPLAT_ERROR_INVALID_ARGUMENT`
    /// naming the size it needs and writes nothing. (An image of
    /// `VKSPLAT_IMAGE_V1_SIZE` bytes has no sizes, and its buffers are trusted.)
    pub pixels_size: u64,
    /// Bytes the caller allocated at `depth`: at least `width · height · 4`.
    pub depth_size: u64,
}

/// What vksplat needs of a host's Vulkan device (`vksplat_vulkan_requirements`), for a host
/// that creates its device before handing it to `vksplat_context_create_vulkan`. The caller
/// sets `s_type` and `s_size`; the strings are static.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatVulkanRequirements {
    /// `VKSPLAT_STRUCT_VULKAN_REQUIREMENTS`.
    pub s_type: u32,
    /// `sizeof(VksplatVulkanRequirements)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *mut c_void,
    /// Lowest `VkApplicationInfo::apiVersion` and device API version (`VK_API_VERSION_1_2`).
    pub api_version: u32,
    /// `VkQueueFlags` the queue handed over must have (`VK_QUEUE_COMPUTE_BIT`).
    pub queue_flags: u32,
    /// Number of entries of `extensions`.
    pub extension_count: u32,
    /// Number of entries of `vulkan12_features`.
    pub feature_count: u32,
    /// Device extensions to enable (`"VK_KHR_push_descriptor"`).
    pub extensions: *const *const c_char,
    /// `VkPhysicalDeviceVulkan12Features` members to enable, by name
    /// (`"bufferDeviceAddress"`, `"timelineSemaphore"`).
    pub vulkan12_features: *const *const c_char,
}

/// The host's `vkGetInstanceProcAddr` (`PFN_vkGetInstanceProcAddr`).
pub type VksplatGetInstanceProcAddr = Option<
    unsafe extern "C" fn(
        instance: *mut c_void,
        name: *const c_char,
    ) -> Option<unsafe extern "C" fn()>,
>;

/// A host's Vulkan instance, device and queue for `vksplat_context_create_vulkan`. Handles are
/// passed as `void *` (dispatchable: VkInstance, VkPhysicalDevice, VkDevice). Everything here
/// must outlive the context; vksplat never destroys these handles and never waits for the
/// whole device (only for its own work, at `vksplat_context_destroy` included).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatVulkanDevice {
    /// `VKSPLAT_STRUCT_VULKAN_DEVICE`.
    pub s_type: u32,
    /// `sizeof(VksplatVulkanDevice)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    /// The host's `vkGetInstanceProcAddr`; every other function is loaded through it.
    pub get_instance_proc_addr: VksplatGetInstanceProcAddr,
    pub instance: *mut c_void,
    pub physical_device: *mut c_void,
    pub device: *mut c_void,
    /// The queue vksplat submits to: a family with `VK_QUEUE_COMPUTE_BIT`, and an index the
    /// device was created with. The host must not use the same queue from another thread
    /// while a vksplat call runs (Vulkan's external synchronisation of queues).
    pub queue_family: u32,
    pub queue_index: u32,
    /// `VkApplicationInfo::apiVersion` of the host's instance.
    pub api_version: u32,
    /// Number of entries of `extensions`.
    pub extension_count: u32,
    /// The device extensions the host enabled (`ppEnabledExtensionNames`).
    pub extensions: *const *const c_char,
    /// Number of entries of `vulkan12_features`.
    pub feature_count: u32,
    /// Zero.
    pub reserved: u32,
    /// The `VkPhysicalDeviceVulkan12Features` members the host enabled, by name.
    pub vulkan12_features: *const *const c_char,
}

/// Where `vksplat_render_vulkan` writes a frame on the GPU, and how it is ordered with the
/// host's work. Handles are `uint64_t` (non-dispatchable: VkImage, VkBuffer, VkSemaphore).
/// Images: colour `VK_FORMAT_R32G32B32A32_SFLOAT` (109); depth `VK_FORMAT_R32_SFLOAT` (100) or
/// `VK_FORMAT_D32_SFLOAT` (126); 2D, the camera's size, `VK_IMAGE_USAGE_TRANSFER_DST_BIT`, mip
/// 0 / layer 0 written. The image is in `*_old_layout` (`VK_IMAGE_LAYOUT_UNDEFINED` discards
/// it) when the frame starts and is left in `*_new_layout`. Buffers receive tightly packed
/// rows, top first (16 bytes per pixel of colour, 4 of depth), and need
/// `VK_BUFFER_USAGE_TRANSFER_DST_BIT`. A zero handle is no target. Every object must stay
/// valid until the frame has finished (`vksplat_frame_poll`/`wait`, or the timeline value of
/// `vksplat_frame_timeline`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatVulkanTarget {
    /// `VKSPLAT_STRUCT_VULKAN_TARGET`.
    pub s_type: u32,
    /// `sizeof(VksplatVulkanTarget)`.
    pub s_size: u32,
    /// Extension chain; NULL.
    pub next: *const c_void,
    pub color_image: u64,
    /// `VkFormat`.
    pub color_format: u32,
    /// `VkImageLayout` before and after the frame.
    pub color_old_layout: u32,
    pub color_new_layout: u32,
    /// The queue family that owns the image: the context's queue family, or
    /// `VK_QUEUE_FAMILY_IGNORED` (~0) for a concurrent image. Ownership transfers are the
    /// host's.
    pub color_queue_family: u32,
    pub depth_image: u64,
    pub depth_format: u32,
    pub depth_old_layout: u32,
    pub depth_new_layout: u32,
    pub depth_queue_family: u32,
    pub color_buffer: u64,
    pub color_buffer_offset: u64,
    /// The buffer's size in bytes.
    pub color_buffer_size: u64,
    pub depth_buffer: u64,
    pub depth_buffer_offset: u64,
    pub depth_buffer_size: u64,
    /// Semaphores the frame waits for (all stages), with their timeline values (ignored for
    /// binary semaphores).
    pub wait_count: u32,
    /// Semaphores the frame signals when done, with their timeline values.
    pub signal_count: u32,
    pub wait_semaphores: *const u64,
    pub wait_values: *const u64,
    pub signal_semaphores: *const u64,
    pub signal_values: *const u64,
}

// ---------------------------------------------------------------------------------------------
// Plugin ABI
// ---------------------------------------------------------------------------------------------

/// Functions the host gives a plugin. Valid for the life of the process.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatHostApi {
    /// `VKSPLAT_STRUCT_HOST_API`.
    pub s_type: u32,
    /// `sizeof(VksplatHostApi)` as the host knows it.
    pub s_size: u32,
    pub next: *const c_void,
    /// The plugin ABI version negotiated.
    pub abi_version: u32,
    pub reserved: u32,
    /// Records the message explaining the error the calling plugin function is about to
    /// return (UTF-8, copied). Thread-safe: the message is kept per thread.
    pub set_error: Option<unsafe extern "C" fn(message: *const c_char)>,
    /// Logs a message (`VKSPLAT_LOG_*`). Thread-safe.
    pub log: Option<unsafe extern "C" fn(level: i32, message: *const c_char)>,
}

/// What host and plugin tell each other in `vksplat_plugin_negotiate`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatNegotiation {
    /// `VKSPLAT_STRUCT_NEGOTIATION`.
    pub s_type: u32,
    /// `sizeof(VksplatNegotiation)` as the host knows it.
    pub s_size: u32,
    pub next: *const c_void,
    /// In: the plugin ABI versions the host loads, `host_abi_min..=host_abi_max`.
    pub host_abi_min: u32,
    pub host_abi_max: u32,
    /// In: host functions, valid for the life of the process.
    pub host: *const VksplatHostApi,
    /// Out: the version the plugin speaks. Set it even when refusing, so the host can say why.
    pub plugin_abi_version: u32,
    pub reserved: u32,
    /// Out: `VKSPLAT_LAYOUT_FINGERPRINT` of the header the plugin was built with.
    pub layout_fingerprint: u64,
    /// Out: the plugin's function table for that version, in static storage.
    pub api: *const VksplatPluginApi,
}

/// The type of a plugin's `vksplat_plugin_negotiate` (for hosts that look it up by name).
pub type VksplatNegotiateFn = unsafe extern "C" fn(n: *mut VksplatNegotiation) -> VksplatResult;

/// How to open a plugin instance.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatOpenDesc {
    /// `VKSPLAT_STRUCT_OPEN_DESC`.
    pub s_type: u32,
    /// `sizeof(VksplatOpenDesc)` as the host knows it.
    pub s_size: u32,
    pub next: *const c_void,
    /// Host functions (the same as at negotiation); keep it in the instance for `set_error`.
    pub host: *const VksplatHostApi,
    /// The plugin's input file (its own format), or NULL.
    pub source: *const c_char,
    /// Every `key=value` the user gave. Reject keys that are neither an open option nor a
    /// frame parameter of the plugin.
    pub options: *const VksplatKeyValue,
    pub option_count: u32,
    pub reserved: u32,
}

/// One parameter a plugin instance takes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatParamDesc {
    /// Name used in `--param name=value` (ASCII letters, digits, `_`).
    pub name: *const c_char,
    /// One line of help, or NULL.
    pub description: *const c_char,
    /// `VKSPLAT_PARAM_FLOAT`, `VKSPLAT_PARAM_INT`, `VKSPLAT_PARAM_FLOAT_ARRAY` or
    /// `VKSPLAT_PARAM_TEXT` (version 2).
    pub param_type: u32,
    /// `VKSPLAT_PARAM_OPEN` or 0 (a per-frame parameter).
    pub flags: u32,
    /// Scalars: the value range and default. Arrays: the range of every element's floats.
    pub min: f64,
    pub max: f64,
    pub default_value: f64,
    /// Arrays: floats per element (3 for a vertex, 16 for a row-major 4×4 matrix); else 1.
    pub components: u32,
    /// Arrays: element count range; 0 elements means "not set" (the plugin's default).
    pub min_count: u32,
    pub max_count: u32,
    pub reserved: u32,
}

/// Host pointers to per-splat data the plugin provides once (all optional, NULL = zero, or 1
/// for `opacity_scale`). Layouts as in `VksplatSceneDesc`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatSplatData {
    pub means: *const f32,
    pub rotations: *const f32,
    pub log_scales: *const f32,
    pub opacity_logits: *const f32,
    pub sh: *const f32,
    pub covariances: *const f32,
    pub opacity_scale: *const f32,
}

/// Host arrays a plugin's CPU path fills, one per `VKSPLAT_OUTPUT_*` bit the plugin declared
/// (NULL otherwise). Layouts as in `VksplatSceneDesc`; `count` splats.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatSplatArrays {
    pub count: u64,
    pub sh_degree: u32,
    pub reserved: u32,
    pub means: *mut f32,
    pub rotations: *mut f32,
    pub log_scales: *mut f32,
    pub opacity_logits: *mut f32,
    pub sh: *mut f32,
    pub covariances: *mut f32,
    pub opacity_scale: *mut f32,
}

/// What a plugin instance is. Pointers stay valid until the next call on the instance.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatDescription {
    /// `VKSPLAT_STRUCT_DESCRIPTION`.
    pub s_type: u32,
    /// `sizeof(VksplatDescription)` as the plugin knows it (the host zeroes the struct and
    /// sets its own size before the call).
    pub s_size: u32,
    pub next: *const c_void,
    pub splat_count: u64,
    /// SH degree 0..3.
    pub sh_degree: u32,
    /// `VKSPLAT_VARIANT_*` bits.
    pub flags: u32,
    /// `VKSPLAT_OUTPUT_*` bits the plugin writes every frame (on either path).
    pub outputs: u32,
    /// Non-zero when `gpu_stage` and `gpu_frame` are implemented.
    pub has_gpu: u32,
    /// Non-zero when `cpu_frame` is implemented.
    pub has_cpu: u32,
    pub param_count: u32,
    pub params: *const VksplatParamDesc,
    /// Splat data uploaded once when the scene is created (what is not written per frame).
    pub initial: VksplatSplatData,
    /// Plugin ABI version 2: the first and last time of the scene (finite, `time_start <=
    /// time_end`), used when `flags` has `VKSPLAT_VARIANT_TIME_RANGE`. A version-1 plugin
    /// writes neither: they read as zero and the flag as unset.
    pub time_start: f64,
    pub time_end: f64,
}

/// A static buffer the plugin's shader reads (uploaded once).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatBufferDesc {
    /// Debug name, or NULL.
    pub name: *const c_char,
    pub data: *const c_void,
    /// Bytes (a multiple of 4).
    pub size: u64,
}

/// A plugin's compute stage. Bindings (set 0, all storage buffers): 0..8 the engine's splat
/// buffers (`#include "variant.glsl"`), then `buffer_count` static buffers from
/// `VKSPLAT_FIRST_PLUGIN_BINDING`, then, when `frame_buffer_size > 0`, the frame buffer that
/// `gpu_frame` fills every frame. The engine dispatches `ceil(invocations / local_size_x)`
/// workgroups along x; local_size_y and _z must be 1.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatGpuStage {
    /// `VKSPLAT_STRUCT_GPU_STAGE`.
    pub s_type: u32,
    /// `sizeof(VksplatGpuStage)` as the plugin knows it.
    pub s_size: u32,
    pub next: *const c_void,
    /// Shader name used in messages (e.g. "wave.comp").
    pub name: *const c_char,
    /// `VKSPLAT_SHADER_GLSL` or `VKSPLAT_SHADER_SPIRV`.
    pub language: u32,
    /// Bytes of push constants `gpu_frame` writes (≤ `VKSPLAT_MAX_PUSH_CONSTANT_SIZE`, a
    /// multiple of 4); must equal the shader's push-constant block.
    pub push_constant_size: u32,
    pub code: *const c_void,
    /// SPIR-V: bytes. GLSL: ignored (NUL-terminated).
    pub code_size: u64,
    pub buffers: *const VksplatBufferDesc,
    pub buffer_count: u32,
    /// Bytes of the per-frame buffer `gpu_frame` writes (0: none).
    pub frame_buffer_size: u32,
    /// Invocations to dispatch along x (usually the splat count).
    pub invocations: u64,
}

/// The value of one parameter in a frame.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatParamValue {
    /// Scalars: the value.
    pub value: f64,
    /// Arrays: `count` elements of `components` floats; NULL when `count` is 0.
    pub data: *const f32,
    pub count: u32,
    pub reserved: u32,
}

/// The inputs of one frame.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatFrameInput {
    /// `VKSPLAT_STRUCT_FRAME_INPUT`.
    pub s_type: u32,
    /// `sizeof(VksplatFrameInput)` as the host knows it.
    pub s_size: u32,
    pub next: *const c_void,
    /// Time in seconds.
    pub time: f64,
    /// One value per described parameter, in description order.
    pub params: *const VksplatParamValue,
    pub param_count: u32,
    pub reserved: u32,
}

/// A plugin's function table (ABI version 1). Lives in the plugin's static storage.
/// Every function returns a result code; on an error it first calls the host's `set_error`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VksplatPluginApi {
    /// `VKSPLAT_STRUCT_PLUGIN_API`.
    pub s_type: u32,
    /// `sizeof(VksplatPluginApi)` as the plugin knows it.
    pub s_size: u32,
    pub next: *const c_void,
    /// The plugin ABI version of this table.
    pub abi_version: u32,
    pub reserved: u32,
    /// The plugin's name (as in its manifest) and version, UTF-8.
    pub name: *const c_char,
    pub version: *const c_char,
    /// Opens an instance (reads the source file, applies options). Required.
    pub open: Option<
        unsafe extern "C" fn(
            desc: *const VksplatOpenDesc,
            out: *mut *mut VksplatInstance,
        ) -> VksplatResult,
    >,
    /// Frees an instance. Required.
    pub close: Option<unsafe extern "C" fn(instance: *mut VksplatInstance)>,
    /// Describes the instance. Required.
    pub describe: Option<
        unsafe extern "C" fn(
            instance: *mut VksplatInstance,
            out: *mut VksplatDescription,
        ) -> VksplatResult,
    >,
    /// The compute stage (GPU path); NULL when the plugin has none.
    pub gpu_stage: Option<
        unsafe extern "C" fn(
            instance: *mut VksplatInstance,
            out: *mut VksplatGpuStage,
        ) -> VksplatResult,
    >,
    /// Writes one frame's push constants (`push_size` bytes) and frame buffer
    /// (`frame_size` bytes; NULL when the stage has none).
    pub gpu_frame: Option<
        unsafe extern "C" fn(
            instance: *mut VksplatInstance,
            input: *const VksplatFrameInput,
            push_constants: *mut c_void,
            push_size: u32,
            frame_buffer: *mut c_void,
            frame_size: u32,
        ) -> VksplatResult,
    >,
    /// Fills one frame's output arrays (CPU path); NULL when the plugin has none.
    pub cpu_frame: Option<
        unsafe extern "C" fn(
            instance: *mut VksplatInstance,
            input: *const VksplatFrameInput,
            out: *const VksplatSplatArrays,
        ) -> VksplatResult,
    >,
}

/// Size of the first (ABI version 1) layout of `VksplatPluginApi`: the smallest table a
/// version-1 plugin may return.
pub const VKSPLAT_PLUGIN_API_V1_SIZE: u32 = 88;
