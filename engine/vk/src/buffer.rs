//! Buffers and their memory.

use std::sync::{Arc, OnceLock};

use ash::vk;
use gpu_allocator::vulkan::Allocation;
pub use gpu_allocator::MemoryLocation;

use crate::memory::{Counted, MemoryClass};
use crate::{CallExt, Context, Result, VkError};

/// What a buffer is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferUsage {
    /// Read/written by shaders (also as RGBA32F texels, [`Buffer::texel_elements`]), filled and
    /// copied by transfers, read as indirect arguments.
    Storage,
    /// Host staging: transfer source/destination only.
    Staging,
}

/// How a texel binding reads a storage buffer: 16-byte texels of four f32 or four u32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TexelFormat {
    Rgba32Float,
    Rgba32Uint,
}

impl TexelFormat {
    fn vk(self) -> vk::Format {
        match self {
            TexelFormat::Rgba32Float => vk::Format::R32G32B32A32_SFLOAT,
            TexelFormat::Rgba32Uint => vk::Format::R32G32B32A32_UINT,
        }
    }
}

/// A buffer and its allocation; freed on drop.
pub struct Buffer {
    ctx: Arc<Context>,
    pub(crate) raw: vk::Buffer,
    allocation: Option<(Allocation, Counted)>,
    size: u64,
    usage: BufferUsage,
    name: String,
    /// Its texel views ([`TexelFormat`] order), made on first use as a texel binding and
    /// destroyed with it.
    texel_views: [OnceLock<vk::BufferView>; 2],
}

impl Context {
    /// Creates a buffer of `size` bytes (rounded up to a multiple of 16, at least 16). Its
    /// memory class in [`Context::memory_stats`] is its usage or its name
    /// ([`MemoryClass::of_name`]); beyond the budget it is [`VkError::Budget`].
    pub fn create_buffer(
        self: &Arc<Self>,
        name: &str,
        size: u64,
        usage: BufferUsage,
        location: MemoryLocation,
    ) -> Result<Buffer> {
        // Whole 16-byte texels, so a texel view covers every byte (`texel_elements`).
        let size = size.max(16).div_ceil(16) * 16;
        let flags = match usage {
            BufferUsage::Storage => {
                vk::BufferUsageFlags::STORAGE_BUFFER
                    | vk::BufferUsageFlags::SHADER_DEVICE_ADDRESS
                    | vk::BufferUsageFlags::TRANSFER_SRC
                    | vk::BufferUsageFlags::TRANSFER_DST
                    | vk::BufferUsageFlags::INDIRECT_BUFFER
                    | vk::BufferUsageFlags::UNIFORM_TEXEL_BUFFER
            }
            BufferUsage::Staging => {
                vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST
            }
        };
        let info = vk::BufferCreateInfo::default()
            .size(size)
            .usage(flags)
            .sharing_mode(vk::SharingMode::EXCLUSIVE);
        let class = match usage {
            BufferUsage::Staging => MemoryClass::Staging,
            BufferUsage::Storage => MemoryClass::of_name(name),
        };
        let cb = self.host_callbacks();
        // SAFETY: valid device and create info.
        let raw = unsafe { self.device.create_buffer(&info, cb) }.call("vkCreateBuffer")?;
        // SAFETY: buffer just created on this device.
        let requirements = unsafe { self.device.get_buffer_memory_requirements(raw) };
        let (allocation, counted) =
            match self.allocate_memory(name, class, requirements, location, true) {
                Ok(a) => a,
                Err(e) => {
                    // SAFETY: unbound buffer, never used.
                    unsafe { self.device.destroy_buffer(raw, cb) };
                    return Err(e);
                }
            };
        // SAFETY: memory and offset come from an allocation that satisfies `requirements`.
        if let Err(e) = unsafe {
            self.device
                .bind_buffer_memory(raw, allocation.memory(), allocation.offset())
        } {
            self.free_memory(allocation, &counted);
            // SAFETY: unbound buffer, never used.
            unsafe { self.device.destroy_buffer(raw, cb) };
            return Err(VkError::Call {
                call: "vkBindBufferMemory",
                result: e,
            });
        }
        self.set_name(raw, name);
        Ok(Buffer {
            ctx: self.clone(),
            raw,
            allocation: Some((allocation, counted)),
            size,
            usage,
            name: name.into(),
            texel_views: Default::default(),
        })
    }
}

impl Buffer {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn usage(&self) -> BufferUsage {
        self.usage
    }

    /// The 16-byte texels a texel binding of this buffer covers: all of it
    /// (sizes are whole texels). A binding is refused when that exceeds the device's
    /// `max_texel_buffer_elements` ([`crate::DeviceInfo`]), so a view never covers less than
    /// the buffer's whole texels.
    pub fn texel_elements(&self) -> u64 {
        self.size / 16
    }

