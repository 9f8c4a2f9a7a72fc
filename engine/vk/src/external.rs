//! A host's images and buffers that frames are copied into (GPU-side output, no readback).
//!
//! The engine does not own these objects: a host creates them, promises their validity when
//! it wraps them (`unsafe` constructors) and keeps them alive until the submissions that
//! write them have completed. Copies record their own layout transitions and barriers: the
//! image goes from the host's current layout to `TRANSFER_DST_OPTIMAL` (after every earlier
//! write on the queue, host work included), is written, and is left in the layout the host
//! asked for, with the write visible to any later command on the queue.

use ash::vk;

use crate::{Buffer, Context, Recorder, Result, VkError};

/// Image formats a frame's colour can be copied into without conversion.
pub const COLOR_FORMATS: [vk::Format; 1] = [vk::Format::R32G32B32A32_SFLOAT];
/// Image formats a frame's depth can be copied into without conversion.
pub const DEPTH_FORMATS: [vk::Format; 2] = [vk::Format::R32_SFLOAT, vk::Format::D32_SFLOAT];

/// A host's 2D image: written at mip level 0, array layer 0.
#[derive(Clone, Copy, Debug)]
pub struct ExternalImage {
    raw: vk::Image,
    format: vk::Format,
    width: u32,
    height: u32,
    old_layout: vk::ImageLayout,
    new_layout: vk::ImageLayout,
}

impl ExternalImage {
    /// # Safety
    ///
    /// `raw` is an image of the context's device, created with `format`, at least
    /// `width`×`height` texels, `VK_IMAGE_USAGE_TRANSFER_DST_BIT`, one sample and optimal or
    /// linear tiling, owned by the context's queue family (or concurrent), in `old_layout`
    /// (or `UNDEFINED`, which discards its contents) when the submission that writes it runs.
    /// It stays valid until every submission that records it has completed.
    pub unsafe fn from_raw(
        raw: vk::Image,
        format: vk::Format,
        width: u32,
        height: u32,
        old_layout: vk::ImageLayout,
        new_layout: vk::ImageLayout,
    ) -> Self {
        ExternalImage {
            raw,
            format,
            width,
            height,
            old_layout,
            new_layout,
        }
    }

    pub fn format(&self) -> vk::Format {
        self.format
    }

    fn aspect(&self) -> vk::ImageAspectFlags {
        if self.format == vk::Format::D32_SFLOAT {
            vk::ImageAspectFlags::DEPTH
        } else {
            vk::ImageAspectFlags::COLOR
        }
    }
}

/// A host's buffer: written at an offset.
#[derive(Clone, Copy, Debug)]
pub struct ExternalBuffer {
    raw: vk::Buffer,
    size: u64,
}

impl ExternalBuffer {
    /// # Safety
    ///
    /// `raw` is a buffer of the context's device of at least `size` bytes, bound to memory,
    /// created with `VK_BUFFER_USAGE_TRANSFER_DST_BIT`, owned by the context's queue family
    /// (or concurrent), valid until every submission that records it has completed.
    pub unsafe fn from_raw(raw: vk::Buffer, size: u64) -> Self {
        ExternalBuffer { raw, size }
    }

    pub fn size(&self) -> u64 {
        self.size
    }
}

fn check_layout(layout: vk::ImageLayout, what: &str, allow_undefined: bool) -> Result<()> {
    let ok = [
        vk::ImageLayout::GENERAL,
        vk::ImageLayout::TRANSFER_DST_OPTIMAL,
        vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
        vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
        vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
        vk::ImageLayout::DEPTH_STENCIL_ATTACHMENT_OPTIMAL,
        vk::ImageLayout::DEPTH_STENCIL_READ_ONLY_OPTIMAL,
        vk::ImageLayout::DEPTH_ATTACHMENT_OPTIMAL,
        vk::ImageLayout::DEPTH_READ_ONLY_OPTIMAL,
        vk::ImageLayout::READ_ONLY_OPTIMAL,
        vk::ImageLayout::ATTACHMENT_OPTIMAL,
    ];
    if ok.contains(&layout) || (allow_undefined && layout == vk::ImageLayout::UNDEFINED) {
        Ok(())
    } else {
        Err(VkError::Invalid(format!(
            "{what} layout {layout:?} is not one vksplat transitions from or to"
        )))
    }
}

