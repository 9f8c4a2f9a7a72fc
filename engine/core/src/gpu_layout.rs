//! The layouts and constants the shaders share with Rust, defined once, here.
//!
//! - Constants (tile and workgroup sizes, control-buffer slots, preprocess flags, render
//!   modes, every kernel's binding numbers) are written into `shaders/include/constants.glsl`,
//!   and the scene's bindings of a variant stage with `VKSPLAT_FIRST_PLUGIN_BINDING` into
//!   `shaders/include/scene_bindings.glsl` (plugin shaders see only these `VKSPLAT_` names),
//!   by [`generated_glsl`]. The files are checked in (authors read them) and a test fails when
//!   they differ from what Rust generates; `cargo run -p vksplat-core --example generate_glsl`
//!   rewrites them.
//! - Structs and push-constant blocks have `#[repr(C)]` mirrors declared with `gpu_struct!`,
//!   which records every field's offset and size ([`GpuStruct::FIELDS`]); `tests/layout.rs`
//!   reflects every engine kernel's SPIR-V and compares its blocks, bindings and workgroup
//!   size with these.
//! - Each kernel's buffers are a struct of named `&Buffer`s declared with `kernel_bindings!`,
//!   whose field order is the binding order; the same names become the GLSL binding macros.
//! - Push blocks that carry buffer addresses are built from `*Block` structs that borrow the
//!   buffers ([`PushConstants::address`]), so no address outlives its buffer.

use bytemuck::{Pod, Zeroable};
use vksplat_vk::{Buffer, PushConstants, VkError};

use crate::error::CoreError;
use crate::types::{DepthKind, RenderMode, TILE_SIZE};

// Control-buffer slots (uint indices). Counts flow between stages through the control
// buffer, so no stage needs a host readback.
/// Splats in the scene (written by the host).
pub const CTL_NUM_SPLATS: u32 = 0;
/// Sum of the tiles touched (saturating; written by the scan).
pub const CTL_TOTAL_ISECT: u32 = 1;
/// Capacity of the intersection buffers (host).
pub const CTL_ISECT_CAPACITY: u32 = 2;
/// min(total, capacity) (dispatch_args).
pub const CTL_NUM_ISECT: u32 = 3;
/// SortInfo of the per-splat depth sort (4 uints).
pub const CTL_DEPTH_SORT: u32 = 4;
/// SortInfo of the per-intersection tile sort (4 uints).
pub const CTL_TILE_SORT: u32 = 8;
/// VkDispatchIndirectCommand: tile sort blocks.
pub const CTL_ARGS_SORT: u32 = 12;
/// VkDispatchIndirectCommand: tile sort histogram scan blocks.
pub const CTL_ARGS_HIST_SCAN: u32 = 15;
/// VkDispatchIndirectCommand: one thread per intersection.
pub const CTL_ARGS_ISECT: u32 = 18;
/// Splats that touch at least one tile (preprocess).
pub const CTL_VISIBLE: u32 = 21;
/// Length of the control buffer.
pub const CTL_LEN: u32 = 24;
// SortInfo fields, relative to its slot.
pub const SORT_NUM_KEYS: u32 = 0;
pub const SORT_NUM_BLOCKS: u32 = 1;
pub const SORT_HIST_LEN: u32 = 2;

/// Invocations of the 1D kernels' workgroups (preprocess, scan, sort, key emission, ranges).
pub const WORKGROUP: u32 = 256;
/// Keys per sort workgroup (256 threads × 16).
pub const SORT_BLOCK_KEYS: u32 = 4096;
/// Elements per scan workgroup (256 threads × 4).
pub const SCAN_BLOCK: u32 = 1024;
/// Largest x workgroup count a dispatch uses; more are split into 2D ([`groups_2d`]).
pub const MAX_GROUPS_X: u32 = 65535;
/// Radix digits per pass (8 bits).
pub const RADIX_BITS: u32 = 8;

// The shaders' loops assume these relations.
const _: () = assert!(SORT_BLOCK_KEYS.is_multiple_of(WORKGROUP));
const _: () = assert!(SCAN_BLOCK == 4 * WORKGROUP);
const _: () = assert!(TILE_SIZE * TILE_SIZE == WORKGROUP);

