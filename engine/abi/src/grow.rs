//! The growth rule of the ABI, in one place: how a struct that starts with the header
//! (`s_type`, `s_size`, `next`) is read and written by a side that may know a longer or
//! shorter version of it. The C API and the plugin SDK read and write such structs only
//! through [`read`] and [`write`].
//!
//! - **Reading** an in-struct copies `min(s_size, sizeof)` bytes into a zeroed value: fields the
//!   writer did not know read as zero, bytes beyond them are never touched.
//! - **Writing** an out-struct fills the bytes after the header up to `min(s_size, sizeof)`: the
//!   caller's `s_type`, `s_size` and `next` stay as it set them, nothing beyond `s_size` is
//!   written.
//! - `s_size` below the struct's `*_V1_SIZE` or a wrong `s_type` is
//!   `VKSPLAT_ERROR_STRUCT_SIZE`.
//! - A non-zero `reserved*` field within `s_size` of an in-struct is
//!   `VKSPLAT_ERROR_INVALID_ARGUMENT`, so that the field can gain a meaning later without old
//!   readers silently ignoring it.
//! - Extension structs in `next` are accepted only if the reader knows their `s_type`
//!   ([`Versioned::EXTENSIONS`]; `VksplatHostDepth` extends `VksplatRenderDesc`; [`find`] reads
//!   one from a chain): anything else is
//!   `VKSPLAT_ERROR_UNSUPPORTED`, naming the `s_type`, so that a request the reader cannot honour
//!   is refused rather than silently dropped.
//!
//! Invariant: every [`Versioned`] type is `#[repr(C)]`, starts with `s_type: u32`,
//! `s_size: u32` and a `next` pointer, and is valid when all its bytes are zero (integers,
//! floats, raw pointers, `Option` of function pointers); the impls below check the header
//! offsets and the V1 size at compile time.

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use crate::layout::LAYOUTS;
use crate::*;

/// Bytes of the header every versioned struct starts with.
const HEADER_SIZE: usize = 16;

/// Longest `next` chain followed (a longer one is a cycle or garbage).
const MAX_CHAIN: usize = 16;

/// A struct with the ABI header that may grow at the end.
///
/// # Safety
/// The type must be `#[repr(C)]`, start with `s_type: u32`, `s_size: u32` and a `next`
/// pointer, and be valid when all its bytes are zero.
pub unsafe trait Versioned: Copy {
    /// The C name, used in messages and to find the struct's `reserved*` fields in
    /// [`LAYOUTS`].
    const NAME: &'static str;
    /// Its `VKSPLAT_STRUCT_*` value.
    const S_TYPE: u32;
    /// Its size at ABI version 1: the smallest `s_size` accepted.
    const V1_SIZE: u32;
    /// `s_type` values of extension structs a reader of this struct understands in `next`.
    const EXTENSIONS: &'static [u32] = &[];
}

macro_rules! versioned {
    ($($t:ident = $s_type:ident, $v1:ident $(, extended by [$($ext:ident),*])?;)*) => {$(
        // SAFETY: the ABI struct is #[repr(C)], of integers, floats, arrays of them, raw
        // pointers and Option<extern fn> (all valid as zero bytes), and starts with the header
        // (checked below).
        unsafe impl Versioned for $t {
            const NAME: &'static str = stringify!($t);
            const S_TYPE: u32 = $s_type;
            const V1_SIZE: u32 = $v1;
            const EXTENSIONS: &'static [u32] = &[$($($ext),*)?];
        }
        const _: () = {
            assert!(offset_of!($t, s_type) == 0 && offset_of!($t, s_size) == 4);
            assert!(offset_of!($t, next) == 8 && HEADER_SIZE == 16);
            assert!(size_of::<$t>() >= $v1 as usize && $v1 as usize >= HEADER_SIZE);
        };
    )*};
}

