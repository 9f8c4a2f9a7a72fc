//! The engine's compute kernels: what Rust binds, pushes and dispatches for each
//! ([`KERNELS`]), and the pipelines built from them once per device ([`Kernels`]).
//!
//! The SPIR-V is compiled at build time from `shaders/` (the list is
//! `src/kernel_sources.rs`). Each pipeline is made by `vksplat_vk`'s checked constructor,
//! which reflects the SPIR-V against the kernel's bindings and push block; tests/layout.rs
//! compares every block member, binding and workgroup size with the Rust side.

use std::sync::{Arc, OnceLock};

use vksplat_vk::spirv::Interface;
use vksplat_vk::{ComputePipeline, Context};

use crate::error::CoreError;
use crate::gpu_layout::*;
use crate::types::TILE_SIZE;

macro_rules! spirv {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".spv"))
    };
}

/// One engine kernel as Rust uses it.
#[derive(Clone, Copy, Debug)]
pub struct KernelSpec {
    pub name: &'static str,
    /// SPIR-V bytes (little-endian words) compiled by build.rs.
    pub spirv: &'static [u8],
    /// Its buffers in binding order (the fields of its `*Bindings` struct).
    pub bindings: &'static [&'static str],
    /// The bindings read as RGBA32F texels (bit b: binding b; the struct's `TEXELS`).
    pub texel_bindings: u32,
    /// The bindings read as RGBA32UI texels (the struct's `UINT_TEXELS`).
    pub uint_texel_bindings: u32,
    /// Its push-constant block's Rust mirror (empty: none) and that mirror's size.
    pub push: &'static [Field],
    pub push_size: u32,
    /// The workgroup size its dispatches are computed for.
    pub local_size: [u32; 3],
}

