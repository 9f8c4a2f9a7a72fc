//! Cameras from game engines and graphics APIs (`vksplat_camera_from_clip`, `_from_unity`,
//! `_from_unreal`): argument checks around `vksplat_io::camera`'s conversions, which hold the
//! conventions. No context is needed; the results are plain `VksplatCamera`s.

use vksplat_io::camera::{self, ClipConvention};

use super::*;

same_signature! {
    vksplat_camera_from_clip: unsafe extern "C" fn(*const f32, *const f32, u32, u32, u32, *mut VksplatCamera, *mut f64, *mut u32) -> VksplatResult;
    vksplat_camera_from_unity: unsafe extern "C" fn(*const f64, *const f64, f64, u32, u32, *mut VksplatCamera) -> VksplatResult;
    vksplat_camera_from_unreal: unsafe extern "C" fn(*const f64, *const f64, f64, u32, u32, *mut VksplatCamera) -> VksplatResult;
}

fn invalid(message: String) -> Error {
    Error(VKSPLAT_ERROR_INVALID_ARGUMENT, message)
}

/// `N` values from a caller's array.
///
/// # Safety
/// `p` is NULL or points at `N` readable values.
unsafe fn array<T: Copy, const N: usize>(p: *const T, what: &str) -> Result<[T; N]> {
    if p.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller guarantees N readable values (unaligned is allowed).
    Ok(std::array::from_fn(|i| unsafe {
        p.add(i).read_unaligned()
    }))
}

/// Writes `c` to the caller's `VksplatCamera` by the growth rule.
///
/// # Safety
/// `out` is NULL or a `VksplatCamera` whose header the caller set, with `s_size` writable bytes.
unsafe fn write_camera(out: *mut VksplatCamera, c: &Camera) -> Result<()> {
    let m = &c.world_to_camera;
    let value = VksplatCamera {
        s_type: VKSPLAT_STRUCT_CAMERA,
        s_size: std::mem::size_of::<VksplatCamera>() as u32,
        next: std::ptr::null(),
        width: c.width,
        height: c.height,
        fx: c.fx,
        fy: c.fy,
        cx: c.cx,
        cy: c.cy,
        world_to_camera: std::array::from_fn(|k| m[k / 4][k % 4]),
        projection: match c.projection {
            Projection::Perspective => VKSPLAT_PROJECTION_PERSPECTIVE,
            Projection::Orthographic => VKSPLAT_PROJECTION_ORTHOGRAPHIC,
        },
        reserved: 0,
    };
    // SAFETY: the caller's guarantee.
    unsafe { grow::write(out, &value, "camera")? };
    Ok(())
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `projection` and `view` are NULL or 16 readable floats; `camera` as in [`write_camera`];
/// `depth_range` is NULL or 2 writable doubles; `reversed_z` is NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn vksplat_camera_from_clip(
    projection: *const f32,
    view: *const f32,
    convention: u32,
    width: u32,
    height: u32,
    camera: *mut VksplatCamera,
    depth_range: *mut f64,
    reversed_z: *mut u32,
) -> VksplatResult {
    guard("vksplat_camera_from_clip", || {
        // SAFETY: the caller's guarantees.
        let p: [f32; 16] = unsafe { array(projection, "projection")? };
        // SAFETY: as above.
        let v: [f32; 16] = unsafe { array(view, "view")? };
        let conv = match convention {
            VKSPLAT_CLIP_OPENGL => ClipConvention::OpenGl,
            VKSPLAT_CLIP_VULKAN => ClipConvention::Vulkan,
            VKSPLAT_CLIP_DIRECT3D => ClipConvention::Direct3D,
            other => {
                return Err(invalid(format!(
                    "convention {other} is not a VKSPLAT_CLIP_* value (0..2)"
                )))
            }
        };
        let got = camera::camera_from_clip(&p, &v, conv, width, height).map_err(invalid)?;
        // SAFETY: the caller's guarantee.
        unsafe { write_camera(camera, &got.camera)? };
        if !depth_range.is_null() {
            // SAFETY: the caller guarantees 2 writable doubles.
            unsafe {
                depth_range.write_unaligned(got.near);
                depth_range.add(1).write_unaligned(got.far);
            }
        }
        if !reversed_z.is_null() {
            // SAFETY: the caller guarantees a writable value.
            unsafe { reversed_z.write_unaligned(u32::from(got.reversed_z)) };
        }
        Ok(())
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `position` is NULL or 3 readable doubles, `rotation` NULL or 4; `camera` as in
/// [`write_camera`].
#[no_mangle]
pub unsafe extern "C" fn vksplat_camera_from_unity(
    position: *const f64,
    rotation: *const f64,
    vertical_fov_deg: f64,
    width: u32,
    height: u32,
    camera: *mut VksplatCamera,
) -> VksplatResult {
    guard("vksplat_camera_from_unity", || {
        // SAFETY: the caller's guarantees.
        let (p, q) = unsafe { (array(position, "position")?, array(rotation, "rotation")?) };
        let c = camera::unity_camera(p, q, vertical_fov_deg, width, height).map_err(invalid)?;
        // SAFETY: the caller's guarantee.
        unsafe { write_camera(camera, &c) }
    })
}

/// See `include/vksplat.h`.
///
/// # Safety
/// `location_cm` is NULL or 3 readable doubles, `rotation` NULL or 4; `camera` as in
/// [`write_camera`].
#[no_mangle]
pub unsafe extern "C" fn vksplat_camera_from_unreal(
    location_cm: *const f64,
    rotation: *const f64,
    horizontal_fov_deg: f64,
    width: u32,
    height: u32,
    camera: *mut VksplatCamera,
) -> VksplatResult {
    guard("vksplat_camera_from_unreal", || {
        // SAFETY: the caller's guarantees.
        let (p, q) = unsafe {
            (
                array(location_cm, "location")?,
                array(rotation, "rotation")?,
            )
        };
        let c = camera::unreal_camera(p, q, horizontal_fov_deg, width, height).map_err(invalid)?;
        // SAFETY: the caller's guarantee.
        unsafe { write_camera(camera, &c) }
    })
}