versioned! {
    VksplatContextDesc = VKSPLAT_STRUCT_CONTEXT_DESC, VKSPLAT_CONTEXT_DESC_V1_SIZE;
    VksplatLimits = VKSPLAT_STRUCT_LIMITS, VKSPLAT_LIMITS_V1_SIZE;
    VksplatCamera = VKSPLAT_STRUCT_CAMERA, VKSPLAT_CAMERA_V1_SIZE;
    VksplatSceneDesc = VKSPLAT_STRUCT_SCENE_DESC, VKSPLAT_SCENE_DESC_V1_SIZE;
    VksplatPluginSceneDesc = VKSPLAT_STRUCT_PLUGIN_SCENE_DESC, VKSPLAT_PLUGIN_SCENE_DESC_V1_SIZE;
    VksplatSceneInfo = VKSPLAT_STRUCT_SCENE_INFO, VKSPLAT_SCENE_INFO_V1_SIZE;
    VksplatRenderDesc = VKSPLAT_STRUCT_RENDER_DESC, VKSPLAT_RENDER_DESC_V1_SIZE,
        extended by [VKSPLAT_STRUCT_HOST_DEPTH];
    VksplatHostDepth = VKSPLAT_STRUCT_HOST_DEPTH, VKSPLAT_HOST_DEPTH_V1_SIZE;
    VksplatImage = VKSPLAT_STRUCT_IMAGE, VKSPLAT_IMAGE_V1_SIZE;
    VksplatVulkanRequirements = VKSPLAT_STRUCT_VULKAN_REQUIREMENTS, VKSPLAT_VULKAN_REQUIREMENTS_V1_SIZE;
    VksplatVulkanDevice = VKSPLAT_STRUCT_VULKAN_DEVICE, VKSPLAT_VULKAN_DEVICE_V1_SIZE;
    VksplatVulkanTarget = VKSPLAT_STRUCT_VULKAN_TARGET, VKSPLAT_VULKAN_TARGET_V1_SIZE;
    VksplatSceneInstance = VKSPLAT_STRUCT_SCENE_INSTANCE, VKSPLAT_SCENE_INSTANCE_V1_SIZE;
    VksplatMemoryStats = VKSPLAT_STRUCT_MEMORY_STATS, VKSPLAT_MEMORY_STATS_V1_SIZE;
    VksplatHostApi = VKSPLAT_STRUCT_HOST_API, VKSPLAT_HOST_API_V1_SIZE;
    VksplatNegotiation = VKSPLAT_STRUCT_NEGOTIATION, VKSPLAT_NEGOTIATION_V1_SIZE;
    VksplatOpenDesc = VKSPLAT_STRUCT_OPEN_DESC, VKSPLAT_OPEN_DESC_V1_SIZE;
    VksplatDescription = VKSPLAT_STRUCT_DESCRIPTION, VKSPLAT_DESCRIPTION_V1_SIZE;
    VksplatGpuStage = VKSPLAT_STRUCT_GPU_STAGE, VKSPLAT_GPU_STAGE_V1_SIZE;
    VksplatFrameInput = VKSPLAT_STRUCT_FRAME_INPUT, VKSPLAT_FRAME_INPUT_V1_SIZE;
    VksplatPluginApi = VKSPLAT_STRUCT_PLUGIN_API, VKSPLAT_PLUGIN_API_V1_SIZE;
}

// The first field added after version 1 starts where the version-1 struct ended, so a
// version-1 caller's `s_size` covers exactly the version-1 fields.
const _: () = {
    assert!(offset_of!(VksplatContextDesc, log) == VKSPLAT_CONTEXT_DESC_V1_SIZE as usize);
    assert!(offset_of!(VksplatLimits, max_image_pixels) == VKSPLAT_LIMITS_V1_SIZE as usize);
    assert!(offset_of!(VksplatSceneInfo, antialiased) == VKSPLAT_SCENE_INFO_V1_SIZE as usize);
    assert!(offset_of!(VksplatRenderDesc, flags) == VKSPLAT_RENDER_DESC_V1_SIZE as usize);
    assert!(offset_of!(VksplatCamera, projection) == VKSPLAT_CAMERA_V1_SIZE as usize);
    assert!(offset_of!(VksplatImage, pixels_size) == VKSPLAT_IMAGE_V1_SIZE as usize);
    assert!(offset_of!(VksplatDescription, time_start) == VKSPLAT_DESCRIPTION_V1_SIZE as usize);
};

/// Why a struct was refused; every message names the argument and the struct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StructError {
    /// The pointer is NULL.
    #[error("{what} is NULL")]
    Null { what: String },
    /// `s_type` is not the struct's.
    #[error("{what}: s_type is {found}, expected {expected} for {name}")]
    WrongType {
        what: String,
        name: &'static str,
        found: u32,
        expected: u32,
    },
    /// `s_size` is below the struct's size at ABI version 1.
    #[error("{what}: s_size is {size}, but {name} has at least {min} bytes (set s_size = sizeof({name}))")]
    TooSmall {
        what: String,
        name: &'static str,
        size: u32,
        min: u32,
    },
    /// A reserved field is not zero.
    #[error("{what}: {name}.{field} is reserved and must be zero")]
    Reserved {
        what: String,
        name: &'static str,
        field: &'static str,
    },
    /// An extension struct in `next` that this reader does not know.
    #[error("{what}: the next chain holds a struct of s_type {s_type}, which {name} does not take here (this library knows no extension of it)")]
    UnknownExtension {
        what: String,
        name: &'static str,
        s_type: u32,
    },
    /// The `next` chain is longer than any valid one.
    #[error("{what}: the next chain of {name} has more than {MAX_CHAIN} structs (a cycle?)")]
    ChainTooLong { what: String, name: &'static str },
}