impl KernelSpec {
    /// The SPIR-V as words.
    pub fn words(&self) -> Vec<u32> {
        self.spirv
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// Builds its pipeline; the checked constructor reflects the SPIR-V against these
    /// bindings and this push block (with its address fields).
    fn create(&self, ctx: &Arc<Context>) -> Result<ComputePipeline, CoreError> {
        let addresses: Vec<u32> = self
            .push
            .iter()
            .filter(|f| f.address)
            .map(|f| f.offset)
            .collect();
        let iface = Interface {
            bindings: self.bindings.len() as u32,
            texel_bindings: self.texel_bindings,
            uint_texel_bindings: self.uint_texel_bindings,
            push_constant_size: self.push_size,
            address_offsets: &addresses,
        };
        Ok(ctx.create_checked_pipeline(self.name, &self.words(), &iface)?)
    }
}

/// A kernel with push block `$push` (a [`GpuStruct`]) or none.
macro_rules! kernel {
    ($name:literal, $bindings:ty, $local:expr) => {
        KernelSpec {
            name: $name,
            spirv: spirv!($name),
            bindings: <$bindings>::NAMES,
            texel_bindings: <$bindings>::TEXELS,
            uint_texel_bindings: <$bindings>::UINT_TEXELS,
            push: &[],
            push_size: 0,
            local_size: $local,
        }
    };
    ($name:literal, $bindings:ty, $push:ty, $local:expr) => {
        KernelSpec {
            name: $name,
            spirv: spirv!($name),
            bindings: <$bindings>::NAMES,
            texel_bindings: <$bindings>::TEXELS,
            uint_texel_bindings: <$bindings>::UINT_TEXELS,
            push: <$push as GpuStruct>::FIELDS,
            push_size: std::mem::size_of::<$push>() as u32,
            local_size: $local,
        }
    };
}

const LINE: [u32; 3] = [WORKGROUP, 1, 1];

/// Every kernel of the frame, in [`Kernels`] order.
pub const KERNELS: [KernelSpec; 31] = [
    kernel!("preprocess", PreprocessBindings, PreprocessArrays, LINE),
    kernel!("scan_reduce", ScanBindings, ScanParams, LINE),
    kernel!("scan_blocks", ScanBindings, ScanParams, LINE),
    kernel!("scan_downsweep", ScanBindings, ScanParams, LINE),
    kernel!("sort_histogram", SortBindings, SortParams, LINE),
    kernel!("sort_scatter", SortBindings, SortParams, LINE),
    kernel!("dispatch_args", DispatchArgsBindings, [1, 1, 1]),
    kernel!("emit_keys", EmitBindings, EmitParams, LINE),
    kernel!("tile_ranges", RangesBindings, RangesParams, LINE),
    kernel!(
        "blend",
        BlendBindings,
        BlendParams,
        [TILE_SIZE, TILE_SIZE, 1]
    ),
    // The blend for CPU devices (BlendKernel::Cpu): a column of the tile per invocation.
    kernel!(
        "blend_cpu",
        BlendCpuBindings,
        BlendParams,
        [TILE_SIZE, 1, 1]
    ),
    // The radix sort pass for CPU devices (SortKernel::Cpu): a block of keys per invocation,
    // the histogram scanned by one workgroup with an invocation per digit.
    kernel!(
        "sort_histogram_cpu",
        SortBindings,
        SortParams,
        [SORT_CPU_LANES, 1, 1]
    ),
    kernel!("sort_offsets_cpu", SortBindings, SortParams, LINE),
    kernel!(
        "sort_scatter_cpu",
        SortBindings,
        SortParams,
        [SORT_CPU_LANES, 1, 1]
    ),
    // The tile ranges for CPU devices (SortKernel::Cpu): a run of intersections per invocation.
    kernel!(
        "tile_ranges_cpu",
        RangesBindings,
        RangesParams,
        [SORT_CPU_LANES, 1, 1]
    ),
    // The scan for CPU devices (SortKernel::Cpu): a block of elements per invocation.
    kernel!(
        "scan_reduce_cpu",
        ScanBindings,
        ScanParams,
        [SORT_CPU_LANES, 1, 1]
    ),
    kernel!("scan_blocks_cpu", ScanBindings, ScanParams, [1, 1, 1]),
    kernel!(
        "scan_downsweep_cpu",
        ScanBindings,
        ScanParams,
        [SORT_CPU_LANES, 1, 1]
    ),
    // preprocess specialised per SH degree and storage for CPU devices (SortKernel::Cpu), in
    // Kernels::preprocess_for order: degree * 2 + half.
    kernel!("preprocess_sh0", PreprocessBindings, PreprocessArrays, LINE),
    kernel!(
        "preprocess_sh0_half",
        PreprocessBindings,
        PreprocessArrays,
        LINE
    ),
    kernel!("preprocess_sh1", PreprocessBindings, PreprocessArrays, LINE),
    kernel!(
        "preprocess_sh1_half",
        PreprocessBindings,
        PreprocessArrays,
        LINE
    ),
    kernel!("preprocess_sh2", PreprocessBindings, PreprocessArrays, LINE),
    kernel!(
        "preprocess_sh2_half",
        PreprocessBindings,
        PreprocessArrays,
        LINE
    ),
    kernel!("preprocess_sh3", PreprocessBindings, PreprocessArrays, LINE),
    kernel!(
        "preprocess_sh3_half",
        PreprocessBindings,
        PreprocessArrays,
        LINE
    ),
    // blend_cpu for the expected depth kind outside INRIA mode, no occluder (Kernels::blend_for).
    kernel!(
        "blend_cpu_expected",
        BlendCpuBindings,
        BlendParams,
        [TILE_SIZE, 1, 1]
    ),
    // Key emission for CPU devices (SortKernel::Cpu): each invocation walks its splat's tiles.
    kernel!("emit_keys_cpu", EmitBindings, EmitParams, LINE),
    // preprocess_sh3 with the SH planes read as texels (Kernels::preprocess_for).
    kernel!(
        "preprocess_sh3_texels",
        PreprocessTexelBindings,
        PreprocessArrays,
        LINE
    ),
    // The CPU radix sort passes reading their input pairs as texels (Kernels::radix_for).
    kernel!(
        "sort_histogram_cpu_texels",
        SortTexelBindings,
        SortParams,
        [SORT_CPU_LANES, 1, 1]
    ),
    kernel!(
        "sort_scatter_cpu_texels",
        SortTexelBindings,
        SortParams,
        [SORT_CPU_LANES, 1, 1]
    ),
];

/// Index in [`KERNELS`] of `blend_cpu_expected`.
const BLEND_CPU_EXPECTED: usize = 26;

/// Index in [`KERNELS`] of the first specialised preprocess (`preprocess_sh0`).
const PREPROCESS_VARIANTS: usize = 18;

/// Index in [`KERNELS`] of `preprocess_sh3_texels`.
const PREPROCESS_SH3_TEXELS: usize = 28;

/// Index in [`KERNELS`] of `sort_histogram_cpu_texels` (then `sort_scatter_cpu_texels`).
const SORT_CPU_TEXELS: usize = 29;

/// Invocations of a workgroup of the CPU sort and scan kernels, each owning one block of
/// `SORT_BLOCK_KEYS` keys or `SCAN_BLOCK` elements (the LANES of shaders/radix_sort_cpu.comp
/// and shaders/scan_cpu.comp).
pub const SORT_CPU_LANES: u32 = 8;

/// The per-device choice shared by the kernels that come in a GPU and a CPU variant: the CPU
/// variant on CPU/software devices, else the GPU one; the environment variable `env` (`auto`,
/// `gpu` or `cpu`) overrides it. True: the CPU variant.
fn cpu_variant_for(info: &vksplat_vk::DeviceInfo, env: &str) -> Result<bool, CoreError> {
    match std::env::var(env) {
        Err(std::env::VarError::NotPresent) => Ok(info.is_software()),
        Ok(v) => match v.as_str() {
            "" | "auto" => Ok(info.is_software()),
            "gpu" => Ok(false),
            "cpu" => Ok(true),
            _ => Err(CoreError::InvalidRequest(format!(
                "{env}={v:?}: expected auto, gpu or cpu"
            ))),
        },
        Err(e) => Err(CoreError::InvalidRequest(format!("{env}: {e}"))),
    }
}

/// Which kernel composites the tiles. Both give the same image bit for bit (tests/
/// blend_variants.rs); they differ only in speed per device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlendKernel {
    /// blend.comp: one invocation per pixel, splats staged in shared memory per workgroup
    /// (GPUs).
    Gpu,
    /// blend_cpu.comp: no shared memory or barriers, a column of pixels per invocation, splats
    /// passed between lanes by subgroup broadcasts (CPU devices: lavapipe).
    Cpu,
}

