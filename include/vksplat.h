/*
 * vksplat.h: the C API of vksplat (a headless Vulkan compute renderer for 3D Gaussian
 * Splatting) and the plugin ABI for scene-variant plugins.
 *
 * Conventions: every function returns a VksplatResult (0 ok, negative errors, positive
 * statuses) and vksplat_last_error() explains the last error on the calling thread. Every
 * descriptor struct starts with s_type / s_size / next: set s_type to its VKSPLAT_STRUCT_*
 * value and s_size to sizeof the struct, e.g.
 *     VksplatCamera cam = {VKSPLAT_STRUCT_CAMERA, sizeof cam};
 * Structs only grow at the end, and each has a VKSPLAT_*_V1_SIZE, the smallest s_size
 * accepted. A reader copies the s_size bytes it is given and takes the fields after them as
 * zero; a writer fills an out-struct only up to the s_size its caller set. Reserved fields
 * must be zero (VKSPLAT_ERROR_INVALID_ARGUMENT otherwise), and an extension struct in next
 * that the reader does not know is refused (VKSPLAT_ERROR_UNSUPPORTED). At the end of this
 * header, static assertions check every struct's size and field offsets (64-bit targets).
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */

#ifndef VKSPLAT_H
#define VKSPLAT_H

/* Generated from engine/abi by tools/gen-header (cbindgen). Do not edit: run `cargo run -p vksplat-gen-header`. */

#include <stdint.h>
#include <stddef.h>
/** VKSPLAT_MAKE_VERSION(major, minor, patch): the packed form of vksplat_version(). */
#define VKSPLAT_MAKE_VERSION(major, minor, patch) \
    ((((uint32_t)(major)) << 22) | (((uint32_t)(minor)) << 12) | ((uint32_t)(patch)))

/** Marks a plugin's vksplat_plugin_negotiate for export from its shared library. */
#if defined(_WIN32)
#define VKSPLAT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VKSPLAT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/** Opaque handles. */
typedef struct VksplatContext VksplatContext;
typedef struct VksplatScene VksplatScene;
/** A plugin defines struct VksplatInstance itself; the engine never looks inside. */
typedef struct VksplatInstance VksplatInstance;


// Major version of this header (the vksplat release it came with).
#define VKSPLAT_VERSION_MAJOR 0

// Minor version of this header.
#define VKSPLAT_VERSION_MINOR 1

// Patch version of this header.
#define VKSPLAT_VERSION_PATCH 0

// `VKSPLAT_MAKE_VERSION(major, minor, patch)` of this header; compare with `vksplat_version()`.
#define VKSPLAT_VERSION (((VKSPLAT_VERSION_MAJOR << 22) | (VKSPLAT_VERSION_MINOR << 12)) | VKSPLAT_VERSION_PATCH)

// Version of the host C API's binary interface. A library whose `vksplat_abi_version()`
// differs from the header the program was compiled with must not be used.
#define VKSPLAT_ABI_VERSION 1

// The plugin ABI version this header describes (what a plugin built against it speaks).
// Version 2 grew `VksplatDescription` by the scene's time range.
#define VKSPLAT_PLUGIN_ABI_VERSION 2

// Oldest plugin ABI version this engine still loads.
#define VKSPLAT_PLUGIN_ABI_MIN 1

// Fingerprint of the plugin ABI (`VKSPLAT_PLUGIN_ABI_VERSION`): FNV-1a over the name, size and
// alignment of every struct a plugin shares with the host, and the name, offset, size and type
// of each of their fields, callback signatures included (see the vksplat-abi crate's `layout`
// module). Frozen once the version is released. Plugins report it at negotiation; the host
// accepts the fingerprint of every version in `VKSPLAT_PLUGIN_ABI_MIN..=VKSPLAT_PLUGIN_ABI_VERSION`.
#define VKSPLAT_LAYOUT_FINGERPRINT (((uint64_t)VKSPLAT_LAYOUT_FINGERPRINT_HI << 32) | (uint64_t)VKSPLAT_LAYOUT_FINGERPRINT_LO)

// High 32 bits of `VKSPLAT_LAYOUT_FINGERPRINT`.
#define VKSPLAT_LAYOUT_FINGERPRINT_HI 1586176095

// Low 32 bits of `VKSPLAT_LAYOUT_FINGERPRINT`.
#define VKSPLAT_LAYOUT_FINGERPRINT_LO 3275428554

// `s_type` of `VksplatContextDesc`.
#define VKSPLAT_STRUCT_CONTEXT_DESC 1

// `s_type` of `VksplatLimits`.
#define VKSPLAT_STRUCT_LIMITS 2

// `s_type` of `VksplatCamera`.
#define VKSPLAT_STRUCT_CAMERA 3

// `s_type` of `VksplatSceneDesc`.
#define VKSPLAT_STRUCT_SCENE_DESC 4

// `s_type` of `VksplatSceneInfo`.
#define VKSPLAT_STRUCT_SCENE_INFO 5

// `s_type` of `VksplatPluginSceneDesc`.
#define VKSPLAT_STRUCT_PLUGIN_SCENE_DESC 6

// `s_type` of `VksplatRenderDesc`.
#define VKSPLAT_STRUCT_RENDER_DESC 7

// `s_type` of `VksplatImage`.
#define VKSPLAT_STRUCT_IMAGE 8

// `s_type` of `VksplatVulkanRequirements`.
#define VKSPLAT_STRUCT_VULKAN_REQUIREMENTS 20

// `s_type` of `VksplatVulkanDevice`.
#define VKSPLAT_STRUCT_VULKAN_DEVICE 21

// `s_type` of `VksplatVulkanTarget`.
#define VKSPLAT_STRUCT_VULKAN_TARGET 22

// `s_type` of `VksplatSceneInstance`.
#define VKSPLAT_STRUCT_SCENE_INSTANCE 23

// `s_type` of `VksplatMemoryStats`.
#define VKSPLAT_STRUCT_MEMORY_STATS 24

// `s_type` of `VksplatHostDepth`.
#define VKSPLAT_STRUCT_HOST_DEPTH 25

// `s_type` of `VksplatNegotiation`.
#define VKSPLAT_STRUCT_NEGOTIATION 100

// `s_type` of `VksplatHostApi`.
#define VKSPLAT_STRUCT_HOST_API 101

// `s_type` of `VksplatPluginApi`.
#define VKSPLAT_STRUCT_PLUGIN_API 102

// `s_type` of `VksplatOpenDesc`.
#define VKSPLAT_STRUCT_OPEN_DESC 103

// `s_type` of `VksplatDescription`.
#define VKSPLAT_STRUCT_DESCRIPTION 104

// `s_type` of `VksplatGpuStage`.
#define VKSPLAT_STRUCT_GPU_STAGE 105

// `s_type` of `VksplatFrameInput`.
#define VKSPLAT_STRUCT_FRAME_INPUT 106

// `sizeof(VksplatContextDesc)` at ABI version 1 (before `log`).
#define VKSPLAT_CONTEXT_DESC_V1_SIZE 32

// `sizeof(VksplatLimits)` at ABI version 1 (before `max_image_pixels`).
#define VKSPLAT_LIMITS_V1_SIZE 312

// `sizeof(VksplatCamera)` at ABI version 1.
#define VKSPLAT_CAMERA_V1_SIZE 104

// `sizeof(VksplatSceneDesc)` at ABI version 1.
#define VKSPLAT_SCENE_DESC_V1_SIZE 104

// `sizeof(VksplatPluginSceneDesc)` at ABI version 1.
#define VKSPLAT_PLUGIN_SCENE_DESC_V1_SIZE 48

// `sizeof(VksplatSceneInfo)` at ABI version 1 (before `antialiased`).
#define VKSPLAT_SCENE_INFO_V1_SIZE 40

// `sizeof(VksplatRenderDesc)` at ABI version 1 (before `flags`).
#define VKSPLAT_RENDER_DESC_V1_SIZE 40

// `sizeof(VksplatImage)` at ABI version 1 (before `pixels_size`).
#define VKSPLAT_IMAGE_V1_SIZE 56

// `sizeof(VksplatVulkanRequirements)` at ABI version 1.
#define VKSPLAT_VULKAN_REQUIREMENTS_V1_SIZE 48

// `sizeof(VksplatVulkanDevice)` at ABI version 1.
#define VKSPLAT_VULKAN_DEVICE_V1_SIZE 88

// `sizeof(VksplatVulkanTarget)` at ABI version 1.
#define VKSPLAT_VULKAN_TARGET_V1_SIZE 152

// `sizeof(VksplatSceneInstance)` at ABI version 1.
#define VKSPLAT_SCENE_INSTANCE_V1_SIZE 96

// `sizeof(VksplatMemoryStats)` at ABI version 1.
#define VKSPLAT_MEMORY_STATS_V1_SIZE 96

// `sizeof(VksplatHostDepth)` at ABI version 1.
#define VKSPLAT_HOST_DEPTH_V1_SIZE 96

// `sizeof(VksplatHostApi)` at plugin ABI version 1.
#define VKSPLAT_HOST_API_V1_SIZE 40

// `sizeof(VksplatNegotiation)` at plugin ABI version 1.
#define VKSPLAT_NEGOTIATION_V1_SIZE 56

// `sizeof(VksplatOpenDesc)` at plugin ABI version 1.
#define VKSPLAT_OPEN_DESC_V1_SIZE 48

// `sizeof(VksplatDescription)` at plugin ABI version 1 (before `time_start`).
#define VKSPLAT_DESCRIPTION_V1_SIZE 112

// `sizeof(VksplatGpuStage)` at plugin ABI version 1.
#define VKSPLAT_GPU_STAGE_V1_SIZE 72

// `sizeof(VksplatFrameInput)` at plugin ABI version 1.
#define VKSPLAT_FRAME_INPUT_V1_SIZE 40

// Render mode: gsplat 1.5.3 "classic" rules.
#define VKSPLAT_MODE_CLASSIC 0

// Render mode: opacity times the blur compensation (Mip-Splatting style).
#define VKSPLAT_MODE_ANTIALIASED 1

// Render mode: the original INRIA rasterizer's rules.
#define VKSPLAT_MODE_INRIA 2

// Render mode: glTF KHR_gaussian_splatting's rules (cut at Mahalanobis distance 3, sorted by
// distance from the camera centre; README "Modes").
#define VKSPLAT_MODE_KHR 3

// `VksplatRenderDesc::flags`: render in `mode`. Without it the scene's default mode is used:
// `VKSPLAT_MODE_ANTIALIASED` for a scene whose file marks it as trained with antialiasing
// (`VksplatSceneInfo::antialiased`), else `VKSPLAT_MODE_CLASSIC`.
#define VKSPLAT_RENDER_MODE 1

// `VksplatRenderDesc::flags`: evaluate a plugin scene at `time` (and make it the scene's
// time). Without it the scene's time (`vksplat_scene_set_time`, initially 0) is used.
#define VKSPLAT_RENDER_TIME 2

// `VksplatRenderDesc::flags`: cull splats nearer than `clip_near` (camera depth).
#define VKSPLAT_RENDER_CLIP_NEAR 4

// `VksplatRenderDesc::flags`: cull splats farther than `clip_far` (camera depth).
#define VKSPLAT_RENDER_CLIP_FAR 8

// `VksplatRenderDesc::depth_kind`: the expected depth Σ αᵢTᵢzᵢ / (1 − T) (the default).
#define VKSPLAT_DEPTH_EXPECTED 0

// `VksplatRenderDesc::depth_kind`: the median depth, the camera depth of the splat at which the
// accumulated opacity reaches one half (T falls to 0.5 or below); 0 where it never does.
#define VKSPLAT_DEPTH_MEDIAN 1

// `VksplatRenderDesc::depth_kind`: the first-hit depth, the camera depth of the first splat
// that blends at the pixel; 0 where none does.
#define VKSPLAT_DEPTH_FIRST 2

// `VksplatHostDepth::convention`: linear camera depth (positive along the view axis, in the
// scene's units, as vksplat's depth output).
#define VKSPLAT_HOST_DEPTH_LINEAR 1

// `VksplatHostDepth::convention`: depth 0..1 from `depth_near` to `depth_far`: Vulkan,
// Direct3D, and an OpenGL depth buffer or depth texture (window depth with the default
// `glDepthRange(0, 1)`).
#define VKSPLAT_HOST_DEPTH_ZERO_TO_ONE 2

