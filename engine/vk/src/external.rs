//! A host's images and buffers that frames are copied into (GPU-side output, no readback).
//!
//! The engine does not own these objects: a host creates them, promises their validity when
//! it wraps them (`unsafe` constructors) and keeps them alive until the submissions that
//! write them have completed. Copies record their own layout transitions and barriers: the
//! image goes from the host's current layout to `TRANSFER_DST_OPTIMAL` (after every earlier
//! write on the queue, host work included), is written, and is left in the layout the host
//! asked for, with the write visible to any later command on the queue.

use std::marker::PhantomData;
use std::sync::Arc;

use ash::vk;
use gpu_allocator::vulkan::Allocation;
use gpu_allocator::MemoryLocation;

use crate::memory::{Counted, MemoryClass};
use crate::{Buffer, CallExt, Context, Recorder, Result, VkError};

/// Image formats a frame's colour can be copied into without conversion.
pub const COLOR_FORMATS: [vk::Format; 1] = [vk::Format::R32G32B32A32_SFLOAT];
/// Image formats a frame's depth can be copied into without conversion.
pub const DEPTH_FORMATS: [vk::Format; 2] = [vk::Format::R32_SFLOAT, vk::Format::D32_SFLOAT];
/// Image formats a host's depth (an occluder) can be read from: their depth (or only) aspect
/// copies as f32, 16-bit or 24-in-32-bit unsigned normalised texels.
pub const OCCLUDER_FORMATS: [vk::Format; 6] = [
    vk::Format::D32_SFLOAT,
    vk::Format::R32_SFLOAT,
    vk::Format::D32_SFLOAT_S8_UINT,
    vk::Format::D16_UNORM,
    vk::Format::X8_D24_UNORM_PACK32,
    vk::Format::D24_UNORM_S8_UINT,
];

/// A host's 2D image (or an [`OwnedImage`] for the lifetime `'a`): written at mip level 0,
/// array layer 0.
#[derive(Clone, Copy, Debug)]
pub struct ExternalImage<'a> {
    raw: vk::Image,
    format: vk::Format,
    width: u32,
    height: u32,
    old_layout: vk::ImageLayout,
    new_layout: vk::ImageLayout,
    _owner: PhantomData<&'a ()>,
}

impl ExternalImage<'static> {
    /// # Safety
    ///
    /// `raw` is an image of the context's device, created with `format`, at least
    /// `width`×`height` texels, `VK_IMAGE_USAGE_TRANSFER_DST_BIT` (a target; an occluder, which is
    /// read, needs `VK_IMAGE_USAGE_TRANSFER_SRC_BIT` instead), one sample and optimal or
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
            _owner: PhantomData,
        }
    }
}

impl ExternalImage<'_> {
    pub fn format(&self) -> vk::Format {
        self.format
    }

    /// The aspect copied: depth for depth formats, else colour.
    fn aspect(&self) -> vk::ImageAspectFlags {
        match self.format {
            vk::Format::D32_SFLOAT
            | vk::Format::D16_UNORM
            | vk::Format::X8_D24_UNORM_PACK32
            | vk::Format::D32_SFLOAT_S8_UINT
            | vk::Format::D24_UNORM_S8_UINT => vk::ImageAspectFlags::DEPTH,
            _ => vk::ImageAspectFlags::COLOR,
        }
    }

    /// The aspects a layout transition names: both for depth/stencil formats.
    fn barrier_aspect(&self) -> vk::ImageAspectFlags {
        match self.format {
            vk::Format::D32_SFLOAT_S8_UINT | vk::Format::D24_UNORM_S8_UINT => {
                vk::ImageAspectFlags::DEPTH | vk::ImageAspectFlags::STENCIL
            }
            _ => self.aspect(),
        }
    }

    /// The two layout transitions and the region of a copy between this image's width ×
    /// height texels (its copied aspect) and a buffer at `buffer_offset`, tightly packed:
    /// from the current layout to the transfer layout after every earlier access on the queue,
    /// then to the final layout before every later one. The transitions name
    /// [`Self::barrier_aspect`], which is [`Self::aspect`] for every format a target accepts.
    fn copy_parts(
        &self,
        buffer_offset: u64,
        way: CopyWay,
    ) -> (
        [vk::ImageMemoryBarrier<'static>; 1],
        [vk::BufferImageCopy; 1],
        [vk::ImageMemoryBarrier<'static>; 1],
    ) {
        let (layout, access) = match way {
            CopyWay::ToImage => (
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                vk::AccessFlags::TRANSFER_WRITE,
            ),
            CopyWay::FromImage => (
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                vk::AccessFlags::TRANSFER_READ,
            ),
        };
        let range = vk::ImageSubresourceRange::default()
            .aspect_mask(self.barrier_aspect())
            .level_count(1)
            .layer_count(1);
        let to_transfer = [vk::ImageMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::MEMORY_WRITE | vk::AccessFlags::MEMORY_READ)
            .dst_access_mask(access)
            .old_layout(self.old_layout)
            .new_layout(layout)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(self.raw)
            .subresource_range(range)];
        let region = [vk::BufferImageCopy::default()
            .buffer_offset(buffer_offset)
            .image_subresource(
                vk::ImageSubresourceLayers::default()
                    .aspect_mask(self.aspect())
                    .layer_count(1),
            )
            .image_extent(vk::Extent3D {
                width: self.width,
                height: self.height,
                depth: 1,
            })];
        let to_final = [vk::ImageMemoryBarrier::default()
            .src_access_mask(access)
            .dst_access_mask(vk::AccessFlags::MEMORY_READ | vk::AccessFlags::MEMORY_WRITE)
            .old_layout(layout)
            .new_layout(self.new_layout)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(self.raw)
            .subresource_range(range)];
        (to_transfer, region, to_final)
    }

    /// Bytes of one texel of the copied aspect (tightly packed in a buffer).
    pub fn texel_bytes(&self) -> u64 {
        match self.format {
            vk::Format::R32G32B32A32_SFLOAT => 16,
            vk::Format::D16_UNORM => 2,
            _ => 4,
        }
    }
}