impl BlendKernel {
    /// The environment variable that overrides the per-device choice: `gpu`, `cpu` or `auto`.
    pub const ENV: &'static str = "VKSPLAT_BLEND_KERNEL";

    /// The kernel for a device: [`BlendKernel::Cpu`] on CPU/software devices, else
    /// [`BlendKernel::Gpu`]; `VKSPLAT_BLEND_KERNEL` overrides it.
    pub fn for_device(info: &vksplat_vk::DeviceInfo) -> Result<Self, CoreError> {
        Ok(if cpu_variant_for(info, Self::ENV)? {
            BlendKernel::Cpu
        } else {
            BlendKernel::Gpu
        })
    }

    /// `gpu` or `cpu`, as `VKSPLAT_BLEND_KERNEL` names it.
    pub fn name(self) -> &'static str {
        match self {
            BlendKernel::Gpu => "gpu",
            BlendKernel::Cpu => "cpu",
        }
    }

    /// Its entry in [`KERNELS`].
    fn spec(self) -> &'static KernelSpec {
        match self {
            BlendKernel::Gpu => &KERNELS[9],
            BlendKernel::Cpu => &KERNELS[10],
        }
    }
}

/// Which kernels run the radix sort passes (histogram, its scan, scatter) and find the tile
/// ranges in the sorted list. Both give the same result (the sort is stable, so it is unique;
/// tests/sort.rs), so the same frame; they differ only in speed per device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKernel {
    /// radix_sort.comp: 256 invocations rank 256 keys at a time in shared memory (GPUs).
    Gpu,
    /// radix_sort_cpu.comp: each invocation walks a whole block of keys serially, no barriers
    /// or atomics, and the histogram is scanned by its own kernel, a serial walk per digit,
    /// instead of scan.comp; tile_ranges_cpu.comp walks a run of the sorted list per
    /// invocation, emit_keys_cpu.comp a splat's tiles, scan_cpu.comp (the frame's scan) a
    /// block of elements, preprocess is compiled per SH degree and storage, so a scene pays
    /// only for the coefficients it has, and the large inputs are read as texels where they fit
    /// (CPU devices: lavapipe).
    Cpu,
}