impl StructError {
    /// The result code the C API returns for it.
    pub fn code(&self) -> VksplatResult {
        match self {
            StructError::Null { .. } | StructError::Reserved { .. } => {
                VKSPLAT_ERROR_INVALID_ARGUMENT
            }
            StructError::WrongType { .. } | StructError::TooSmall { .. } => {
                VKSPLAT_ERROR_STRUCT_SIZE
            }
            StructError::UnknownExtension { .. } | StructError::ChainTooLong { .. } => {
                VKSPLAT_ERROR_UNSUPPORTED
            }
        }
    }
}

/// Checks the header at `p` (non-NULL): type and minimum size. Returns `s_size`.
///
/// # Safety
/// `p` points at least 8 readable bytes.
unsafe fn check_header<T: Versioned>(p: *const u8, what: &str) -> Result<u32, StructError> {
    // SAFETY: the caller guarantees the header's first 8 bytes are readable; C gives no
    // alignment guarantee we rely on, hence the unaligned reads.
    let (s_type, s_size) = unsafe {
        (
            core::ptr::read_unaligned(p as *const u32),
            core::ptr::read_unaligned(p.add(4) as *const u32),
        )
    };
    if s_type != T::S_TYPE {
        return Err(StructError::WrongType {
            what: what.into(),
            name: T::NAME,
            found: s_type,
            expected: T::S_TYPE,
        });
    }
    if s_size < T::V1_SIZE {
        return Err(StructError::TooSmall {
            what: what.into(),
            name: T::NAME,
            size: s_size,
            min: T::V1_SIZE,
        });
    }
    Ok(s_size)
}

/// Applies the `next` rule to the chain starting at `next`.
///
/// # Safety
/// Every non-NULL pointer in the chain points at a struct starting with the header.
unsafe fn check_chain<T: Versioned>(
    mut next: *const c_void,
    what: &str,
) -> Result<(), StructError> {
    for _ in 0..MAX_CHAIN {
        if next.is_null() {
            return Ok(());
        }
        // SAFETY: the caller guarantees chain entries start with the 16-byte header.
        let (s_type, after) = unsafe {
            (
                core::ptr::read_unaligned(next as *const u32),
                core::ptr::read_unaligned((next as *const u8).add(8) as *const *const c_void),
            )
        };
        if !T::EXTENSIONS.contains(&s_type) {
            return Err(StructError::UnknownExtension {
                what: what.into(),
                name: T::NAME,
                s_type,
            });
        }
        next = after;
    }
    if next.is_null() {
        Ok(())
    } else {
        Err(StructError::ChainTooLong {
            what: what.into(),
            name: T::NAME,
        })
    }
}

/// Reads an in-struct by the growth rule (see the module docs); `what` names the argument in
/// messages.
///
/// # Safety
/// `p` is NULL or points at a struct that starts with the header and has at least `s_size`
/// readable bytes, whose `next` chain is valid.
pub unsafe fn read<T: Versioned>(p: *const T, what: &str) -> Result<T, StructError> {
    if p.is_null() {
        return Err(StructError::Null { what: what.into() });
    }
    // SAFETY: non-NULL, and the caller guarantees the header is readable.
    let s_size = unsafe { check_header::<T>(p as *const u8, what)? };
    let len = (s_size as usize).min(size_of::<T>());
    let mut out = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: the caller guarantees `s_size` readable bytes at `p`; `out` has `size_of::<T>()`
    // bytes and does not overlap caller memory.
    unsafe { core::ptr::copy_nonoverlapping(p as *const u8, out.as_mut_ptr() as *mut u8, len) };
    // SAFETY: T is valid as zero bytes (Versioned), and the copied prefix holds the caller's
    // values of the fields it covers, of the same C types.
    let value = unsafe { out.assume_init() };
    check_reserved::<T>(&value, what)?;
    // SAFETY: `next` is the header's third field (checked for every Versioned type).
    let next = unsafe {
        core::ptr::read_unaligned((&value as *const T as *const u8).add(8) as *const *const c_void)
    };
    // SAFETY: the caller guarantees a valid chain.
    unsafe { check_chain::<T>(next, what)? };
    Ok(value)
}

