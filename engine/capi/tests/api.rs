//! The C API's behaviour, called in-process through its `extern "C"` entry points exactly as
//! a C host calls them (tests/capi.rs runs a real C host): the scene's antialiasing flag, the
//! render descriptor's camera, mode and time, image buffer sizes, the device limits, the
//! growth rule with structs compiled against ABI version 1 (placed against a guard page, so a
//! read or write beyond `s_size` faults), and the log callback.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

// The library's definitions (explicit names win over vksplat-abi's declarations of them).
use vksplat::{
    vksplat_context_add_plugin_dir, vksplat_context_create, vksplat_context_destroy,
    vksplat_context_limits, vksplat_render, vksplat_scene_destroy, vksplat_scene_info,
    vksplat_scene_load, vksplat_scene_open_plugin, vksplat_scene_set_time, vksplat_set_camera,
};
use vksplat_abi::*;
use vksplat_io::Splats;
use vksplat_tests::{random_scene, Rng};

mod common;
use common::{last_error, triangle_plugin_dir, work_dir, zeroed};

const W: u32 = 64;
const H: u32 = 48;

/// True when a device is there; with VKSPLAT_REQUIRE_GPU=1 a missing one panics.
fn have_gpu() -> bool {
    vksplat_tests::gpu().is_some()
}

struct Ctx(*mut VksplatContext);

impl Ctx {
    fn new() -> Ctx {
        Ctx::with(None)
    }

    fn with(desc: Option<&VksplatContextDesc>) -> Ctx {
        let mut ctx = std::ptr::null_mut();
        let p = desc.map_or(std::ptr::null(), |d| d as *const _);
        // SAFETY: a valid descriptor or NULL, a valid out-pointer.
        let r = unsafe { vksplat_context_create(p, &mut ctx) };
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        Ctx(ctx)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: created above, used by no other call now.
        unsafe { vksplat_context_destroy(self.0) };
    }
}

// SAFETY: contexts are internally locked (the header's thread-safety rules).
unsafe impl Sync for Ctx {}
// SAFETY: as above.
unsafe impl Send for Ctx {}

struct Scene(*mut VksplatScene);

impl Drop for Scene {
    fn drop(&mut self) {
        // SAFETY: created by a scene constructor, used by no other call now.
        unsafe { vksplat_scene_destroy(self.0) };
    }
}

// SAFETY: scenes are internally locked.
unsafe impl Sync for Scene {}
// SAFETY: as above.
unsafe impl Send for Scene {}

fn splats() -> Splats {
    let mut rng = Rng::new(21);
    let mut s = random_scene(&mut rng, 1500, 1);
    for m in &mut s.means {
        m[2] = m[2].abs() + 0.5;
    }
    s
}

/// A copied scene from `s`.
fn create_scene(ctx: &Ctx, s: &Splats) -> Scene {
    Scene(common::scene_from_splats(ctx.0, s))
}

/// A camera at `x` looking down +z.
fn camera(x: f32) -> VksplatCamera {
    let mut c = common::camera(W, H, 60.0, 32.0, 24.0);
    c.world_to_camera[3] = -x;
    c
}

fn render_desc(cam: &VksplatCamera) -> VksplatRenderDesc {
    common::render_desc(cam, [0.1, 0.2, 0.3])
}

fn image(pixels: &mut [f32]) -> VksplatImage {
    common::image(W, H, pixels, None)
}

/// Renders into a new RGBA32F buffer; the result code and the pixels.
fn render(ctx: &Ctx, scene: &Scene, desc: Option<&VksplatRenderDesc>) -> (i32, Vec<f32>) {
    let mut px = vec![-1.0f32; (W * H * 4) as usize];
    let img = image(&mut px);
    let d = desc.map_or(std::ptr::null(), |d| d as *const _);
    // SAFETY: valid objects, descriptor and image.
    let r = unsafe { vksplat_render(ctx.0, scene.0, d, &img) };
    (r, px)
}

fn render_ok(ctx: &Ctx, scene: &Scene, desc: &VksplatRenderDesc) -> Vec<f32> {
    let (r, px) = render(ctx, scene, Some(desc));
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert!(px.chunks_exact(4).filter(|p| p[3] > 0.5).count() > 50);
    px
}

// ---------------------------------------------------------------------------------------------
// Behaviour bugs of issue 10