impl SortKernel {
    /// The environment variable that overrides the per-device choice: `gpu`, `cpu` or `auto`.
    pub const ENV: &'static str = "VKSPLAT_SORT_KERNEL";

    /// The kernels for a device: [`SortKernel::Cpu`] on CPU/software devices, else
    /// [`SortKernel::Gpu`]; `VKSPLAT_SORT_KERNEL` overrides it.
    pub fn for_device(info: &vksplat_vk::DeviceInfo) -> Result<Self, CoreError> {
        Ok(if cpu_variant_for(info, Self::ENV)? {
            SortKernel::Cpu
        } else {
            SortKernel::Gpu
        })
    }

    /// `gpu` or `cpu`, as `VKSPLAT_SORT_KERNEL` names it.
    pub fn name(self) -> &'static str {
        match self {
            SortKernel::Gpu => "gpu",
            SortKernel::Cpu => "cpu",
        }
    }

    /// Its entries in [`KERNELS`].
    fn specs(self) -> SortSpecs {
        match self {
            SortKernel::Gpu => SortSpecs {
                histogram: &KERNELS[4],
                offsets: None,
                scatter: &KERNELS[5],
                ranges: &KERNELS[8],
                emit: &KERNELS[7],
                scan: [&KERNELS[1], &KERNELS[2], &KERNELS[3]],
                specialised_preprocess: false,
            },
            SortKernel::Cpu => SortSpecs {
                histogram: &KERNELS[11],
                offsets: Some(&KERNELS[12]),
                scatter: &KERNELS[13],
                ranges: &KERNELS[14],
                emit: &KERNELS[27],
                scan: [&KERNELS[15], &KERNELS[16], &KERNELS[17]],
                specialised_preprocess: true,
            },
        }
    }

    /// Blocks of `SORT_BLOCK_KEYS` keys (or `SCAN_BLOCK` elements) one workgroup of its sort
    /// (or scan) kernels handles.
    pub(crate) fn blocks_per_group(self) -> u32 {
        match self {
            SortKernel::Gpu => 1,
            SortKernel::Cpu => SORT_CPU_LANES,
        }
    }
}

/// The texel radix pass's histogram and scatter pipelines, with the CPU sort kernels; else
/// None.
fn sort_texel_pipelines(
    ctx: &Arc<Context>,
    kernel: SortKernel,
) -> Result<Option<[ComputePipeline; 2]>, CoreError> {
    if kernel != SortKernel::Cpu {
        return Ok(None);
    }
    Ok(Some([
        KERNELS[SORT_CPU_TEXELS].create(ctx)?,
        KERNELS[SORT_CPU_TEXELS + 1].create(ctx)?,
    ]))
}

/// The kernels of one [`SortKernel`].
struct SortSpecs {
    histogram: &'static KernelSpec,
    /// The histogram's scan; None: scan.comp's kernels.
    offsets: Option<&'static KernelSpec>,
    scatter: &'static KernelSpec,
    ranges: &'static KernelSpec,
    /// Key emission: a workgroup shares its splats' pairs (GPUs), or each invocation walks its
    /// own splat's (CPU devices).
    emit: &'static KernelSpec,
    /// The reduce, block-scan and downsweep kernels of the scan (the frame's, and the
    /// histogram's where `offsets` is None).
    scan: [&'static KernelSpec; 3],
    /// Whether preprocess runs the specialised variants (`Kernels::preprocess_for`).
    specialised_preprocess: bool,
}

/// A pipeline `Kernels` picked for a frame, and how it reads its large inputs: as texels
/// (preprocess_sh3_texels through `PreprocessTexelBindings`, blend_cpu.comp through
/// `BlendCpuBindings`) or by address (the kernels' other bindings structs).
pub(crate) struct Picked<'a> {
    pub pipeline: &'a ComputePipeline,
    pub texels: bool,
}