/// The extension struct of type `T` in the `next` chain starting at `next` (which [`read`] of
/// the struct that owns the chain has checked), read by the growth rule; `None` when the chain
/// has none.
///
/// # Safety
/// Every non-NULL pointer in the chain points at a struct that starts with the header and has
/// at least its `s_size` readable bytes.
pub unsafe fn find<T: Versioned>(
    mut next: *const c_void,
    what: &str,
) -> Result<Option<T>, StructError> {
    for _ in 0..MAX_CHAIN {
        if next.is_null() {
            return Ok(None);
        }
        // SAFETY: the caller guarantees chain entries start with the 16-byte header.
        let (s_type, after) = unsafe {
            (
                core::ptr::read_unaligned(next as *const u32),
                core::ptr::read_unaligned((next as *const u8).add(8) as *const *const c_void),
            )
        };
        if s_type == T::S_TYPE {
            // SAFETY: as above; the entry is a `T` by its type.
            return unsafe { read(next as *const T, what) }.map(Some);
        }
        next = after;
    }
    Err(StructError::ChainTooLong {
        what: what.into(),
        name: T::NAME,
    })
}

/// Refuses non-zero `reserved*` fields (those beyond the caller's `s_size` read as zero).
fn check_reserved<T: Versioned>(value: &T, what: &str) -> Result<(), StructError> {
    let Some(layout) = LAYOUTS.iter().find(|l| l.name == T::NAME) else {
        return Ok(());
    };
    for f in layout
        .fields
        .iter()
        .filter(|f| f.name.starts_with("reserved"))
    {
        debug_assert!(f.offset + f.size <= size_of::<T>());
        // SAFETY: the bytes of a field of `value` (LAYOUTS is checked against the struct),
        // which are initialised integers, not padding.
        let bytes = unsafe {
            core::slice::from_raw_parts((value as *const T as *const u8).add(f.offset), f.size)
        };
        if bytes.iter().any(|&b| b != 0) {
            return Err(StructError::Reserved {
                what: what.into(),
                name: T::NAME,
                field: f.name,
            });
        }
    }
    Ok(())
}

/// Writes an out-struct by the growth rule: checks the header the caller set at `dst`, then
/// copies the bytes of `value` after the header, up to the caller's `s_size` (see the module
/// docs).
///
/// # Safety
/// `dst` is NULL or points at a struct that starts with the header and has at least `s_size`
/// writable bytes, whose `next` chain is valid.
pub unsafe fn write<T: Versioned>(dst: *mut T, value: &T, what: &str) -> Result<(), StructError> {
    if dst.is_null() {
        return Err(StructError::Null { what: what.into() });
    }
    // SAFETY: non-NULL, and the caller guarantees the header is readable.
    let s_size = unsafe { check_header::<T>(dst as *const u8, what)? };
    // SAFETY: as above; `next` is at offset 8.
    let next =
        unsafe { core::ptr::read_unaligned((dst as *const u8).add(8) as *const *const c_void) };
    // SAFETY: the caller guarantees a valid chain.
    unsafe { check_chain::<T>(next, what)? };
    let len = (s_size as usize).min(size_of::<T>());
    // SAFETY: the caller guarantees `s_size` writable bytes at `dst`; `value` is a distinct
    // object of `size_of::<T>()` bytes.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (value as *const T as *const u8).add(HEADER_SIZE),
            (dst as *mut u8).add(HEADER_SIZE),
            len - HEADER_SIZE,
        )
    };
    Ok(())
}