impl Context {
    /// Checks that `image` can receive a frame's colour (`depth` false) or depth of
    /// `width`×`height` pixels on this device: a supported format that the device can copy
    /// into, the frame's size, supported layouts. The error names what is wrong.
    pub fn check_output_image(
        &self,
        image: &ExternalImage,
        depth: bool,
        width: u32,
        height: u32,
    ) -> Result<()> {
        let what = if depth { "depth image" } else { "colour image" };
        let formats: &[vk::Format] = if depth {
            &DEPTH_FORMATS
        } else {
            &COLOR_FORMATS
        };
        if !formats.contains(&image.format) {
            return Err(VkError::Invalid(format!(
                "{what} format {:?} is not supported (supported: {formats:?})",
                image.format
            )));
        }
        if (image.width, image.height) != (width, height) {
            return Err(VkError::Invalid(format!(
                "{what} is {}x{} but the camera is {width}x{height}",
                image.width, image.height
            )));
        }
        check_layout(image.old_layout, &format!("{what}'s current"), true)?;
        check_layout(image.new_layout, &format!("{what}'s final"), false)?;
        let props = self.format_properties(image.format);
        if !props
            .optimal_tiling_features
            .contains(vk::FormatFeatureFlags::TRANSFER_DST)
        {
            return Err(VkError::Invalid(format!(
                "{what} format {:?}: {} cannot copy into it (no TRANSFER_DST format feature)",
                image.format,
                self.info().name
            )));
        }
        Ok(())
    }

    fn format_properties(&self, format: vk::Format) -> vk::FormatProperties {
        // SAFETY: the physical device belongs to the instance.
        unsafe {
            self.instance
                .get_physical_device_format_properties(self.physical_device, format)
        }
    }
}

impl<'a> Recorder<'a> {
    /// Copies `image`'s width × height tightly packed texels from `src` at `src_offset` into
    /// the host image, with the layout transitions and barriers of the module docs. Earlier
    /// writes of `src` must have been made visible to transfers ([`Recorder::barrier`]).
    pub fn copy_to_image(
        &mut self,
        src: &'a Buffer,
        src_offset: u64,
        image: &ExternalImage,
    ) -> Result<()> {
        let texel = if image.format == vk::Format::R32G32B32A32_SFLOAT {
            16
        } else {
            4
        };
        let bytes = image.width as u64 * image.height as u64 * texel;
        if src_offset + bytes > src.size() || !src_offset.is_multiple_of(4) {
            return Err(VkError::Invalid(format!(
                "copy of {bytes} bytes from '{}'+{src_offset} into an image out of range",
                src.name()
            )));
        }
        let range = vk::ImageSubresourceRange::default()
            .aspect_mask(image.aspect())
            .level_count(1)
            .layer_count(1);
        let to_dst = [vk::ImageMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::MEMORY_WRITE | vk::AccessFlags::MEMORY_READ)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .old_layout(image.old_layout)
            .new_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(image.raw)
            .subresource_range(range)];
        let region = [vk::BufferImageCopy::default()
            .buffer_offset(src_offset)
            .image_subresource(
                vk::ImageSubresourceLayers::default()
                    .aspect_mask(image.aspect())
                    .layer_count(1),
            )
            .image_extent(vk::Extent3D {
                width: image.width,
                height: image.height,
                depth: 1,
            })];
        let to_final = [vk::ImageMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::MEMORY_READ | vk::AccessFlags::MEMORY_WRITE)
            .old_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
            .new_layout(image.new_layout)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(image.raw)
            .subresource_range(range)];
        let dev = &self.ctx.device;
        // SAFETY: recording state; the image's validity, usage, size and layouts were promised
        // by `ExternalImage::from_raw` (and checked by `check_output_image`); the source range
        // was checked above.
        unsafe {
            dev.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &[],
                &[],
                &to_dst,
            );
            dev.cmd_copy_buffer_to_image(
                self.cmd,
                src.raw,
                image.raw,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &region,
            );
            dev.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::DependencyFlags::empty(),
                &[],
                &[],
                &to_final,
            );
        }
        Ok(())
    }

    /// Copies `size` bytes from `src` at `src_offset` into the host buffer at `dst_offset`,
    /// then makes the write visible to any later command on the queue.
    pub fn copy_to_external_buffer(
        &mut self,
        src: &'a Buffer,
        src_offset: u64,
        dst: &ExternalBuffer,
        dst_offset: u64,
        size: u64,
    ) -> Result<()> {
        if src_offset + size > src.size() || dst_offset.saturating_add(size) > dst.size {
            return Err(VkError::Invalid(format!(
                "copy of {size} bytes from '{}'+{src_offset} into a host buffer of {} bytes at \
                 {dst_offset} out of range",
                src.name(),
                dst.size
            )));
        }
        let region = [vk::BufferCopy::default()
            .src_offset(src_offset)
            .dst_offset(dst_offset)
            .size(size)];
        let before = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::MEMORY_WRITE | vk::AccessFlags::MEMORY_READ)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)];
        let after = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::MEMORY_READ | vk::AccessFlags::MEMORY_WRITE)];
        let dev = &self.ctx.device;
        // SAFETY: recording state; the buffer's validity, usage and size were promised by
        // `ExternalBuffer::from_raw`; both ranges were checked above.
        unsafe {
            dev.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &before,
                &[],
                &[],
            );
            dev.cmd_copy_buffer(self.cmd, src.raw, dst.raw, &region);
            dev.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::DependencyFlags::empty(),
                &after,
                &[],
                &[],
            );
        }
        Ok(())
    }
}
