//! Size, alignment and field offsets of every `#[repr(C)]` struct of the ABI, and the
//! fingerprint derived from them.
//!
//! [`LAYOUTS`] is what `tests/abi.rs` compares with a C program compiled against
//! `include/vksplat.h` (sizeof, _Alignof, offsetof), and what [`LAYOUT_FINGERPRINT`] hashes.
//! Rust plugins report the fingerprint of the vksplat-abi they were built with at negotiation;
//! the host refuses a different one with a message (this is the layout check abi_stable's
//! `StableAbi` would give, done in the C ABI itself so that it also covers C plugins, which
//! report `VKSPLAT_LAYOUT_FINGERPRINT` from the header).
//!
//! Changing any struct changes the fingerprint: then bump `VKSPLAT_PLUGIN_ABI_VERSION` (or
//! only grow structs at the end), and update `VKSPLAT_LAYOUT_FINGERPRINT`; a test fails until
//! the two agree.

use core::mem::{align_of, offset_of, size_of};

use crate::*;

/// One field of a struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
}

/// One struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructLayout {
    pub name: &'static str,
    pub size: usize,
    pub align: usize,
    pub fields: &'static [FieldLayout],
}

/// `size_of` the type a field accessor returns.
pub const fn field_size<T, F>(_field: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! layouts {
    ($($t:ident { $($f:ident),* $(,)? })*) => {
        /// Every ABI struct, with all its fields in declaration order.
        pub const LAYOUTS: &[StructLayout] = &[$(StructLayout {
            name: stringify!($t),
            size: size_of::<$t>(),
            align: align_of::<$t>(),
            fields: &[$(FieldLayout {
                name: stringify!($f),
                offset: offset_of!($t, $f),
                size: field_size::<$t, _>(|s| &s.$f),
            }),*],
        }),*];
    };
}

layouts! {
    VksplatContextDesc { s_type, s_size, next, device, validation, reserved }
    VksplatLimits {
        s_type, s_size, next, max_image_side, subgroup_size, max_buffer_bytes, max_splats,
        abi_version, plugin_abi_min, plugin_abi_max, reserved, device_name,
    }
    VksplatCamera { s_type, s_size, next, width, height, fx, fy, cx, cy, world_to_camera }
    VksplatSceneDesc {
        s_type, s_size, next, count, sh_degree, flags, means, rotations, log_scales,
        opacity_logits, sh, covariances, opacity_scale, deleter, deleter_user,
    }
    VksplatKeyValue { key, value }
    VksplatPluginSceneDesc { s_type, s_size, next, plugin, source, params, param_count, eval }
    VksplatSceneInfo { s_type, s_size, next, count, sh_degree, is_plugin, eval, param_count }
    VksplatRenderDesc { s_type, s_size, next, mode, background, time }
    VksplatImage {
        s_type, s_size, next, width, height, format, reserved, pixels, row_bytes, depth,
    }
    VksplatHostApi { s_type, s_size, next, abi_version, reserved, set_error, log }
    VksplatNegotiation {
        s_type, s_size, next, host_abi_min, host_abi_max, host, plugin_abi_version, reserved,
        layout_fingerprint, api,
    }
    VksplatOpenDesc { s_type, s_size, next, host, source, options, option_count, reserved }
    VksplatParamDesc {
        name, description, param_type, flags, min, max, default_value, components, min_count,
        max_count, reserved,
    }
    VksplatSplatData {
        means, rotations, log_scales, opacity_logits, sh, covariances, opacity_scale,
    }
    VksplatSplatArrays {
        count, sh_degree, reserved, means, rotations, log_scales, opacity_logits, sh,
        covariances, opacity_scale,
    }
    VksplatDescription {
        s_type, s_size, next, splat_count, sh_degree, flags, outputs, has_gpu, has_cpu,
        param_count, params, initial,
    }
    VksplatBufferDesc { name, data, size }
    VksplatGpuStage {
        s_type, s_size, next, name, language, push_constant_size, code, code_size, buffers,
        buffer_count, frame_buffer_size, invocations,
    }
    VksplatParamValue { value, data, count, reserved }
    VksplatFrameInput { s_type, s_size, next, time, params, param_count, reserved }
    VksplatPluginApi {
        s_type, s_size, next, abi_version, reserved, name, version, open, close, describe,
        gpu_stage, gpu_frame, cpu_frame,
    }
}

const fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

const fn fnv_usize(h: u64, v: usize) -> u64 {
    fnv(h, &(v as u64).to_le_bytes())
}

/// FNV-1a over every struct's name, size, alignment and fields (name, offset, size), on the
/// platform it is computed on.
pub const fn fingerprint(layouts: &[StructLayout]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut s = 0;
    while s < layouts.len() {
        let l = &layouts[s];
        h = fnv(h, l.name.as_bytes());
        h = fnv_usize(h, l.size);
        h = fnv_usize(h, l.align);
        let mut f = 0;
        while f < l.fields.len() {
            h = fnv(h, l.fields[f].name.as_bytes());
            h = fnv_usize(h, l.fields[f].offset);
            h = fnv_usize(h, l.fields[f].size);
            f += 1;
        }
        s += 1;
    }
    h
}

/// The fingerprint of this build's layouts. On 64-bit targets it equals
/// `VKSPLAT_LAYOUT_FINGERPRINT` (a test checks it).
pub const LAYOUT_FINGERPRINT: u64 = fingerprint(LAYOUTS);

const _: () = assert!(size_of::<VksplatPluginApi>() == VKSPLAT_PLUGIN_API_V1_SIZE as usize);

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields are listed completely and in order: each starts where the previous one ends
    /// (rounded up to its alignment) and the last one ends at the struct's size (rounded).
    #[test]
    fn field_lists_cover_every_struct() {
        for l in LAYOUTS {
            let mut end = 0usize;
            for f in l.fields {
                let align = f.size.clamp(1, 8);
                let expected = end.div_ceil(align) * align;
                // Arrays and nested structs align to less than their size.
                assert!(
                    f.offset >= end && f.offset <= expected.max(end.div_ceil(4) * 4),
                    "{}.{} at {} after a field ending at {end}: a field is missing from LAYOUTS",
                    l.name,
                    f.name,
                    f.offset
                );
                end = f.offset + f.size;
            }
            assert_eq!(
                end.div_ceil(l.align) * l.align,
                l.size,
                "{}: fields end at {end} but the struct is {} bytes",
                l.name,
                l.size
            );
        }
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn header_fingerprint_is_current() {
        assert_eq!(
            VKSPLAT_LAYOUT_FINGERPRINT, LAYOUT_FINGERPRINT,
            "the ABI layout changed: bump VKSPLAT_PLUGIN_ABI_VERSION if it is not a growth at \
             the end, and set VKSPLAT_LAYOUT_FINGERPRINT to {LAYOUT_FINGERPRINT:#018x}"
        );
    }

    #[test]
    fn version_matches_the_crate() {
        let v = format!("{VKSPLAT_VERSION_MAJOR}.{VKSPLAT_VERSION_MINOR}.{VKSPLAT_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            VKSPLAT_VERSION,
            (VKSPLAT_VERSION_MAJOR << 22) | (VKSPLAT_VERSION_MINOR << 12) | VKSPLAT_VERSION_PATCH
        );
    }
}