/// The header a writer of `T` sets: `s_type`, `s_size = sizeof(T)` as this build knows it.
pub const fn header_of<T: Versioned>() -> (u32, u32) {
    (T::S_TYPE, size_of::<T>() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeroed<T: Versioned>() -> T {
        // SAFETY: Versioned types are valid as zero bytes.
        unsafe { core::mem::zeroed() }
    }

    fn camera() -> VksplatCamera {
        let mut c: VksplatCamera = zeroed();
        c.s_type = VKSPLAT_STRUCT_CAMERA;
        c.s_size = size_of::<VksplatCamera>() as u32;
        c.width = 7;
        c
    }

    #[test]
    fn reads_only_s_size_bytes() {
        // A version-1 render descriptor followed by bytes the reader must not take for the
        // later fields.
        #[repr(C)]
        struct Padded {
            desc: [u8; VKSPLAT_RENDER_DESC_V1_SIZE as usize],
            poison: [u8; 32],
        }
        let mut p = Padded {
            desc: [0; VKSPLAT_RENDER_DESC_V1_SIZE as usize],
            poison: [0xAB; 32],
        };
        p.desc[0..4].copy_from_slice(&VKSPLAT_STRUCT_RENDER_DESC.to_ne_bytes());
        p.desc[4..8].copy_from_slice(&VKSPLAT_RENDER_DESC_V1_SIZE.to_ne_bytes());
        p.desc[16..20].copy_from_slice(&VKSPLAT_MODE_INRIA.to_ne_bytes());
        // SAFETY: `p` has s_size readable bytes and a NULL chain.
        let d = unsafe { read(&p as *const Padded as *const VksplatRenderDesc, "desc") }.unwrap();
        assert_eq!(d.mode, VKSPLAT_MODE_INRIA);
        assert_eq!((d.flags, d.reserved), (0, 0));
        assert!(d.camera.is_null());
    }

    #[test]
    fn refuses_wrong_type_small_size_reserved_and_unknown_extensions() {
        let mut c = camera();
        c.s_type = VKSPLAT_STRUCT_IMAGE;
        // SAFETY: valid struct.
        let e = unsafe { read(&c, "camera") }.unwrap_err();
        assert_eq!(e.code(), VKSPLAT_ERROR_STRUCT_SIZE);
        assert!(e.to_string().contains("s_type is 8, expected 3"), "{e}");

        let mut c = camera();
        c.s_size = VKSPLAT_CAMERA_V1_SIZE - 4;
        // SAFETY: valid struct.
        let e = unsafe { read(&c, "camera") }.unwrap_err();
        assert_eq!(e.code(), VKSPLAT_ERROR_STRUCT_SIZE);
        assert!(e.to_string().contains("s_size is 100"), "{e}");

        let mut d: VksplatRenderDesc = zeroed();
        (d.s_type, d.s_size) = header_of::<VksplatRenderDesc>();
        d.reserved = 1;
        // SAFETY: valid struct.
        let e = unsafe { read(&d, "desc") }.unwrap_err();
        assert_eq!(e.code(), VKSPLAT_ERROR_INVALID_ARGUMENT);
        assert!(e.to_string().contains("VksplatRenderDesc.reserved"), "{e}");
        // A reserved field beyond s_size is not the caller's and is not looked at.
        d.s_size = VKSPLAT_RENDER_DESC_V1_SIZE;
        // SAFETY: valid struct (larger than s_size).
        assert!(unsafe { read(&d, "desc") }.is_ok());

        let ext = camera();
        let mut c = camera();
        c.next = &ext as *const VksplatCamera as *const c_void;
        // SAFETY: valid struct and chain.
        let e = unsafe { read(&c, "camera") }.unwrap_err();
        assert_eq!(e.code(), VKSPLAT_ERROR_UNSUPPORTED);
        assert!(e.to_string().contains("s_type 3"), "{e}");

        // SAFETY: NULL is allowed.
        let e = unsafe { read::<VksplatCamera>(core::ptr::null(), "camera") }.unwrap_err();
        assert_eq!(e.code(), VKSPLAT_ERROR_INVALID_ARGUMENT);
    }

    #[test]
    fn writes_only_s_size_bytes_and_keeps_the_header() {
        #[repr(C)]
        struct Padded {
            info: [u8; VKSPLAT_SCENE_INFO_V1_SIZE as usize],
            poison: [u8; 32],
        }
        let mut p = Padded {
            info: [0; VKSPLAT_SCENE_INFO_V1_SIZE as usize],
            poison: [0xAB; 32],
        };
        p.info[0..4].copy_from_slice(&VKSPLAT_STRUCT_SCENE_INFO.to_ne_bytes());
        p.info[4..8].copy_from_slice(&VKSPLAT_SCENE_INFO_V1_SIZE.to_ne_bytes());
        let mut v: VksplatSceneInfo = zeroed();
        v.s_size = 9999;
        v.count = 42;
        v.antialiased = 1;
        v.reserved = 0xFFFF_FFFF;
        // SAFETY: `p` has s_size writable bytes and a NULL chain.
        unsafe { write(&mut p as *mut Padded as *mut VksplatSceneInfo, &v, "out") }.unwrap();
        assert_eq!(p.poison, [0xAB; 32], "wrote beyond s_size");
        assert_eq!(&p.info[4..8], &VKSPLAT_SCENE_INFO_V1_SIZE.to_ne_bytes());
        assert_eq!(&p.info[16..24], &42u64.to_ne_bytes());
    }
}