// `VksplatHostDepth::convention`: OpenGL NDC depth −1..1 (z/w of the clip position).
#define VKSPLAT_HOST_DEPTH_MINUS_ONE_TO_ONE 3

// `VksplatHostDepth::flags`: reversed Z (the near plane has the larger depth).
#define VKSPLAT_HOST_DEPTH_REVERSED 1

// `VksplatHostDepth::flags`: the host's projection is orthographic (depth is affine in camera
// depth; `depth_far` must be finite).
#define VKSPLAT_HOST_DEPTH_ORTHOGRAPHIC 2

// Image format: 4 floats per pixel, RGB composited over the background, A = 1 − T.
#define VKSPLAT_FORMAT_RGBA32F 0

// Image format: 4 bytes per pixel, `round(clamp(v, 0, 1) · 255)` of the RGBA32F values.
#define VKSPLAT_FORMAT_RGBA8 1

// `VksplatSceneDesc::flags`: copy the caller's arrays during the call (the default; the
// caller may free them on return).
#define VKSPLAT_SCENE_COPY 0

// `VksplatSceneDesc::flags`: zero-copy. The engine keeps the caller's pointers (no host copy
// is made), reads them again on `vksplat_scene_refresh`, and calls `deleter(deleter_user)` when
// the scene is destroyed. If creation fails the deleter is not called.
#define VKSPLAT_SCENE_BORROW 1

// How a plugin scene is evaluated: the GPU path when the plugin has one, else the CPU path.
#define VKSPLAT_EVAL_AUTO 0

// Evaluate with the plugin's compute shader (first stage of the frame).
#define VKSPLAT_EVAL_GPU 1

// Evaluate with the plugin's CPU path (the plugin fills host arrays; the engine uploads them).
#define VKSPLAT_EVAL_CPU 2

// `vksplat_camera_from_clip`: OpenGL clip space (NDC y up, depth −1..1; view looks along −z).
#define VKSPLAT_CLIP_OPENGL 0

// Vulkan clip space (NDC y down, depth 0..1; view looks along −z).
#define VKSPLAT_CLIP_VULKAN 1

// Direct3D clip space (NDC y up, depth 0..1; view looks along +z).
#define VKSPLAT_CLIP_DIRECT3D 2

// Parameter type: one number (`double`), with a range.
#define VKSPLAT_PARAM_FLOAT 0

// Parameter type: one integer (passed as a `double` holding an integer), with a range.
#define VKSPLAT_PARAM_INT 1

// Parameter type: an array of elements of `components` floats each (3 = a vertex,
// 16 = a row-major 4×4 matrix), with an element-count range.
#define VKSPLAT_PARAM_FLOAT_ARRAY 2

// Parameter type (plugin ABI version 2): text (a path, a name), read at open only
// (`VKSPLAT_PARAM_OPEN` must be set). The plugin receives the user's string unchanged in
// `VksplatOpenDesc::options`; the host never parses it as a number. `min`, `max` and
// `default_value` are zero; an absent key means the plugin's default.
#define VKSPLAT_PARAM_TEXT 3

// `VksplatParamDesc::flags`: read when the instance is opened (`options`), not per frame.
#define VKSPLAT_PARAM_OPEN 1

// Output bit: means (3 floats per splat: x, y, z).
#define VKSPLAT_OUTPUT_MEANS 1

// Output bit: rotations (4 floats per splat: w, x, y, z; need not be normalised).
#define VKSPLAT_OUTPUT_ROTATIONS 2

// Output bit: log scales (3 floats per splat).
#define VKSPLAT_OUTPUT_LOG_SCALES 4

// Output bit: opacity logits (1 float per splat; opacity = sigmoid).
#define VKSPLAT_OUTPUT_OPACITY_LOGITS 8

// Output bit: SH coefficients ((deg+1)² × 3 floats per splat, coefficient-major, RGB
// interleaved: `sh[(i·K + k)·3 + c]`).
#define VKSPLAT_OUTPUT_SH 16

// Output bit: world-space 3×3 covariances (6 floats per splat: xx, xy, xz, yy, yz, zz). Needs
// `VKSPLAT_VARIANT_COVARIANCE`.
#define VKSPLAT_OUTPUT_COVARIANCES 32

// Output bit: opacity multipliers (1 float per splat, multiplies the opacity after the
// sigmoid). Needs `VKSPLAT_VARIANT_OPACITY_SCALE`.
#define VKSPLAT_OUTPUT_OPACITY_SCALE 64

// Every output bit.
#define VKSPLAT_OUTPUT_ALL 127

// `VksplatDescription::flags`: the scene takes a 3×3 covariance per splat instead of
// rotation + scale.
#define VKSPLAT_VARIANT_COVARIANCE 1

// `VksplatDescription::flags`: the scene has a per-splat opacity multiplier.
#define VKSPLAT_VARIANT_OPACITY_SCALE 2

// `VksplatDescription::flags` (plugin ABI version 2): `time_start` and `time_end` hold the
// scene's time range, in the scene's own time units. Without it the scene has no range
// (any time is valid, or the scene does not move).
#define VKSPLAT_VARIANT_TIME_RANGE 4

// `VksplatGpuStage::language`: `code` is NUL-terminated GLSL 4.50 compute source, compiled
// by the engine with shaderc; `#include "variant.glsl"` declares the engine's splat buffers.
#define VKSPLAT_SHADER_GLSL 0

// `VksplatGpuStage::language`: `code` is SPIR-V, `code_size` bytes (a multiple of 4).
#define VKSPLAT_SHADER_SPIRV 1

// The engine's splat buffers occupy bindings 0..8 of set 0 in a plugin shader; the plugin's
// static buffers follow from this binding, then its frame buffer.
#define VKSPLAT_FIRST_PLUGIN_BINDING 9

// Largest push-constant block a plugin stage may declare, in bytes.
#define VKSPLAT_MAX_PUSH_CONSTANT_SIZE 128

// Largest workgroup (x · y · z invocations) a plugin stage may declare.
#define VKSPLAT_MAX_WORKGROUP_INVOCATIONS 1024

// Log level (`VksplatHostApi::log`, `VksplatContextDesc::log`): detail for debugging.
#define VKSPLAT_LOG_DEBUG -1

// Log level: information.
#define VKSPLAT_LOG_INFO 0

// Log level: a warning.
#define VKSPLAT_LOG_WARNING 1

// Log level: an error (the call that fails also returns it).
#define VKSPLAT_LOG_ERROR 2

// `VksplatCamera::projection`: a pinhole camera, pixel = (fx·x/z + cx, fy·y/z + cy).
#define VKSPLAT_PROJECTION_PERSPECTIVE 0

// `VksplatCamera::projection`: parallel rays along the camera's z axis, pixel =
// (fx·x + cx, fy·y + cy) with `fx`, `fy` in pixels per world unit.
#define VKSPLAT_PROJECTION_ORTHOGRAPHIC 1

// Size of the first (ABI version 1) layout of `VksplatPluginApi`: the smallest table a
// version-1 plugin may return.
#define VKSPLAT_PLUGIN_API_V1_SIZE 88

// Result of every call: `VKSPLAT_OK` (0), a negative error or a positive status.
typedef int32_t VksplatResult;

// A context's log callback (`VksplatContextDesc::log`): `level` is a `VKSPLAT_LOG_*` value,
// `message` one line of NUL-terminated UTF-8 valid during the call. It is called from any
// thread that logs, possibly while the engine holds a lock of the context: it must be
// thread-safe, return quickly and not call vksplat functions. Messages come through the Rust
// `log` facade of the library: if the process installed another Rust logger first, messages
// go to that logger instead.
typedef void (*VksplatLogFn)(void *user, int32_t level, const char *message);

// How to create a context (standalone: the engine creates its own Vulkan instance and device).
typedef struct VksplatContextDesc {
  // `VKSPLAT_STRUCT_CONTEXT_DESC`.
  uint32_t s_type;
  // `sizeof(VksplatContextDesc)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // Device choice as the CLI's `--device`: "auto", "cpu", an index or part of a name;
  // NULL means "auto".
  const char *device;
  // Non-zero: enable the Vulkan validation layers (also `VKSPLAT_VALIDATION=1`).
  uint32_t validation;
  // Zero.
  uint32_t reserved;
  // Optional (NULL: no messages). Receives, while the context lives, the engine's log
  // messages and the log lines of plugins of level `log_level` and above, from any thread
  // (see `VksplatLogFn`).
  VksplatLogFn log;
  // Passed to `log` unchanged.
  void *log_user;
  // The least severe level passed to `log`: `VKSPLAT_LOG_DEBUG`, `VKSPLAT_LOG_INFO` (0, the
  // default), `VKSPLAT_LOG_WARNING` or `VKSPLAT_LOG_ERROR`.
  int32_t log_level;
  // Zero.
  uint32_t reserved2;
  // Optional `const VkAllocationCallbacks *` (NULL: the driver's allocator). vksplat copies
  // the struct and passes it to every Vulkan create and destroy call of its own objects
  // (its instance and device when it creates them, command pool, semaphore, query pools,
  // buffers, images, pipelines and their layouts, shader modules); for a host's device
  // (`vksplat_context_create_vulkan`) these are the callbacks used for vksplat's objects on
  // it. Not for `vkAllocateMemory`: vksplat's memory allocator passes none there. The
  // callbacks must be thread-safe and, with their `pUserData`, stay valid until the
  // context and every scene made on it are destroyed (scenes keep the device alive).
  const void *allocation_callbacks;
  // The most bytes of device memory (buffers and images, host-visible staging included)
  // the context may hold; 0: no budget. An allocation beyond it fails with
  // `VKSPLAT_ERROR_OUT_OF_MEMORY` naming the budget, the request and what holds memory
  // (`vksplat_memory_stats`).
  uint64_t memory_budget;
} VksplatContextDesc;

// Limits and identity of a context's device (`vksplat_context_limits`). The caller sets
// `s_type` and `s_size`; the engine fills the fields that `s_size` covers.
typedef struct VksplatLimits {
  // `VKSPLAT_STRUCT_LIMITS`.
  uint32_t s_type;
  // `sizeof(VksplatLimits)`.
  uint32_t s_size;
  // Extension chain; NULL.
  void *next;
  // Largest image width and height this device renders (`max_image_pixels` bounds their
  // product).
  uint32_t max_image_side;
  // Subgroup size of the device.
  uint32_t subgroup_size;
  // Largest storage buffer the device binds, in bytes.
  uint64_t max_buffer_bytes;
  // Largest splat count of a scene of SH degree 3 (the most memory per splat): a scene of
  // any SH degree with at most this many splats fits the device. Scenes of lower degree
  // may hold up to `max_splats_by_sh_degree[degree]`; scene creation refuses more with
  // `VKSPLAT_ERROR_TOO_LARGE`.
  uint64_t max_splats;
  // `VKSPLAT_ABI_VERSION` of the library.
  uint32_t abi_version;
  // Plugin ABI versions the library loads: `plugin_abi_min..=plugin_abi_max`.
  uint32_t plugin_abi_min;
  uint32_t plugin_abi_max;
  // Zero.
  uint32_t reserved;
  // Device name, NUL-terminated UTF-8 (truncated).
  char device_name[256];
  // Largest width × height of an image this device renders (from its buffer limits and the
  // camera rule of at most 2^28 pixels); `vksplat_render` refuses larger images.
  uint64_t max_image_pixels;
  // Largest splat count of a scene, by SH degree (index 0..3); scene creation and loading
  // refuse more with `VKSPLAT_ERROR_TOO_LARGE`.
  uint64_t max_splats_by_sh_degree[4];
} VksplatLimits;

