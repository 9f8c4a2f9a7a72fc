//! The GPU radix sort and scan on their own (not part of a frame): `vksplat bench --sort-keys`
//! measures the sort, and tests/sort.rs checks the sort against the standard library's stable
//! sort and the scan against a CPU saturating prefix sum.

use super::Renderer;
use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::sort::{record_sort, Groups, SortIo};

impl Renderer {
    /// The sort kernels this renderer runs (chosen per device, `VKSPLAT_SORT_KERNEL`).
    pub fn sort_kernel(&self) -> crate::shaders::SortKernel {
        self.kernels.sort_kernel
    }

    /// Switches the sort kernels, so one process can compare the variants on one device
    /// (tests only).
    #[cfg(feature = "test-hooks")]
    pub fn set_sort_kernel(&mut self, kernel: crate::shaders::SortKernel) -> Result<(), CoreError> {
        self.kernels.set_sort(&self.ctx, kernel)
    }

    /// The most pairs [`Renderer::sort_pairs`] sorts at once on this device: every array of
    /// the sort is bound as one storage buffer, so the keys (4 bytes each) and the histogram
    /// (256 counters per block of keys) must each fit one binding.
    pub fn max_sort_pairs(&self) -> u32 {
        let binding = self.max_binding();
        let by_keys = binding / 4;
        let by_hist = binding / (256 * 4) * SORT_BLOCK_KEYS as u64;
        by_keys.min(by_hist).min(u32::MAX as u64) as u32
    }

    /// Sorts (key, value) pairs on the GPU by key, stably, with the sort kernels the renderer
    /// runs ([`Renderer::sort_kernel`]). The keys must be below 2^`bits`: the sort runs
    /// ceil(bits / 8) passes of 8 bits and ignores only the bits above those. Returns the
    /// sorted pairs and the GPU time of the sort in nanoseconds. At most
    /// [`Renderer::max_sort_pairs`] pairs (checked before anything is allocated).
    pub fn sort_pairs(
        &self,
        keys: &[u32],
        values: &[u32],
        bits: u32,
    ) -> Result<(Vec<u32>, Vec<u32>, f64), CoreError> {
        if keys.len() != values.len() || bits > 32 {
            return Err(CoreError::InvalidScene(
                "sort_pairs: mismatched input".into(),
            ));
        }
        let max = self.max_sort_pairs();
        let n = u32::try_from(keys.len())
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| {
                CoreError::TooLarge(format!(
                    "sorting {} pairs: {} sorts at most {max} pairs at once",
                    keys.len(),
                    self.ctx.info().name
                ))
            })?;
        let blocks = n.div_ceil(SORT_BLOCK_KEYS);
        let mut control = [0u32; CTL_LEN as usize];
        control[(CTL_DEPTH_SORT + SORT_NUM_KEYS) as usize] = n;
        control[(CTL_DEPTH_SORT + SORT_NUM_BLOCKS) as usize] = blocks;
        control[(CTL_DEPTH_SORT + SORT_HIST_LEN) as usize] = blocks * 256;
        let ctl = self.upload("sort.control", bytemuck::cast_slice(&control))?;
        let k0 = self.upload("sort.keys0", bytemuck::cast_slice(keys))?;
        let v0 = self.upload("sort.values0", bytemuck::cast_slice(values))?;
        let k1 = self.storage("sort.keys1", n as u64 * 4)?;
        let v1 = self.storage("sort.values1", n as u64 * 4)?;
        let hist = self.storage("sort.hist", blocks as u64 * 256 * 4)?;
        let sums = self.storage(
            "sort.block_sums",
            (blocks as u64 * 256).div_ceil(SCAN_BLOCK as u64) * 4,
        )?;
        let io = SortIo {
            control: &ctl,
            keys: [&k0, &k1],
            values: [&v0, &v1],
            hist: &hist,
            block_sums: &sums,
        };
        let mut rec = self.ctx.begin()?;
        rec.timestamp("start");
        let out = record_sort(
            &mut rec,
            &self.kernels,
            &io,
            CTL_DEPTH_SORT,
            bits,
            Groups::Direct(groups_2d(blocks)),
            Groups::Direct(groups_2d((blocks * 256).div_ceil(SCAN_BLOCK))),
        )?;
        rec.timestamp("sort");
        let times = self.ctx.submit_and_wait(rec)?;
        let ns = times.last().map(|t| t.1).unwrap_or(0.0);
        let (kb, vb) = if out == 0 { (&k0, &v0) } else { (&k1, &v1) };
        let sorted_keys = bytemuck::pod_collect_to_vec(&self.download(kb, n as u64 * 4)?);
        let sorted_vals = bytemuck::pod_collect_to_vec(&self.download(vb, n as u64 * 4)?);
        Ok((sorted_keys, sorted_vals, ns))
    }

    /// The exclusive prefix sums of `values` on the GPU, saturating at 2^32 - 1, and their
    /// saturated total, with the scan kernels of the renderer's sort kernel (the frame's
    /// scan; tests only). At most one storage binding of values.
    #[cfg(feature = "test-hooks")]
    pub fn scan_values(&self, values: &[u32]) -> Result<(Vec<u32>, u32), CoreError> {
        let n = u32::try_from(values.len())
            .ok()
            .filter(|&n| u64::from(n) * 4 <= self.max_binding())
            .ok_or_else(|| CoreError::TooLarge(format!("scanning {} values", values.len())))?;
        let mut control = [0u32; CTL_LEN as usize];
        control[CTL_VISIBLE as usize] = n;
        let ctl = self.upload("scan.control", bytemuck::cast_slice(&control))?;
        // One element more than asked, so an empty scan still binds non-empty buffers.
        let mut padded = values.to_vec();
        padded.push(0);
        let input = self.upload("scan.input", bytemuck::cast_slice(&padded))?;
        let output = self.storage("scan.output", (u64::from(n) + 1) * 4)?;
        let blocks = n.div_ceil(SCAN_BLOCK).max(1);
        let sums = self.storage("scan.block_sums", u64::from(blocks) * 4)?;
        let io = ScanBindings {
            control: &ctl,
            input: &input,
            output: &output,
            block_sums: &sums,
            rect_lo: &input,
            rect_hi: &input,
            ids: &input,
        };
        let params = ScanParams {
            len_slot: CTL_VISIBLE,
            total_slot: CTL_TOTAL_ISECT,
            gather: 0,
            pad: 0,
        };
        let mut rec = self.ctx.begin()?;
        crate::sort::record_scan(
            &mut rec,
            &self.kernels,
            &io,
            params,
            Groups::Direct(groups_2d(blocks)),
        )?;
        self.ctx.submit_and_wait(rec)?;
        let out: Vec<u32> = if n == 0 {
            Vec::new()
        } else {
            bytemuck::pod_collect_to_vec(&self.download(&output, u64::from(n) * 4)?)
        };
        let ctl: Vec<u32> = bytemuck::pod_collect_to_vec(&self.download(&ctl, CTL_LEN as u64 * 4)?);
        Ok((out, ctl[CTL_TOTAL_ISECT as usize]))
    }
}
