//! Size, alignment, field offsets and field types of every `#[repr(C)]` struct of the ABI, and
//! the plugin ABI fingerprint derived from them.
//!
//! [`LAYOUTS`] is what `tests/abi.rs` compares with a C program compiled against
//! `include/vksplat.h` (sizeof, _Alignof, offsetof), what the header's static assertions come
//! from, and what [`fingerprint`] hashes. Each field is listed with its Rust type, which the
//! compiler checks against the struct (a listed type that differs does not compile); callback
//! types are written out in full, not through an alias, so that a changed signature changes
//! the listed text.
//!
//! The fingerprint covers the structs a plugin shares with the host ([`Abi::Plugin`]): the host
//! API's structs can grow without touching it. Each released plugin ABI version has one frozen
//! fingerprint in [`PLUGIN_ABI_FINGERPRINTS`], and the host accepts a plugin whose version and
//! fingerprint are listed there ([`plugin_layout_accepted`]): a plugin built against version 1
//! keeps loading after the structs grow at the end for version 2. Changing a plugin struct
//! changes [`LAYOUT_FINGERPRINT`]: grow it at the end, bump `VKSPLAT_PLUGIN_ABI_VERSION`, add
//! the new fingerprint to the table and set `VKSPLAT_LAYOUT_FINGERPRINT_HI/LO`; the tests fail
//! until the three agree and the released values are unchanged.

use core::mem::{align_of, offset_of, size_of};

use crate::*;

/// Which interface a struct belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// The host C API (`libvksplat`): versioned by `VKSPLAT_ABI_VERSION` and `s_size`.
    Host,
    /// Shared by the host and plugins: covered by the plugin ABI fingerprint.
    Plugin,
}

/// One field of a struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
    /// The field's Rust type as written in the list (whitespace is ignored when hashing).
    pub ty: &'static str,
}

/// One struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructLayout {
    pub name: &'static str,
    pub abi: Abi,
    pub size: usize,
    pub align: usize,
    pub fields: &'static [FieldLayout],
}

/// Lists struct layouts: `Name(Abi) { field: Type, … }`, every field in declaration order with
/// its exact type (a type that differs from the struct's does not compile).
#[macro_export]
macro_rules! struct_layouts {
    ($($t:ident ($abi:ident) { $($f:ident : $ty:ty),* $(,)? })*) => {
        &[$($crate::layout::StructLayout {
            name: stringify!($t),
            abi: $crate::layout::Abi::$abi,
            size: ::core::mem::size_of::<$t>(),
            align: ::core::mem::align_of::<$t>(),
            fields: &[$($crate::layout::FieldLayout {
                name: stringify!($f),
                offset: ::core::mem::offset_of!($t, $f),
                size: {
                    // The listed type must be the field's type.
                    const fn field_type(s: &$t) -> &$ty {
                        &s.$f
                    }
                    let _ = field_type;
                    ::core::mem::size_of::<$ty>()
                },
                ty: stringify!($ty),
            }),*],
        }),*]
    };
}