// Device memory a context holds (`vksplat_memory_stats`), in bytes. The caller sets `s_type`
// and `s_size`; the engine fills the fields that `s_size` covers.
typedef struct VksplatMemoryStats {
  // `VKSPLAT_STRUCT_MEMORY_STATS`.
  uint32_t s_type;
  // `sizeof(VksplatMemoryStats)`.
  uint32_t s_size;
  // Extension chain; NULL.
  void *next;
  // Bytes of every buffer and image vksplat holds now (the sum of the four classes below).
  uint64_t device_bytes;
  // The highest `device_bytes` since the context was created.
  uint64_t peak_device_bytes;
  // Scenes' splat data (and plugin scenes' own buffers).
  uint64_t scene_bytes;
  // Per-frame working buffers, kept for the largest frame so far (and those that frames
  // still in flight use).
  uint64_t frame_bytes;
  // Host-visible staging: uploads, readbacks and the readback slots of the frames in
  // flight.
  uint64_t staging_bytes;
  // Anything else.
  uint64_t other_bytes;
  // The part of `device_bytes` vksplat allocated host-visible (staging and readback; on a
  // CPU device such as lavapipe all of it is host memory anyway).
  uint64_t host_visible_bytes;
  // Bytes of the `VkDeviceMemory` blocks vksplat's allocator holds for them (at least
  // `device_bytes`: it sub-allocates from larger blocks).
  uint64_t reserved_bytes;
  // The budget (`VksplatContextDesc::memory_budget`; 0: none).
  uint64_t budget;
  // Live buffers and images.
  uint64_t allocations;
} VksplatMemoryStats;

// A pinhole camera with OpenCV axes (x right, y down, z forward).
typedef struct VksplatCamera {
  // `VKSPLAT_STRUCT_CAMERA`.
  uint32_t s_type;
  // `sizeof(VksplatCamera)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // Image size in pixels.
  uint32_t width;
  uint32_t height;
  // Focal lengths and principal point, in pixels.
  float fx;
  float fy;
  float cx;
  float cy;
  // World-to-camera transform, row-major 4×4.
  float world_to_camera[16];
  // `VKSPLAT_PROJECTION_*`; 0 (perspective) for a camera of `VKSPLAT_CAMERA_V1_SIZE` bytes.
  uint32_t projection;
  // Zero.
  uint32_t reserved;
} VksplatCamera;

// Called when a borrowed (`VKSPLAT_SCENE_BORROW`) scene is destroyed.
typedef void (*VksplatDeleter)(void *user);

// A scene from caller arrays (`vksplat_scene_create`). Array layouts per splat i:
// `means[3i..3i+3]`, `rotations[4i..4i+4]` (w, x, y, z), `log_scales[3i..3i+3]`,
// `opacity_logits[i]`, `sh[(i·K + k)·3 + c]` with K = (sh_degree + 1)²,
// `covariances[6i..6i+6]` (xx, xy, xz, yy, yz, zz; optional: used instead of rotation and
// scale), `opacity_scale[i]` (optional multiplier). All values must be finite.
typedef struct VksplatSceneDesc {
  // `VKSPLAT_STRUCT_SCENE_DESC`.
  uint32_t s_type;
  // `sizeof(VksplatSceneDesc)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // Number of splats.
  uint64_t count;
  // SH degree 0..3.
  uint32_t sh_degree;
  // `VKSPLAT_SCENE_COPY` or `VKSPLAT_SCENE_BORROW`.
  uint32_t flags;
  const float *means;
  // May be NULL when `covariances` is given.
  const float *rotations;
  // May be NULL when `covariances` is given.
  const float *log_scales;
  const float *opacity_logits;
  const float *sh;
  // Optional (NULL).
  const float *covariances;
  // Optional (NULL).
  const float *opacity_scale;
  // `VKSPLAT_SCENE_BORROW` only: called with `deleter_user` when the scene is destroyed.
  VksplatDeleter deleter;
  void *deleter_user;
} VksplatSceneDesc;

// One `key=value` pair of UTF-8 strings.
typedef struct VksplatKeyValue {
  const char *key;
  const char *value;
} VksplatKeyValue;

// A scene produced by a plugin (`vksplat_scene_open_plugin`).
typedef struct VksplatPluginSceneDesc {
  // `VKSPLAT_STRUCT_PLUGIN_SCENE_DESC`.
  uint32_t s_type;
  // `sizeof(VksplatPluginSceneDesc)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // The plugin's manifest name (searched in the context's plugin directories, then
  // `VKSPLAT_PLUGIN_PATH`) or a path to its manifest (`*.json`).
  const char *plugin;
  // The plugin's input file (its own format), or NULL.
  const char *source;
  // `key=value` parameters: open-time options and initial frame-parameter values.
  const struct VksplatKeyValue *params;
  uint32_t param_count;
  // `VKSPLAT_EVAL_AUTO`, `VKSPLAT_EVAL_GPU` or `VKSPLAT_EVAL_CPU`.
  uint32_t eval;
} VksplatPluginSceneDesc;

// What a scene is (`vksplat_scene_info`). The caller sets `s_type` and `s_size`.
typedef struct VksplatSceneInfo {
  // `VKSPLAT_STRUCT_SCENE_INFO`.
  uint32_t s_type;
  // `sizeof(VksplatSceneInfo)`.
  uint32_t s_size;
  // Extension chain; NULL.
  void *next;
  uint64_t count;
  uint32_t sh_degree;
  // Non-zero for a plugin scene.
  uint32_t is_plugin;
  // Plugin scenes: `VKSPLAT_EVAL_GPU` or `VKSPLAT_EVAL_CPU`; 0 otherwise.
  uint32_t eval;
  // Plugin scenes: number of parameters the plugin describes.
  uint32_t param_count;
  // Non-zero when the scene's file marks it as trained with antialiasing (SPZ flag, PLY
  // comment `antialiased=true`): `vksplat_render` then defaults to
  // `VKSPLAT_MODE_ANTIALIASED`, as the CLI does.
  uint32_t antialiased;
  // Zero.
  uint32_t reserved;
  // Plugin scenes whose plugin declares one: the scene's first and last time, in its own
  // units (what `VksplatRenderDesc::time` takes). Valid when `has_time_range` is non-zero;
  // zero otherwise. (A caller whose `s_size` ends before them gets neither.)
  double time_start;
  double time_end;
  // Non-zero when `time_start` and `time_end` hold the scene's time range.
  uint32_t has_time_range;
  // Zero.
  uint32_t reserved2;
  // The axis-aligned box of the splat centres in the scene's frame (smallest and largest
  // x, y, z), valid when `has_bounds` is non-zero: scenes from files and from arrays
  // (`vksplat_scene_refresh` updates it) with at least one splat. Plugin scenes move their
  // splats every frame and report none. (The splats' extent reaches beyond the centres.)
  float bounds_min[3];
  float bounds_max[3];
  // Non-zero when `bounds_min` and `bounds_max` hold the box.
  uint32_t has_bounds;
  // Zero.
  uint32_t reserved3;
} VksplatSceneInfo;

// One frame's settings (`vksplat_render`). A zero-initialised descriptor (with `s_type`,
// `s_size` and `camera` set) renders the scene's default mode, on black, at the scene's time.
// A field that `flags` does not enable must be zero: a non-zero `mode` or `time` without its
// flag is `VKSPLAT_ERROR_INVALID_ARGUMENT` (it would be ignored otherwise).
//
// A descriptor of `VKSPLAT_RENDER_DESC_V1_SIZE` bytes (compiled against ABI version 1, which
// had no `flags`) keeps that version's rules: `mode` is always used, and a finite `time` is
// the frame's time (NaN: the scene's time).
typedef struct VksplatRenderDesc {
  // `VKSPLAT_STRUCT_RENDER_DESC`.
  uint32_t s_type;
  // `sizeof(VksplatRenderDesc)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // `VKSPLAT_MODE_*`, used when `flags` has `VKSPLAT_RENDER_MODE`.
  uint32_t mode;
  // Linear RGB behind the splats.
  float background[3];
  // Plugin scenes: the frame's time in seconds, used (and kept as the scene's time) when
  // `flags` has `VKSPLAT_RENDER_TIME`.
  double time;
  // `VKSPLAT_RENDER_MODE` | `VKSPLAT_RENDER_TIME` | `VKSPLAT_RENDER_CLIP_NEAR` |
  // `VKSPLAT_RENDER_CLIP_FAR`, or 0.
  uint32_t flags;
  // Zero.
  uint32_t reserved;
  // The frame's camera; its width and height are the image's. NULL uses the camera of the
  // deprecated `vksplat_set_camera`. Pass it here so that threads sharing a context cannot
  // render each other's camera.
  const struct VksplatCamera *camera;
  // Near clip plane, used when `flags` has `VKSPLAT_RENDER_CLIP_NEAR`: splats whose camera
  // depth is below it are not drawn (a finite depth >= 0; the mode's fixed near, 0.01 or
  // 0.2 in `VKSPLAT_MODE_INRIA`, applies as well). Not named `near`: windows.h defines
  // `near` and `far` away.
  float clip_near;
  // Far clip plane, used when `flags` has `VKSPLAT_RENDER_CLIP_FAR`: splats whose camera depth
  // is above it are not drawn (finite, beyond `clip_near`).
  float clip_far;
  // `VKSPLAT_DEPTH_*`: what the depth output holds (camera depth; 0 = no value). Zero (and
  // a descriptor too small to hold it) is `VKSPLAT_DEPTH_EXPECTED`.
  uint32_t depth_kind;
  // Zero.
  uint32_t reserved2;
} VksplatRenderDesc;

// Caller memory that receives a frame (`vksplat_render`).
typedef struct VksplatImage {
  // `VKSPLAT_STRUCT_IMAGE`.
  uint32_t s_type;
  // `sizeof(VksplatImage)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // Must equal the camera's size.
  uint32_t width;
  uint32_t height;
  // `VKSPLAT_FORMAT_RGBA32F` or `VKSPLAT_FORMAT_RGBA8`.
  uint32_t format;
  // Zero.
  uint32_t reserved;
  // Row-major pixels, top row first; may be NULL (depth only).
  void *pixels;
  // Bytes from one row to the next; 0 means tightly packed.
  uint64_t row_bytes;
  // Optional (NULL): expected depth, one float per pixel, tightly packed rows.
  float *depth;
  // Bytes the caller allocated at `pixels`: at least `(height − 1) · row_bytes + width ·
  // bytes per pixel`, else `vksplat_render` fails with `VKSPLAT_ERROR_INVALID_ARGUMENT`
  // naming the size it needs and writes nothing. (An image of
  // `VKSPLAT_IMAGE_V1_SIZE` bytes has no sizes, and its buffers are trusted.)
  uint64_t pixels_size;
  // Bytes the caller allocated at `depth`: at least `width · height · 4`.
  uint64_t depth_size;
} VksplatImage;

// One object of a frame of several (`vksplat_render_instances`): a scene placed in the world.
// Every field must be set: a zero transform is refused (not invertible) and a zero opacity
// hides the object.
typedef struct VksplatSceneInstance {
  // `VKSPLAT_STRUCT_SCENE_INSTANCE`.
  uint32_t s_type;
  // `sizeof(VksplatSceneInstance)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // A scene of the context (a plugin scene is evaluated once per frame at the frame's
  // time; `vksplat_render_record` refuses plugin scenes). One scene may appear in several
  // instances.
  VksplatScene *scene;
  // Object → world, row-major (`transform[4 * row + column]`, translation in column 3):
  // an invertible affine map (last row 0 0 0 1). Means and covariances are transformed and
  // the SH view direction is taken in the object's frame.
  float transform[16];
  // Multiplies the opacity of every splat (after the sigmoid), in 0..=1.
  float opacity;
  // Zero.
  uint32_t reserved;
} VksplatSceneInstance;

// What vksplat needs of a host's Vulkan device (`vksplat_vulkan_requirements`), for a host
// that creates its device before handing it to `vksplat_context_create_vulkan`. The caller
// sets `s_type` and `s_size`; the strings are static.
typedef struct VksplatVulkanRequirements {
  // `VKSPLAT_STRUCT_VULKAN_REQUIREMENTS`.
  uint32_t s_type;
  // `sizeof(VksplatVulkanRequirements)`.
  uint32_t s_size;
  // Extension chain; NULL.
  void *next;
  // Lowest `VkApplicationInfo::apiVersion` and device API version (`VK_API_VERSION_1_2`).
  uint32_t api_version;
  // `VkQueueFlags` the queue handed over must have (`VK_QUEUE_COMPUTE_BIT`).
  uint32_t queue_flags;
  // Number of entries of `extensions`.
  uint32_t extension_count;
  // Number of entries of `vulkan12_features`.
  uint32_t feature_count;
  // Device extensions to enable (`"VK_KHR_push_descriptor"`).
  const char *const *extensions;
  // `VkPhysicalDeviceVulkan12Features` members to enable, by name
  // (`"bufferDeviceAddress"`, `"timelineSemaphore"`).
  const char *const *vulkan12_features;
} VksplatVulkanRequirements;

