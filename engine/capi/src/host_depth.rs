//! `VksplatHostDepth`: a host's depth that occludes splats per pixel, chained into a render
//! descriptor (README, "Embedding in a game engine"; the rule is `vksplat_core::host_depth`'s).
//! Read and checked here once for every render entry point.

use vksplat_core::{DepthConvention, DepthRange, Occluder, OccluderSource};
use vksplat_vk::raw::{self, Handle};
use vksplat_vk::{ExternalBuffer, ExternalImage};

use super::*;

/// Where the host's depth is.
enum Source {
    Values(*const f32, usize),
    Image(ExternalImage<'static>),
    Buffer(ExternalBuffer, u64),
}

/// A checked `VksplatHostDepth`, its objects wrapped.
pub(crate) struct HostDepthArg {
    convention: DepthConvention,
    source: Source,
}

impl HostDepthArg {
    /// The host depth chained into `desc`, if any, for a `width`×`height` frame. `family` is
    /// the context's queue family when the call takes Vulkan objects (`None`: host memory
    /// only, naming `call`).
    ///
    /// # Safety
    /// `desc` is NULL or a readable `VksplatRenderDesc` with a valid chain; a chained
    /// `VksplatHostDepth` holds what the header says: `values` readable for `value_count`
    /// floats during the call, `image`/`buffer` valid as stated until the frame has finished
    /// (an image of the frame's size).
    pub(crate) unsafe fn read(
        desc: *const VksplatRenderDesc,
        family: Option<u32>,
        width: u32,
        height: u32,
        call: &str,
    ) -> Result<Option<Self>> {
        if desc.is_null() {
            return Ok(None);
        }
        // SAFETY: the caller guarantees a readable descriptor (read and checked before).
        let d = unsafe { grow::read(desc, "desc")? };
        // SAFETY: the caller guarantees a valid chain.
        let Some(h) = (unsafe { grow::find::<VksplatHostDepth>(d.next, "desc.next")? }) else {
            return Ok(None);
        };
        let range = match h.convention {
            VKSPLAT_HOST_DEPTH_LINEAR => DepthRange::Linear,
            VKSPLAT_HOST_DEPTH_ZERO_TO_ONE => DepthRange::ZeroToOne,
            VKSPLAT_HOST_DEPTH_MINUS_ONE_TO_ONE => DepthRange::MinusOneToOne,
            other => {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!(
                        "host depth: convention {other} is unknown (VKSPLAT_HOST_DEPTH_LINEAR, \
                         _ZERO_TO_ONE or _MINUS_ONE_TO_ONE)"
                    ),
                )
            }
        };
        let known = VKSPLAT_HOST_DEPTH_REVERSED | VKSPLAT_HOST_DEPTH_ORTHOGRAPHIC;
        if h.flags & !known != 0 {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                format!("host depth: flags {:#x} unknown", h.flags & !known),
            );
        }
        let convention = if range == DepthRange::Linear {
            if h.flags != 0 || h.depth_near != 0.0 || h.depth_far != 0.0 {
                return err(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    "host depth: a linear depth has no flags, depth_near or depth_far (leave \
                     them 0)",
                );
            }
            DepthConvention::LINEAR
        } else {
            DepthConvention {
                range,
                near: h.depth_near,
                far: h.depth_far,
                reversed: h.flags & VKSPLAT_HOST_DEPTH_REVERSED != 0,
                orthographic: h.flags & VKSPLAT_HOST_DEPTH_ORTHOGRAPHIC != 0,
            }
        };
        if let Err(e) = convention.params() {
            return err(VKSPLAT_ERROR_INVALID_ARGUMENT, format!("host depth: {e}"));
        }
        let sources = [!h.values.is_null(), h.image != 0, h.buffer != 0];
        if sources.iter().filter(|s| **s).count() != 1 {
            return err(
                VKSPLAT_ERROR_INVALID_ARGUMENT,
                "host depth: set exactly one of values, image and buffer",
            );
        }
        if family.is_none() && h.values.is_null() {
            return err(
                VKSPLAT_ERROR_UNSUPPORTED,
                format!(
                    "host depth: {call} reads the host depth from host memory (values); a \
                     VkImage or VkBuffer is read by vksplat_render_vulkan and \
                     vksplat_render_record"
                ),
            );
        }
        let source = if !h.values.is_null() {
            let count = usize::try_from(h.value_count).map_err(|_| {
                Error(
                    VKSPLAT_ERROR_INVALID_ARGUMENT,
                    format!("host depth: value_count {} is too large", h.value_count),
                )
            })?;
            Source::Values(h.values, count)
        } else if h.image != 0 {
            let ours = family.expect("checked above");
            if h.image_queue_family != raw::QUEUE_FAMILY_IGNORED && h.image_queue_family != ours {
                return err(
                    VKSPLAT_ERROR_UNSUPPORTED,
                    format!(
                        "host depth: image_queue_family is {}, but vksplat submits on family \
                         {ours}: transfer the image's ownership to it first, or share it \
                         concurrently and pass VK_QUEUE_FAMILY_IGNORED",
                        h.image_queue_family
                    ),
                );
            }
            let layout = raw::ImageLayout::from_raw(h.image_layout as i32);
            // SAFETY: the caller's promise (the header's): an image of the context's device,
            // of this format, usage TRANSFER_SRC, in `layout` when the frame runs, valid until
            // it has finished, of the frame's size (Vulkan cannot be asked an image's extent).
            Source::Image(unsafe {
                ExternalImage::from_raw(
                    raw::Image::from_raw(h.image),
                    raw::Format::from_raw(h.image_format as i32),
                    width,
                    height,
                    layout,
                    layout,
                )
            })
        } else {
            // SAFETY: the caller's promise: a buffer of the context's device of `buffer_size`
            // bytes with TRANSFER_SRC, valid until the frame has finished.
            let buffer =
                unsafe { ExternalBuffer::from_raw(raw::Buffer::from_raw(h.buffer), h.buffer_size) };
            Source::Buffer(buffer, h.buffer_offset)
        };
        Ok(Some(HostDepthArg { convention, source }))
    }

    /// The renderer's view.
    pub(crate) fn occluder(&self) -> Occluder<'_> {
        let source = match &self.source {
            Source::Values(p, count) => {
                // SAFETY: the caller of `read` promised `count` readable floats during the
                // call, which this view does not outlive (the renderer copies them while
                // recording).
                let values = unsafe { std::slice::from_raw_parts(*p, *count) };
                OccluderSource::Values(values)
            }
            Source::Image(img) => OccluderSource::Image(img),
            Source::Buffer(buffer, offset) => OccluderSource::Buffer {
                buffer,
                offset: *offset,
            },
        };
        Occluder {
            source,
            convention: self.convention,
        }
    }
}

/// A renderer error of an occluded frame: a refused request (the host depth's size, image or
/// buffer) is an invalid argument.
pub(crate) fn request_error(e: vksplat_core::CoreError) -> Error {
    match e {
        vksplat_core::CoreError::InvalidRequest(m) => Error(VKSPLAT_ERROR_INVALID_ARGUMENT, m),
        e => e.into(),
    }
}