/// `flags` bits of [`PreprocessParams`]: which optional per-splat inputs a scene provides.
pub const SPLAT_USE_COVARIANCE: u32 = 1;
pub const SPLAT_USE_OPACITY_SCALE: u32 = 2;
/// SH stored as IEEE half pairs.
pub const SPLAT_SH_HALF: u32 = 4;

/// Binding of the first plugin buffer in a variant stage (variant.glsl); bindings below it are
/// the scene's buffers ([`SceneBindings`], [`crate::GpuScene::buffers`]).
pub const FIRST_PLUGIN_BINDING: u32 = SceneBindings::COUNT as u32;

/// Declares the buffers of one kernel as a struct of named `&Buffer`s in binding order, with
/// the prefix of their GLSL macros (`{PREFIX}_BINDING_{NAME}`).
macro_rules! kernel_bindings {
    ($(#[$meta:meta])* pub struct $name:ident : $prefix:literal {
        $($(#[$fmeta:meta])* $field:ident,)*
    }) => {
        kernel_bindings! {
            $(#[$meta])* pub struct $name : $prefix, texels = 0, uint_texels = 0 {
                $($(#[$fmeta])* $field,)*
            }
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident : $prefix:literal, texels = $texels:literal {
        $($(#[$fmeta:meta])* $field:ident,)*
    }) => {
        kernel_bindings! {
            $(#[$meta])* pub struct $name : $prefix, texels = $texels, uint_texels = 0 {
                $($(#[$fmeta])* $field,)*
            }
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident : $prefix:literal, texels = $texels:literal,
        uint_texels = $uints:literal {
        $($(#[$fmeta:meta])* $field:ident,)*
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy)]
        pub struct $name<'a> {
            $($(#[$fmeta])* pub $field: &'a Buffer,)*
        }

        impl<'a> $name<'a> {
            /// Prefix of the GLSL binding macros.
            pub const GLSL_PREFIX: &'static str = $prefix;
            /// Binding names in binding order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
            /// Number of bindings.
            pub const COUNT: usize = Self::NAMES.len();
            /// Bit b set: binding b is read as RGBA32F texels (a `samplerBuffer`), not as a
            /// storage buffer.
            pub const TEXELS: u32 = $texels;
            /// Bit b set: binding b is read as RGBA32UI texels (a `usamplerBuffer`).
            pub const UINT_TEXELS: u32 = $uints;

            /// The buffers in binding order.
            pub fn list(&self) -> [&'a Buffer; [$(stringify!($field)),*].len()] {
                [$(self.$field),*]
            }
        }
    };
}

kernel_bindings! {
    /// The scene's buffers as a variant stage sees them (variant.glsl), before the plugin's.
    pub struct SceneBindings: "VKSPLAT" {
        means,
        rotations,
        log_scales,
        opacity_logits,
        sh_r,
        sh_g,
        sh_b,
        covariances,
        opacity_scale,
    }
}

kernel_bindings! {
    /// Buffers of preprocess.comp (the scene's arrays are reached by address).
    pub struct PreprocessBindings: "PREPROCESS" {
        rect_lo,
        rect_hi,
        depth_keys,
        splat_ids,
        params,
        control,
    }
}

kernel_bindings! {
    /// Buffers of preprocess_sh3_texels (CPU devices): preprocess.comp's, plus the arrays of a
    /// static SH-3 f32 scene read as RGBA32F texels, which llvmpipe fetches for all lanes at
    /// once where a load by address is a loop over the lanes.
    pub struct PreprocessTexelBindings: "PREPROCESS_TEXELS", texels = 0b1_1111_1100_0000 {
        rect_lo,
        rect_hi,
        depth_keys,
        splat_ids,
        params,
        control,
        sh_r,
        sh_g,
        sh_b,
        means,
        rotations,
        log_scales,
        opacity_logits,
    }
}

kernel_bindings! {
    /// Buffers of scan.comp (`rect_lo`, `rect_hi` and `ids` are read only when gathering tile
    /// counts).
    pub struct ScanBindings: "SCAN" {
        control,
        input,
        output,
        block_sums,
        rect_lo,
        rect_hi,
        ids,
    }
}

kernel_bindings! {
    /// Buffers of radix_sort.comp (the pairs are reached by address).
    pub struct SortBindings: "SORT" {
        control,
        hist,
    }
}

kernel_bindings! {
    /// Buffers of the CPU radix passes' texel variants (radix_sort_cpu.comp with KEY_TEXELS):
    /// radix_sort.comp's, plus the input pairs read as RGBA32UI texels (four pairs per texel).
    pub struct SortTexelBindings: "SORT_TEXELS", texels = 0, uint_texels = 0b1100 {
        control,
        hist,
        keys_in,
        vals_in,
    }
}

kernel_bindings! {
    /// Buffers of dispatch_args.comp.
    pub struct DispatchArgsBindings: "DISPATCH_ARGS" {
        control,
    }
}

kernel_bindings! {
    /// Buffers of emit_keys.comp.
    pub struct EmitBindings: "EMIT" {
        control,
        ids,
        offsets,
        rect_lo,
        rect_hi,
    }
}

kernel_bindings! {
    /// Buffers of tile_ranges.comp.
    pub struct RangesBindings: "RANGES" {
        control,
        ranges,
    }
}

kernel_bindings! {
    /// Buffers of blend.comp (everything else is reached by address).
    pub struct BlendBindings: "BLEND" {
        ranges,
    }
}

kernel_bindings! {
    /// Buffers of blend_cpu.comp: the projected splats are read as texels (three per splat),
    /// which llvmpipe loads for all lanes at once, where loads by address and subgroup
    /// broadcasts are a loop over the lanes.
    pub struct BlendCpuBindings: "BLEND_CPU", texels = 0b10 {
        ranges,
        projected,
    }
}

/// The engine kernels' binding lists, in the constants file's order.
const KERNEL_BINDINGS: [(&str, &[&str]); 10] = [
    (PreprocessBindings::GLSL_PREFIX, PreprocessBindings::NAMES),
    (
        PreprocessTexelBindings::GLSL_PREFIX,
        PreprocessTexelBindings::NAMES,
    ),
    (ScanBindings::GLSL_PREFIX, ScanBindings::NAMES),
    (SortBindings::GLSL_PREFIX, SortBindings::NAMES),
    (SortTexelBindings::GLSL_PREFIX, SortTexelBindings::NAMES),
    (
        DispatchArgsBindings::GLSL_PREFIX,
        DispatchArgsBindings::NAMES,
    ),
    (EmitBindings::GLSL_PREFIX, EmitBindings::NAMES),
    (RangesBindings::GLSL_PREFIX, RangesBindings::NAMES),
    (BlendBindings::GLSL_PREFIX, BlendBindings::NAMES),
    (BlendCpuBindings::GLSL_PREFIX, BlendCpuBindings::NAMES),
];

/// The generated headers of `shaders/include/` as (file name, text): `constants.glsl` for
/// the engine's kernels and `scene_bindings.glsl` (only `VKSPLAT_`-prefixed names) for
/// scene-variant shaders through variant.glsl. See the module docs.
pub fn generated_glsl() -> [(&'static str, String); 2] {
    [
        ("constants.glsl", constants_glsl()),
        ("scene_bindings.glsl", scene_bindings_glsl()),
    ]
}

/// One `#define` of a generated header: (name, value, comment).
type Define = (String, String, &'static str);

/// `#define` lines under a title comment.
fn glsl_section(out: &mut String, title: &str, defines: &[Define]) {
    out.push_str(&format!("\n// {title}\n"));
    for (name, value, doc) in defines {
        let define = format!("#define {name} {value}");
        if doc.is_empty() {
            out.push_str(&format!("{define}\n"));
        } else {
            out.push_str(&format!("{define:<36}// {doc}\n"));
        }
    }
}

/// The opening of a generated header with include guard `guard`.
fn glsl_preamble(guard: &str) -> String {
    format!(
        "// Generated from engine/core/src/gpu_layout.rs: do not edit. Regenerate with\n\
         //   cargo run -p vksplat-core --example generate_glsl\n\
         // (a test fails while this file differs from what Rust generates).\n\
         #ifndef {guard}\n\
         #define {guard}\n"
    )
}

/// Binding macros `{prefix}_BINDING_{NAME}` (plain ints, as layout qualifiers take them).
fn binding_defines(prefix: &str, names: &[&str]) -> Vec<Define> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let macro_name = format!("{prefix}_BINDING_{}", name.to_uppercase());
            (macro_name, i.to_string(), "")
        })
        .collect()
}

/// `scene_bindings.glsl`: the scene's buffers as a variant stage binds them.
fn scene_bindings_glsl() -> String {
    let mut out = glsl_preamble("VKSPLAT_SCENE_BINDINGS_GLSL");
    glsl_section(
        &mut out,
        "The scene's buffers in set 0 of a scene-variant stage (variant.glsl declares them).",
        &binding_defines(SceneBindings::GLSL_PREFIX, SceneBindings::NAMES),
    );
    glsl_section(
        &mut out,
        "The first binding of the plugin's own buffers.",
        &[(
            "VKSPLAT_FIRST_PLUGIN_BINDING".to_string(),
            FIRST_PLUGIN_BINDING.to_string(),
            "",
        )],
    );
    out.push_str("\n#endif\n");
    out
}

/// `constants.glsl`: what the engine's kernels share with Rust.
fn constants_glsl() -> String {
    // Unsigned values ("16u"): they meet uints in the shaders' arithmetic.
    macro_rules! u {
        ($name:ident, $doc:literal) => {
            (stringify!($name).to_string(), format!("{}u", $name), $doc)
        };
    }
    let modes = RenderMode::ALL.map(|m| {
        let name = format!("MODE_{}", m.name().to_uppercase());
        (name, format!("{}u", m.shader_id()), "")
    });
    let depth_kinds = DepthKind::ALL.map(|k| {
        let name = format!("DEPTH_{}", k.name().to_uppercase());
        (name, format!("{}u", k.shader_id()), "")
    });
    let bindings = KERNEL_BINDINGS
        .iter()
        .flat_map(|(prefix, names)| binding_defines(prefix, names));
    let sections: Vec<(&str, Vec<Define>)> = vec![
        (
            "Tiles and workgroups.",
            vec![
                u!(
                    TILE_SIZE,
                    "tile edge in pixels; blend: one TILE_SIZE^2 group per tile"
                ),
                u!(WORKGROUP, "invocations of the 1D kernels' workgroups"),
                u!(SORT_BLOCK_KEYS, "keys per sort workgroup (WORKGROUP x 16)"),
                u!(SCAN_BLOCK, "elements per scan workgroup (WORKGROUP x 4)"),
                u!(MAX_GROUPS_X, "2D dispatches split at this x count"),
            ],
        ),
        (
            "Slots of the per-frame control buffer (uint array).",
            vec![
                u!(CTL_NUM_SPLATS, "splats in the scene (host)"),
                u!(CTL_TOTAL_ISECT, "sum of tiles touched (saturating; scan)"),
                u!(
                    CTL_ISECT_CAPACITY,
                    "capacity of the intersection buffers (host)"
                ),
                u!(CTL_NUM_ISECT, "min(total, capacity) (dispatch_args)"),
                u!(CTL_DEPTH_SORT, "SortInfo of the depth sort (4 uints)"),
                u!(CTL_TILE_SORT, "SortInfo of the tile sort (4 uints)"),
                u!(CTL_ARGS_SORT, "VkDispatchIndirectCommand: tile sort blocks"),
                u!(
                    CTL_ARGS_HIST_SCAN,
                    "VkDispatchIndirectCommand: histogram scan"
                ),
                u!(
                    CTL_ARGS_ISECT,
                    "VkDispatchIndirectCommand: one per intersection"
                ),
                u!(
                    CTL_VISIBLE,
                    "splats touching at least one tile (preprocess)"
                ),
                u!(CTL_LEN, "length of the control buffer"),
            ],
        ),
        (
            "SortInfo fields, relative to its slot.",
            vec![
                u!(SORT_NUM_KEYS, ""),
                u!(SORT_NUM_BLOCKS, ""),
                u!(SORT_HIST_LEN, ""),
            ],
        ),
        (
            "Preprocess flags: which optional per-splat inputs a scene provides.",
            vec![
                u!(
                    SPLAT_USE_COVARIANCE,
                    "world-space covariance instead of rotation+scale"
                ),
                u!(SPLAT_USE_OPACITY_SCALE, "per-splat opacity factor"),
                u!(SPLAT_SH_HALF, "SH stored as IEEE half pairs"),
            ],
        ),
        (
            "Render modes (`mode` of preprocess and blend).",
            modes.to_vec(),
        ),
        (
            "Depth output kinds (`depth_kind` of blend).",
            depth_kinds.to_vec(),
        ),
        (
            "Binding numbers of set 0, PREFIX_BINDING_NAME, for each kernel's buffers.",
            bindings.collect(),
        ),
    ];
    let mut out = glsl_preamble("VKSPLAT_CONSTANTS_GLSL");
    for (title, defines) in sections {
        glsl_section(&mut out, title, &defines);
    }
    out.push_str("\n#endif\n");
    out
}

/// One field of a Rust mirror of a GPU struct: what the kernel-layout test compares with the
/// shader's reflection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: u32,
    pub size: u32,
    /// A buffer device address ([`DeviceAddr`]).
    pub address: bool,
}

/// A `#[repr(C)]` mirror of a struct or block the shaders declare.
pub trait GpuStruct: Pod {
    /// The fields in declaration order.
    const FIELDS: &'static [Field];

    /// Byte offsets of the address fields.
    fn address_offsets() -> Vec<u32> {
        Self::FIELDS
            .iter()
            .filter(|f| f.address)
            .map(|f| f.offset)
            .collect()
    }
}

/// The field types GPU mirrors use; says which are buffer addresses.
pub trait GpuField {
    const ADDRESS: bool = false;
}
impl GpuField for u32 {}
impl GpuField for f32 {}
impl GpuField for [u32; 2] {}
impl GpuField for [u32; 3] {}
impl GpuField for [f32; 4] {}
impl GpuField for DeviceAddr {
    const ADDRESS: bool = true;
}

/// A buffer device address in a GPU mirror. Only [`PushConstants::address`] writes one (from a
/// borrowed buffer); the mirror itself always holds 0 there.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct DeviceAddr(u64);

/// Declares a `#[repr(C)]` GPU mirror and its [`GpuStruct::FIELDS`].
macro_rules! gpu_struct {
    ($(#[$meta:meta])* pub struct $name:ident {
        $($(#[$fmeta:meta])* pub $field:ident : $ty:ty,)*
    }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl GpuStruct for $name {
            const FIELDS: &'static [Field] = &[$(Field {
                name: stringify!($field),
                offset: std::mem::offset_of!($name, $field) as u32,
                size: std::mem::size_of::<$ty>() as u32,
                address: <$ty as GpuField>::ADDRESS,
            }),*];
        }
    };
}

/// Push constants of block `value` with `addresses` (field offset, buffer) written into its
/// address fields; each address field must be given exactly once.
fn push_block<'a, T: GpuStruct>(
    value: &T,
    addresses: &[(usize, &'a Buffer)],
) -> Result<PushConstants<'a>, CoreError> {
    let mut given: Vec<u32> = addresses.iter().map(|a| a.0 as u32).collect();
    given.sort_unstable();
    if given != T::address_offsets() {
        return Err(CoreError::Vulkan(VkError::Invalid(format!(
            "{}: addresses given at {given:?}, the block has them at {:?}",
            std::any::type_name::<T>(),
            T::address_offsets()
        ))));
    }
    let mut push = PushConstants::from_bytes(bytemuck::bytes_of(value))?;
    for &(offset, buffer) in addresses {
        push = push.address(offset, buffer)?;
    }
    Ok(push)
}

gpu_struct! {
    /// `Projected` in projected.glsl (48 bytes, std430).
    pub struct GpuProjected {
        pub mean_depth_opacity: [f32; 4],
        pub conic: [f32; 4],
        pub color: [f32; 4],
    }
}

gpu_struct! {
    /// The per-frame parameter buffer of preprocess.comp (`Params`, std430).
    pub struct PreprocessParams {
        pub view_row0: [f32; 4],
        pub view_row1: [f32; 4],
        pub view_row2: [f32; 4],
        pub cam_pos: [f32; 4],
        pub intrinsics: [f32; 4],
        pub width: u32,
        pub height: u32,
        pub num_splats: u32,
        pub sh_degree: u32,
        pub mode: u32,
        pub tiles_x: u32,
        pub tiles_y: u32,
        pub sh_stride: u32,
        pub flags: u32,
        /// The frame's index of this scene's first splat (instances: several scenes share
        /// one frame's projected array; 0 for a single scene).
        pub first_splat: u32,
        /// The instance's opacity multiplier (1 for a single scene).
        pub instance_opacity: f32,
        /// Clip planes: splats whose camera z is outside [near, far] are culled (0 and
        /// +inf when the settings set none; the mode's fixed near applies as well).
        pub near: f32,
        pub far: f32,
        /// 0 perspective, 1 orthographic (`vksplat_io::Projection`).
        pub projection: u32,
        /// Rounds the buffer up to a multiple of 16 bytes.
        pub pad: [u32; 2],
    }
}

gpu_struct! {
    /// Push constants of scan.comp.
    pub struct ScanParams {
        pub len_slot: u32,
        pub total_slot: u32,
        pub gather: u32,
        pub pad: u32,
    }
}

impl ScanParams {
    /// The push constants (no addresses).
    pub(crate) fn push(&self) -> Result<PushConstants<'static>, CoreError> {
        push_block(self, &[])
    }
}

gpu_struct! {
    /// Push constants of preprocess.comp: device addresses of the scene's per-splat arrays
    /// and the projected output (buffers.glsl), so none is limited by one binding's range.
    pub struct PreprocessArrays {
        pub means: DeviceAddr,
        pub rotations: DeviceAddr,
        pub log_scales: DeviceAddr,
        pub opacity_logits: DeviceAddr,
        pub opacity_scale: DeviceAddr,
        pub sh_r: DeviceAddr,
        pub sh_g: DeviceAddr,
        pub sh_b: DeviceAddr,
        pub covariances: DeviceAddr,
        pub projected: DeviceAddr,
    }
}

/// [`PreprocessArrays`] with the buffers it addresses.
pub(crate) struct PreprocessBlock<'a> {
    pub means: &'a Buffer,
    pub rotations: &'a Buffer,
    pub log_scales: &'a Buffer,
    pub opacity_logits: &'a Buffer,
    pub opacity_scale: &'a Buffer,
    pub sh: [&'a Buffer; 3],
    pub covariances: &'a Buffer,
    pub projected: &'a Buffer,
}

impl<'a> PreprocessBlock<'a> {
    /// The push constants, borrowing the buffers they address.
    pub(crate) fn push(&self) -> Result<PushConstants<'a>, CoreError> {
        use std::mem::offset_of;
        push_block(
            &PreprocessArrays::default(),
            &[
                (offset_of!(PreprocessArrays, means), self.means),
                (offset_of!(PreprocessArrays, rotations), self.rotations),
                (offset_of!(PreprocessArrays, log_scales), self.log_scales),
                (
                    offset_of!(PreprocessArrays, opacity_logits),
                    self.opacity_logits,
                ),
                (
                    offset_of!(PreprocessArrays, opacity_scale),
                    self.opacity_scale,
                ),
                (offset_of!(PreprocessArrays, sh_r), self.sh[0]),
                (offset_of!(PreprocessArrays, sh_g), self.sh[1]),
                (offset_of!(PreprocessArrays, sh_b), self.sh[2]),
                (offset_of!(PreprocessArrays, covariances), self.covariances),
                (offset_of!(PreprocessArrays, projected), self.projected),
            ],
        )
    }
}

gpu_struct! {
    /// Push constants of radix_sort.comp.
    pub struct SortParams {
        pub keys_in: DeviceAddr,
        pub vals_in: DeviceAddr,
        pub keys_out: DeviceAddr,
        pub vals_out: DeviceAddr,
        pub info_slot: u32,
        pub shift: u32,
    }
}

/// [`SortParams`] of one pass from (`keys_in`, `vals_in`) to (`keys_out`, `vals_out`), with
/// the buffers it addresses.
pub(crate) struct SortBlock<'a> {
    pub keys_in: &'a Buffer,
    pub vals_in: &'a Buffer,
    pub keys_out: &'a Buffer,
    pub vals_out: &'a Buffer,
    pub info_slot: u32,
    pub shift: u32,
}

impl<'a> SortBlock<'a> {
    /// The push constants, borrowing the buffers they address.
    pub(crate) fn push(&self) -> Result<PushConstants<'a>, CoreError> {
        use std::mem::offset_of;
        let value = SortParams {
            info_slot: self.info_slot,
            shift: self.shift,
            ..Default::default()
        };
        push_block(
            &value,
            &[
                (offset_of!(SortParams, keys_in), self.keys_in),
                (offset_of!(SortParams, vals_in), self.vals_in),
                (offset_of!(SortParams, keys_out), self.keys_out),
                (offset_of!(SortParams, vals_out), self.vals_out),
            ],
        )
    }
}

gpu_struct! {
    /// Push constants of emit_keys.comp.
    pub struct EmitParams {
        pub tile_keys: DeviceAddr,
        pub values: DeviceAddr,
        pub tiles_x: u32,
        pub num_splats: u32,
    }
}

/// [`EmitParams`] with the buffers it addresses.
pub(crate) struct EmitBlock<'a> {
    pub tile_keys: &'a Buffer,
    pub values: &'a Buffer,
    pub tiles_x: u32,
    pub num_splats: u32,
}

impl<'a> EmitBlock<'a> {
    /// The push constants, borrowing the buffers they address.
    pub(crate) fn push(&self) -> Result<PushConstants<'a>, CoreError> {
        use std::mem::offset_of;
        let value = EmitParams {
            tiles_x: self.tiles_x,
            num_splats: self.num_splats,
            ..Default::default()
        };
        push_block(
            &value,
            &[
                (offset_of!(EmitParams, tile_keys), self.tile_keys),
                (offset_of!(EmitParams, values), self.values),
            ],
        )
    }
}

gpu_struct! {
    /// Push constants of tile_ranges.comp.
    pub struct RangesParams {
        pub tile_keys: DeviceAddr,
    }
}

/// [`RangesParams`] with the buffer it addresses.
pub(crate) struct RangesBlock<'a> {
    pub tile_keys: &'a Buffer,
}

impl<'a> RangesBlock<'a> {
    /// The push constants, borrowing the buffer they address.
    pub(crate) fn push(&self) -> Result<PushConstants<'a>, CoreError> {
        push_block(
            &RangesParams::default(),
            &[(
                std::mem::offset_of!(RangesParams, tile_keys),
                self.tile_keys,
            )],
        )
    }
}

gpu_struct! {
    /// Push constants of blend.comp.
    pub struct BlendParams {
        pub values: DeviceAddr,
        pub projected: DeviceAddr,
        pub out_rgba: DeviceAddr,
        pub out_depth: DeviceAddr,
        pub background: [f32; 4],
        pub width: u32,
        pub height: u32,
        pub tiles_x: u32,
        pub mode: u32,
        /// `DEPTH_*`: what the depth output holds.
        pub depth_kind: u32,
        /// `DepthKind::level` (0 for `DEPTH_EXPECTED`).
        pub depth_level: f32,
        /// The host depth (`crate::host_depth`): addressed, as it grows with the image.
        pub occluder: DeviceAddr,
    }
}

/// [`BlendParams`] with the buffers it addresses.
pub(crate) struct BlendBlock<'a> {
    pub values: &'a Buffer,
    pub projected: &'a Buffer,
    pub out_rgba: &'a Buffer,
    pub out_depth: &'a Buffer,
    pub occluder: &'a Buffer,
    pub background: [f32; 4],
    pub width: u32,
    pub height: u32,
    pub tiles_x: u32,
    pub mode: u32,
    pub depth: DepthKind,
}

impl<'a> BlendBlock<'a> {
    /// The push constants, borrowing the buffers they address.
    pub(crate) fn push(&self) -> Result<PushConstants<'a>, CoreError> {
        use std::mem::offset_of;
        let value = BlendParams {
            background: self.background,
            width: self.width,
            height: self.height,
            tiles_x: self.tiles_x,
            mode: self.mode,
            depth_kind: self.depth.shader_id(),
            depth_level: self.depth.level().unwrap_or(0.0),
            ..Default::default()
        };
        push_block(
            &value,
            &[
                (offset_of!(BlendParams, values), self.values),
                (offset_of!(BlendParams, projected), self.projected),
                (offset_of!(BlendParams, out_rgba), self.out_rgba),
                (offset_of!(BlendParams, out_depth), self.out_depth),
                (offset_of!(BlendParams, occluder), self.occluder),
            ],
        )
    }
}

/// Workgroup counts for `n` workgroups, split into 2D when above the x limit (the shaders
/// flatten with `flat_group()` and discard the overhang).
pub fn groups_2d(n: u32) -> [u32; 3] {
    if n == 0 {
        return [0, 0, 0];
    }
    let x = n.min(MAX_GROUPS_X);
    [x, n.div_ceil(x), 1]
}