#[test]
fn an_antialiased_file_renders_antialiased_unless_the_descriptor_sets_a_mode() {
    if !have_gpu() {
        return;
    }
    let dir = work_dir("aa");
    let path = dir.join("aa.ply");
    let options = vksplat_io::WriteOptions {
        antialiased: true,
        ..Default::default()
    };
    vksplat_io::write_scene(&path, &splats(), vksplat_io::OutputFormat::Ply, &options).unwrap();
    let ctx = Ctx::new();
    let c = CString::new(path.to_str().unwrap()).unwrap();
    let mut p = std::ptr::null_mut();
    assert_eq!(
        // SAFETY: valid arguments.
        unsafe { vksplat_scene_load(ctx.0, c.as_ptr(), &mut p) },
        VKSPLAT_OK
    );
    let scene = Scene(p);
    let mut info: VksplatSceneInfo = zeroed();
    info.s_type = VKSPLAT_STRUCT_SCENE_INFO;
    info.s_size = std::mem::size_of::<VksplatSceneInfo>() as u32;
    assert_eq!(
        // SAFETY: valid scene and out-struct.
        unsafe { vksplat_scene_info(scene.0, &mut info) },
        VKSPLAT_OK
    );
    assert_eq!((info.count, info.antialiased), (1500, 1));

    let cam = camera(0.0);
    let zero = render_desc(&cam);
    let default = render_ok(&ctx, &scene, &zero);
    let mut explicit = zero;
    explicit.flags = VKSPLAT_RENDER_MODE;
    explicit.mode = VKSPLAT_MODE_ANTIALIASED;
    let aa = render_ok(&ctx, &scene, &explicit);
    explicit.mode = VKSPLAT_MODE_CLASSIC;
    let classic = render_ok(&ctx, &scene, &explicit);
    assert_eq!(
        default, aa,
        "the default mode of an antialiased file is antialiased"
    );
    assert_ne!(
        default, classic,
        "VKSPLAT_RENDER_MODE with CLASSIC forces classic"
    );
    // NULL descriptor: the deprecated context camera, the scene's default mode, on black.
    // SAFETY: a valid camera.
    assert_eq!(unsafe { vksplat_set_camera(ctx.0, &cam) }, VKSPLAT_OK);
    let (r, null_desc) = render(&ctx, &scene, None);
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let mut black = explicit;
    black.mode = VKSPLAT_MODE_ANTIALIASED;
    black.background = [0.0; 3];
    assert_eq!(null_desc, render_ok(&ctx, &scene, &black));

    // A plain array scene has no flag: classic by default.
    let arrays = create_scene(&ctx, &splats());
    assert_eq!(render_ok(&ctx, &arrays, &zero), classic);
}

