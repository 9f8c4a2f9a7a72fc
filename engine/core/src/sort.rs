//! GPU radix sort and device-wide prefix sum, recorded into a frame's command buffer.
//!
//! The sort is a stable LSD radix sort of (u32 key, u32 value) pairs, 8 bits per pass, over
//! only the low `bits` bits of the keys. Each pass is histogram → exclusive scan of the
//! digit-major histogram → scatter (shaders/radix_sort.comp, shaders/scan.comp). Sizes come
//! from the control buffer, so the per-intersection sort runs with indirect dispatches and
//! needs no host readback. Nothing depends on the subgroup size or on forward progress between
//! workgroups.
//!
//! The histogram and scatter kernels come in two variants ([`crate::shaders::SortKernel`]):
//! radix_sort.comp ranks 256 keys at a time in shared memory (GPUs), radix_sort_cpu.comp walks
//! each block serially in one invocation (CPU devices). Both write the same histogram layout
//! and, the sort being stable, the same output bit for bit. Callers size dispatches for one
//! workgroup per block; the CPU kernels sort several blocks per workgroup, so direct dispatches
//! shrink here and the surplus groups of an indirect one exit at once.

use vksplat_vk::{Buffer, PushConstants, Recorder};

use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::shaders::Kernels;

/// How many workgroups a data-dependent stage runs.
#[derive(Clone, Copy)]
pub(crate) enum Groups<'a> {
    Direct([u32; 3]),
    /// `VkDispatchIndirectCommand` at this u32 slot of the control buffer.
    Indirect(&'a Buffer, u32),
}

fn dispatch<'a>(
    rec: &mut Recorder<'a>,
    pipeline: &'a vksplat_vk::ComputePipeline,
    buffers: &[&'a Buffer],
    push: &PushConstants<'a>,
    groups: Groups<'a>,
) -> Result<(), CoreError> {
    match groups {
        Groups::Direct(g) => rec.dispatch(pipeline, buffers, push, g)?,
        Groups::Indirect(args, slot) => {
            rec.dispatch_indirect(pipeline, buffers, push, args, slot as u64 * 4)?
        }
    }
    Ok(())
}

/// `groups` (one workgroup per block) for kernels that handle `blocks` blocks per workgroup: a
/// direct dispatch shrinks; an indirect one stays, and its surplus groups exit at once.
fn per_group(groups: Groups<'_>, blocks: u32) -> Groups<'_> {
    match groups {
        Groups::Direct(g) if blocks > 1 => {
            Groups::Direct(groups_2d((g[0] * g[1] * g[2]).div_ceil(blocks)))
        }
        g => g,
    }
}

/// Records an exclusive scan of `control[params.len_slot]` elements (`io.rect_lo`, `rect_hi`
/// and `ids` are only read when `params.gather` is 1); `groups` must cover
/// ceil(len / SCAN_BLOCK) workgroups. Ends with a barrier.
pub(crate) fn record_scan<'a>(
    rec: &mut Recorder<'a>,
    k: &'a Kernels,
    io: &ScanBindings<'a>,
    params: ScanParams,
    groups: Groups<'a>,
) -> Result<(), CoreError> {
    let b = io.list();
    let push = params.push()?;
    let groups = per_group(groups, k.sort_kernel.blocks_per_group());
    dispatch(rec, &k.scan_reduce, &b, &push, groups)?;
    rec.barrier();
    rec.dispatch(&k.scan_blocks, &b, &push, [1, 1, 1])?;
    rec.barrier();
    dispatch(rec, &k.scan_downsweep, &b, &push, groups)?;
    rec.barrier();
    Ok(())
}

/// Buffers of one sort: pairs ping-pong between index 0 and 1 (reached by device address, so
/// they may exceed one binding's range).
pub(crate) struct SortIo<'a> {
    pub control: &'a Buffer,
    pub keys: [&'a Buffer; 2],
    pub values: [&'a Buffer; 2],
    pub hist: &'a Buffer,
    pub block_sums: &'a Buffer,
}

/// Number of 8-bit passes to sort keys below 2^bits.
pub fn radix_passes(bits: u32) -> u32 {
    bits.div_ceil(RADIX_BITS)
}

/// Bits needed to hold values 0..n-1.
pub fn bits_for(n: u32) -> u32 {
    if n <= 1 {
        0
    } else {
        32 - (n - 1).leading_zeros()
    }
}

/// Records a stable sort of the pairs in `io.keys[0]`/`io.values[0]`, sized by the SortInfo at
/// `info_slot`. Returns the index (0 or 1) of the buffers holding the result. Ends with a
/// barrier.
pub(crate) fn record_sort<'a>(
    rec: &mut Recorder<'a>,
    k: &'a Kernels,
    io: &SortIo<'a>,
    info_slot: u32,
    bits: u32,
    sort_groups: Groups<'a>,
    hist_scan_groups: Groups<'a>,
) -> Result<usize, CoreError> {
    let sort_groups = per_group(sort_groups, k.sort_kernel.blocks_per_group());
    let mut src = 0usize;
    for pass in 0..radix_passes(bits) {
        let dst = 1 - src;
        let push = SortBlock {
            keys_in: io.keys[src],
            vals_in: io.values[src],
            keys_out: io.keys[dst],
            vals_out: io.values[dst],
            info_slot,
            shift: pass * RADIX_BITS,
        }
        .push()?;
        let b = SortBindings {
            control: io.control,
            hist: io.hist,
        }
        .list();
        let as_texels = SortTexelBindings {
            control: io.control,
            hist: io.hist,
            keys_in: io.keys[src],
            vals_in: io.values[src],
        }
        .list();
        let ([histogram, scatter], texels) = k.radix_for(io.keys[src], io.values[src]);
        let passes: &[&Buffer] = if texels { &as_texels } else { &b };
        dispatch(rec, histogram, passes, &push, sort_groups)?;
        rec.barrier();
        if let Some(offsets) = &k.sort_offsets {
            rec.dispatch(offsets, &b, &push, [1, 1, 1])?;
            rec.barrier();
        } else {
            record_hist_scan(rec, k, io, info_slot, hist_scan_groups)?;
        }
        dispatch(rec, scatter, passes, &push, sort_groups)?;
        rec.barrier();
        src = dst;
    }
    Ok(src)
}

/// Records the exclusive scan of a sort's histogram in place (its length in the SortInfo at
/// `info_slot`). Ends with a barrier.
fn record_hist_scan<'a>(
    rec: &mut Recorder<'a>,
    k: &'a Kernels,
    io: &SortIo<'a>,
    info_slot: u32,
    groups: Groups<'a>,
) -> Result<(), CoreError> {
    let scan = ScanBindings {
        control: io.control,
        input: io.hist,
        output: io.hist,
        block_sums: io.block_sums,
        rect_lo: io.hist,
        rect_hi: io.hist,
        ids: io.hist,
    };
    let sp = ScanParams {
        len_slot: info_slot + SORT_HIST_LEN,
        total_slot: u32::MAX,
        gather: 0,
        pad: 0,
    };
    record_scan(rec, k, &scan, sp, groups)
}