/// Every ABI struct, with all its fields in declaration order.
pub const LAYOUTS: &[StructLayout] = struct_layouts! {
    VksplatContextDesc(Host) {
        s_type: u32, s_size: u32, next: *const c_void, device: *const c_char, validation: u32,
        reserved: u32,
        log: Option<unsafe extern "C" fn(*mut c_void, i32, *const c_char)>,
        log_user: *mut c_void, log_level: i32, reserved2: u32,
        allocation_callbacks: *const c_void, memory_budget: u64,
    }
    VksplatLimits(Host) {
        s_type: u32, s_size: u32, next: *mut c_void, max_image_side: u32, subgroup_size: u32,
        max_buffer_bytes: u64, max_splats: u64, abi_version: u32, plugin_abi_min: u32,
        plugin_abi_max: u32, reserved: u32, device_name: [c_char; 256], max_image_pixels: u64,
        max_splats_by_sh_degree: [u64; 4],
    }
    VksplatCamera(Host) {
        s_type: u32, s_size: u32, next: *const c_void, width: u32, height: u32, fx: f32,
        fy: f32, cx: f32, cy: f32, world_to_camera: [f32; 16], projection: u32, reserved: u32,
    }
    VksplatSceneDesc(Host) {
        s_type: u32, s_size: u32, next: *const c_void, count: u64, sh_degree: u32, flags: u32,
        means: *const f32, rotations: *const f32, log_scales: *const f32,
        opacity_logits: *const f32, sh: *const f32, covariances: *const f32,
        opacity_scale: *const f32, deleter: Option<unsafe extern "C" fn(*mut c_void)>,
        deleter_user: *mut c_void,
    }
    VksplatKeyValue(Plugin) { key: *const c_char, value: *const c_char }
    VksplatPluginSceneDesc(Host) {
        s_type: u32, s_size: u32, next: *const c_void, plugin: *const c_char,
        source: *const c_char, params: *const VksplatKeyValue, param_count: u32, eval: u32,
    }
    VksplatSceneInfo(Host) {
        s_type: u32, s_size: u32, next: *mut c_void, count: u64, sh_degree: u32,
        is_plugin: u32, eval: u32, param_count: u32, antialiased: u32, reserved: u32,
        time_start: f64, time_end: f64, has_time_range: u32, reserved2: u32,
        bounds_min: [f32; 3], bounds_max: [f32; 3], has_bounds: u32, reserved3: u32,
    }
    VksplatRenderDesc(Host) {
        s_type: u32, s_size: u32, next: *const c_void, mode: u32, background: [f32; 3],
        time: f64, flags: u32, reserved: u32, camera: *const VksplatCamera, clip_near: f32,
        clip_far: f32, depth_kind: u32, reserved2: u32,
    }
    VksplatHostDepth(Host) {
        s_type: u32, s_size: u32, next: *const c_void, convention: u32, flags: u32,
        depth_near: f32, depth_far: f32, values: *const f32, value_count: u64, image: u64,
        image_format: u32, image_layout: u32, image_queue_family: u32, reserved: u32,
        buffer: u64, buffer_size: u64, buffer_offset: u64,
    }
    VksplatSceneInstance(Host) {
        s_type: u32, s_size: u32, next: *const c_void, scene: *mut VksplatScene,
        transform: [f32; 16], opacity: f32, reserved: u32,
    }
    VksplatMemoryStats(Host) {
        s_type: u32, s_size: u32, next: *mut c_void, device_bytes: u64,
        peak_device_bytes: u64, scene_bytes: u64, frame_bytes: u64, staging_bytes: u64,
        other_bytes: u64, host_visible_bytes: u64, reserved_bytes: u64, budget: u64,
        allocations: u64,
    }
    VksplatImage(Host) {
        s_type: u32, s_size: u32, next: *const c_void, width: u32, height: u32, format: u32,
        reserved: u32, pixels: *mut c_void, row_bytes: u64, depth: *mut f32, pixels_size: u64,
        depth_size: u64,
    }
    VksplatVulkanRequirements(Host) {
        s_type: u32, s_size: u32, next: *mut c_void, api_version: u32, queue_flags: u32,
        extension_count: u32, feature_count: u32, extensions: *const *const c_char,
        vulkan12_features: *const *const c_char,
    }
    VksplatVulkanDevice(Host) {
        s_type: u32, s_size: u32, next: *const c_void,
        get_instance_proc_addr: Option<
            unsafe extern "C" fn(*mut c_void, *const c_char) -> Option<unsafe extern "C" fn()>,
        >,
        instance: *mut c_void, physical_device: *mut c_void, device: *mut c_void,
        queue_family: u32, queue_index: u32, api_version: u32, extension_count: u32,
        extensions: *const *const c_char, feature_count: u32, reserved: u32,
        vulkan12_features: *const *const c_char,
    }
    VksplatVulkanTarget(Host) {
        s_type: u32, s_size: u32, next: *const c_void, color_image: u64, color_format: u32,
        color_old_layout: u32, color_new_layout: u32, color_queue_family: u32, depth_image: u64,
        depth_format: u32, depth_old_layout: u32, depth_new_layout: u32,
        depth_queue_family: u32, color_buffer: u64, color_buffer_offset: u64,
        color_buffer_size: u64, depth_buffer: u64, depth_buffer_offset: u64,
        depth_buffer_size: u64, wait_count: u32, signal_count: u32, wait_semaphores: *const u64,
        wait_values: *const u64, signal_semaphores: *const u64, signal_values: *const u64,
    }
    VksplatHostApi(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, abi_version: u32, reserved: u32,
        set_error: Option<unsafe extern "C" fn(*const c_char)>,
        log: Option<unsafe extern "C" fn(i32, *const c_char)>,
    }
    VksplatNegotiation(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, host_abi_min: u32, host_abi_max: u32,
        host: *const VksplatHostApi, plugin_abi_version: u32, reserved: u32,
        layout_fingerprint: u64, api: *const VksplatPluginApi,
    }
    VksplatOpenDesc(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, host: *const VksplatHostApi,
        source: *const c_char, options: *const VksplatKeyValue, option_count: u32,
        reserved: u32,
    }
    VksplatParamDesc(Plugin) {
        name: *const c_char, description: *const c_char, param_type: u32, flags: u32,
        min: f64, max: f64, default_value: f64, components: u32, min_count: u32,
        max_count: u32, reserved: u32,
    }
    VksplatSplatData(Plugin) {
        means: *const f32, rotations: *const f32, log_scales: *const f32,
        opacity_logits: *const f32, sh: *const f32, covariances: *const f32,
        opacity_scale: *const f32,
    }
    VksplatSplatArrays(Plugin) {
        count: u64, sh_degree: u32, reserved: u32, means: *mut f32, rotations: *mut f32,
        log_scales: *mut f32, opacity_logits: *mut f32, sh: *mut f32, covariances: *mut f32,
        opacity_scale: *mut f32,
    }
    VksplatDescription(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, splat_count: u64, sh_degree: u32,
        flags: u32, outputs: u32, has_gpu: u32, has_cpu: u32, param_count: u32,
        params: *const VksplatParamDesc, initial: VksplatSplatData, time_start: f64,
        time_end: f64,
    }
    VksplatBufferDesc(Plugin) { name: *const c_char, data: *const c_void, size: u64 }
    VksplatGpuStage(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, name: *const c_char, language: u32,
        push_constant_size: u32, code: *const c_void, code_size: u64,
        buffers: *const VksplatBufferDesc, buffer_count: u32, frame_buffer_size: u32,
        invocations: u64,
    }
    VksplatParamValue(Plugin) { value: f64, data: *const f32, count: u32, reserved: u32 }
    VksplatFrameInput(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, time: f64,
        params: *const VksplatParamValue, param_count: u32, reserved: u32,
    }
    VksplatPluginApi(Plugin) {
        s_type: u32, s_size: u32, next: *const c_void, abi_version: u32, reserved: u32,
        name: *const c_char, version: *const c_char,
        open: Option<unsafe extern "C" fn(*const VksplatOpenDesc, *mut *mut VksplatInstance) -> i32>,
        close: Option<unsafe extern "C" fn(*mut VksplatInstance)>,
        describe: Option<unsafe extern "C" fn(*mut VksplatInstance, *mut VksplatDescription) -> i32>,
        gpu_stage: Option<unsafe extern "C" fn(*mut VksplatInstance, *mut VksplatGpuStage) -> i32>,
        gpu_frame: Option<
            unsafe extern "C" fn(
                *mut VksplatInstance, *const VksplatFrameInput, *mut c_void, u32, *mut c_void, u32,
            ) -> i32,
        >,
        cpu_frame: Option<
            unsafe extern "C" fn(
                *mut VksplatInstance, *const VksplatFrameInput, *const VksplatSplatArrays,
            ) -> i32,
        >,
    }
};

const fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// FNV-1a over the bytes of `s` that are not ASCII whitespace, then a 0 separator (the text
/// of a type does not depend on how the compiler spaces it).
const fn fnv_text(mut h: u64, s: &str) -> u64 {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_whitespace() {
            h ^= bytes[i] as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        i += 1;
    }
    fnv(h, &[0])
}

const fn fnv_usize(h: u64, v: usize) -> u64 {
    fnv(h, &(v as u64).to_le_bytes())
}

/// FNV-1a over the name, size and alignment of every struct of `abi`, and the name, offset,
/// size and type of each of their fields, in list order.
pub const fn fingerprint(layouts: &[StructLayout], abi: Abi) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut s = 0;
    while s < layouts.len() {
        let l = &layouts[s];
        s += 1;
        if l.abi as u8 != abi as u8 {
            continue;
        }
        h = fnv_text(h, l.name);
        h = fnv_usize(h, l.size);
        h = fnv_usize(h, l.align);
        let mut f = 0;
        while f < l.fields.len() {
            h = fnv_text(h, l.fields[f].name);
            h = fnv_usize(h, l.fields[f].offset);
            h = fnv_usize(h, l.fields[f].size);
            h = fnv_text(h, l.fields[f].ty);
            f += 1;
        }
    }
    h
}

/// The plugin ABI fingerprint of this build's layouts; equals `VKSPLAT_LAYOUT_FINGERPRINT`
/// (a test checks it).
pub const LAYOUT_FINGERPRINT: u64 = fingerprint(LAYOUTS, Abi::Plugin);

