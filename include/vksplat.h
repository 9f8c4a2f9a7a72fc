/*
 * vksplat.h: the C API of vksplat (a headless Vulkan compute renderer for 3D Gaussian
 * Splatting) and the plugin ABI for scene-variant plugins.
 *
 * Conventions: every function returns a VksplatResult (0 ok, negative errors, positive
 * statuses) and vksplat_last_error() explains the last error on the calling thread. Every
 * descriptor struct starts with s_type / s_size / next: set s_type to its VKSPLAT_STRUCT_*
 * value and s_size to sizeof the struct, e.g.
 *     VksplatCamera cam = {VKSPLAT_STRUCT_CAMERA, sizeof cam};
 * Structs only grow at the end; the library reads only the fields that s_size covers.
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
#define VKSPLAT_PLUGIN_ABI_VERSION 1

// Oldest plugin ABI version this engine still loads.
#define VKSPLAT_PLUGIN_ABI_MIN 1

// Fingerprint of the sizes, alignments and field offsets of every struct in this header
// (FNV-1a; see the vksplat-abi crate's `layout` module). Plugins report it at negotiation.
#define VKSPLAT_LAYOUT_FINGERPRINT (((uint64_t)VKSPLAT_LAYOUT_FINGERPRINT_HI << 32) | (uint64_t)VKSPLAT_LAYOUT_FINGERPRINT_LO)

// High 32 bits of `VKSPLAT_LAYOUT_FINGERPRINT`.
#define VKSPLAT_LAYOUT_FINGERPRINT_HI 1201443801

// Low 32 bits of `VKSPLAT_LAYOUT_FINGERPRINT`.
#define VKSPLAT_LAYOUT_FINGERPRINT_LO 4165561241

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

// Render mode: gsplat 1.5.3 "classic" rules.
#define VKSPLAT_MODE_CLASSIC 0

// Render mode: opacity times the blur compensation (Mip-Splatting style).
#define VKSPLAT_MODE_ANTIALIASED 1

// Render mode: the original INRIA rasterizer's rules.
#define VKSPLAT_MODE_INRIA 2

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

// Parameter type: one number (`double`), with a range.
#define VKSPLAT_PARAM_FLOAT 0

// Parameter type: one integer (passed as a `double` holding an integer), with a range.
#define VKSPLAT_PARAM_INT 1

// Parameter type: an array of elements of `components` floats each (3 = a vertex,
// 16 = a row-major 4×4 matrix), with an element-count range.
#define VKSPLAT_PARAM_FLOAT_ARRAY 2

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

// Log level for `VksplatHostApi::log`: information.
#define VKSPLAT_LOG_INFO 0

// Log level for `VksplatHostApi::log`: a warning.
#define VKSPLAT_LOG_WARNING 1

// Size of the first (ABI version 1) layout of `VksplatPluginApi`: the smallest table a
// version-1 plugin may return.
#define VKSPLAT_PLUGIN_API_V1_SIZE 88

// Result of every call: `VKSPLAT_OK` (0), a negative error or a positive status.
typedef int32_t VksplatResult;

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
  // Largest image width and height.
  uint32_t max_image_side;
  // Subgroup size of the device.
  uint32_t subgroup_size;
  // Largest storage buffer the device binds, in bytes.
  uint64_t max_buffer_bytes;
  // Largest splat count a scene may have on this device.
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
} VksplatLimits;

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
} VksplatSceneInfo;

// Per-frame settings (`vksplat_render`); NULL means classic mode on black.
typedef struct VksplatRenderDesc {
  // `VKSPLAT_STRUCT_RENDER_DESC`.
  uint32_t s_type;
  // `sizeof(VksplatRenderDesc)`.
  uint32_t s_size;
  // Extension chain; NULL.
  const void *next;
  // `VKSPLAT_MODE_*`.
  uint32_t mode;
  // Linear RGB behind the splats.
  float background[3];
  // Plugin scenes: the frame's time (also `vksplat_scene_set_time`); NaN keeps the
  // scene's current time.
  double time;
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
} VksplatImage;

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
  // `VKSPLAT_PARAM_FLOAT`, `VKSPLAT_PARAM_INT` or `VKSPLAT_PARAM_FLOAT_ARRAY`.
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

// Success.
#define VKSPLAT_OK 0

// Status: a plugin frame left the splats unchanged (nothing to upload).
#define VKSPLAT_UNCHANGED 1

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

// A well-formed scene, image or readback needs more host memory than the process can get
// (the message says how many bytes); the same call can succeed with more memory.
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
// `desc` may be NULL (automatic device, no validation). Thread-safe.
extern VksplatResult vksplat_context_create(const struct VksplatContextDesc *desc, VksplatContext **out);

// Destroys a context (NULL is ignored). Scenes keep the device alive until they are
// destroyed too. Must not race with calls on the same context.
extern void vksplat_context_destroy(VksplatContext *context);

// Fills the fields of `out` that `out->s_size` covers. Thread-safe.
extern VksplatResult vksplat_context_limits(const VksplatContext *context, struct VksplatLimits *out);

// Adds a directory searched for plugin manifests before `VKSPLAT_PLUGIN_PATH`.
// Serialised on the context.
extern VksplatResult vksplat_context_add_plugin_dir(VksplatContext *context, const char *dir);

// Sets the camera the next renders use. Serialised on the context.
extern VksplatResult vksplat_set_camera(VksplatContext *context, const struct VksplatCamera *camera);

// Loads a scene file (INRIA PLY, compressed PLY, SPZ or .splat, found by content) onto the
// context's device. Serialised on the context.
extern VksplatResult vksplat_scene_load(VksplatContext *context, const char *path, VksplatScene **out);

// Creates a scene from caller arrays (copied, or borrowed with a deleter).
// Serialised on the context.
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

// Sets a plugin scene's time in seconds. Serialised on the scene.
extern VksplatResult vksplat_scene_set_time(VksplatScene *scene, double time);

// Fills the fields of `out` that `out->s_size` covers. Serialised on the scene.
extern VksplatResult vksplat_scene_info(const VksplatScene *scene, struct VksplatSceneInfo *out);

// Destroys a scene (NULL is ignored); calls a borrowed scene's deleter. Must not race
// with calls on the same scene.
extern void vksplat_scene_destroy(VksplatScene *scene);

// Renders `scene` with the context's camera into caller memory. Plugin scenes evaluate
// their frame first. `desc` may be NULL. Serialised on the context and the scene.
extern VksplatResult vksplat_render(VksplatContext *context, VksplatScene *scene, const struct VksplatRenderDesc *desc, const struct VksplatImage *image);

// Implemented by plugins, not by the engine: the one frozen entry point of a plugin
// library, exported with `VKSPLAT_PLUGIN_EXPORT` (type `VksplatNegotiateFn`). It must not
// allocate or keep state: it sets `plugin_abi_version` and `layout_fingerprint`, and when
// `host_abi_min <= VKSPLAT_PLUGIN_ABI_VERSION <= host_abi_max` sets `api` and returns
// `VKSPLAT_OK`; otherwise it returns `VKSPLAT_ERROR_ABI`.
extern VksplatResult vksplat_plugin_negotiate(struct VksplatNegotiation *negotiation);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* VKSPLAT_H */