impl<'a> Picked<'a> {
    fn by_address(pipeline: &'a ComputePipeline) -> Self {
        Picked {
            pipeline,
            texels: false,
        }
    }
}

/// Every pipeline of the frame.
pub struct Kernels {
    /// preprocess for any SH degree and storage (GPU kernels; see `preprocess_for`).
    preprocess: ComputePipeline,
    /// With the CPU kernels: preprocess per (SH degree, half storage), built on first use (a
    /// scene needs one; building all eight would slow every context's start on lavapipe).
    preprocess_variants: Option<[OnceLock<ComputePipeline>; 8]>,
    /// With the CPU kernels: preprocess_sh3 reading the SH planes as texels, built on first
    /// use.
    preprocess_sh3_texels: OnceLock<ComputePipeline>,
    ctx: Arc<Context>,
    pub scan_reduce: ComputePipeline,
    pub scan_blocks: ComputePipeline,
    pub scan_downsweep: ComputePipeline,
    /// The histogram, histogram scan (None: scan.comp's), scatter and (below) tile ranges
    /// pipelines of `sort_kernel`.
    pub sort_histogram: ComputePipeline,
    pub sort_offsets: Option<ComputePipeline>,
    pub sort_scatter: ComputePipeline,
    pub sort_kernel: SortKernel,
    /// With the CPU sort kernels: the radix histogram and scatter passes reading their input
    /// pairs as texels (`radix_for`).
    sort_texels: Option<[ComputePipeline; 2]>,
    pub dispatch_args: ComputePipeline,
    pub emit_keys: ComputePipeline,
    pub tile_ranges: ComputePipeline,
    /// The pipeline of `blend_kernel` (any mode and depth kind; see `blend_for`).
    blend: ComputePipeline,
    /// With the CPU blend kernel: its variant for the expected depth kind outside INRIA mode
    /// without an occluder, built on first use.
    blend_expected: Option<OnceLock<ComputePipeline>>,
    /// With the CPU blend kernel: blend.comp, built on first use, for frames whose projected
    /// splats are more texels than the device's texel buffers cover.
    blend_by_address: OnceLock<ComputePipeline>,
    /// Most texels a texel binding covers: the device's `max_texel_buffer_elements`, lowered
    /// only by the `test-hooks` function `Renderer::limit_texel_elements`.
    texel_limit: u64,
    pub blend_kernel: BlendKernel,
}

impl Kernels {
    /// The kernels, with the blend kernel [`BlendKernel::for_device`] picks.
    pub fn new(ctx: &Arc<Context>) -> Result<Self, CoreError> {
        let blend_kernel = BlendKernel::for_device(ctx.info())?;
        let sort_kernel = SortKernel::for_device(ctx.info())?;
        let sort = sort_kernel.specs();
        let [preprocess, _, _, _, _, _, dispatch_args, ..] = &KERNELS;
        let [scan_reduce, scan_blocks, scan_downsweep] = sort.scan;
        Ok(Kernels {
            preprocess: preprocess.create(ctx)?,
            preprocess_variants: sort.specialised_preprocess.then(Default::default),
            preprocess_sh3_texels: OnceLock::new(),
            ctx: ctx.clone(),
            scan_reduce: scan_reduce.create(ctx)?,
            scan_blocks: scan_blocks.create(ctx)?,
            scan_downsweep: scan_downsweep.create(ctx)?,
            sort_histogram: sort.histogram.create(ctx)?,
            sort_offsets: sort.offsets.map(|s| s.create(ctx)).transpose()?,
            sort_scatter: sort.scatter.create(ctx)?,
            sort_kernel,
            sort_texels: sort_texel_pipelines(ctx, sort_kernel)?,
            dispatch_args: dispatch_args.create(ctx)?,
            emit_keys: sort.emit.create(ctx)?,
            tile_ranges: sort.ranges.create(ctx)?,
            blend: blend_kernel.spec().create(ctx)?,
            blend_expected: (blend_kernel == BlendKernel::Cpu).then(OnceLock::new),
            blend_by_address: OnceLock::new(),
            texel_limit: ctx.info().max_texel_buffer_elements,
            blend_kernel,
        })
    }