/// The fingerprint of plugin ABI version 1, frozen at its release.
pub const PLUGIN_ABI_V1_FINGERPRINT: u64 = 0xa303_048f_6708_4893;

/// What plugins built with vksplat 0.1.0 report: the earlier fingerprint (sizes and offsets of
/// every struct, no types) of the same version-1 plugin structs.
pub const PLUGIN_ABI_V1_UNTYPED_FINGERPRINT: u64 = 0x479c_93d9_f849_6b99;

/// The fingerprint of plugin ABI version 2 (`VksplatDescription` grew `time_start` and
/// `time_end`), frozen at its release.
pub const PLUGIN_ABI_V2_FINGERPRINT: u64 = 0x5e8b_205f_c33b_12ca;

/// Every released plugin ABI version and the fingerprints a plugin built against it reports.
pub const PLUGIN_ABI_FINGERPRINTS: &[(u32, u64)] = &[
    (1, PLUGIN_ABI_V1_FINGERPRINT),
    (1, PLUGIN_ABI_V1_UNTYPED_FINGERPRINT),
    (2, PLUGIN_ABI_V2_FINGERPRINT),
];

/// Whether a plugin reporting `abi_version` and `fingerprint` is loaded: the version is in
/// `VKSPLAT_PLUGIN_ABI_MIN..=VKSPLAT_PLUGIN_ABI_VERSION` and the fingerprint is one frozen for
/// it.
pub fn plugin_layout_accepted(abi_version: u32, fingerprint: u64) -> bool {
    accepted_in(PLUGIN_ABI_FINGERPRINTS, abi_version, fingerprint)
}

/// [`plugin_layout_accepted`] against an explicit table (for tests of the rule); the real
/// table lists exactly the versions `VKSPLAT_PLUGIN_ABI_MIN..=VKSPLAT_PLUGIN_ABI_VERSION`.
pub fn accepted_in(table: &[(u32, u64)], abi_version: u32, fingerprint: u64) -> bool {
    table.contains(&(abi_version, fingerprint))
}

/// The fingerprints frozen for `abi_version` (for messages).
pub fn fingerprints_of(abi_version: u32) -> impl Iterator<Item = u64> {
    PLUGIN_ABI_FINGERPRINTS
        .iter()
        .filter(move |(v, _)| *v == abi_version)
        .map(|(_, f)| *f)
}