// The host's `vkGetInstanceProcAddr` (`PFN_vkGetInstanceProcAddr`).
typedef void (*(*VksplatGetInstanceProcAddr)(void *instance, const char *name))(void);

// A host's Vulkan instance, device and queue for `vksplat_context_create_vulkan`. Handles are
// passed as `void *` (dispatchable: VkInstance, VkPhysicalDevice, VkDevice). Everything here
// must outlive the context; vksplat never destroys these handles and never waits for the
// whole device (only for its own work, at `vksplat_context_destroy` included).
typedef struct VksplatVulkanDevice {
  // `VKSPLAT_STRUCT_VULKAN_DEVICE`.
  uint32_t s_type;
  // `sizeof(VksplatVulkanDevice)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // The host's `vkGetInstanceProcAddr`; every other function is loaded through it.
  VksplatGetInstanceProcAddr get_instance_proc_addr;
  void *instance;
  void *physical_device;
  void *device;
  // The queue vksplat submits to: a family with `VK_QUEUE_COMPUTE_BIT`, and an index the
  // device was created with. The host must not use the same queue from another thread
  // while a vksplat call runs (Vulkan's external synchronisation of queues).
  uint32_t queue_family;
  uint32_t queue_index;
  // `VkApplicationInfo::apiVersion` of the host's instance.
  uint32_t api_version;
  // Number of entries of `extensions`.
  uint32_t extension_count;
  // The device extensions the host enabled (`ppEnabledExtensionNames`).
  const char *const *extensions;
  // Number of entries of `vulkan12_features`.
  uint32_t feature_count;
  // Zero.
  uint32_t reserved;
  // The `VkPhysicalDeviceVulkan12Features` members the host enabled, by name.
  const char *const *vulkan12_features;
} VksplatVulkanDevice;

// Where `vksplat_render_vulkan` writes a frame on the GPU, and how it is ordered with the
// host's work. Handles are `uint64_t` (non-dispatchable: VkImage, VkBuffer, VkSemaphore).
// Images: colour `VK_FORMAT_R32G32B32A32_SFLOAT` (109); depth `VK_FORMAT_R32_SFLOAT` (100) or
// `VK_FORMAT_D32_SFLOAT` (126); 2D, the camera's size, `VK_IMAGE_USAGE_TRANSFER_DST_BIT`, mip
// 0 / layer 0 written. The image is in `*_old_layout` (`VK_IMAGE_LAYOUT_UNDEFINED` discards
// it) when the frame starts and is left in `*_new_layout`. Buffers receive tightly packed
// rows, top first (16 bytes per pixel of colour, 4 of depth), and need
// `VK_BUFFER_USAGE_TRANSFER_DST_BIT`. A zero handle is no target. Every object must stay
// valid until the frame has finished (`vksplat_frame_poll`/`wait`, or the timeline value of
// `vksplat_frame_timeline`).
typedef struct VksplatVulkanTarget {
  // `VKSPLAT_STRUCT_VULKAN_TARGET`.
  uint32_t s_type;
  // `sizeof(VksplatVulkanTarget)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  uint64_t color_image;
  // `VkFormat`.
  uint32_t color_format;
  // `VkImageLayout` before and after the frame.
  uint32_t color_old_layout;
  uint32_t color_new_layout;
  // The queue family that owns the image: the context's queue family, or
  // `VK_QUEUE_FAMILY_IGNORED` (~0) for a concurrent image. Ownership transfers are the
  // host's.
  uint32_t color_queue_family;
  uint64_t depth_image;
  uint32_t depth_format;
  uint32_t depth_old_layout;
  uint32_t depth_new_layout;
  uint32_t depth_queue_family;
  uint64_t color_buffer;
  uint64_t color_buffer_offset;
  // The buffer's size in bytes.
  uint64_t color_buffer_size;
  uint64_t depth_buffer;
  uint64_t depth_buffer_offset;
  uint64_t depth_buffer_size;
  // Semaphores the frame waits for (all stages), with their timeline values (ignored for
  // binary semaphores).
  uint32_t wait_count;
  // Semaphores the frame signals when done, with their timeline values.
  uint32_t signal_count;
  const uint64_t *wait_semaphores;
  const uint64_t *wait_values;
  const uint64_t *signal_semaphores;
  const uint64_t *signal_values;
} VksplatVulkanTarget;

// Functions the host gives a plugin. Valid for the life of the process.
typedef struct VksplatHostApi {
  // `VKSPLAT_STRUCT_HOST_API`.
  uint32_t s_type;
  // `sizeof(VksplatHostApi)` as the host knows it.
  uint32_t s_size;
  const void *next;
  // The plugin ABI version negotiated.
  uint32_t abi_version;
  uint32_t reserved;
  // Records the message explaining the error the calling plugin function is about to
  // return (UTF-8, copied). Thread-safe: the message is kept per thread.
  void (*set_error)(const char *message);
  // Logs a message (`VKSPLAT_LOG_*`). Thread-safe.
  void (*log)(int32_t level, const char *message);
} VksplatHostApi;

// How to open a plugin instance.
typedef struct VksplatOpenDesc {
  // `VKSPLAT_STRUCT_OPEN_DESC`.
  uint32_t s_type;
  // `sizeof(VksplatOpenDesc)` as the host knows it.
  uint32_t s_size;
  const void *next;
  // Host functions (the same as at negotiation); keep it in the instance for `set_error`.
  const struct VksplatHostApi *host;
  // The plugin's input file (its own format), or NULL.
  const char *source;
  // Every `key=value` the user gave. Reject keys that are neither an open option nor a
  // frame parameter of the plugin.
  const struct VksplatKeyValue *options;
  uint32_t option_count;
  uint32_t reserved;
} VksplatOpenDesc;

// One parameter a plugin instance takes.
typedef struct VksplatParamDesc {
  // Name used in `--param name=value` (ASCII letters, digits, `_`).
  const char *name;
  // One line of help, or NULL.
  const char *description;
  // `VKSPLAT_PARAM_FLOAT`, `VKSPLAT_PARAM_INT`, `VKSPLAT_PARAM_FLOAT_ARRAY` or
  // `VKSPLAT_PARAM_TEXT` (version 2).
  uint32_t param_type;
  // `VKSPLAT_PARAM_OPEN` or 0 (a per-frame parameter).
  uint32_t flags;
  // Scalars: the value range and default. Arrays: the range of every element's floats.
  double min;
  double max;
  double default_value;
  // Arrays: floats per element (3 for a vertex, 16 for a row-major 4×4 matrix); else 1.
  uint32_t components;
  // Arrays: element count range; 0 elements means "not set" (the plugin's default).
  uint32_t min_count;
  uint32_t max_count;
  uint32_t reserved;
} VksplatParamDesc;

// Host pointers to per-splat data the plugin provides once (all optional, NULL = zero, or 1
// for `opacity_scale`). Layouts as in `VksplatSceneDesc`.
typedef struct VksplatSplatData {
  const float *means;
  const float *rotations;
  const float *log_scales;
  const float *opacity_logits;
  const float *sh;
  const float *covariances;
  const float *opacity_scale;
} VksplatSplatData;

// What a plugin instance is. Pointers stay valid until the next call on the instance.
typedef struct VksplatDescription {
  // `VKSPLAT_STRUCT_DESCRIPTION`.
  uint32_t s_type;
  // `sizeof(VksplatDescription)` as the plugin knows it (the host zeroes the struct and
  // sets its own size before the call).
  uint32_t s_size;
  const void *next;
  uint64_t splat_count;
  // SH degree 0..3.
  uint32_t sh_degree;
  // `VKSPLAT_VARIANT_*` bits.
  uint32_t flags;
  // `VKSPLAT_OUTPUT_*` bits the plugin writes every frame (on either path).
  uint32_t outputs;
  // Non-zero when `gpu_stage` and `gpu_frame` are implemented.
  uint32_t has_gpu;
  // Non-zero when `cpu_frame` is implemented.
  uint32_t has_cpu;
  uint32_t param_count;
  const struct VksplatParamDesc *params;
  // Splat data uploaded once when the scene is created (what is not written per frame).
  struct VksplatSplatData initial;
  // Plugin ABI version 2: the first and last time of the scene (finite, `time_start <=
  // time_end`), used when `flags` has `VKSPLAT_VARIANT_TIME_RANGE`. A version-1 plugin
  // writes neither: they read as zero and the flag as unset.
  double time_start;
  double time_end;
} VksplatDescription;

// A static buffer the plugin's shader reads (uploaded once).
typedef struct VksplatBufferDesc {
  // Debug name, or NULL.
  const char *name;
  const void *data;
  // Bytes (a multiple of 4).
  uint64_t size;
} VksplatBufferDesc;

// A plugin's compute stage. Bindings (set 0, all storage buffers): 0..8 the engine's splat
// buffers (`#include "variant.glsl"`), then `buffer_count` static buffers from
// `VKSPLAT_FIRST_PLUGIN_BINDING`, then, when `frame_buffer_size > 0`, the frame buffer that
// `gpu_frame` fills every frame. The engine dispatches `ceil(invocations / local_size_x)`
// workgroups along x; local_size_y and _z must be 1.
typedef struct VksplatGpuStage {
  // `VKSPLAT_STRUCT_GPU_STAGE`.
  uint32_t s_type;
  // `sizeof(VksplatGpuStage)` as the plugin knows it.
  uint32_t s_size;
  const void *next;
  // Shader name used in messages (e.g. "wave.comp").
  const char *name;
  // `VKSPLAT_SHADER_GLSL` or `VKSPLAT_SHADER_SPIRV`.
  uint32_t language;
  // Bytes of push constants `gpu_frame` writes (≤ `VKSPLAT_MAX_PUSH_CONSTANT_SIZE`, a
  // multiple of 4); must equal the shader's push-constant block.
  uint32_t push_constant_size;
  const void *code;
  // SPIR-V: bytes. GLSL: ignored (NUL-terminated).
  uint64_t code_size;
  const struct VksplatBufferDesc *buffers;
  uint32_t buffer_count;
  // Bytes of the per-frame buffer `gpu_frame` writes (0: none).
  uint32_t frame_buffer_size;
  // Invocations to dispatch along x (usually the splat count).
  uint64_t invocations;
} VksplatGpuStage;

// The value of one parameter in a frame.
typedef struct VksplatParamValue {
  // Scalars: the value.
  double value;
  // Arrays: `count` elements of `components` floats; NULL when `count` is 0.
  const float *data;
  uint32_t count;
  uint32_t reserved;
} VksplatParamValue;

// The inputs of one frame.
typedef struct VksplatFrameInput {
  // `VKSPLAT_STRUCT_FRAME_INPUT`.
  uint32_t s_type;
  // `sizeof(VksplatFrameInput)` as the host knows it.
  uint32_t s_size;
  const void *next;
  // Time in seconds.
  double time;
  // One value per described parameter, in description order.
  const struct VksplatParamValue *params;
  uint32_t param_count;
  uint32_t reserved;
} VksplatFrameInput;

// Host arrays a plugin's CPU path fills, one per `VKSPLAT_OUTPUT_*` bit the plugin declared
// (NULL otherwise). Layouts as in `VksplatSceneDesc`; `count` splats.
typedef struct VksplatSplatArrays {
  uint64_t count;
  uint32_t sh_degree;
  uint32_t reserved;
  float *means;
  float *rotations;
  float *log_scales;
  float *opacity_logits;
  float *sh;
  float *covariances;
  float *opacity_scale;
} VksplatSplatArrays;