    /// The preprocess pipeline for a scene of SH degree `sh_degree` (at most 3) stored as f32
    /// or, with `sh_half`, IEEE half pairs: the generic kernel with the GPU kernels, else the
    /// specialised one, built now if this is its first use. For SH 3 in f32 that is the one
    /// that reads the scene's arrays as texels ([`Picked::texels`]) where `texel_inputs`, the
    /// arrays it would bind (none for a scene with covariances or opacity factors), all fit a
    /// texel view.
    pub(crate) fn preprocess_for(
        &self,
        sh_degree: u32,
        sh_half: bool,
        texel_inputs: &[&vksplat_vk::Buffer],
    ) -> Result<Picked<'_>, CoreError> {
        let by_address = Picked::by_address;
        let Some(variants) = &self.preprocess_variants else {
            return Ok(by_address(&self.preprocess));
        };
        if sh_degree >= 3
            && !sh_half
            && !texel_inputs.is_empty()
            && texel_inputs.iter().all(|b| self.fits_texels(b))
        {
            let pipeline = match self.preprocess_sh3_texels.get() {
                Some(p) => p,
                None => {
                    let p = KERNELS[PREPROCESS_SH3_TEXELS].create(&self.ctx)?;
                    self.preprocess_sh3_texels.get_or_init(|| p)
                }
            };
            return Ok(Picked {
                pipeline,
                texels: true,
            });
        }
        let i = sh_degree.min(3) as usize * 2 + usize::from(sh_half);
        if let Some(p) = variants[i].get() {
            return Ok(by_address(p));
        }
        let p = KERNELS[PREPROCESS_VARIANTS + i].create(&self.ctx)?;
        // Another thread may have built it meanwhile: either pipeline will do.
        Ok(by_address(variants[i].get_or_init(|| p)))
    }

    /// The blend pipeline for a frame in `mode` with depth kind `depth`, `occluded` by a host
    /// depth or not, whose projected splats are `projected`: with the CPU blend kernel its
    /// variant without the other kinds' arithmetic and the host depth test where that applies,
    /// else blend_cpu.comp, both reading `projected` as texels ([`Picked::texels`]), or
    /// blend.comp where the texels do not fit one view; else `blend_kernel`'s. Variants are
    /// built on first use.
    pub(crate) fn blend_for(
        &self,
        mode: crate::types::RenderMode,
        depth: crate::types::DepthKind,
        occluded: bool,
        projected: &vksplat_vk::Buffer,
    ) -> Result<Picked<'_>, CoreError> {
        let by_address = Picked::by_address;
        let Some(cell) = &self.blend_expected else {
            return Ok(by_address(&self.blend));
        };
        if !self.fits_texels(projected) {
            if let Some(p) = self.blend_by_address.get() {
                return Ok(by_address(p));
            }
            let p = BlendKernel::Gpu.spec().create(&self.ctx)?;
            return Ok(by_address(self.blend_by_address.get_or_init(|| p)));
        }
        let pipeline = if mode != crate::types::RenderMode::Inria
            && depth == crate::types::DepthKind::Expected
            && !occluded
        {
            match cell.get() {
                Some(p) => p,
                None => {
                    let p = KERNELS[BLEND_CPU_EXPECTED].create(&self.ctx)?;
                    cell.get_or_init(|| p)
                }
            }
        } else {
            &self.blend
        };
        Ok(Picked {
            pipeline,
            texels: true,
        })
    }

    /// Replaces the blend pipeline by `kernel`'s (no frame using it may be in flight; tests
    /// only, through `Renderer::set_blend_kernel`).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn set_blend(
        &mut self,
        ctx: &Arc<Context>,
        kernel: BlendKernel,
    ) -> Result<(), CoreError> {
        self.blend = kernel.spec().create(ctx)?;
        self.blend_expected = (kernel == BlendKernel::Cpu).then(OnceLock::new);
        self.blend_kernel = kernel;
        Ok(())
    }

    /// Whether `b` is at most as many texels as a texel binding covers (`texel_limit`).
    fn fits_texels(&self, b: &vksplat_vk::Buffer) -> bool {
        (1..=self.texel_limit).contains(&b.texel_elements())
    }

    /// The radix pass's histogram and scatter pipelines for input pairs in `keys` and `values`:
    /// with the CPU sort kernels the texel variants where both fit a texel view (true), else
    /// `sort_histogram` and `sort_scatter` (false).
    pub(crate) fn radix_for(
        &self,
        keys: &vksplat_vk::Buffer,
        values: &vksplat_vk::Buffer,
    ) -> ([&ComputePipeline; 2], bool) {
        match &self.sort_texels {
            Some([h, s]) if self.fits_texels(keys) && self.fits_texels(values) => ([h, s], true),
            _ => ([&self.sort_histogram, &self.sort_scatter], false),
        }
    }

    /// Lowers the texel limit `blend_for` sizes frames against (tests only, through
    /// `Renderer::limit_texel_elements`).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn limit_texels(&mut self, texels: u64) {
        self.texel_limit = texels.min(self.ctx.info().max_texel_buffer_elements);
    }

    /// Replaces the sort pipelines by `kernel`'s (no frame using them may be in flight; tests
    /// only, through `Renderer::set_sort_kernel`).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn set_sort(
        &mut self,
        ctx: &Arc<Context>,
        kernel: SortKernel,
    ) -> Result<(), CoreError> {
        let sort = kernel.specs();
        self.sort_histogram = sort.histogram.create(ctx)?;
        self.sort_offsets = sort.offsets.map(|s| s.create(ctx)).transpose()?;
        self.sort_scatter = sort.scatter.create(ctx)?;
        self.tile_ranges = sort.ranges.create(ctx)?;
        self.emit_keys = sort.emit.create(ctx)?;
        let [scan_reduce, scan_blocks, scan_downsweep] = sort.scan;
        self.preprocess_variants = sort.specialised_preprocess.then(Default::default);
        self.sort_texels = sort_texel_pipelines(ctx, kernel)?;
        self.scan_reduce = scan_reduce.create(ctx)?;
        self.scan_blocks = scan_blocks.create(ctx)?;
        self.scan_downsweep = scan_downsweep.create(ctx)?;
        self.sort_kernel = kernel;
        Ok(())
    }
}