const _: () = assert!(size_of::<VksplatPluginApi>() == VKSPLAT_PLUGIN_API_V1_SIZE as usize);
const _: () =
    assert!(align_of::<VksplatPluginApi>() == 8 && offset_of!(VksplatPluginApi, s_type) == 0);

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

    #[test]
    fn header_fingerprint_is_current_and_frozen() {
        assert_eq!(
            VKSPLAT_LAYOUT_FINGERPRINT, LAYOUT_FINGERPRINT,
            "the plugin ABI layout changed: grow structs at the end, bump \
             VKSPLAT_PLUGIN_ABI_VERSION, add {LAYOUT_FINGERPRINT:#018x} to \
             PLUGIN_ABI_FINGERPRINTS and set VKSPLAT_LAYOUT_FINGERPRINT_HI/LO to it"
        );
        assert!(plugin_layout_accepted(
            VKSPLAT_PLUGIN_ABI_VERSION,
            LAYOUT_FINGERPRINT
        ));
        // The released versions' values never change (a plugin built against them reports
        // exactly these).
        assert_eq!(PLUGIN_ABI_V1_FINGERPRINT, 0xa303_048f_6708_4893);
        assert_eq!(PLUGIN_ABI_V1_UNTYPED_FINGERPRINT, 0x479c_93d9_f849_6b99);
        assert_eq!(PLUGIN_ABI_V2_FINGERPRINT, 0x5e8b_205f_c33b_12ca);
        let versions: std::collections::BTreeSet<u32> =
            PLUGIN_ABI_FINGERPRINTS.iter().map(|e| e.0).collect();
        assert_eq!(
            versions.into_iter().collect::<Vec<_>>(),
            (VKSPLAT_PLUGIN_ABI_MIN..=VKSPLAT_PLUGIN_ABI_VERSION).collect::<Vec<_>>(),
            "one frozen fingerprint for every loadable plugin ABI version"
        );
    }

    #[test]
    fn host_structs_do_not_change_the_plugin_fingerprint() {
        let plugin_only: Vec<StructLayout> = LAYOUTS
            .iter()
            .filter(|l| l.abi == Abi::Plugin)
            .copied()
            .collect();
        assert!(plugin_only.len() < LAYOUTS.len());
        assert_eq!(fingerprint(&plugin_only, Abi::Plugin), LAYOUT_FINGERPRINT);
        assert_ne!(fingerprint(LAYOUTS, Abi::Host), LAYOUT_FINGERPRINT);
    }

    #[allow(dead_code)] // only their layouts are looked at
    mod mutated {
        use core::ffi::c_char;

        // Two layouts that differ only in a field's type: same sizes and offsets.
        #[repr(C)]
        pub struct VksplatHostApi {
            pub s_type: u32,
            pub scale: f32,
            pub log: Option<unsafe extern "C" fn(i32, *const c_char)>,
        }
        pub mod as_u32 {
            use core::ffi::c_char;
            #[repr(C)]
            pub struct VksplatHostApi {
                pub s_type: u32,
                pub scale: u32,
                pub log: Option<unsafe extern "C" fn(i32, *const c_char)>,
            }
        }
        pub mod callback {
            use core::ffi::c_char;
            #[repr(C)]
            pub struct VksplatHostApi {
                pub s_type: u32,
                pub scale: f32,
                pub log: Option<unsafe extern "C" fn(u32, *const c_char)>,
            }
        }
    }

    #[test]
    fn field_types_and_callback_signatures_change_the_fingerprint() {
        use core::ffi::c_char;
        const BASE: &[StructLayout] = {
            use mutated::VksplatHostApi;
            struct_layouts! { VksplatHostApi(Plugin) {
                s_type: u32, scale: f32, log: Option<unsafe extern "C" fn(i32, *const c_char)>,
            } }
        };
        const AS_U32: &[StructLayout] = {
            use mutated::as_u32::VksplatHostApi;
            struct_layouts! { VksplatHostApi(Plugin) {
                s_type: u32, scale: u32, log: Option<unsafe extern "C" fn(i32, *const c_char)>,
            } }
        };
        const CALLBACK: &[StructLayout] = {
            use mutated::callback::VksplatHostApi;
            struct_layouts! { VksplatHostApi(Plugin) {
                s_type: u32, scale: f32, log: Option<unsafe extern "C" fn(u32, *const c_char)>,
            } }
        };
        let (base, as_u32, callback) = (BASE, AS_U32, CALLBACK);
        // Sizes and offsets agree: an untyped fingerprint could not tell them apart.
        for other in [as_u32, callback] {
            assert_eq!(base[0].size, other[0].size);
            for (a, b) in base[0].fields.iter().zip(other[0].fields) {
                assert_eq!((a.offset, a.size), (b.offset, b.size));
            }
        }
        let fp = |l| fingerprint(l, Abi::Plugin);
        assert_ne!(
            fp(base),
            fp(as_u32),
            "f32 -> u32 must change the fingerprint"
        );
        assert_ne!(
            fp(base),
            fp(callback),
            "a callback's signature must change it"
        );
        // Spacing of the type text does not.
        let mut spaced = base[0];
        let fields: Vec<FieldLayout> = base[0]
            .fields
            .iter()
            .map(|f| FieldLayout {
                ty: if f.name == "log" {
                    "Option < unsafe extern \"C\" fn ( i32 , * const c_char ) >"
                } else {
                    f.ty
                },
                ..*f
            })
            .collect();
        spaced.fields = fields.leak();
        assert_eq!(fp(&[spaced]), fp(base));
    }

    #[test]
    fn a_v1_plugin_keeps_loading_after_a_v2_growth() {
        // A grow-at-the-end release adds version 2 and keeps version 1's frozen value.
        let table = [(1, 0x1111), (2, 0x2222)];
        assert!(accepted_in(&table, 1, 0x1111), "a plugin built against v1");
        assert!(accepted_in(&table, 2, 0x2222), "a plugin built against v2");
        assert!(!accepted_in(&table, 1, 0x2222), "v1 with v2's layout");
        assert!(!accepted_in(&table, 3, 0x2222), "an unknown version");
        assert!(!plugin_layout_accepted(1, LAYOUT_FINGERPRINT ^ 0x40));
        assert!(!plugin_layout_accepted(
            VKSPLAT_PLUGIN_ABI_VERSION + 1,
            LAYOUT_FINGERPRINT
        ));
        assert!(plugin_layout_accepted(1, PLUGIN_ABI_V1_UNTYPED_FINGERPRINT));
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
