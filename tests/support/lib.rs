//! Shared helpers for the integration tests: device setup with validation, a deterministic
//! random generator, random scenes and cameras, and image comparison.

pub mod cli;
pub mod ksplat;
pub mod numpy;
pub mod safetensors;

use std::sync::Arc;

use vksplat_core::{Context, ContextDesc, DeviceChoice, Renderer};
use vksplat_io::{Camera, Splats};

/// A device for GPU tests with validation layers on, or None when no Vulkan device exists.
/// With `VKSPLAT_REQUIRE_GPU=1` (CI) a missing device is a test failure, never a skip.
pub fn gpu() -> Option<Arc<Context>> {
    let required = std::env::var("VKSPLAT_REQUIRE_GPU")
        .map(|v| v == "1")
        .unwrap_or(false);
    let device = std::env::var("VKSPLAT_TEST_DEVICE")
        .map(|s| DeviceChoice::parse(&s))
        .unwrap_or_default();
    match Context::new(&ContextDesc {
        device,
        validation: true,
        ..ContextDesc::default()
    }) {
        Ok(ctx) => {
            // CI runs the GPU tests at more than one subgroup size; make sure it got it.
            if let Ok(want) = std::env::var("VKSPLAT_EXPECT_SUBGROUP_SIZE") {
                let got = ctx.info().subgroup_size;
                assert_eq!(want, got.to_string(), "device subgroup size");
            }
            Some(ctx)
        }
        Err(e) if required => panic!("VKSPLAT_REQUIRE_GPU=1 but no Vulkan device: {e}"),
        Err(e) => {
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

/// A renderer on [`gpu`]; asserts no validation error happened when dropped via [`Gpu::finish`].
pub struct Gpu {
    pub ctx: Arc<Context>,
    pub renderer: Renderer,
}

impl Gpu {
    pub fn new() -> Option<Gpu> {
        let ctx = gpu()?;
        let renderer = Renderer::new(ctx.clone()).expect("renderer");
        Some(Gpu { ctx, renderer })
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        let errors = self.ctx.validation_errors();
        if !std::thread::panicking() {
            assert_eq!(
                errors, 0,
                "Vulkan validation reported {errors} error(s) (see stderr)"
            );
        }
    }
}

/// xorshift64* — deterministic and dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
    }
}

/// A camera at the origin looking down +z (OpenCV axes).
pub fn camera(width: u32, height: u32, fx: f32, fy: f32, cx: f32, cy: f32) -> Camera {
    Camera {
        name: "test".into(),
        width,
        height,
        fx,
        fy,
        cx,
        cy,
        world_to_camera: [
            [1., 0., 0., 0.],
            [0., 1., 0., 0.],
            [0., 0., 1., 0.],
            [0., 0., 0., 1.],
        ],
        projection: Default::default(),
    }
}

/// Random splats in front of a camera at the origin (some behind it and some near it).
pub fn random_scene(rng: &mut Rng, n: usize, sh_degree: u32) -> Splats {
    let k = ((sh_degree + 1) * (sh_degree + 1)) as usize;
    let mut s = Splats {
        sh_degree,
        ..Default::default()
    };
    for i in 0..n {
        let z = match i % 10 {
            0 => rng.range(-2.0, 0.0), // behind the camera
            1 => rng.range(0.0, 0.4),  // near plane region
            _ => rng.range(0.5, 8.0),
        };
        s.means.push([
            rng.range(-0.8, 0.8) * z.abs(),
            rng.range(-0.6, 0.6) * z.abs(),
            z,
        ]);
        let q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
        let norm = q.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
        s.rotations.push(q.map(|v| v / norm));
        s.log_scales.push([0; 3].map(|_| -3.5 + 0.8 * rng.normal()));
        s.opacity_logits.push(rng.range(-4.0, 5.0));
        for c in 0..k * 3 {
            s.sh.push(if c < 3 {
                rng.normal() * 0.8
            } else {
                rng.normal() * 0.2
            });
        }
    }
    s
}

/// Relative closeness of a GPU value to the CPU reference's: `|a − b| ≤ tol·(1 + |b|)`.
pub fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Compares the GPU's projected splats with the CPU reference's: where both keep a splat, its
/// mean, conic, depth, sort key, opacity and colour must agree (asserted, naming `what` and
/// the splat); returns how many splats the two cull differently or give another tile
/// rectangle (a rare disagreement at a threshold, which callers bound).
pub fn projection_mismatches(
    what: &str,
    gpu: &[Option<vksplat_core::ProjectedSplat>],
    cpu: &[Option<vksplat_core::ProjectedSplat>],
) -> usize {
    let mut mismatches = 0;
    for (i, (g, c)) in gpu.iter().zip(cpu).enumerate() {
        match (g, c) {
            (Some(g), Some(c)) => {
                for (x, y) in g.mean2d.iter().zip(&c.mean2d) {
                    assert!(close(*x, *y, 1e-4), "{what}: splat {i} mean {g:?} vs {c:?}");
                }
                for (x, y) in g.conic.iter().zip(&c.conic) {
                    assert!(
                        (x - y).abs() <= 1e-3 * (c.conic[0].abs() + c.conic[2].abs()) + 1e-6,
                        "{what}: splat {i} conic {g:?} vs {c:?}"
                    );
                }
                assert!(close(g.depth, c.depth, 1e-5), "{what}: splat {i} depth");
                assert!(
                    close(g.sort_key, c.sort_key, 1e-5),
                    "{what}: splat {i} sort key"
                );
                assert!(
                    close(g.opacity, c.opacity, 1e-4),
                    "{what}: splat {i} opacity"
                );
                for (x, y) in g.color.iter().zip(&c.color) {
                    assert!(
                        close(*x, *y, 1e-4),
                        "{what}: splat {i} colour {g:?} vs {c:?}"
                    );
                }
                if g.tile_min != c.tile_min || g.tile_max != c.tile_max {
                    mismatches += 1;
                }
            }
            (None, None) => {}
            _ => mismatches += 1,
        }
    }
    mismatches
}

/// Largest absolute difference and the fraction of elements outside `abs + rel·|b|`.
pub fn compare(a: &[f32], b: &[f32], abs: f32, rel: f32) -> (f32, f64) {
    assert_eq!(a.len(), b.len());
    let mut max = 0f32;
    let mut bad = 0usize;
    for (x, y) in a.iter().zip(b) {
        let d = (x - y).abs();
        max = max.max(d);
        // NaN counts as a difference.
        if d.is_nan() || d > abs + rel * y.abs() {
            bad += 1;
        }
    }
    (max, bad as f64 / a.len().max(1) as f64)
}