// A plugin's function table (ABI version 1). Lives in the plugin's static storage.
// Every function returns a result code; on an error it first calls the host's `set_error`.
typedef struct VksplatPluginApi {
  // `VKSPLAT_STRUCT_PLUGIN_API`.
  uint32_t s_type;
  // `sizeof(VksplatPluginApi)` as the plugin knows it.
  uint32_t s_size;
  const void *next;
  // The plugin ABI version of this table.
  uint32_t abi_version;
  uint32_t reserved;
  // The plugin's name (as in its manifest) and version, UTF-8.
  const char *name;
  const char *version;
  // Opens an instance (reads the source file, applies options). Required.
  VksplatResult (*open)(const struct VksplatOpenDesc *desc, VksplatInstance **out);
  // Frees an instance. Required.
  void (*close)(VksplatInstance *instance);
  // Describes the instance. Required.
  VksplatResult (*describe)(VksplatInstance *instance, struct VksplatDescription *out);
  // The compute stage (GPU path); NULL when the plugin has none.
  VksplatResult (*gpu_stage)(VksplatInstance *instance, struct VksplatGpuStage *out);
  // Writes one frame's push constants (`push_size` bytes) and frame buffer
  // (`frame_size` bytes; NULL when the stage has none).
  VksplatResult (*gpu_frame)(VksplatInstance *instance, const struct VksplatFrameInput *input, void *push_constants, uint32_t push_size, void *frame_buffer, uint32_t frame_size);
  // Fills one frame's output arrays (CPU path); NULL when the plugin has none.
  VksplatResult (*cpu_frame)(VksplatInstance *instance, const struct VksplatFrameInput *input, const struct VksplatSplatArrays *out);
} VksplatPluginApi;

// What host and plugin tell each other in `vksplat_plugin_negotiate`.
typedef struct VksplatNegotiation {
  // `VKSPLAT_STRUCT_NEGOTIATION`.
  uint32_t s_type;
  // `sizeof(VksplatNegotiation)` as the host knows it.
  uint32_t s_size;
  const void *next;
  // In: the plugin ABI versions the host loads, `host_abi_min..=host_abi_max`.
  uint32_t host_abi_min;
  uint32_t host_abi_max;
  // In: host functions, valid for the life of the process.
  const struct VksplatHostApi *host;
  // Out: the version the plugin speaks. Set it even when refusing, so the host can say why.
  uint32_t plugin_abi_version;
  uint32_t reserved;
  // Out: `VKSPLAT_LAYOUT_FINGERPRINT` of the header the plugin was built with.
  uint64_t layout_fingerprint;
  // Out: the plugin's function table for that version, in static storage.
  const struct VksplatPluginApi *api;
} VksplatNegotiation;

// The type of a plugin's `vksplat_plugin_negotiate` (for hosts that look it up by name).
typedef VksplatResult (*VksplatNegotiateFn)(struct VksplatNegotiation *n);

// A host's depth buffer that occludes splats per pixel, so that splats composite with the
// host's rasterised geometry: chained into `VksplatRenderDesc::next`. A splat does not blend at
// a pixel where its centre's camera depth is beyond the host's depth there (the far clip
// plane's rule: a constant host depth z renders as `clip_far` = z). A value at the far plane
// (1, or the near end with `VKSPLAT_HOST_DEPTH_REVERSED`: a cleared depth buffer), +inf and NaN
// occlude nothing. Exactly one source is set: `values` (every render call), or `image` or
// `buffer` (`vksplat_render_vulkan*` and `vksplat_render_record`, on the context's device).
typedef struct VksplatHostDepth {
  // `VKSPLAT_STRUCT_HOST_DEPTH`.
  uint32_t s_type;
  // `sizeof(VksplatHostDepth)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // `VKSPLAT_HOST_DEPTH_LINEAR`, `VKSPLAT_HOST_DEPTH_ZERO_TO_ONE` or
  // `VKSPLAT_HOST_DEPTH_MINUS_ONE_TO_ONE`.
  uint32_t convention;
  // `VKSPLAT_HOST_DEPTH_REVERSED` | `VKSPLAT_HOST_DEPTH_ORTHOGRAPHIC`, or 0.
  uint32_t flags;
  // The host projection's near plane (camera depth > 0; >= 0 when orthographic); unused for
  // `VKSPLAT_HOST_DEPTH_LINEAR`.
  float depth_near;
  // Its far plane, beyond `depth_near`; `INFINITY` for an infinite-far perspective.
  float depth_far;
  // Host memory: `value_count` = width × height floats, rows top first, read during the call.
  const float *values;
  uint64_t value_count;
  // A `VkImage` of the context's device: `image_format` `VK_FORMAT_D32_SFLOAT`,
  // `VK_FORMAT_R32_SFLOAT`, `VK_FORMAT_D32_SFLOAT_S8_UINT`, `VK_FORMAT_D16_UNORM`,
  // `VK_FORMAT_X8_D24_UNORM_PACK32` or `VK_FORMAT_D24_UNORM_S8_UINT`, the camera's size, one
  // sample, `VK_IMAGE_USAGE_TRANSFER_SRC_BIT`, in `image_layout` when the frame runs (a
  // defined layout: its contents are read) and left in it; valid until the frame has
  // finished. Its depth aspect is copied in the frame's own commands, after the frame's
  // waits.
  uint64_t image;
  uint32_t image_format;
  uint32_t image_layout;
  // The image's owning queue family: the context's, or `VK_QUEUE_FAMILY_IGNORED`.
  uint32_t image_queue_family;
  // Zero.
  uint32_t reserved;
  // A `VkBuffer` of the context's device (`VK_BUFFER_USAGE_TRANSFER_SRC_BIT`) holding width ×
  // height floats at `buffer_offset` (a multiple of 4), rows top first.
  uint64_t buffer;
  uint64_t buffer_size;
  uint64_t buffer_offset;
} VksplatHostDepth;

// Success.
#define VKSPLAT_OK 0

// Status: a plugin frame left the splats unchanged (nothing to upload).
#define VKSPLAT_UNCHANGED 1

// A submitted frame is still running on the GPU (`vksplat_frame_poll`).
#define VKSPLAT_NOT_READY 2

// A submitted frame finished but needed more tile intersections than vksplat had allocated:
// it was clamped (some splats are missing). The capacity has grown; render the frame again.
#define VKSPLAT_INCOMPLETE 3

// A pointer was NULL, a value out of range, or a string not UTF-8.
#define VKSPLAT_ERROR_INVALID_ARGUMENT -1

// A struct's `s_size` is smaller than the oldest layout of that struct, or `s_type` is wrong.
#define VKSPLAT_ERROR_STRUCT_SIZE -2

// A file could not be read.
#define VKSPLAT_ERROR_IO -3

// A scene, camera or parameter value is invalid (non-finite values, wrong lengths).
#define VKSPLAT_ERROR_INVALID_INPUT -4

// No usable Vulkan device (or no Vulkan loader).
#define VKSPLAT_ERROR_NO_DEVICE -5

// A Vulkan call failed while rendering.
#define VKSPLAT_ERROR_VULKAN -6

// The scene or image does not fit the device.
#define VKSPLAT_ERROR_TOO_LARGE -7

// A plugin speaks an ABI version (or struct layout) this engine does not.
#define VKSPLAT_ERROR_ABI -8

// A plugin could not be found or loaded, or a plugin call failed.
#define VKSPLAT_ERROR_PLUGIN -9

// A plugin shader did not compile or does not match the stage's rules (bindings, push
// constants, workgroup size).
#define VKSPLAT_ERROR_SHADER -10

// A plugin produced non-finite splat values.
#define VKSPLAT_ERROR_INVALID_OUTPUT -11

// A Rust panic was caught at the boundary (a bug; the message says where).
#define VKSPLAT_ERROR_PANIC -12

// The request is valid but not supported by this build or object.
#define VKSPLAT_ERROR_UNSUPPORTED -13

// A well-formed scene, image or readback needs more host memory than the process can get, or
// more device memory than the context's budget (`VksplatContextDesc::memory_budget`) allows
// (the message says how many bytes, the budget and what holds memory); the same call can
// succeed with more memory. Nothing was allocated and the context stays usable.
#define VKSPLAT_ERROR_OUT_OF_MEMORY -14



#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The library's version, `VKSPLAT_MAKE_VERSION(major, minor, patch)`. Thread-safe.
extern uint32_t vksplat_version(void);

// The library's version as a static string ("0.1.0"). Thread-safe.
extern const char *vksplat_version_string(void);

// The library's `VKSPLAT_ABI_VERSION`; a program compiled against a header with another
// value must not use this library. Thread-safe.
extern uint32_t vksplat_abi_version(void);

// The message of the last error returned on the calling thread (UTF-8, never NULL; ""
// when the last call succeeded). Valid until the next vksplat call on this thread.
extern const char *vksplat_last_error(void);

// Creates a context: a Vulkan instance, the chosen device and the renderer.
// `desc` may be NULL (automatic device, no validation, no log callback). Thread-safe.
extern VksplatResult vksplat_context_create(const struct VksplatContextDesc *desc, VksplatContext **out);

// Destroys a context (NULL is ignored). Scenes keep the device alive until they are
// destroyed too. Must not race with calls on the same context.
extern void vksplat_context_destroy(VksplatContext *context);

// Fills the fields of `out` that `out->s_size` covers. Thread-safe.
extern VksplatResult vksplat_context_limits(const VksplatContext *context, struct VksplatLimits *out);

// Fills the fields of `out` that `out->s_size` covers with the device memory the context
// holds now and at peak, by class. Thread-safe.
extern VksplatResult vksplat_memory_stats(const VksplatContext *context, struct VksplatMemoryStats *out);

// Adds a directory searched for plugin manifests before `VKSPLAT_PLUGIN_PATH`.
// Serialised on the context.
extern VksplatResult vksplat_context_add_plugin_dir(VksplatContext *context, const char *dir);

// Deprecated: pass the camera in `VksplatRenderDesc::camera` instead. Sets the camera of
// renders whose descriptor has none (or that pass no descriptor). Two threads that share a
// context and use it can render each other's camera. Serialised on the context.
extern VksplatResult vksplat_set_camera(VksplatContext *context, const struct VksplatCamera *camera);

// Loads a scene file (INRIA PLY, compressed PLY, SPZ or .splat, found by content) onto the
// context's device, with the file's antialiasing flag (`VksplatSceneInfo::antialiased`).
// A file (or directory, or frame pattern) that a plugin's manifest says it reads
// (`"reads"`, searched in the context's plugin directories, then `VKSPLAT_PLUGIN_PATH` and
// the default directories) becomes that plugin's scene instead, as `vksplat render FILE`
// does: default parameters, the automatic evaluation path. Two plugins that read it:
// `VKSPLAT_ERROR_INVALID_ARGUMENT` naming both (open it with
// `vksplat_scene_open_plugin`).
// More splats than `VksplatLimits::max_splats_by_sh_degree` allow is
// `VKSPLAT_ERROR_TOO_LARGE`. Serialised on the context.
extern VksplatResult vksplat_scene_load(VksplatContext *context, const char *path, VksplatScene **out);

// Creates a scene from caller arrays (copied, or borrowed with a deleter). A `count` above
// `VksplatLimits::max_splats_by_sh_degree[sh_degree]` is `VKSPLAT_ERROR_TOO_LARGE` before
// any array is read. Serialised on the context.
extern VksplatResult vksplat_scene_create(VksplatContext *context, const struct VksplatSceneDesc *desc, VksplatScene **out);

// Loads a plugin (once per process; plugins are never unloaded), opens an instance and
// creates its scene. Serialised on the context.
extern VksplatResult vksplat_scene_open_plugin(VksplatContext *context, const struct VksplatPluginSceneDesc *desc, VksplatScene **out);

// Uploads a borrowed scene's arrays again (after the caller changed them in place).
// Serialised on the scene and its context.
extern VksplatResult vksplat_scene_refresh(VksplatScene *scene);

// Sets a plugin scene's frame parameter: `count` floats (1 for scalars; elements ×
// components for arrays; 0 resets an array to the plugin's default). Serialised on the
// scene.
extern VksplatResult vksplat_scene_set_param(VksplatScene *scene, const char *name, const float *values, uint32_t count);

// Sets a plugin scene's time in seconds: the time of renders whose descriptor does not set
// `VKSPLAT_RENDER_TIME`. Serialised on the scene.
extern VksplatResult vksplat_scene_set_time(VksplatScene *scene, double time);

// Fills the fields of `out` that `out->s_size` covers. Serialised on the scene.
extern VksplatResult vksplat_scene_info(const VksplatScene *scene, struct VksplatSceneInfo *out);

// Destroys a scene (NULL is ignored); calls a borrowed scene's deleter. Must not race
// with calls on the same scene.
extern void vksplat_scene_destroy(VksplatScene *scene);

