//! `vksplat_render_instances`: several scenes with transforms and opacities in one frame,
//! through the C ABI. The engine's arithmetic is tested in tests/embed_instances.rs; this
//! checks the ABI: one identity instance equals `vksplat_render` bit for bit, a hidden
//! (opacity 0) instance of the same scene changes nothing, a moved instance does, and bad
//! arguments are refused naming the instance.

use vksplat::{
    vksplat_context_destroy, vksplat_render, vksplat_render_instances, vksplat_scene_destroy,
};
use vksplat_abi::*;

mod common;
use common::{
    camera, context, image, instance, last_error, render_desc, scene_from_splats, IDENTITY,
};
use vksplat_tests::{random_scene, Rng};

const W: u32 = 64;
const H: u32 = 48;

/// RGBA32F and depth of one frame.
struct Out {
    rgba: Vec<f32>,
    depth: Vec<f32>,
}

impl Out {
    fn new() -> Self {
        Out {
            rgba: vec![0.0; (W * H * 4) as usize],
            depth: vec![0.0; (W * H) as usize],
        }
    }

    fn image(&mut self) -> VksplatImage {
        image(W, H, &mut self.rgba, Some(&mut self.depth))
    }

    fn bits(&self) -> Vec<u32> {
        self.rgba
            .iter()
            .chain(&self.depth)
            .map(|v| v.to_bits())
            .collect()
    }
}

#[test]
fn instances_through_the_c_api() {
    if vksplat_tests::gpu().is_none() {
        return;
    }
    let ctx = context();
    let scene = scene_from_splats(ctx, &random_scene(&mut Rng::new(23), 600, 1));

    let cam = camera(W, H, 50.0, 32.0, 24.0);
    let desc = render_desc(&cam, [0.2, 0.1, 0.0]);
    let render = |list: &[VksplatSceneInstance]| -> (VksplatResult, Out) {
        let ptrs: Vec<*const VksplatSceneInstance> = list.iter().map(|i| i as *const _).collect();
        let mut out = Out::new();
        let img = out.image();
        let n = ptrs.len() as u32;
        // SAFETY: live context and scenes, `ptrs` holds `n` readable instances, the image
        // buffers are as large as their sizes say.
        let r = unsafe { vksplat_render_instances(ctx, ptrs.as_ptr(), n, &desc, &img) };
        (r, out)
    };

    let mut plain = Out::new();
    let img = plain.image();
    // SAFETY: as above.
    let r = unsafe { vksplat_render(ctx, scene, &desc, &img) };
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    let (r, one) = render(&[instance(scene, IDENTITY, 1.0)]);
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert!(
        plain.bits() == one.bits(),
        "one identity instance != vksplat_render"
    );
    assert!(plain.rgba.iter().skip(3).step_by(4).any(|a| *a > 0.5));

    // The same scene twice: hidden, it changes nothing; moved and shown, it does.
    let mut moved = IDENTITY;
    (moved[3], moved[11]) = (0.3, 0.5);
    let (r, hidden) = render(&[instance(scene, moved, 0.0), instance(scene, IDENTITY, 1.0)]);
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert!(
        hidden.bits() == plain.bits(),
        "a hidden instance changed the frame"
    );
    let (r, both) = render(&[instance(scene, IDENTITY, 1.0), instance(scene, moved, 1.0)]);
    assert_eq!(r, VKSPLAT_OK, "{}", last_error());
    assert!(both.bits() != plain.bits());

    // Bad arguments: each refused, naming the problem.
    let ok = instance(scene, IDENTITY, 1.0);
    let mut singular = ok;
    singular.transform = [0.0; 16];
    let mut reserved = ok;
    reserved.reserved = 1;
    let mut null_scene = ok;
    null_scene.scene = std::ptr::null_mut();
    let mut small = ok;
    small.s_size = 8;
    for (bad, code, want) in [
        (
            singular,
            VKSPLAT_ERROR_INVALID_INPUT,
            "instance 1: the transform",
        ),
        (
            instance(scene, IDENTITY, 2.0),
            VKSPLAT_ERROR_INVALID_INPUT,
            "instance 1: opacity 2",
        ),
        (reserved, VKSPLAT_ERROR_INVALID_ARGUMENT, "reserved"),
        (
            null_scene,
            VKSPLAT_ERROR_INVALID_ARGUMENT,
            "instances[1]: scene is NULL",
        ),
        (small, VKSPLAT_ERROR_STRUCT_SIZE, "instances[1]"),
    ] {
        let (r, _) = render(&[ok, bad]);
        let msg = last_error();
        assert_eq!(r, code, "{msg}");
        assert!(msg.contains(want), "{msg}");
    }
    let mut out = Out::new();
    let img = out.image();
    // SAFETY: a NULL list is refused before anything is read.
    let r = unsafe { vksplat_render_instances(ctx, std::ptr::null(), 1, &desc, &img) };
    assert_eq!(r, VKSPLAT_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("at least one instance"));

    // SAFETY: created above; no other call uses them.
    unsafe {
        vksplat_scene_destroy(scene);
        vksplat_context_destroy(ctx);
    }
}