#[test]
fn a_zero_initialised_descriptor_renders_the_scene_time() {
    if !have_gpu() {
        return;
    }
    let ctx = Ctx::new();
    let dir = CString::new(triangle_plugin_dir().to_str().unwrap()).unwrap();
    assert_eq!(
        // SAFETY: valid arguments.
        unsafe { vksplat_context_add_plugin_dir(ctx.0, dir.as_ptr()) },
        VKSPLAT_OK
    );
    let name = CString::new("triangle").unwrap();
    let mut pd: VksplatPluginSceneDesc = zeroed();
    pd.s_type = VKSPLAT_STRUCT_PLUGIN_SCENE_DESC;
    pd.s_size = std::mem::size_of::<VksplatPluginSceneDesc>() as u32;
    pd.plugin = name.as_ptr();
    pd.eval = VKSPLAT_EVAL_GPU;
    let mut p = std::ptr::null_mut();
    // SAFETY: valid arguments.
    let r = unsafe { vksplat_scene_open_plugin(ctx.0, &pd, &mut p) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let scene = Scene(p);
    let cam = {
        let mut c = camera(0.0);
        // The triangle spins about z at z = 3.
        (c.fx, c.fy) = (40.0, 40.0);
        c
    };
    let zero = render_desc(&cam);
    let at = |t: f64| {
        let mut d = zero;
        d.flags = VKSPLAT_RENDER_TIME;
        d.time = t;
        render_ok(&ctx, &scene, &d)
    };
    let (t0, t2) = (at(0.0), at(2.0));
    assert_ne!(t0, t2, "the triangle moves between t = 0 and t = 2");
    // SAFETY: a valid scene.
    assert_eq!(unsafe { vksplat_scene_set_time(scene.0, 1.25) }, VKSPLAT_OK);
    let t125 = at(1.25);
    // at() made 1.25 the scene's time; set another one and render without the flag.
    // SAFETY: a valid scene.
    assert_eq!(unsafe { vksplat_scene_set_time(scene.0, 2.0) }, VKSPLAT_OK);
    assert_eq!(
        render_ok(&ctx, &scene, &zero),
        t2,
        "zero-init keeps vksplat_scene_set_time"
    );
    assert_ne!(t125, t2);

    // A field without its flag is refused, not ignored.
    let mut d = zero;
    d.time = 0.5;
    assert_eq!(
        render(&ctx, &scene, Some(&d)).0,
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("VKSPLAT_RENDER_TIME"),
        "{}",
        last_error()
    );
    let mut d = zero;
    d.mode = VKSPLAT_MODE_INRIA;
    assert_eq!(
        render(&ctx, &scene, Some(&d)).0,
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("VKSPLAT_RENDER_MODE"),
        "{}",
        last_error()
    );
    // Every mode constant renders, an unknown one is refused; khr cuts and sorts differently.
    let mut d = zero;
    d.flags = VKSPLAT_RENDER_MODE;
    d.mode = VKSPLAT_MODE_CLASSIC;
    let classic = render_ok(&ctx, &scene, &d);
    d.mode = VKSPLAT_MODE_KHR;
    let khr = render_ok(&ctx, &scene, &d);
    assert_ne!(classic, khr);
    d.mode = VKSPLAT_MODE_KHR + 1;
    assert_eq!(
        render(&ctx, &scene, Some(&d)).0,
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("mode 4 unknown"), "{}", last_error());
    let mut d = zero;
    d.flags = 0x100;
    assert_eq!(
        render(&ctx, &scene, Some(&d)).0,
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    let mut d = zero;
    d.flags = VKSPLAT_RENDER_TIME;
    d.time = f64::NAN;
    assert_eq!(
        render(&ctx, &scene, Some(&d)).0,
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    // The scene's time is unchanged by the refused calls.
    assert_eq!(render_ok(&ctx, &scene, &zero), t2);
}

#[test]
fn threads_sharing_a_context_each_render_their_own_camera() {
    if !have_gpu() {
        return;
    }
    let ctx = Ctx::new();
    let scene = create_scene(&ctx, &splats());
    let xs = [-0.3f32, 0.4];
    let want: Vec<Vec<f32>> = xs
        .iter()
        .map(|&x| render_ok(&ctx, &scene, &render_desc(&camera(x))))
        .collect();
    assert_ne!(want[0], want[1]);
    const FRAMES: usize = 80;
    let wrong = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let (ctx, scene, x, want) = (&ctx, &scene, xs[t], &want[t]);
                s.spawn(move || {
                    let cam = camera(x);
                    let desc = render_desc(&cam);
                    (0..FRAMES)
                        .filter(|_| render_ok(ctx, scene, &desc) != *want)
                        .count()
                })
            })
            .collect();
        // The deprecated context camera changing meanwhile does not matter either.
        let other = camera(2.0);
        for _ in 0..FRAMES {
            // SAFETY: valid arguments.
            assert_eq!(unsafe { vksplat_set_camera(ctx.0, &other) }, VKSPLAT_OK);
        }
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(
        wrong,
        [0, 0],
        "frames of the wrong camera out of {FRAMES} per thread"
    );
}

/// Accessible memory followed by an inaccessible page, so any access past its end faults.
struct GuardPage {
    base: *mut u8,
    /// Bytes before the inaccessible page.
    usable: usize,
    page: usize,
}

impl GuardPage {
    /// At least `bytes` accessible bytes before the guard.
    fn new(bytes: usize) -> GuardPage {
        // SAFETY: plain POSIX calls; the mapping is owned by the value.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let usable = bytes.div_ceil(page).max(1) * page;
            let base = libc::mmap(
                std::ptr::null_mut(),
                usable + page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED);
            let base = base as *mut u8;
            assert_eq!(
                libc::mprotect(base.add(usable) as *mut c_void, page, libc::PROT_NONE),
                0
            );
            GuardPage { base, usable, page }
        }
    }

    /// The last `len` bytes before the guard page, filled with `bytes` (the rest 0xAB).
    fn at_end(&self, len: usize, bytes: &[u8]) -> *mut u8 {
        assert!(len <= self.usable && bytes.len() <= len && len.is_multiple_of(8));
        // SAFETY: inside the accessible part.
        unsafe {
            let p = self.base.add(self.usable - len);
            std::ptr::write_bytes(p, 0xAB, len);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            p
        }
    }
}