/// Which way [`ExternalImage::copy_parts`] copies.
#[derive(Clone, Copy, Debug)]
enum CopyWay {
    /// A buffer into the image (a frame target).
    ToImage,
    /// The image into a buffer (an occluder).
    FromImage,
}

/// A device-local 2D image the engine owns (benchmarks and tests of GPU-side output without a
/// host device): transfer source and destination, optimal tiling. Freed on drop, after the
/// pending submissions.
pub struct OwnedImage {
    ctx: Arc<Context>,
    raw: vk::Image,
    allocation: Option<(Allocation, Counted)>,
    format: vk::Format,
    width: u32,
    height: u32,
}

impl Context {
    /// Creates a `width`×`height` image of `format` in device-local memory.
    pub fn create_image(
        self: &Arc<Self>,
        name: &str,
        format: vk::Format,
        width: u32,
        height: u32,
    ) -> Result<OwnedImage> {
        let info = vk::ImageCreateInfo::default()
            .image_type(vk::ImageType::TYPE_2D)
            .format(format)
            .extent(vk::Extent3D {
                width,
                height,
                depth: 1,
            })
            .mip_levels(1)
            .array_layers(1)
            .samples(vk::SampleCountFlags::TYPE_1)
            .tiling(vk::ImageTiling::OPTIMAL)
            .usage(vk::ImageUsageFlags::TRANSFER_DST | vk::ImageUsageFlags::TRANSFER_SRC)
            .initial_layout(vk::ImageLayout::UNDEFINED);
        let cb = self.host_callbacks();
        // SAFETY: valid device and create info.
        let raw = unsafe { self.device.create_image(&info, cb) }.call("vkCreateImage")?;
        // SAFETY: image just created on this device.
        let requirements = unsafe { self.device.get_image_memory_requirements(raw) };
        let class = MemoryClass::of_name(name);
        let allocation =
            match self.allocate_memory(name, class, requirements, MemoryLocation::GpuOnly, false) {
                Ok(a) => a,
                Err(e) => {
                    // SAFETY: unbound image, never used.
                    unsafe { self.device.destroy_image(raw, cb) };
                    return Err(e);
                }
            };
        let image = OwnedImage {
            ctx: self.clone(),
            raw,
            allocation: Some(allocation),
            format,
            width,
            height,
        };
        let (a, _) = image.allocation.as_ref().expect("just set");
        // SAFETY: memory and offset from an allocation that satisfies the requirements; on
        // failure `image`'s Drop frees both.
        unsafe { self.device.bind_image_memory(raw, a.memory(), a.offset()) }
            .call("vkBindImageMemory")?;
        self.set_name(raw, name);
        Ok(image)
    }
}

impl OwnedImage {
    /// The image as a frame target, from layout `old` to `new`, for as long as it is borrowed.
    pub fn target(&self, old: vk::ImageLayout, new: vk::ImageLayout) -> ExternalImage<'_> {
        ExternalImage {
            raw: self.raw,
            format: self.format,
            width: self.width,
            height: self.height,
            old_layout: old,
            new_layout: new,
            _owner: PhantomData,
        }
    }
}