// Renders `scene` into caller memory with `desc->camera` (or, deprecated, the camera of
// `vksplat_set_camera`), in `desc->mode` or the scene's default mode, at `desc->time` or
// the scene's time (see `VksplatRenderDesc`). Plugin scenes evaluate their frame first.
// `desc` may be NULL: the scene's default mode on black at the scene's time with the
// deprecated context camera. The image must match the camera's size and have room for
// the frame (`VksplatImage::pixels_size`, `depth_size`), and at most
// `VksplatLimits::max_image_pixels` pixels. Serialised on the context and the scene.
extern VksplatResult vksplat_render(VksplatContext *context, VksplatScene *scene, const struct VksplatRenderDesc *desc, const struct VksplatImage *image);

// Renders several objects in one frame into caller memory: `instances` points to `count`
// pointers to `VksplatSceneInstance` (a scene, a transform and an opacity each), and all their
// splats are depth-sorted together, so interleaved objects blend correctly. `desc` and
// `image` as in `vksplat_render` (the default mode is the first instance's scene's;
// `desc->time` is unused, plugin scenes are refused with `VKSPLAT_ERROR_UNSUPPORTED`).
// One instance with the identity transform and opacity 1 renders what `vksplat_render`
// does, bit for bit. Serialised on the context and the instances' scenes.
extern VksplatResult vksplat_render_instances(VksplatContext *context, const struct VksplatSceneInstance *const *instances, uint32_t count, const struct VksplatRenderDesc *desc, const struct VksplatImage *image);

// Fills `out` (up to its `s_size`) with what vksplat needs of a host's Vulkan device: the
// API version, device extensions, Vulkan 1.2 features and queue capabilities to enable
// before `vksplat_context_create_vulkan`. Thread-safe; needs no context.
extern VksplatResult vksplat_vulkan_requirements(struct VksplatVulkanRequirements *out);

// Creates a context on the host's Vulkan device (`device`), with the log callback and
// options of `desc` (NULL: none; its `device` and `validation` must be NULL and 0, the
// host owns its instance's layers). The enabled extensions and features listed in
// `device` must cover `vksplat_vulkan_requirements`, else `VKSPLAT_ERROR_UNSUPPORTED`
// naming what is missing. vksplat creates only its own objects on the device and
// destroys them in `vksplat_context_destroy`, which waits for vksplat's own work only
// (never `vkDeviceWaitIdle`): destroy the context (and its scenes) before the device.
extern VksplatResult vksplat_context_create_vulkan(const struct VksplatContextDesc *desc, const struct VksplatVulkanDevice *device, VksplatContext **out);

// Submits a frame of a scene that is copied on the GPU into the host's images or
// buffers (`target`), without waiting for the GPU, and stores its number (1, 2, …) in
// `frame`. A context created by `vksplat_context_create_vulkan` only. At most 2 frames
// are in flight: submitting frame k first waits for frame k − 2 if it is still running;
// the first frame of a new scene or image size also waits for a short sizing pass.
// Serialised on the context and the scene.
extern VksplatResult vksplat_render_vulkan(VksplatContext *context, VksplatScene *scene, const struct VksplatRenderDesc *desc, const struct VksplatVulkanTarget *target, uint64_t *frame);

// Submits a frame of a scene without waiting for it; its pixels are written into
// `image`'s buffers (which must stay valid until then) by the `vksplat_frame_poll` or
// `vksplat_frame_wait` that reports the frame finished. Any context. Stores the frame's
// number in `frame`. Frames in flight as for `vksplat_render_vulkan`; ask about each
// frame within 16 frames, or its pixels are dropped.
extern VksplatResult vksplat_render_submit(VksplatContext *context, VksplatScene *scene, const struct VksplatRenderDesc *desc, const struct VksplatImage *image, uint64_t *frame);

// Whether a submitted frame has finished, without blocking: `VKSPLAT_OK`,
// `VKSPLAT_NOT_READY`, or `VKSPLAT_INCOMPLETE` (finished but clamped: render it again).
// A frame never submitted is `VKSPLAT_ERROR_INVALID_ARGUMENT`.
extern VksplatResult vksplat_frame_poll(VksplatContext *context, uint64_t frame);

// Blocks until a submitted frame has finished: `VKSPLAT_OK` or `VKSPLAT_INCOMPLETE`.
extern VksplatResult vksplat_frame_wait(VksplatContext *context, uint64_t frame);

// As `vksplat_render_vulkan`, for several objects in one frame with one global depth
// order (the instances of `vksplat_render_instances`; a scene may appear several times).
// Plugin scenes are evaluated at the frame's time before the frame, in a submission of
// their own (or on the CPU), which waits for the frames in flight.
extern VksplatResult vksplat_render_vulkan_instances(VksplatContext *context, const struct VksplatSceneInstance *const *instances, uint32_t count, const struct VksplatRenderDesc *desc, const struct VksplatVulkanTarget *target, uint64_t *frame);

// As `vksplat_render_submit`, for the instances of `vksplat_render_instances` (plugin
// scenes as in `vksplat_render_vulkan_instances`).
extern VksplatResult vksplat_render_submit_instances(VksplatContext *context, const struct VksplatSceneInstance *const *instances, uint32_t count, const struct VksplatRenderDesc *desc, const struct VksplatImage *image, uint64_t *frame);

// Records a whole frame of `instances` (as `vksplat_render_vulkan_instances`; one scene
// is one instance with the identity transform) into the host's `command_buffer` (a
// `VkCommandBuffer`: primary, of the context's device, allocated from a pool of the
// context's queue family, in the recording state, used by no other thread during the
// call), and stores the frame's number among recorded frames (1, 2, …) in `frame`. A
// context created by `vksplat_context_create_vulkan` only; static scenes only (plugin
// scenes: `VKSPLAT_ERROR_UNSUPPORTED`). The recording holds everything: the frame's
// data (`vkCmdUpdateBuffer`), dispatches, barriers (the first one orders the frame after
// earlier work on the queue) and the copies into `target` with its layout transitions;
// the target's semaphore lists must be empty (the host's submission waits and signals).
// The host ends and submits the command buffer on the context's queue, recorded frames
// in the order they were recorded, and: (1) recorded frame n has finished on the GPU
// before the host records frame n + `vksplat_frames_in_flight` (vksplat reuses frame n's
// resources then); (2) every recorded frame has finished before the host destroys a
// scene it uses or the context. The first frame of a new splat count or image size first
// runs a short sizing pass on the context's queue and waits for it. Later frames cannot
// grow their intersection lists inside the frame: a frame that needed more is clamped on
// the GPU (never out of bounds) and reported by `vksplat_record_done`, and the lists
// grow for the frames recorded after vksplat learns it (one frame late when the host
// reports each finished frame, at most `vksplat_frames_in_flight` frames late
// otherwise). On an error after recording began (a device limit) the command buffer may
// hold part of a frame: the host discards it. Serialised on the context and the scenes.
extern VksplatResult vksplat_render_record(VksplatContext *context, void *command_buffer, const struct VksplatSceneInstance *const *instances, uint32_t count, const struct VksplatRenderDesc *desc, const struct VksplatVulkanTarget *target, uint64_t *frame);

// Stores in `count` how many frames may be in flight at once (submitted or recorded):
// the host finishes frame n before it records frame n + `count`. Thread-safe.
extern VksplatResult vksplat_frames_in_flight(const VksplatContext *context, uint32_t *count);

// The host reports that recorded frame `frame`, and every recorded frame before it, has
// finished on the GPU (its fence or semaphore said so). Returns `VKSPLAT_OK`, or
// `VKSPLAT_INCOMPLETE` when the frame needed more intersections than it had and was
// clamped (render it again: the lists have grown for the frames recorded from now on).
// Optional: without it vksplat learns a frame's outcome when its resources are reused.
// A frame never recorded is `VKSPLAT_ERROR_INVALID_ARGUMENT`; a frame already reported,
// or more than 16 frames old, is `VKSPLAT_OK`.
extern VksplatResult vksplat_record_done(VksplatContext *context, uint64_t frame);

// The context's timeline semaphore (a `VkSemaphore`, owned by vksplat) and the value it
// reaches when `frame` has finished: a host waits on it on the GPU (a wait semaphore of
// its own submission) or the CPU (`vkWaitSemaphores`). It must not signal it.
extern VksplatResult vksplat_frame_timeline(VksplatContext *context, uint64_t frame, uint64_t *semaphore, uint64_t *value);

// vksplat's camera (written to `camera` up to its `s_size`) from a host's projection and
// view matrices: 16 floats each as the engine's math library stores them (element
// `4·column + row` of the matrix that maps column vectors, `clip = P·V·x`; glm, Unity's
// `Matrix4x4` and DirectXMath's `XMFLOAT4X4` all store this order), in clip convention
// `VKSPLAT_CLIP_*`, for a `width`×`height` image. The view's world is the scene's frame and
// must be rigid and not mirrored; skewed projections are refused
// (`VKSPLAT_ERROR_INVALID_ARGUMENT`, naming why). An orthographic projection (last row
// 0 0 0 w) gives a `VKSPLAT_PROJECTION_ORTHOGRAPHIC` camera (fx, fy in pixels per world
// unit) placed at the view's eye; an oblique one is refused. Optional outputs:
// `depth_range` (2 doubles: near and far distance from the eye; far is infinity for an
// infinite-far projection; an orthographic near may be <= 0, which `clip_near` does not
// take: clamp it to 0) and `reversed_z` (1 when the near plane has the larger NDC depth).
// Thread-safe.
extern VksplatResult vksplat_camera_from_clip(const float *projection, const float *view, uint32_t convention, uint32_t width, uint32_t height, struct VksplatCamera *camera, double *depth_range, uint32_t *reversed_z);

// vksplat's camera from a Unity camera: `Transform.position` (3 doubles),
// `Transform.rotation` (x, y, z, w) and the vertical `Camera.fieldOfView` in degrees. The
// scene sits in Unity's world with its y axis negated (Unity's y is up, the scene's down).
// Thread-safe.
extern VksplatResult vksplat_camera_from_unity(const double *position, const double *rotation, double vertical_fov_deg, uint32_t width, uint32_t height, struct VksplatCamera *camera);

// vksplat's camera from an Unreal camera: location in centimetres (3 doubles), rotation
// as an `FQuat` (x, y, z, w) and the horizontal field of view in degrees. The scene (in
// metres) sits in Unreal's world as X = 100·z, Y = 100·x, Z = −100·y. Thread-safe.
extern VksplatResult vksplat_camera_from_unreal(const double *location_cm, const double *rotation, double horizontal_fov_deg, uint32_t width, uint32_t height, struct VksplatCamera *camera);

// Implemented by plugins, not by the engine: the one frozen entry point of a plugin
// library, exported with `VKSPLAT_PLUGIN_EXPORT` (type `VksplatNegotiateFn`). It must not
// allocate or keep state: it sets `plugin_abi_version` and `layout_fingerprint`, and when
// `host_abi_min <= VKSPLAT_PLUGIN_ABI_VERSION <= host_abi_max` sets `api` and returns
// `VKSPLAT_OK`; otherwise it returns `VKSPLAT_ERROR_ABI`.
extern VksplatResult vksplat_plugin_negotiate(struct VksplatNegotiation *negotiation);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