    /// The view through which texel bindings read this buffer as `format`, made on first use.
    pub(crate) fn texel_view(&self, format: TexelFormat) -> Result<vk::BufferView> {
        let cell = &self.texel_views[format as usize];
        if let Some(v) = cell.get() {
            return Ok(*v);
        }
        let max = self.ctx.info().max_texel_buffer_elements;
        let texels = self.texel_elements();
        if self.usage != BufferUsage::Storage || texels == 0 || texels > max {
            return Err(VkError::Invalid(format!(
                "buffer '{}' ({} bytes) cannot be a texel binding: it must be a storage buffer \
                 of 1 to {max} 16-byte texels",
                self.name, self.size
            )));
        }
        let info = vk::BufferViewCreateInfo::default()
            .buffer(self.raw)
            .format(format.vk())
            .offset(0)
            .range(texels * 16);
        // SAFETY: a storage buffer (created with UNIFORM_TEXEL_BUFFER usage) bound to memory;
        // RGBA32F and RGBA32UI support uniform texel buffers on every Vulkan device; the range is whole
        // texels inside the buffer and within the device's limit (checked above).
        let view = unsafe {
            self.ctx
                .device
                .create_buffer_view(&info, self.ctx.host_callbacks())
        }
        .call("vkCreateBufferView")?;
        if let Err(view) = cell.set(view) {
            // Another thread made one meanwhile: keep that one.
            // SAFETY: this view was never used.
            unsafe {
                self.ctx
                    .device
                    .destroy_buffer_view(view, self.ctx.host_callbacks())
            };
        }
        Ok(*cell.get().expect("set above"))
    }

    /// The buffer's GPU address, for shaders that reach it through `buffer_reference`
    /// (storage buffers only; 0 for staging buffers). Prefer [`crate::PushConstants::address`],
    /// which ties the address to a borrow of the buffer.
    ///
    /// # Safety
    ///
    /// The address is a pointer the borrow checker cannot see. The caller must make sure that
    /// every GPU access through it completes before this buffer is dropped (for example by
    /// recording it only into a [`crate::Recorder`] that also borrows the buffer, and waiting
    /// for that submission), and that shaders access at most [`Buffer::size`] bytes through it.
    pub unsafe fn device_address(&self) -> u64 {
        if self.usage != BufferUsage::Storage {
            return 0;
        }
        let info = vk::BufferDeviceAddressInfo::default().buffer(self.raw);
        // SAFETY: storage buffers are created with SHADER_DEVICE_ADDRESS usage on a device
        // with the bufferDeviceAddress feature enabled, and are bound to memory.
        unsafe { self.ctx.device.get_buffer_device_address(&info) }
    }

    fn mapped(&self) -> Result<&[u8]> {
        self.allocation
            .as_ref()
            .and_then(|(a, _)| a.mapped_slice())
            .map(|s| &s[..self.size as usize])
            .ok_or_else(|| VkError::Invalid(format!("buffer '{}' is not host-visible", self.name)))
    }

    /// Copies `data` to the start of a host-visible buffer.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.write_at(0, data)
    }

    /// Copies `data` into a host-visible buffer at byte `offset`.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let name = self.name.clone();
        let size = self.size as usize;
        let slice = self
            .allocation
            .as_mut()
            .and_then(|(a, _)| a.mapped_slice_mut())
            .ok_or_else(|| VkError::Invalid(format!("buffer '{name}' is not host-visible")))?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match start.checked_add(data.len()) {
            Some(end) if end <= size => {
                slice[start..end].copy_from_slice(data);
                Ok(())
            }
            _ => Err(VkError::Invalid(format!(
                "write of {} bytes at {offset} into buffer '{name}' of {size} bytes",
                data.len()
            ))),
        }
    }

    /// Reads `len` bytes from the start of a host-visible buffer. The caller must have waited
    /// for the GPU work that wrote it ([`Context::submit_and_wait`] does).
    pub fn read(&self, len: usize) -> Result<&[u8]> {
        let m = self.mapped()?;
        m.get(..len).ok_or_else(|| {
            VkError::Invalid(format!("read of {len} bytes from buffer '{}'", self.name))
        })
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // Work that used this buffer was submitted with a value at most the last one; wait
        // for it before the memory can be reused.
        self.ctx.wait_for_pending();
        if let Some((a, counted)) = self.allocation.take() {
            self.ctx.free_memory(a, &counted);
        }
        // SAFETY: every submission that could use this buffer has completed (waited above;
        // a recorder that was never submitted no longer borrows it); the view goes first.
        unsafe {
            for view in self.texel_views.iter_mut().filter_map(OnceLock::take) {
                self.ctx
                    .device
                    .destroy_buffer_view(view, self.ctx.host_callbacks());
            }
            self.ctx
                .device
                .destroy_buffer(self.raw, self.ctx.host_callbacks())
        };
    }
}