impl Drop for OwnedImage {
    fn drop(&mut self) {
        self.ctx.wait_for_pending();
        if let Some((a, counted)) = self.allocation.take() {
            self.ctx.free_memory(a, &counted);
        }
        // SAFETY: every submission that could use the image has completed (waited above).
        unsafe {
            self.ctx
                .device
                .destroy_image(self.raw, self.ctx.host_callbacks())
        };
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
    /// created with `VK_BUFFER_USAGE_TRANSFER_DST_BIT` (a target) or
    /// `VK_BUFFER_USAGE_TRANSFER_SRC_BIT` (read by [`Recorder::copy_from_external_buffer`]), owned by the context's queue family
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
        image: &ExternalImage<'_>,
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
        self.check_image(image, what, formats, width, height, CopyWay::ToImage)
    }

    /// Checks that `image` can be read as a host depth (an occluder) of `width`×`height`
    /// pixels: a format of [`OCCLUDER_FORMATS`] the device can copy from, the frame's size, a
    /// defined current layout (its contents are read) and a supported final layout.
    pub fn check_occluder_image(
        &self,
        image: &ExternalImage<'_>,
        width: u32,
        height: u32,
    ) -> Result<()> {
        self.check_image(
            image,
            "host depth image",
            &OCCLUDER_FORMATS,
            width,
            height,
            CopyWay::FromImage,
        )
    }

