//! Push constants that borrow the buffers whose addresses they carry.
//!
//! Shaders reach large arrays through buffer device addresses passed in push constants. A raw
//! address outliving its buffer is a GPU use-after-free that no borrow checker sees, so the
//! safe way to put an address into push constants is [`PushConstants::address`], which takes
//! `&'a Buffer`: a [`crate::Recorder`] of lifetime `'a` then keeps the buffer alive until
//! its work has completed. A pipeline knows at which offsets its shader reads addresses
//! ([`crate::spirv::Interface::address_offsets`]); a dispatch whose push constants did not
//! fill each of those offsets from a buffer is refused.

use std::marker::PhantomData;

use crate::{Buffer, BufferUsage, Result, VkError};

/// Vulkan guarantees at least 128 bytes of push constants; the engine uses no more.
pub const MAX_PUSH_CONSTANT_SIZE: usize = 128;

/// The push constants of one dispatch, with the lifetime of the buffers they address.
#[derive(Clone, Copy)]
pub struct PushConstants<'a> {
    bytes: [u8; MAX_PUSH_CONSTANT_SIZE],
    len: usize,
    /// Bit k: bytes 8k..8k+8 hold the address of a buffer borrowed for `'a`.
    address_slots: u16,
    _borrows: PhantomData<&'a Buffer>,
}

impl<'a> PushConstants<'a> {
    /// No push constants.
    pub fn none() -> Self {
        PushConstants {
            bytes: [0; MAX_PUSH_CONSTANT_SIZE],
            len: 0,
            address_slots: 0,
            _borrows: PhantomData,
        }
    }

    /// Plain data (no addresses yet): a `#[repr(C)]` block's bytes.
    pub fn from_bytes(data: &[u8]) -> Result<Self> {
        if data.len() > MAX_PUSH_CONSTANT_SIZE || !data.len().is_multiple_of(4) {
            return Err(VkError::Invalid(format!(
                "push constants of {} bytes (a multiple of 4, at most {MAX_PUSH_CONSTANT_SIZE})",
                data.len()
            )));
        }
        let mut p = Self::none();
        p.bytes[..data.len()].copy_from_slice(data);
        p.len = data.len();
        Ok(p)
    }

    /// Writes `buffer`'s device address at byte `offset` (8-byte aligned, inside the block).
    /// The block then borrows the buffer, so it cannot be dropped while a recorder that
    /// dispatches with this block is alive.
    pub fn address(mut self, offset: usize, buffer: &'a Buffer) -> Result<Self> {
        if !offset.is_multiple_of(8) || offset + 8 > self.len {
            return Err(VkError::Invalid(format!(
                "address of '{}' at push-constant byte {offset} of {}: must be 8-byte aligned \
                 and inside the block",
                buffer.name(),
                self.len
            )));
        }
        if buffer.usage() != BufferUsage::Storage {
            return Err(VkError::Invalid(format!(
                "buffer '{}' is a staging buffer and has no device address",
                buffer.name()
            )));
        }
        // SAFETY: the address goes only into this block, whose lifetime `'a` borrows
        // `buffer`; a Recorder<'a> that dispatches it keeps the buffer alive until the work
        // has been waited on. The pipeline's shader was checked (or promised, for the unsafe
        // constructor) to read addresses only at its declared offsets, each filled here.
        let address = unsafe { buffer.device_address() };
        self.bytes[offset..offset + 8].copy_from_slice(&address.to_le_bytes());
        self.address_slots |= 1 << (offset / 8);
        Ok(self)
    }

    /// The bytes passed to `vkCmdPushConstants`.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Whether byte `offset` starts an address written by [`PushConstants::address`].
    pub fn holds_address_at(&self, offset: u32) -> bool {
        offset.is_multiple_of(8)
            && (offset as usize) < MAX_PUSH_CONSTANT_SIZE
            && self.address_slots & (1 << (offset / 8)) != 0
    }
}
