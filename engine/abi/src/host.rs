//! The host C API (implemented by the `vksplat-capi` library) and the plugin entry point
//! (implemented by every plugin library), declared here so that the header has them.
//! `vksplat-capi` checks at compile time that its definitions have exactly these signatures.
//!
//! Thread safety, for every function below: the version, error and limits queries may be
//! called from any thread at any time. A context serialises the calls made on it (a render
//! on one thread waits for a render on another), and a scene likewise, so no call corrupts
//! state when made concurrently; every render takes its camera and time from its own
//! `VksplatRenderDesc`, so threads sharing a context each get their own camera's frame. For
//! throughput, give each thread its own context. `vksplat_last_error` is per thread. Destroy
//! functions must not race with other calls on the same object.
//!
//! Structs passed in are read by the growth rule (`s_size` bytes at most; see the README's
//! "C API and plugins"), out-structs are written up to their `s_size`.

use core::ffi::{c_char, c_void};

use crate::*;

extern "C" {
    /// The library's version, `VKSPLAT_MAKE_VERSION(major, minor, patch)`. Thread-safe.
    pub fn vksplat_version() -> u32;

    /// The library's version as a static string ("0.1.0"). Thread-safe.
    pub fn vksplat_version_string() -> *const c_char;

    /// The library's `VKSPLAT_ABI_VERSION`; a program compiled against a header with another
    /// value must not use this library. Thread-safe.
    pub fn vksplat_abi_version() -> u32;

    /// The message of the last error returned on the calling thread (UTF-8, never NULL; ""
    /// when the last call succeeded). Valid until the next vksplat call on this thread.
    pub fn vksplat_last_error() -> *const c_char;

    /// Creates a context: a Vulkan instance, the chosen device and the renderer.
    /// `desc` may be NULL (automatic device, no validation, no log callback). Thread-safe.
    pub fn vksplat_context_create(
        desc: *const VksplatContextDesc,
        out: *mut *mut VksplatContext,
    ) -> VksplatResult;

    /// Destroys a context (NULL is ignored). Scenes keep the device alive until they are
    /// destroyed too. Must not race with calls on the same context.
    pub fn vksplat_context_destroy(context: *mut VksplatContext);

    /// Fills the fields of `out` that `out->s_size` covers. Thread-safe.
    pub fn vksplat_context_limits(
        context: *const VksplatContext,
        out: *mut VksplatLimits,
    ) -> VksplatResult;

    /// Fills the fields of `out` that `out->s_size` covers with the device memory the context
    /// holds now and at peak, by class. Thread-safe.
    pub fn vksplat_memory_stats(
        context: *const VksplatContext,
        out: *mut VksplatMemoryStats,
    ) -> VksplatResult;

    /// Adds a directory searched for plugin manifests before `VKSPLAT_PLUGIN_PATH`.
    /// Serialised on the context.
    pub fn vksplat_context_add_plugin_dir(
        context: *mut VksplatContext,
        dir: *const c_char,
    ) -> VksplatResult;

    /// Deprecated: pass the camera in `VksplatRenderDesc::camera` instead. Sets the camera of
    /// renders whose descriptor has none (or that pass no descriptor). Two threads that share a
    /// context and use it can render each other's camera. Serialised on the context.
    pub fn vksplat_set_camera(
        context: *mut VksplatContext,
        camera: *const VksplatCamera,
    ) -> VksplatResult;

    /// Loads a scene file (INRIA PLY, compressed PLY, SPZ or .splat, found by content) onto the
    /// context's device, with the file's antialiasing flag (`VksplatSceneInfo::antialiased`).
    /// A file (or directory, or frame pattern) that a plugin's manifest says it reads
    /// (`"reads"`, searched in the context's plugin directories, then `VKSPLAT_PLUGIN_PATH` and
    /// the default directories) becomes that plugin's scene instead, as `vksplat render FILE`
    /// does: default parameters, the automatic evaluation path. Two plugins that read it:
    /// `VKSPLAT_ERROR_INVALID_ARGUMENT` naming both (open it with
    /// `vksplat_scene_open_plugin`).
    /// More splats than `VksplatLimits::max_splats_by_sh_degree` allow is
    /// `VKSPLAT_ERROR_TOO_LARGE`. Serialised on the context.
    pub fn vksplat_scene_load(
        context: *mut VksplatContext,
        path: *const c_char,
        out: *mut *mut VksplatScene,
    ) -> VksplatResult;

    /// Creates a scene from caller arrays (copied, or borrowed with a deleter). A `count` above
    /// `VksplatLimits::max_splats_by_sh_degree[sh_degree]` is `VKSPLAT_ERROR_TOO_LARGE` before
    /// any array is read. Serialised on the context.
    pub fn vksplat_scene_create(
        context: *mut VksplatContext,
        desc: *const VksplatSceneDesc,
        out: *mut *mut VksplatScene,
    ) -> VksplatResult;

    /// Loads a plugin (once per process; plugins are never unloaded), opens an instance and
    /// creates its scene. Serialised on the context.
    pub fn vksplat_scene_open_plugin(
        context: *mut VksplatContext,
        desc: *const VksplatPluginSceneDesc,
        out: *mut *mut VksplatScene,
    ) -> VksplatResult;

    /// Uploads a borrowed scene's arrays again (after the caller changed them in place).
    /// Serialised on the scene and its context.
    pub fn vksplat_scene_refresh(scene: *mut VksplatScene) -> VksplatResult;

    /// Sets a plugin scene's frame parameter: `count` floats (1 for scalars; elements ×
    /// components for arrays; 0 resets an array to the plugin's default). Serialised on the
    /// scene.
    pub fn vksplat_scene_set_param(
        scene: *mut VksplatScene,
        name: *const c_char,
        values: *const f32,
        count: u32,
    ) -> VksplatResult;

    /// Sets a plugin scene's time in seconds: the time of renders whose descriptor does not set
    /// `VKSPLAT_RENDER_TIME`. Serialised on the scene.
    pub fn vksplat_scene_set_time(scene: *mut VksplatScene, time: f64) -> VksplatResult;

    /// Fills the fields of `out` that `out->s_size` covers. Serialised on the scene.
    pub fn vksplat_scene_info(
        scene: *const VksplatScene,
        out: *mut VksplatSceneInfo,
    ) -> VksplatResult;

    /// Destroys a scene (NULL is ignored); calls a borrowed scene's deleter. Must not race
    /// with calls on the same scene.
    pub fn vksplat_scene_destroy(scene: *mut VksplatScene);

    /// Renders `scene` into caller memory with `desc->camera` (or, deprecated, the camera of
    /// `vksplat_set_camera`), in `desc->mode` or the scene's default mode, at `desc->time` or
    /// the scene's time (see `VksplatRenderDesc`). Plugin scenes evaluate their frame first.
    /// `desc` may be NULL: the scene's default mode on black at the scene's time with the
    /// deprecated context camera. The image must match the camera's size and have room for
    /// the frame (`VksplatImage::pixels_size`, `depth_size`), and at most
    /// `VksplatLimits::max_image_pixels` pixels. Serialised on the context and the scene.
    pub fn vksplat_render(
        context: *mut VksplatContext,
        scene: *mut VksplatScene,
        desc: *const VksplatRenderDesc,
        image: *const VksplatImage,
    ) -> VksplatResult;

    /// Renders several objects in one frame into caller memory: `instances` points to `count`
    /// pointers to `VksplatSceneInstance` (a scene, a transform and an opacity each), and all their
    /// splats are depth-sorted together, so interleaved objects blend correctly. `desc` and
    /// `image` as in `vksplat_render` (the default mode is the first instance's scene's;
    /// `desc->time` is unused, plugin scenes are refused with `VKSPLAT_ERROR_UNSUPPORTED`).
    /// One instance with the identity transform and opacity 1 renders what `vksplat_render`
    /// does, bit for bit. Serialised on the context and the instances' scenes.
    pub fn vksplat_render_instances(
        context: *mut VksplatContext,
        instances: *const *const VksplatSceneInstance,
        count: u32,
        desc: *const VksplatRenderDesc,
        image: *const VksplatImage,
    ) -> VksplatResult;

    /// Fills `out` (up to its `s_size`) with what vksplat needs of a host's Vulkan device: the
    /// API version, device extensions, Vulkan 1.2 features and queue capabilities to enable
    /// before `vksplat_context_create_vulkan`. Thread-safe; needs no context.
    pub fn vksplat_vulkan_requirements(out: *mut VksplatVulkanRequirements) -> VksplatResult;

    /// Creates a context on the host's Vulkan device (`device`), with the log callback and
    /// options of `desc` (NULL: none; its `device` and `validation` must be NULL and 0, the
    /// host owns its instance's layers). The enabled extensions and features listed in
    /// `device` must cover `vksplat_vulkan_requirements`, else `VKSPLAT_ERROR_UNSUPPORTED`
    /// naming what is missing. vksplat creates only its own objects on the device and
    /// destroys them in `vksplat_context_destroy`, which waits for vksplat's own work only
    /// (never `vkDeviceWaitIdle`): destroy the context (and its scenes) before the device.
    pub fn vksplat_context_create_vulkan(
        desc: *const VksplatContextDesc,
        device: *const VksplatVulkanDevice,
        out: *mut *mut VksplatContext,
    ) -> VksplatResult;

    /// Submits a frame of a scene that is copied on the GPU into the host's images or
    /// buffers (`target`), without waiting for the GPU, and stores its number (1, 2, …) in
    /// `frame`. A context created by `vksplat_context_create_vulkan` only. At most 2 frames
    /// are in flight: submitting frame k first waits for frame k − 2 if it is still running;
    /// the first frame of a new scene or image size also waits for a short sizing pass.
    /// Serialised on the context and the scene.
    pub fn vksplat_render_vulkan(
        context: *mut VksplatContext,
        scene: *mut VksplatScene,
        desc: *const VksplatRenderDesc,
        target: *const VksplatVulkanTarget,
        frame: *mut u64,
    ) -> VksplatResult;

    /// Submits a frame of a scene without waiting for it; its pixels are written into
    /// `image`'s buffers (which must stay valid until then) by the `vksplat_frame_poll` or
    /// `vksplat_frame_wait` that reports the frame finished. Any context. Stores the frame's
    /// number in `frame`. Frames in flight as for `vksplat_render_vulkan`; ask about each
    /// frame within 16 frames, or its pixels are dropped.
    pub fn vksplat_render_submit(
        context: *mut VksplatContext,
        scene: *mut VksplatScene,
        desc: *const VksplatRenderDesc,
        image: *const VksplatImage,
        frame: *mut u64,
    ) -> VksplatResult;

    /// Whether a submitted frame has finished, without blocking: `VKSPLAT_OK`,
    /// `VKSPLAT_NOT_READY`, or `VKSPLAT_INCOMPLETE` (finished but clamped: render it again).
    /// A frame never submitted is `VKSPLAT_ERROR_INVALID_ARGUMENT`.
    pub fn vksplat_frame_poll(context: *mut VksplatContext, frame: u64) -> VksplatResult;

    /// Blocks until a submitted frame has finished: `VKSPLAT_OK` or `VKSPLAT_INCOMPLETE`.
    pub fn vksplat_frame_wait(context: *mut VksplatContext, frame: u64) -> VksplatResult;

    /// As `vksplat_render_vulkan`, for several objects in one frame with one global depth
    /// order (the instances of `vksplat_render_instances`; a scene may appear several times).
    /// Plugin scenes are evaluated at the frame's time before the frame, in a submission of
    /// their own (or on the CPU), which waits for the frames in flight.
    pub fn vksplat_render_vulkan_instances(
        context: *mut VksplatContext,
        instances: *const *const VksplatSceneInstance,
        count: u32,
        desc: *const VksplatRenderDesc,
        target: *const VksplatVulkanTarget,
        frame: *mut u64,
    ) -> VksplatResult;

    /// As `vksplat_render_submit`, for the instances of `vksplat_render_instances` (plugin
    /// scenes as in `vksplat_render_vulkan_instances`).
    pub fn vksplat_render_submit_instances(
        context: *mut VksplatContext,
        instances: *const *const VksplatSceneInstance,
        count: u32,
        desc: *const VksplatRenderDesc,
        image: *const VksplatImage,
        frame: *mut u64,
    ) -> VksplatResult;

    /// Records a whole frame of `instances` (as `vksplat_render_vulkan_instances`; one scene
    /// is one instance with the identity transform) into the host's `command_buffer` (a
    /// `VkCommandBuffer`: primary, of the context's device, allocated from a pool of the
    /// context's queue family, in the recording state, used by no other thread during the
    /// call), and stores the frame's number among recorded frames (1, 2, …) in `frame`. A
    /// context created by `vksplat_context_create_vulkan` only; static scenes only (plugin
    /// scenes: `VKSPLAT_ERROR_UNSUPPORTED`). The recording holds everything: the frame's
    /// data (`vkCmdUpdateBuffer`), dispatches, barriers (the first one orders the frame after
    /// earlier work on the queue) and the copies into `target` with its layout transitions;
    /// the target's semaphore lists must be empty (the host's submission waits and signals).
    /// The host ends and submits the command buffer on the context's queue, recorded frames
    /// in the order they were recorded, and: (1) recorded frame n has finished on the GPU
    /// before the host records frame n + `vksplat_frames_in_flight` (vksplat reuses frame n's
    /// resources then); (2) every recorded frame has finished before the host destroys a
    /// scene it uses or the context. The first frame of a new splat count or image size first
    /// runs a short sizing pass on the context's queue and waits for it. Later frames cannot
    /// grow their intersection lists inside the frame: a frame that needed more is clamped on
    /// the GPU (never out of bounds) and reported by `vksplat_record_done`, and the lists
    /// grow for the frames recorded after vksplat learns it (one frame late when the host
    /// reports each finished frame, at most `vksplat_frames_in_flight` frames late
    /// otherwise). On an error after recording began (a device limit) the command buffer may
    /// hold part of a frame: the host discards it. Serialised on the context and the scenes.
    pub fn vksplat_render_record(
        context: *mut VksplatContext,
        command_buffer: *mut c_void,
        instances: *const *const VksplatSceneInstance,
        count: u32,
        desc: *const VksplatRenderDesc,
        target: *const VksplatVulkanTarget,
        frame: *mut u64,
    ) -> VksplatResult;

    /// Stores in `count` how many frames may be in flight at once (submitted or recorded):
    /// the host finishes frame n before it records frame n + `count`. Thread-safe.
    pub fn vksplat_frames_in_flight(
        context: *const VksplatContext,
        count: *mut u32,
    ) -> VksplatResult;

    /// The host reports that recorded frame `frame`, and every recorded frame before it, has
    /// finished on the GPU (its fence or semaphore said so). Returns `VKSPLAT_OK`, or
    /// `VKSPLAT_INCOMPLETE` when the frame needed more intersections than it had and was
    /// clamped (render it again: the lists have grown for the frames recorded from now on).
    /// Optional: without it vksplat learns a frame's outcome when its resources are reused.
    /// A frame never recorded is `VKSPLAT_ERROR_INVALID_ARGUMENT`; a frame already reported,
    /// or more than 16 frames old, is `VKSPLAT_OK`.
    pub fn vksplat_record_done(context: *mut VksplatContext, frame: u64) -> VksplatResult;

    /// The context's timeline semaphore (a `VkSemaphore`, owned by vksplat) and the value it
    /// reaches when `frame` has finished: a host waits on it on the GPU (a wait semaphore of
    /// its own submission) or the CPU (`vkWaitSemaphores`). It must not signal it.
    pub fn vksplat_frame_timeline(
        context: *mut VksplatContext,
        frame: u64,
        semaphore: *mut u64,
        value: *mut u64,
    ) -> VksplatResult;

    /// vksplat's camera (written to `camera` up to its `s_size`) from a host's projection and
    /// view matrices: 16 floats each as the engine's math library stores them (element
    /// `4·column + row` of the matrix that maps column vectors, `clip = P·V·x`; glm, Unity's
    /// `Matrix4x4` and DirectXMath's `XMFLOAT4X4` all store this order), in clip convention
    /// `VKSPLAT_CLIP_*`, for a `width`×`height` image. The view's world is the scene's frame and
    /// must be rigid and not mirrored; skewed projections are refused
    /// (`VKSPLAT_ERROR_INVALID_ARGUMENT`, naming why). An orthographic projection (last row
    /// 0 0 0 w) gives a `VKSPLAT_PROJECTION_ORTHOGRAPHIC` camera (fx, fy in pixels per world
    /// unit) placed at the view's eye; an oblique one is refused. Optional outputs:
    /// `depth_range` (2 doubles: near and far distance from the eye; far is infinity for an
    /// infinite-far projection; an orthographic near may be <= 0, which `clip_near` does not
    /// take: clamp it to 0) and `reversed_z` (1 when the near plane has the larger NDC depth).
    /// Thread-safe.
    pub fn vksplat_camera_from_clip(
        projection: *const f32,
        view: *const f32,
        convention: u32,
        width: u32,
        height: u32,
        camera: *mut VksplatCamera,
        depth_range: *mut f64,
        reversed_z: *mut u32,
    ) -> VksplatResult;

    /// vksplat's camera from a Unity camera: `Transform.position` (3 doubles),
    /// `Transform.rotation` (x, y, z, w) and the vertical `Camera.fieldOfView` in degrees. The
    /// scene sits in Unity's world with its y axis negated (Unity's y is up, the scene's down).
    /// Thread-safe.
    pub fn vksplat_camera_from_unity(
        position: *const f64,
        rotation: *const f64,
        vertical_fov_deg: f64,
        width: u32,
        height: u32,
        camera: *mut VksplatCamera,
    ) -> VksplatResult;

    /// vksplat's camera from an Unreal camera: location in centimetres (3 doubles), rotation
    /// as an `FQuat` (x, y, z, w) and the horizontal field of view in degrees. The scene (in
    /// metres) sits in Unreal's world as X = 100·z, Y = 100·x, Z = −100·y. Thread-safe.
    pub fn vksplat_camera_from_unreal(
        location_cm: *const f64,
        rotation: *const f64,
        horizontal_fov_deg: f64,
        width: u32,
        height: u32,
        camera: *mut VksplatCamera,
    ) -> VksplatResult;

    /// Implemented by plugins, not by the engine: the one frozen entry point of a plugin
    /// library, exported with `VKSPLAT_PLUGIN_EXPORT` (type `VksplatNegotiateFn`). It must not
    /// allocate or keep state: it sets `plugin_abi_version` and `layout_fingerprint`, and when
    /// `host_abi_min <= VKSPLAT_PLUGIN_ABI_VERSION <= host_abi_max` sets `api` and returns
    /// `VKSPLAT_OK`; otherwise it returns `VKSPLAT_ERROR_ABI`.
    pub fn vksplat_plugin_negotiate(negotiation: *mut VksplatNegotiation) -> VksplatResult;
}