    /// The checks of an image a frame copies into (`ToImage`: any current layout, `UNDEFINED`
    /// included, as its contents are overwritten) or reads (`FromImage`: a defined current
    /// layout): one of `formats`, `width`×`height`, supported layouts, and the device's
    /// transfer feature for the format. The errors name `what`.
    fn check_image(
        &self,
        image: &ExternalImage<'_>,
        what: &str,
        formats: &[vk::Format],
        width: u32,
        height: u32,
        way: CopyWay,
    ) -> Result<()> {
        let (allow_undefined, feature, feature_name, into_or_from) = match way {
            CopyWay::ToImage => (
                true,
                vk::FormatFeatureFlags::TRANSFER_DST,
                "TRANSFER_DST",
                "into",
            ),
            CopyWay::FromImage => (
                false,
                vk::FormatFeatureFlags::TRANSFER_SRC,
                "TRANSFER_SRC",
                "from",
            ),
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
        check_layout(
            image.old_layout,
            &format!("{what}'s current"),
            allow_undefined,
        )?;
        check_layout(image.new_layout, &format!("{what}'s final"), false)?;
        let props = self.format_properties(image.format);
        if !props.optimal_tiling_features.contains(feature) {
            return Err(VkError::Invalid(format!(
                "{what} format {:?}: {} cannot copy {into_or_from} it (no {feature_name} format \
                 feature)",
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
        image: &ExternalImage<'_>,
    ) -> Result<()> {
        let bytes = image.width as u64 * image.height as u64 * image.texel_bytes();
        if src_offset + bytes > src.size() || !src_offset.is_multiple_of(4) {
            return Err(VkError::Invalid(format!(
                "copy of {bytes} bytes from '{}'+{src_offset} into an image out of range",
                src.name()
            )));
        }
        let (to_dst, region, to_final) = image.copy_parts(src_offset, CopyWay::ToImage);
        let dev = &self.ctx.device;
        // SAFETY: recording state; the image's validity, usage, size and layouts were promised
        // by `ExternalImage::from_raw` (and checked by `check_output_image`); the source range
        // was checked above.
        unsafe {
            self.transfer_barrier(true, &[], &to_dst);
            dev.cmd_copy_buffer_to_image(
                self.cmd,
                src.raw,
                image.raw,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &region,
            );
            self.transfer_barrier(false, &[], &to_final);
        }
        Ok(())
    }

    /// Records a barrier into transfers from every earlier command (`into_transfer`), or from
    /// transfers into every later command, with `memory` and `images` barriers.
    ///
    /// # Safety
    /// The recorder must be recording; the barriers must name valid objects of this device.
    unsafe fn transfer_barrier(
        &self,
        into_transfer: bool,
        memory: &[vk::MemoryBarrier],
        images: &[vk::ImageMemoryBarrier],
    ) {
        let (src, dst) = if into_transfer {
            (
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::PipelineStageFlags::TRANSFER,
            )
        } else {
            (
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::ALL_COMMANDS,
            )
        };
        // SAFETY: promised by the caller.
        unsafe {
            self.ctx.device.cmd_pipeline_barrier(
                self.cmd,
                src,
                dst,
                vk::DependencyFlags::empty(),
                memory,
                &[],
                images,
            )
        };
    }

    /// Records `region` copied from `src` to `dst` after every earlier access on the queue;
    /// with `visible_after`, the written range is made visible to every later command.
    ///
    /// # Safety
    /// The recorder must be recording; both buffers must be valid, usable as transfer source
    /// and destination, and hold the region's ranges.
    unsafe fn copy_buffer_raw(
        &mut self,
        src: vk::Buffer,
        dst: vk::Buffer,
        region: vk::BufferCopy,
        visible_after: bool,
    ) {
        let dst_access = if visible_after {
            vk::AccessFlags::TRANSFER_WRITE
        } else {
            vk::AccessFlags::TRANSFER_READ | vk::AccessFlags::TRANSFER_WRITE
        };
        let before = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::MEMORY_WRITE | vk::AccessFlags::MEMORY_READ)
            .dst_access_mask(dst_access)];
        let after = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::MEMORY_READ | vk::AccessFlags::MEMORY_WRITE)];
        let dev = &self.ctx.device;
        // SAFETY: promised by the caller.
        unsafe {
            self.transfer_barrier(true, &before, &[]);
            dev.cmd_copy_buffer(self.cmd, src, dst, &[region]);
            if visible_after {
                self.transfer_barrier(false, &after, &[]);
            }
        }
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
        let region = vk::BufferCopy::default()
            .src_offset(src_offset)
            .dst_offset(dst_offset)
            .size(size);
        // SAFETY: the buffer's validity, usage and size were promised by
        // `ExternalBuffer::from_raw`; both ranges were checked above.
        unsafe { self.copy_buffer_raw(src.raw, dst.raw, region, true) };
        Ok(())
    }

    /// Copies a host image's width × height texels (its depth aspect for depth formats) into
    /// `dst` at `dst_offset`, tightly packed: the image goes from its current layout to
    /// `TRANSFER_SRC_OPTIMAL` after every earlier access on the queue (the host's depth writes
    /// included) and is left in its final layout; `dst` must be made visible to later reads
    /// ([`Recorder::barrier`]).
    pub fn copy_from_image(
        &mut self,
        image: &ExternalImage<'_>,
        dst: &'a Buffer,
        dst_offset: u64,
    ) -> Result<()> {
        let bytes = image.width as u64 * image.height as u64 * image.texel_bytes();
        if dst_offset + bytes > dst.size() || !dst_offset.is_multiple_of(4) {
            return Err(VkError::Invalid(format!(
                "copy of {bytes} bytes from an image into '{}'+{dst_offset} out of range",
                dst.name()
            )));
        }
        let (to_src, region, to_final) = image.copy_parts(dst_offset, CopyWay::FromImage);
        let before = [vk::MemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::MEMORY_WRITE | vk::AccessFlags::MEMORY_READ)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)];
        let dev = &self.ctx.device;
        // SAFETY: recording state; the image's validity, usage (TRANSFER_SRC), size and
        // layouts were promised by `ExternalImage::from_raw` and checked by
        // `check_occluder_image`; the destination range was checked above.
        unsafe {
            self.transfer_barrier(true, &before, &to_src);
            dev.cmd_copy_image_to_buffer(
                self.cmd,
                image.raw,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                dst.raw,
                &region,
            );
            self.transfer_barrier(false, &[], &to_final);
        }
        Ok(())
    }

    /// Copies `size` bytes of a host buffer at `src_offset` into `dst` at `dst_offset`, after
    /// every earlier access on the queue; `dst` must be made visible to later reads
    /// ([`Recorder::barrier`]). The host buffer needs `VK_BUFFER_USAGE_TRANSFER_SRC_BIT`.
    pub fn copy_from_external_buffer(
        &mut self,
        src: &ExternalBuffer,
        src_offset: u64,
        dst: &'a Buffer,
        dst_offset: u64,
        size: u64,
    ) -> Result<()> {
        if src_offset.saturating_add(size) > src.size || dst_offset + size > dst.size() {
            return Err(VkError::Invalid(format!(
                "copy of {size} bytes from a host buffer of {} bytes at {src_offset} into \
                 '{}'+{dst_offset} out of range",
                src.size,
                dst.name()
            )));
        }
        let region = vk::BufferCopy::default()
            .src_offset(src_offset)
            .dst_offset(dst_offset)
            .size(size);
        // SAFETY: the buffer's validity, usage and size were promised by
        // `ExternalBuffer::from_raw`; both ranges were checked above.
        unsafe { self.copy_buffer_raw(src.raw, dst.raw, region, false) };
        Ok(())
    }
}