/*
 * Layout assertions: a program or plugin compiled with a layout of these structs other than
 * the library's (another header version, packing pragmas) fails to compile here.
 */
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
#if defined(__cplusplus)
#define VKSPLAT_LAYOUT_ASSERT(cond, what) static_assert(cond, what)
#else
#define VKSPLAT_LAYOUT_ASSERT(cond, what) _Static_assert(cond, what)
#endif
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatContextDesc) == 72, "sizeof(VksplatContextDesc) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, s_type) == 0, "offsetof(VksplatContextDesc, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, s_size) == 4, "offsetof(VksplatContextDesc, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, next) == 8, "offsetof(VksplatContextDesc, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, device) == 16, "offsetof(VksplatContextDesc, device) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, validation) == 24, "offsetof(VksplatContextDesc, validation) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, reserved) == 28, "offsetof(VksplatContextDesc, reserved) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, log) == 32, "offsetof(VksplatContextDesc, log) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, log_user) == 40, "offsetof(VksplatContextDesc, log_user) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, log_level) == 48, "offsetof(VksplatContextDesc, log_level) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, reserved2) == 52, "offsetof(VksplatContextDesc, reserved2) is 52");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, allocation_callbacks) == 56, "offsetof(VksplatContextDesc, allocation_callbacks) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatContextDesc, memory_budget) == 64, "offsetof(VksplatContextDesc, memory_budget) is 64");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatLimits) == 352, "sizeof(VksplatLimits) is 352");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, s_type) == 0, "offsetof(VksplatLimits, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, s_size) == 4, "offsetof(VksplatLimits, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, next) == 8, "offsetof(VksplatLimits, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, max_image_side) == 16, "offsetof(VksplatLimits, max_image_side) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, subgroup_size) == 20, "offsetof(VksplatLimits, subgroup_size) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, max_buffer_bytes) == 24, "offsetof(VksplatLimits, max_buffer_bytes) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, max_splats) == 32, "offsetof(VksplatLimits, max_splats) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, abi_version) == 40, "offsetof(VksplatLimits, abi_version) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, plugin_abi_min) == 44, "offsetof(VksplatLimits, plugin_abi_min) is 44");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, plugin_abi_max) == 48, "offsetof(VksplatLimits, plugin_abi_max) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, reserved) == 52, "offsetof(VksplatLimits, reserved) is 52");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, device_name) == 56, "offsetof(VksplatLimits, device_name) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, max_image_pixels) == 312, "offsetof(VksplatLimits, max_image_pixels) is 312");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatLimits, max_splats_by_sh_degree) == 320, "offsetof(VksplatLimits, max_splats_by_sh_degree) is 320");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatCamera) == 112, "sizeof(VksplatCamera) is 112");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, s_type) == 0, "offsetof(VksplatCamera, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, s_size) == 4, "offsetof(VksplatCamera, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, next) == 8, "offsetof(VksplatCamera, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, width) == 16, "offsetof(VksplatCamera, width) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, height) == 20, "offsetof(VksplatCamera, height) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, fx) == 24, "offsetof(VksplatCamera, fx) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, fy) == 28, "offsetof(VksplatCamera, fy) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, cx) == 32, "offsetof(VksplatCamera, cx) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, cy) == 36, "offsetof(VksplatCamera, cy) is 36");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, world_to_camera) == 40, "offsetof(VksplatCamera, world_to_camera) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, projection) == 104, "offsetof(VksplatCamera, projection) is 104");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatCamera, reserved) == 108, "offsetof(VksplatCamera, reserved) is 108");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatSceneDesc) == 104, "sizeof(VksplatSceneDesc) is 104");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, s_type) == 0, "offsetof(VksplatSceneDesc, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, s_size) == 4, "offsetof(VksplatSceneDesc, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, next) == 8, "offsetof(VksplatSceneDesc, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, count) == 16, "offsetof(VksplatSceneDesc, count) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, sh_degree) == 24, "offsetof(VksplatSceneDesc, sh_degree) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, flags) == 28, "offsetof(VksplatSceneDesc, flags) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, means) == 32, "offsetof(VksplatSceneDesc, means) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, rotations) == 40, "offsetof(VksplatSceneDesc, rotations) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, log_scales) == 48, "offsetof(VksplatSceneDesc, log_scales) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, opacity_logits) == 56, "offsetof(VksplatSceneDesc, opacity_logits) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, sh) == 64, "offsetof(VksplatSceneDesc, sh) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, covariances) == 72, "offsetof(VksplatSceneDesc, covariances) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, opacity_scale) == 80, "offsetof(VksplatSceneDesc, opacity_scale) is 80");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, deleter) == 88, "offsetof(VksplatSceneDesc, deleter) is 88");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneDesc, deleter_user) == 96, "offsetof(VksplatSceneDesc, deleter_user) is 96");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatKeyValue) == 16, "sizeof(VksplatKeyValue) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatKeyValue, key) == 0, "offsetof(VksplatKeyValue, key) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatKeyValue, value) == 8, "offsetof(VksplatKeyValue, value) is 8");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatPluginSceneDesc) == 48, "sizeof(VksplatPluginSceneDesc) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, s_type) == 0, "offsetof(VksplatPluginSceneDesc, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, s_size) == 4, "offsetof(VksplatPluginSceneDesc, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, next) == 8, "offsetof(VksplatPluginSceneDesc, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, plugin) == 16, "offsetof(VksplatPluginSceneDesc, plugin) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, source) == 24, "offsetof(VksplatPluginSceneDesc, source) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, params) == 32, "offsetof(VksplatPluginSceneDesc, params) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, param_count) == 40, "offsetof(VksplatPluginSceneDesc, param_count) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginSceneDesc, eval) == 44, "offsetof(VksplatPluginSceneDesc, eval) is 44");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatSceneInfo) == 104, "sizeof(VksplatSceneInfo) is 104");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, s_type) == 0, "offsetof(VksplatSceneInfo, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, s_size) == 4, "offsetof(VksplatSceneInfo, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, next) == 8, "offsetof(VksplatSceneInfo, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, count) == 16, "offsetof(VksplatSceneInfo, count) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, sh_degree) == 24, "offsetof(VksplatSceneInfo, sh_degree) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, is_plugin) == 28, "offsetof(VksplatSceneInfo, is_plugin) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, eval) == 32, "offsetof(VksplatSceneInfo, eval) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, param_count) == 36, "offsetof(VksplatSceneInfo, param_count) is 36");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, antialiased) == 40, "offsetof(VksplatSceneInfo, antialiased) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, reserved) == 44, "offsetof(VksplatSceneInfo, reserved) is 44");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, time_start) == 48, "offsetof(VksplatSceneInfo, time_start) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, time_end) == 56, "offsetof(VksplatSceneInfo, time_end) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, has_time_range) == 64, "offsetof(VksplatSceneInfo, has_time_range) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, reserved2) == 68, "offsetof(VksplatSceneInfo, reserved2) is 68");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, bounds_min) == 72, "offsetof(VksplatSceneInfo, bounds_min) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, bounds_max) == 84, "offsetof(VksplatSceneInfo, bounds_max) is 84");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, has_bounds) == 96, "offsetof(VksplatSceneInfo, has_bounds) is 96");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInfo, reserved3) == 100, "offsetof(VksplatSceneInfo, reserved3) is 100");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatRenderDesc) == 72, "sizeof(VksplatRenderDesc) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, s_type) == 0, "offsetof(VksplatRenderDesc, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, s_size) == 4, "offsetof(VksplatRenderDesc, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, next) == 8, "offsetof(VksplatRenderDesc, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, mode) == 16, "offsetof(VksplatRenderDesc, mode) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, background) == 20, "offsetof(VksplatRenderDesc, background) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, time) == 32, "offsetof(VksplatRenderDesc, time) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, flags) == 40, "offsetof(VksplatRenderDesc, flags) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, reserved) == 44, "offsetof(VksplatRenderDesc, reserved) is 44");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, camera) == 48, "offsetof(VksplatRenderDesc, camera) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, clip_near) == 56, "offsetof(VksplatRenderDesc, clip_near) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, clip_far) == 60, "offsetof(VksplatRenderDesc, clip_far) is 60");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, depth_kind) == 64, "offsetof(VksplatRenderDesc, depth_kind) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatRenderDesc, reserved2) == 68, "offsetof(VksplatRenderDesc, reserved2) is 68");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatHostDepth) == 96, "sizeof(VksplatHostDepth) is 96");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, s_type) == 0, "offsetof(VksplatHostDepth, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, s_size) == 4, "offsetof(VksplatHostDepth, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, next) == 8, "offsetof(VksplatHostDepth, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, convention) == 16, "offsetof(VksplatHostDepth, convention) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, flags) == 20, "offsetof(VksplatHostDepth, flags) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, depth_near) == 24, "offsetof(VksplatHostDepth, depth_near) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, depth_far) == 28, "offsetof(VksplatHostDepth, depth_far) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, values) == 32, "offsetof(VksplatHostDepth, values) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, value_count) == 40, "offsetof(VksplatHostDepth, value_count) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, image) == 48, "offsetof(VksplatHostDepth, image) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, image_format) == 56, "offsetof(VksplatHostDepth, image_format) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, image_layout) == 60, "offsetof(VksplatHostDepth, image_layout) is 60");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, image_queue_family) == 64, "offsetof(VksplatHostDepth, image_queue_family) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, reserved) == 68, "offsetof(VksplatHostDepth, reserved) is 68");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, buffer) == 72, "offsetof(VksplatHostDepth, buffer) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, buffer_size) == 80, "offsetof(VksplatHostDepth, buffer_size) is 80");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostDepth, buffer_offset) == 88, "offsetof(VksplatHostDepth, buffer_offset) is 88");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatSceneInstance) == 96, "sizeof(VksplatSceneInstance) is 96");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, s_type) == 0, "offsetof(VksplatSceneInstance, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, s_size) == 4, "offsetof(VksplatSceneInstance, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, next) == 8, "offsetof(VksplatSceneInstance, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, scene) == 16, "offsetof(VksplatSceneInstance, scene) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, transform) == 24, "offsetof(VksplatSceneInstance, transform) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, opacity) == 88, "offsetof(VksplatSceneInstance, opacity) is 88");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSceneInstance, reserved) == 92, "offsetof(VksplatSceneInstance, reserved) is 92");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatMemoryStats) == 96, "sizeof(VksplatMemoryStats) is 96");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, s_type) == 0, "offsetof(VksplatMemoryStats, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, s_size) == 4, "offsetof(VksplatMemoryStats, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, next) == 8, "offsetof(VksplatMemoryStats, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, device_bytes) == 16, "offsetof(VksplatMemoryStats, device_bytes) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, peak_device_bytes) == 24, "offsetof(VksplatMemoryStats, peak_device_bytes) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, scene_bytes) == 32, "offsetof(VksplatMemoryStats, scene_bytes) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, frame_bytes) == 40, "offsetof(VksplatMemoryStats, frame_bytes) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, staging_bytes) == 48, "offsetof(VksplatMemoryStats, staging_bytes) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, other_bytes) == 56, "offsetof(VksplatMemoryStats, other_bytes) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, host_visible_bytes) == 64, "offsetof(VksplatMemoryStats, host_visible_bytes) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, reserved_bytes) == 72, "offsetof(VksplatMemoryStats, reserved_bytes) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, budget) == 80, "offsetof(VksplatMemoryStats, budget) is 80");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatMemoryStats, allocations) == 88, "offsetof(VksplatMemoryStats, allocations) is 88");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatImage) == 72, "sizeof(VksplatImage) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, s_type) == 0, "offsetof(VksplatImage, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, s_size) == 4, "offsetof(VksplatImage, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, next) == 8, "offsetof(VksplatImage, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, width) == 16, "offsetof(VksplatImage, width) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, height) == 20, "offsetof(VksplatImage, height) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, format) == 24, "offsetof(VksplatImage, format) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, reserved) == 28, "offsetof(VksplatImage, reserved) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, pixels) == 32, "offsetof(VksplatImage, pixels) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, row_bytes) == 40, "offsetof(VksplatImage, row_bytes) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, depth) == 48, "offsetof(VksplatImage, depth) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, pixels_size) == 56, "offsetof(VksplatImage, pixels_size) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatImage, depth_size) == 64, "offsetof(VksplatImage, depth_size) is 64");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatVulkanRequirements) == 48, "sizeof(VksplatVulkanRequirements) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, s_type) == 0, "offsetof(VksplatVulkanRequirements, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, s_size) == 4, "offsetof(VksplatVulkanRequirements, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, next) == 8, "offsetof(VksplatVulkanRequirements, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, api_version) == 16, "offsetof(VksplatVulkanRequirements, api_version) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, queue_flags) == 20, "offsetof(VksplatVulkanRequirements, queue_flags) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, extension_count) == 24, "offsetof(VksplatVulkanRequirements, extension_count) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, feature_count) == 28, "offsetof(VksplatVulkanRequirements, feature_count) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, extensions) == 32, "offsetof(VksplatVulkanRequirements, extensions) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanRequirements, vulkan12_features) == 40, "offsetof(VksplatVulkanRequirements, vulkan12_features) is 40");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatVulkanDevice) == 88, "sizeof(VksplatVulkanDevice) is 88");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, s_type) == 0, "offsetof(VksplatVulkanDevice, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, s_size) == 4, "offsetof(VksplatVulkanDevice, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, next) == 8, "offsetof(VksplatVulkanDevice, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, get_instance_proc_addr) == 16, "offsetof(VksplatVulkanDevice, get_instance_proc_addr) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, instance) == 24, "offsetof(VksplatVulkanDevice, instance) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, physical_device) == 32, "offsetof(VksplatVulkanDevice, physical_device) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, device) == 40, "offsetof(VksplatVulkanDevice, device) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, queue_family) == 48, "offsetof(VksplatVulkanDevice, queue_family) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, queue_index) == 52, "offsetof(VksplatVulkanDevice, queue_index) is 52");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, api_version) == 56, "offsetof(VksplatVulkanDevice, api_version) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, extension_count) == 60, "offsetof(VksplatVulkanDevice, extension_count) is 60");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, extensions) == 64, "offsetof(VksplatVulkanDevice, extensions) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, feature_count) == 72, "offsetof(VksplatVulkanDevice, feature_count) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, reserved) == 76, "offsetof(VksplatVulkanDevice, reserved) is 76");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanDevice, vulkan12_features) == 80, "offsetof(VksplatVulkanDevice, vulkan12_features) is 80");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatVulkanTarget) == 152, "sizeof(VksplatVulkanTarget) is 152");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, s_type) == 0, "offsetof(VksplatVulkanTarget, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, s_size) == 4, "offsetof(VksplatVulkanTarget, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, next) == 8, "offsetof(VksplatVulkanTarget, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_image) == 16, "offsetof(VksplatVulkanTarget, color_image) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_format) == 24, "offsetof(VksplatVulkanTarget, color_format) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_old_layout) == 28, "offsetof(VksplatVulkanTarget, color_old_layout) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_new_layout) == 32, "offsetof(VksplatVulkanTarget, color_new_layout) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_queue_family) == 36, "offsetof(VksplatVulkanTarget, color_queue_family) is 36");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_image) == 40, "offsetof(VksplatVulkanTarget, depth_image) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_format) == 48, "offsetof(VksplatVulkanTarget, depth_format) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_old_layout) == 52, "offsetof(VksplatVulkanTarget, depth_old_layout) is 52");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_new_layout) == 56, "offsetof(VksplatVulkanTarget, depth_new_layout) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_queue_family) == 60, "offsetof(VksplatVulkanTarget, depth_queue_family) is 60");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_buffer) == 64, "offsetof(VksplatVulkanTarget, color_buffer) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_buffer_offset) == 72, "offsetof(VksplatVulkanTarget, color_buffer_offset) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, color_buffer_size) == 80, "offsetof(VksplatVulkanTarget, color_buffer_size) is 80");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_buffer) == 88, "offsetof(VksplatVulkanTarget, depth_buffer) is 88");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_buffer_offset) == 96, "offsetof(VksplatVulkanTarget, depth_buffer_offset) is 96");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, depth_buffer_size) == 104, "offsetof(VksplatVulkanTarget, depth_buffer_size) is 104");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, wait_count) == 112, "offsetof(VksplatVulkanTarget, wait_count) is 112");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, signal_count) == 116, "offsetof(VksplatVulkanTarget, signal_count) is 116");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, wait_semaphores) == 120, "offsetof(VksplatVulkanTarget, wait_semaphores) is 120");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, wait_values) == 128, "offsetof(VksplatVulkanTarget, wait_values) is 128");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, signal_semaphores) == 136, "offsetof(VksplatVulkanTarget, signal_semaphores) is 136");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatVulkanTarget, signal_values) == 144, "offsetof(VksplatVulkanTarget, signal_values) is 144");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatHostApi) == 40, "sizeof(VksplatHostApi) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, s_type) == 0, "offsetof(VksplatHostApi, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, s_size) == 4, "offsetof(VksplatHostApi, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, next) == 8, "offsetof(VksplatHostApi, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, abi_version) == 16, "offsetof(VksplatHostApi, abi_version) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, reserved) == 20, "offsetof(VksplatHostApi, reserved) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, set_error) == 24, "offsetof(VksplatHostApi, set_error) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatHostApi, log) == 32, "offsetof(VksplatHostApi, log) is 32");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatNegotiation) == 56, "sizeof(VksplatNegotiation) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, s_type) == 0, "offsetof(VksplatNegotiation, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, s_size) == 4, "offsetof(VksplatNegotiation, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, next) == 8, "offsetof(VksplatNegotiation, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, host_abi_min) == 16, "offsetof(VksplatNegotiation, host_abi_min) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, host_abi_max) == 20, "offsetof(VksplatNegotiation, host_abi_max) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, host) == 24, "offsetof(VksplatNegotiation, host) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, plugin_abi_version) == 32, "offsetof(VksplatNegotiation, plugin_abi_version) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, reserved) == 36, "offsetof(VksplatNegotiation, reserved) is 36");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, layout_fingerprint) == 40, "offsetof(VksplatNegotiation, layout_fingerprint) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatNegotiation, api) == 48, "offsetof(VksplatNegotiation, api) is 48");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatOpenDesc) == 48, "sizeof(VksplatOpenDesc) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, s_type) == 0, "offsetof(VksplatOpenDesc, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, s_size) == 4, "offsetof(VksplatOpenDesc, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, next) == 8, "offsetof(VksplatOpenDesc, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, host) == 16, "offsetof(VksplatOpenDesc, host) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, source) == 24, "offsetof(VksplatOpenDesc, source) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, options) == 32, "offsetof(VksplatOpenDesc, options) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, option_count) == 40, "offsetof(VksplatOpenDesc, option_count) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatOpenDesc, reserved) == 44, "offsetof(VksplatOpenDesc, reserved) is 44");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatParamDesc) == 64, "sizeof(VksplatParamDesc) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, name) == 0, "offsetof(VksplatParamDesc, name) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, description) == 8, "offsetof(VksplatParamDesc, description) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, param_type) == 16, "offsetof(VksplatParamDesc, param_type) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, flags) == 20, "offsetof(VksplatParamDesc, flags) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, min) == 24, "offsetof(VksplatParamDesc, min) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, max) == 32, "offsetof(VksplatParamDesc, max) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, default_value) == 40, "offsetof(VksplatParamDesc, default_value) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, components) == 48, "offsetof(VksplatParamDesc, components) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, min_count) == 52, "offsetof(VksplatParamDesc, min_count) is 52");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, max_count) == 56, "offsetof(VksplatParamDesc, max_count) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamDesc, reserved) == 60, "offsetof(VksplatParamDesc, reserved) is 60");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatSplatData) == 56, "sizeof(VksplatSplatData) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, means) == 0, "offsetof(VksplatSplatData, means) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, rotations) == 8, "offsetof(VksplatSplatData, rotations) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, log_scales) == 16, "offsetof(VksplatSplatData, log_scales) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, opacity_logits) == 24, "offsetof(VksplatSplatData, opacity_logits) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, sh) == 32, "offsetof(VksplatSplatData, sh) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, covariances) == 40, "offsetof(VksplatSplatData, covariances) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatData, opacity_scale) == 48, "offsetof(VksplatSplatData, opacity_scale) is 48");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatSplatArrays) == 72, "sizeof(VksplatSplatArrays) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, count) == 0, "offsetof(VksplatSplatArrays, count) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, sh_degree) == 8, "offsetof(VksplatSplatArrays, sh_degree) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, reserved) == 12, "offsetof(VksplatSplatArrays, reserved) is 12");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, means) == 16, "offsetof(VksplatSplatArrays, means) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, rotations) == 24, "offsetof(VksplatSplatArrays, rotations) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, log_scales) == 32, "offsetof(VksplatSplatArrays, log_scales) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, opacity_logits) == 40, "offsetof(VksplatSplatArrays, opacity_logits) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, sh) == 48, "offsetof(VksplatSplatArrays, sh) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, covariances) == 56, "offsetof(VksplatSplatArrays, covariances) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatSplatArrays, opacity_scale) == 64, "offsetof(VksplatSplatArrays, opacity_scale) is 64");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatDescription) == 128, "sizeof(VksplatDescription) is 128");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, s_type) == 0, "offsetof(VksplatDescription, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, s_size) == 4, "offsetof(VksplatDescription, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, next) == 8, "offsetof(VksplatDescription, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, splat_count) == 16, "offsetof(VksplatDescription, splat_count) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, sh_degree) == 24, "offsetof(VksplatDescription, sh_degree) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, flags) == 28, "offsetof(VksplatDescription, flags) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, outputs) == 32, "offsetof(VksplatDescription, outputs) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, has_gpu) == 36, "offsetof(VksplatDescription, has_gpu) is 36");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, has_cpu) == 40, "offsetof(VksplatDescription, has_cpu) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, param_count) == 44, "offsetof(VksplatDescription, param_count) is 44");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, params) == 48, "offsetof(VksplatDescription, params) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, initial) == 56, "offsetof(VksplatDescription, initial) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, time_start) == 112, "offsetof(VksplatDescription, time_start) is 112");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatDescription, time_end) == 120, "offsetof(VksplatDescription, time_end) is 120");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatBufferDesc) == 24, "sizeof(VksplatBufferDesc) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatBufferDesc, name) == 0, "offsetof(VksplatBufferDesc, name) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatBufferDesc, data) == 8, "offsetof(VksplatBufferDesc, data) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatBufferDesc, size) == 16, "offsetof(VksplatBufferDesc, size) is 16");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatGpuStage) == 72, "sizeof(VksplatGpuStage) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, s_type) == 0, "offsetof(VksplatGpuStage, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, s_size) == 4, "offsetof(VksplatGpuStage, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, next) == 8, "offsetof(VksplatGpuStage, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, name) == 16, "offsetof(VksplatGpuStage, name) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, language) == 24, "offsetof(VksplatGpuStage, language) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, push_constant_size) == 28, "offsetof(VksplatGpuStage, push_constant_size) is 28");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, code) == 32, "offsetof(VksplatGpuStage, code) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, code_size) == 40, "offsetof(VksplatGpuStage, code_size) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, buffers) == 48, "offsetof(VksplatGpuStage, buffers) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, buffer_count) == 56, "offsetof(VksplatGpuStage, buffer_count) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, frame_buffer_size) == 60, "offsetof(VksplatGpuStage, frame_buffer_size) is 60");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatGpuStage, invocations) == 64, "offsetof(VksplatGpuStage, invocations) is 64");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatParamValue) == 24, "sizeof(VksplatParamValue) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamValue, value) == 0, "offsetof(VksplatParamValue, value) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamValue, data) == 8, "offsetof(VksplatParamValue, data) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamValue, count) == 16, "offsetof(VksplatParamValue, count) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatParamValue, reserved) == 20, "offsetof(VksplatParamValue, reserved) is 20");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatFrameInput) == 40, "sizeof(VksplatFrameInput) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, s_type) == 0, "offsetof(VksplatFrameInput, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, s_size) == 4, "offsetof(VksplatFrameInput, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, next) == 8, "offsetof(VksplatFrameInput, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, time) == 16, "offsetof(VksplatFrameInput, time) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, params) == 24, "offsetof(VksplatFrameInput, params) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, param_count) == 32, "offsetof(VksplatFrameInput, param_count) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatFrameInput, reserved) == 36, "offsetof(VksplatFrameInput, reserved) is 36");
VKSPLAT_LAYOUT_ASSERT(sizeof(VksplatPluginApi) == 88, "sizeof(VksplatPluginApi) is 88");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, s_type) == 0, "offsetof(VksplatPluginApi, s_type) is 0");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, s_size) == 4, "offsetof(VksplatPluginApi, s_size) is 4");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, next) == 8, "offsetof(VksplatPluginApi, next) is 8");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, abi_version) == 16, "offsetof(VksplatPluginApi, abi_version) is 16");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, reserved) == 20, "offsetof(VksplatPluginApi, reserved) is 20");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, name) == 24, "offsetof(VksplatPluginApi, name) is 24");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, version) == 32, "offsetof(VksplatPluginApi, version) is 32");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, open) == 40, "offsetof(VksplatPluginApi, open) is 40");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, close) == 48, "offsetof(VksplatPluginApi, close) is 48");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, describe) == 56, "offsetof(VksplatPluginApi, describe) is 56");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, gpu_stage) == 64, "offsetof(VksplatPluginApi, gpu_stage) is 64");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, gpu_frame) == 72, "offsetof(VksplatPluginApi, gpu_frame) is 72");
VKSPLAT_LAYOUT_ASSERT(offsetof(VksplatPluginApi, cpu_frame) == 80, "offsetof(VksplatPluginApi, cpu_frame) is 80");
#undef VKSPLAT_LAYOUT_ASSERT
#endif

#endif  /* VKSPLAT_H */