/// The shared GLSL headers of `shaders/include/`, embedded for run-time compilation.
pub const HEADERS: &[(&str, &str)] = &[
    (
        "common.glsl",
        include_str!("../../../shaders/include/common.glsl"),
    ),
    (
        "constants.glsl",
        include_str!("../../../shaders/include/constants.glsl"),
    ),
    (
        "scene_bindings.glsl",
        include_str!("../../../shaders/include/scene_bindings.glsl"),
    ),
    (
        "projected.glsl",
        include_str!("../../../shaders/include/projected.glsl"),
    ),
    (
        "variant.glsl",
        include_str!("../../../shaders/include/variant.glsl"),
    ),
    (
        "workgroup_scan.glsl",
        include_str!("../../../shaders/include/workgroup_scan.glsl"),
    ),
];

/// Compiles a GLSL compute shader at run time (plugin shaders); `#include "variant.glsl"` and
/// the other engine headers resolve to the embedded copies.
pub fn compile_glsl(source: &str, name: &str) -> Result<Vec<u32>, CoreError> {
    vksplat_shaderc::compile_compute_with_headers(source, name, &[], HEADERS, &[])
        .map_err(|e| CoreError::Shader(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    include!("kernel_sources.rs");

    #[test]
    fn kernels_are_the_ones_build_rs_compiles() {
        let built: Vec<&str> = KERNEL_SOURCES.iter().map(|k| k.0).collect();
        let used: Vec<&str> = KERNELS.iter().map(|k| k.name).collect();
        assert_eq!(built, used);
    }

    #[test]
    fn generated_glsl_headers_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders/include");
        for (name, want) in generated_glsl() {
            let have = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            assert!(
                have == want,
                "shaders/include/{name} differs from what engine/core/src/gpu_layout.rs \
                 generates; regenerate with `cargo run -p vksplat-core --example generate_glsl`"
            );
        }
        // The embedded copies for run-time compiles are the same files.
        for (name, text) in generated_glsl() {
            let embedded = HEADERS.iter().find(|h| h.0 == name).map(|h| h.1);
            assert_eq!(embedded, Some(text.as_str()), "{name} in HEADERS");
        }
    }
}