impl Drop for GuardPage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`.
        unsafe { libc::munmap(self.base as *mut c_void, self.usable + self.page) };
    }
}

/// The first `len` bytes of `v`, with `s_size = len`.
fn prefix<T>(v: &T, len: u32) -> Vec<u8> {
    // SAFETY: the ABI's structs are plain data; the bytes are copied, not interpreted.
    let mut b =
        unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
            [..len as usize]
            .to_vec();
    b[4..8].copy_from_slice(&len.to_ne_bytes());
    b
}

#[test]
fn image_buffers_are_checked_against_their_sizes() {
    if !have_gpu() {
        return;
    }
    let ctx = Ctx::new();
    let scene = create_scene(&ctx, &splats());
    let cam = camera(0.0);
    let desc = render_desc(&cam);
    let want = render_ok(&ctx, &scene, &desc);
    let need = (W * H * 16) as usize;

    // The exact size, ending at the guard page: rendered, nothing written past it.
    let guard = GuardPage::new(need);
    let at = guard.at_end(need, &[]);
    let mut img = image(&mut []);
    img.pixels = at as *mut c_void;
    img.pixels_size = need as u64;
    assert_eq!(
        // SAFETY: `need` writable bytes at `at`.
        unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) },
        VKSPLAT_OK
    );
    // SAFETY: as above.
    let got = unsafe { std::slice::from_raw_parts(at as *const f32, need / 4) };
    assert_eq!(got, &want[..]);

    // Eight bytes short: refused, naming the size, nothing written.
    let small = guard.at_end(need, &[]);
    img.pixels = small.wrapping_add(8) as *mut c_void;
    img.pixels_size = need as u64 - 8;
    assert_eq!(
        // SAFETY: the library must not write (it would fault past the guard).
        unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) },
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains(&format!("needs {need}")),
        "{}",
        last_error()
    );
    // SAFETY: inside the accessible part.
    assert!(unsafe { std::slice::from_raw_parts(small, need) }
        .iter()
        .all(|&b| b == 0xAB));

    // Padded rows: the last row needs only `width` pixels.
    let row = W as u64 * 16 + 24;
    let padded_need = (H as u64 - 1) * row + W as u64 * 16;
    let mut px = vec![0u8; padded_need as usize];
    let mut img = image(&mut []);
    img.pixels = px.as_mut_ptr() as *mut c_void;
    img.row_bytes = row;
    img.pixels_size = padded_need - 1;
    assert_eq!(
        // SAFETY: a valid buffer of `padded_need` bytes.
        unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) },
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains(&format!("needs {padded_need}")),
        "{}",
        last_error()
    );
    img.pixels_size = padded_need;
    assert_eq!(
        // SAFETY: as above.
        unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) },
        VKSPLAT_OK
    );

    // Depth: width · height floats.
    let mut depth = vec![0f32; (W * H) as usize];
    let mut px = vec![0f32; (W * H * 4) as usize];
    let mut img = image(&mut px);
    img.depth = depth.as_mut_ptr();
    img.depth_size = (W * H * 4 - 4) as u64;
    assert_eq!(
        // SAFETY: valid buffers.
        unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) },
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("depth_size"), "{}", last_error());
    img.depth_size = (W * H * 4) as u64;
    assert_eq!(
        // SAFETY: valid buffers.
        unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) },
        VKSPLAT_OK
    );
    assert!(depth.iter().any(|&d| d > 0.0));
}

#[test]
fn limits_are_the_devices_and_are_enforced() {
    if !have_gpu() {
        return;
    }
    let gpu = vksplat_tests::Gpu::new().unwrap();
    let device = gpu.renderer.device_limits();
    let ctx = Ctx::new();
    let mut l: VksplatLimits = zeroed();
    l.s_type = VKSPLAT_STRUCT_LIMITS;
    l.s_size = std::mem::size_of::<VksplatLimits>() as u32;
    // SAFETY: a valid out-struct.
    assert_eq!(unsafe { vksplat_context_limits(ctx.0, &mut l) }, VKSPLAT_OK);
    assert_eq!(l.max_splats_by_sh_degree, device.max_splats);
    assert_eq!(l.max_splats, device.max_splats[3]);
    assert!(l.max_splats_by_sh_degree.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(
        l.max_image_pixels,
        device.max_image_pixels.min(vksplat_io::camera::MAX_PIXELS)
    );
    assert!(l.max_image_side as u64 <= l.max_image_pixels && l.max_image_side >= 4096);
    // Never more than a storage binding holds of the frame's bound 4-byte per-splat arrays
    // (the scene's arrays are reached by address).
    assert!(l.max_splats_by_sh_degree[0] <= l.max_buffer_bytes / 4);

    // One splat over the limit is refused before any array is read (they are NULL here).
    for degree in [0u32, 3] {
        let mut d: VksplatSceneDesc = zeroed();
        d.s_type = VKSPLAT_STRUCT_SCENE_DESC;
        d.s_size = std::mem::size_of::<VksplatSceneDesc>() as u32;
        d.sh_degree = degree;
        d.count = l.max_splats_by_sh_degree[degree as usize] + 1;
        let mut p = std::ptr::null_mut();
        assert_eq!(
            // SAFETY: no array is read for a refused count.
            unsafe { vksplat_scene_create(ctx.0, &d, &mut p) },
            VKSPLAT_ERROR_TOO_LARGE,
            "{}",
            last_error()
        );
        assert!(p.is_null());
        assert!(
            last_error().contains("max_splats_by_sh_degree"),
            "{}",
            last_error()
        );
        d.count -= 1;
        // At the limit the count passes and the NULL arrays are the error.
        assert_eq!(
            // SAFETY: the NULL arrays are refused before any is read.
            unsafe { vksplat_scene_create(ctx.0, &d, &mut p) },
            VKSPLAT_ERROR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("means is NULL"), "{}", last_error());
    }

    // An image one row larger than the device renders is refused.
    let scene = create_scene(&ctx, &splats());
    let side = l.max_image_side;
    let rows = (l.max_image_pixels / side as u64 + 1) as u32;
    let mut cam = camera(0.0);
    (cam.width, cam.height) = (side, rows);
    let desc = render_desc(&cam);
    let mut img = image(&mut []);
    (img.width, img.height) = (side, rows);
    img.pixels = std::ptr::null_mut();
    // SAFETY: nothing is written for a refused size.
    let r = unsafe { vksplat_render(ctx.0, scene.0, &desc, &img) };
    if l.max_image_pixels < vksplat_io::camera::MAX_PIXELS {
        assert_eq!(r, VKSPLAT_ERROR_TOO_LARGE, "{}", last_error());
        assert!(
            last_error().contains("max_image_pixels"),
            "{}",
            last_error()
        );
    } else {
        // The camera rule (2^28 pixels) is the limit.
        assert_eq!(r, VKSPLAT_ERROR_INVALID_INPUT, "{}", last_error());
    }
}

// ---------------------------------------------------------------------------------------------
// The growth rule

#[test]
fn structs_compiled_against_abi_version_1_are_read_and_written_within_s_size() {
    if !have_gpu() {
        return;
    }
    let guard = GuardPage::new(4096);

    // A version-1 context descriptor ends at the guard page.
    let mut cd: VksplatContextDesc = zeroed();
    cd.s_type = VKSPLAT_STRUCT_CONTEXT_DESC;
    let bytes = prefix(&cd, VKSPLAT_CONTEXT_DESC_V1_SIZE);
    let p = guard.at_end(bytes.len(), &bytes);
    let mut c = std::ptr::null_mut();
    // SAFETY: V1_SIZE readable bytes.
    let r = unsafe { vksplat_context_create(p as *const VksplatContextDesc, &mut c) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let ctx = Ctx(c);
    let scene = create_scene(&ctx, &splats());

    // Version-1 limits and scene info: written up to s_size only.
    let mut l: VksplatLimits = zeroed();
    l.s_type = VKSPLAT_STRUCT_LIMITS;
    let bytes = prefix(&l, VKSPLAT_LIMITS_V1_SIZE);
    let p = guard.at_end(bytes.len(), &bytes);
    assert_eq!(
        // SAFETY: V1_SIZE writable bytes.
        unsafe { vksplat_context_limits(ctx.0, p as *mut VksplatLimits) },
        VKSPLAT_OK
    );
    // SAFETY: reading back the V1 fields.
    let got = unsafe { std::ptr::read_unaligned(p as *const [u8; 312]) };
    assert_eq!(
        &got[4..8],
        &VKSPLAT_LIMITS_V1_SIZE.to_ne_bytes(),
        "s_size kept"
    );
    assert!(
        u64::from_ne_bytes(got[32..40].try_into().unwrap()) > 1000,
        "max_splats"
    );
    let mut info: VksplatSceneInfo = zeroed();
    info.s_type = VKSPLAT_STRUCT_SCENE_INFO;
    let bytes = prefix(&info, VKSPLAT_SCENE_INFO_V1_SIZE);
    let mut poison = bytes.clone();
    poison.resize(VKSPLAT_SCENE_INFO_V1_SIZE as usize + 16, 0xCD);
    let p = guard.at_end(poison.len(), &poison);
    assert_eq!(
        // SAFETY: V1_SIZE writable bytes, then 16 poison bytes.
        unsafe { vksplat_scene_info(scene.0, p as *mut VksplatSceneInfo) },
        VKSPLAT_OK
    );
    // SAFETY: inside the page.
    let after = unsafe { std::slice::from_raw_parts(p.add(40), 16) };
    assert!(
        after.iter().all(|&b| b == 0xCD),
        "wrote past s_size: {after:?}"
    );
    assert_eq!(
        // SAFETY: as above.
        unsafe { std::ptr::read_unaligned(p.add(16) as *const u64) },
        1500
    );

    // A version-1 render descriptor and image: the v1 rules (mode always used, camera of
    // vksplat_set_camera, no buffer sizes).
    let cam = camera(0.0);
    // SAFETY: a valid camera.
    assert_eq!(unsafe { vksplat_set_camera(ctx.0, &cam) }, VKSPLAT_OK);
    let mut rd = render_desc(&cam);
    rd.mode = VKSPLAT_MODE_INRIA;
    rd.time = f64::NAN;
    let want = {
        let mut d = rd;
        (d.flags, d.time) = (VKSPLAT_RENDER_MODE, 0.0);
        render_ok(&ctx, &scene, &d)
    };
    let guard2 = GuardPage::new(4096);
    let desc_bytes = prefix(&rd, VKSPLAT_RENDER_DESC_V1_SIZE);
    let desc_p = guard2.at_end(desc_bytes.len(), &desc_bytes);
    let mut px = vec![0f32; (W * H * 4) as usize];
    let img = image(&mut px);
    let img_bytes = prefix(&img, VKSPLAT_IMAGE_V1_SIZE);
    let img_p = guard.at_end(img_bytes.len(), &img_bytes);
    // SAFETY: V1_SIZE readable bytes each; the pixel buffer holds the frame.
    let r = unsafe {
        vksplat_render(
            ctx.0,
            scene.0,
            desc_p as *const VksplatRenderDesc,
            img_p as *const VksplatImage,
        )
    };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert_eq!(
        px, want,
        "a v1 descriptor renders its mode with the context camera"
    );
}

#[test]
fn wrong_headers_reserved_fields_and_unknown_extensions_are_refused() {
    if !have_gpu() {
        return;
    }
    let ctx = Ctx::new();
    let scene = create_scene(&ctx, &splats());
    let cam = camera(0.0);
    let good = render_desc(&cam);

    let mut d = good;
    d.s_size = VKSPLAT_RENDER_DESC_V1_SIZE - 8;
    assert_eq!(render(&ctx, &scene, Some(&d)).0, VKSPLAT_ERROR_STRUCT_SIZE);
    assert!(last_error().contains("s_size is 32"), "{}", last_error());
    let mut d = good;
    d.s_type = VKSPLAT_STRUCT_CAMERA;
    assert_eq!(render(&ctx, &scene, Some(&d)).0, VKSPLAT_ERROR_STRUCT_SIZE);

    let mut d = good;
    d.reserved = 1;
    assert_eq!(
        render(&ctx, &scene, Some(&d)).0,
        VKSPLAT_ERROR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("VksplatRenderDesc.reserved"),
        "{}",
        last_error()
    );

    // An extension struct this library does not know, in the descriptor and in the camera.
    let ext: [u32; 4] = [999, 16, 0, 0];
    let mut d = good;
    d.next = ext.as_ptr() as *const c_void;
    assert_eq!(render(&ctx, &scene, Some(&d)).0, VKSPLAT_ERROR_UNSUPPORTED);
    assert!(last_error().contains("s_type 999"), "{}", last_error());
    let mut c = cam;
    c.next = ext.as_ptr() as *const c_void;
    let d = render_desc(&c);
    assert_eq!(render(&ctx, &scene, Some(&d)).0, VKSPLAT_ERROR_UNSUPPORTED);
    assert!(last_error().contains("desc.camera"), "{}", last_error());

    // Nothing was disturbed.
    render_ok(&ctx, &scene, &good);
}

// ---------------------------------------------------------------------------------------------
// Logging

static LOGGED: Mutex<Vec<(usize, i32, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(user: *mut c_void, level: i32, message: *const c_char) {
    // SAFETY: the library passes a NUL-terminated message.
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    LOGGED.lock().unwrap().push((user as usize, level, text));
}

fn logged(user: usize) -> Vec<(i32, String)> {
    LOGGED
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.0 == user)
        .map(|e| (e.1, e.2.clone()))
        .collect()
}

#[test]
fn log_callbacks_receive_engine_and_plugin_messages() {
    if !have_gpu() {
        return;
    }
    let desc = |user: usize, level: i32| {
        let mut d: VksplatContextDesc = zeroed();
        d.s_type = VKSPLAT_STRUCT_CONTEXT_DESC;
        d.s_size = std::mem::size_of::<VksplatContextDesc>() as u32;
        d.log = Some(collect);
        d.log_user = user as *mut c_void;
        d.log_level = level;
        d
    };
    let info = Ctx::with(Some(&desc(101, VKSPLAT_LOG_INFO)));
    let warn = Ctx::with(Some(&desc(102, VKSPLAT_LOG_WARNING)));
    let lines = logged(101);
    assert!(
        lines
            .iter()
            .any(|(l, m)| *l == VKSPLAT_LOG_INFO && m.starts_with("context on ")),
        "{lines:?}"
    );
    assert!(logged(102).iter().all(|(l, _)| *l >= VKSPLAT_LOG_WARNING));

    // A plugin's log line, through the host table the engine gives plugins.
    let host = vksplat_plugin_host::loader::host_api();
    // SAFETY: the host table lives for the process.
    let log = unsafe { (*host).log }.expect("the host gives plugins a log function");
    let line = CString::new("a line from a plugin").unwrap();
    // SAFETY: a valid message.
    unsafe { log(VKSPLAT_LOG_WARNING, line.as_ptr()) };
    for user in [101, 102] {
        let lines = logged(user);
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == VKSPLAT_LOG_WARNING && m.contains("a line from a plugin")),
            "{user}: {lines:?}"
        );
    }

    // After destroy, nothing reaches the callback.
    drop(warn);
    let before = logged(102).len();
    // SAFETY: as above.
    unsafe { log(VKSPLAT_LOG_WARNING, line.as_ptr()) };
    let _third = Ctx::with(Some(&desc(103, VKSPLAT_LOG_DEBUG)));
    assert_eq!(logged(102).len(), before);
    assert!(logged(101).len() >= 3);
    drop(info);
}

// ---------------------------------------------------------------------------------------------
// Time (issue 11)

/// The `panics` test plugin (tests/plugins/panic: on a source file, a blob at x = 2t − 1
/// with the time range [0, 1]) in its own directory, with a manifest that reads `*.mover`.
fn mover_plugin_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    let mut build = Command::new(cargo);
    // The whole workspace, as the suite built it: `-p` would resolve features for one package,
    // rebuild the engine and overwrite the workspace's artefacts (minutes on 2 cores).
    build.args(["build", "-q", "--workspace"]);
    if profile.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    assert!(build.status().expect("run cargo build").success());
    let dir = work_dir("mover");
    std::fs::copy(
        profile.join("libvksplat_test_panic.so"),
        dir.join("libvksplat_test_panic.so"),
    )
    .unwrap();
    std::fs::write(
        dir.join("panics.vksplat.json"),
        r#"{"name": "panics", "version": "0.0.2", "abi_version": 2,
            "library": "vksplat_test_panic", "reads": [{"suffix": ".mover"}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("blob.mover"), b"any content").unwrap();
    dir
}

fn scene_info(scene: &Scene) -> VksplatSceneInfo {
    let mut info: VksplatSceneInfo = zeroed();
    info.s_type = VKSPLAT_STRUCT_SCENE_INFO;
    info.s_size = std::mem::size_of::<VksplatSceneInfo>() as u32;
    assert_eq!(
        // SAFETY: valid scene and out-struct.
        unsafe { vksplat_scene_info(scene.0, &mut info) },
        VKSPLAT_OK,
        "{}",
        last_error()
    );
    info
}

#[test]
fn scene_load_picks_a_plugin_by_content_and_scene_info_has_its_time_range() {
    if !have_gpu() {
        return;
    }
    let dir = mover_plugin_dir();
    let ctx = Ctx::new();
    let d = CString::new(dir.to_str().unwrap()).unwrap();
    assert_eq!(
        // SAFETY: valid arguments.
        unsafe { vksplat_context_add_plugin_dir(ctx.0, d.as_ptr()) },
        VKSPLAT_OK
    );
    let file = CString::new(dir.join("blob.mover").to_str().unwrap()).unwrap();
    let mut p = std::ptr::null_mut();
    // SAFETY: valid arguments.
    let r = unsafe { vksplat_scene_load(ctx.0, file.as_ptr(), &mut p) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let scene = Scene(p);
    let info = scene_info(&scene);
    assert_eq!((info.is_plugin, info.count), (1, 8));
    assert_eq!(info.eval, VKSPLAT_EVAL_CPU);
    assert_eq!(
        (info.has_time_range, info.time_start, info.time_end),
        (1, 0.0, 1.0)
    );
    // The time per render call moves the blob: its centroid follows x = 2t − 1 at depth 3.
    let mut cam = camera(0.0);
    cam.world_to_camera[11] = 3.0;
    let centroid = |t: f64| {
        let mut desc = render_desc(&cam);
        desc.flags = VKSPLAT_RENDER_TIME;
        desc.time = t;
        let (r, px) = render(&ctx, &scene, Some(&desc));
        assert_eq!(r, VKSPLAT_OK, "{}", last_error());
        let (mut sum, mut weight) = (0.0f64, 0.0f64);
        for (i, p) in px.chunks_exact(4).enumerate() {
            sum += p[3] as f64 * ((i % W as usize) as f64 + 0.5);
            weight += p[3] as f64;
        }
        assert!(weight > 1.0, "the blob is not in view at t = {t}");
        sum / weight
    };
    let (a, b) = (centroid(0.4), centroid(0.6));
    let want = 60.0 * 2.0 * 0.2 / 3.0;
    assert!(
        ((b - a) - want).abs() < 0.5,
        "moved {} px, expected {want}",
        b - a
    );

    // A static scene has no time range; neither has a caller's version-1 struct room for it.
    let arrays = create_scene(&ctx, &splats());
    let info = scene_info(&arrays);
    assert_eq!(
        (
            info.is_plugin,
            info.has_time_range,
            info.time_start,
            info.time_end
        ),
        (0, 0, 0.0, 0.0)
    );
    // Text options pass through the plugin scene descriptor unparsed: `label` sets the count
    // to its length.
    let (name, key, value) = (
        CString::new("panics").unwrap(),
        CString::new("label").unwrap(),
        CString::new("a,b=c d").unwrap(),
    );
    let kv = VksplatKeyValue {
        key: key.as_ptr(),
        value: value.as_ptr(),
    };
    let mut pd: VksplatPluginSceneDesc = zeroed();
    pd.s_type = VKSPLAT_STRUCT_PLUGIN_SCENE_DESC;
    pd.s_size = std::mem::size_of::<VksplatPluginSceneDesc>() as u32;
    pd.plugin = name.as_ptr();
    pd.source = file.as_ptr();
    pd.params = &kv;
    pd.param_count = 1;
    let mut p = std::ptr::null_mut();
    // SAFETY: valid arguments.
    let r = unsafe { vksplat_scene_open_plugin(ctx.0, &pd, &mut p) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let labelled = Scene(p);
    assert_eq!(scene_info(&labelled).count, 7);
    // Without the plugin directory the file is no scene vksplat reads.
    let bare = Ctx::new();
    let mut p = std::ptr::null_mut();
    // SAFETY: valid arguments.
    let r = unsafe { vksplat_scene_load(bare.0, file.as_ptr(), &mut p) };
    assert_ne!(r, VKSPLAT_OK);
    assert!(p.is_null());
}
