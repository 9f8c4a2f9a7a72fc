//! A host's depth that occludes splats per pixel (`crate::host_depth` states the rule and the
//! conventions): where a frame's occluder comes from, its checks, and how it reaches the
//! blend kernels.
//!
//! Invariants:
//! - The working buffers' `occluder` buffer holds a 16-byte header and the raw values (rows
//!   top first). Every frame writes the header before its stages (a frame without an occluder
//!   writes `OCC_NONE`), so one frame's occluder never leaks into the next.
//! - The raw values travel in the frame's own command buffer: host memory as
//!   `vkCmdUpdateBuffer` data (copied at recording, so the caller's array may change once the
//!   call returns and nothing has to outlive a submitted frame), a host image or buffer by a
//!   copy with its barriers (`vksplat_vk::Recorder::copy_from_image`). The conversion to
//!   linear depth happens in the blend kernels, from the header.

use vksplat_vk::{Buffer, ExternalBuffer, ExternalImage, Recorder};

use super::Renderer;
use crate::error::CoreError;
use crate::host_depth::{DepthConvention, RawDepthFormat, OCC_HEADER_BYTES, OCC_NONE};

/// Where a frame's host depth comes from (one value per pixel of the camera's image).
#[derive(Clone, Copy)]
pub enum OccluderSource<'a> {
    /// Host memory: width·height f32, rows top first.
    Values(&'a [f32]),
    /// A host depth image (`vksplat_vk::OCCLUDER_FORMATS`), read in the frame's command
    /// buffer from its current layout and left in its final layout.
    Image(&'a ExternalImage<'a>),
    /// A host buffer of width·height f32 (rows top first) at `offset`.
    Buffer {
        buffer: &'a ExternalBuffer,
        offset: u64,
    },
}

/// A host depth and its convention.
#[derive(Clone, Copy)]
pub struct Occluder<'a> {
    pub source: OccluderSource<'a>,
    pub convention: DepthConvention,
}

/// The bytes `vkCmdUpdateBuffer` takes at once.
const UPDATE_CHUNK: usize = 65536;

impl Renderer {
    /// Checks an occluder for a `width`×`height` frame; returns the occluder buffer's header.
    /// The error names what is wrong (size, convention, image format or layout, buffer range).
    pub(super) fn check_occluder(
        &self,
        occ: &Occluder,
        width: u32,
        height: u32,
    ) -> Result<[u32; 4], CoreError> {
        let params = occ.convention.params().map_err(CoreError::InvalidRequest)?;
        let pixels = width as u64 * height as u64;
        let format = match occ.source {
            OccluderSource::Values(v) => {
                if v.len() as u64 != pixels {
                    return Err(CoreError::InvalidRequest(format!(
                        "the host depth has {} values, but the {width}x{height} image has {pixels} \
                         pixels",
                        v.len()
                    )));
                }
                RawDepthFormat::F32
            }
            OccluderSource::Image(img) => {
                self.ctx
                    .check_occluder_image(img, width, height)
                    .map_err(|e| CoreError::InvalidRequest(invalid_message(e)))?;
                match img.format() {
                    vksplat_vk::raw::Format::D16_UNORM => RawDepthFormat::Unorm16,
                    vksplat_vk::raw::Format::X8_D24_UNORM_PACK32
                    | vksplat_vk::raw::Format::D24_UNORM_S8_UINT => RawDepthFormat::Unorm24,
                    _ => RawDepthFormat::F32,
                }
            }
            OccluderSource::Buffer { buffer, offset } => {
                let bytes = pixels * 4;
                if !offset.is_multiple_of(4) || offset.saturating_add(bytes) > buffer.size() {
                    return Err(CoreError::InvalidRequest(format!(
                        "the host depth buffer holds {} bytes; a {width}x{height} frame needs \
                         {bytes} at offset {offset} (a multiple of 4)",
                        buffer.size()
                    )));
                }
                RawDepthFormat::F32
            }
        };
        Ok(params.header(format))
    }
}

/// Records the frame's occluder into `dst` (the working buffers' occluder buffer): the header
/// (from [`Renderer::check_occluder`] for a frame of `pixels` pixels, or no occluder) and the
/// raw values, between barriers, so the blend sees them and earlier frames in the command
/// buffer are done with the buffer.
pub(super) fn record_occluder<'a>(
    rec: &mut Recorder<'a>,
    dst: &'a Buffer,
    occ: Option<(&Occluder, [u32; 4])>,
    pixels: u64,
) -> Result<(), CoreError> {
    rec.barrier();
    let header = occ.map_or([OCC_NONE, 0, 0, 0], |o| o.1);
    rec.update(dst, 0, bytemuck::cast_slice(&header))?;
    if let Some((o, _)) = occ {
        match o.source {
            OccluderSource::Values(v) => {
                for (k, chunk) in bytemuck::cast_slice::<f32, u8>(v)
                    .chunks(UPDATE_CHUNK)
                    .enumerate()
                {
                    let at = OCC_HEADER_BYTES + (k * UPDATE_CHUNK) as u64;
                    rec.update(dst, at, chunk)?;
                }
            }
            OccluderSource::Image(img) => rec.copy_from_image(img, dst, OCC_HEADER_BYTES)?,
            OccluderSource::Buffer { buffer, offset } => {
                rec.copy_from_external_buffer(buffer, offset, dst, OCC_HEADER_BYTES, pixels * 4)?
            }
        }
    }
    rec.barrier();
    Ok(())
}

/// The message of a check, without the "invalid request" prefix of `VkError::Invalid`.
fn invalid_message(e: vksplat_vk::VkError) -> String {
    match e {
        vksplat_vk::VkError::Invalid(m) => m,
        e => e.to_string(),
    }
}
