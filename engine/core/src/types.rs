//! Types shared by the GPU pipeline and the CPU reference renderer.
//!
//! Both renderers implement the same rules (ARCHITECTURE.md, "Rendering rules"); these types
//! are what one stage hands to the next, so tests can compare the two stage by stage.

use vksplat_io::Camera;

/// Tile edge in pixels. The blend stage runs one 16×16 workgroup per tile.
pub const TILE_SIZE: u32 = 16;

/// Which forward-pass rules to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RenderMode {
    /// gsplat 1.5.3 "classic" rules (the default).
    #[default]
    Classic,
    /// gsplat "antialiased": opacity multiplied by the blur compensation
    /// sqrt(det Σ2 / det(Σ2 + 0.3 I)).
    Antialiased,
    /// The original INRIA rasterizer's rules (near 0.2, ±1.3 tan fov clamp, α ≤ 0.99,
    /// square 3σ extent, principal point at the image centre, integer pixel centres).
    Inria,
    /// glTF `KHR_gaussian_splatting` (ellipse kernel): classic rules, plus the kernel's cut-off
    /// at Mahalanobis distance 3 (a pixel beyond it gets nothing, the tile extent is at most
    /// 3σ) and the extension's `cameraDistance` sort (distance from the camera centre to the
    /// mean instead of camera z). README.md, "Render modes", says which rules and why.
    Khr,
}

impl RenderMode {
    /// Every mode (their shader ids become the `MODE_*` macros of constants.glsl).
    pub const ALL: [RenderMode; 4] = [
        RenderMode::Classic,
        RenderMode::Antialiased,
        RenderMode::Inria,
        RenderMode::Khr,
    ];

    /// The value of `mode` in the shaders' push constants.
    pub fn shader_id(self) -> u32 {
        match self {
            RenderMode::Classic => 0,
            RenderMode::Antialiased => 1,
            RenderMode::Inria => 2,
            RenderMode::Khr => 3,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RenderMode::Classic => "classic",
            RenderMode::Antialiased => "antialiased",
            RenderMode::Inria => "inria",
            RenderMode::Khr => "khr",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "classic" => Some(RenderMode::Classic),
            "antialiased" => Some(RenderMode::Antialiased),
            "inria" => Some(RenderMode::Inria),
            "khr" => Some(RenderMode::Khr),
            _ => None,
        }
    }
}

/// What the depth output holds per pixel. Every kind is camera depth (z along the view axis,
/// world units, as preprocess computes it for each splat) and 0 where the kind has no value,
/// so one sentinel means "no splat surface here" whatever the kind (a host depth-testing the
/// output maps 0 to its far plane).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DepthKind {
    /// Σ αᵢTᵢzᵢ / (1 − T): the alpha-weighted mean depth (the default); 0 where nothing blended.
    #[default]
    Expected,
    /// The depth of the splat whose blend takes the transmittance T from above 0.5 to 0.5 or
    /// below (accumulated opacity reaches one half); 0 where T stays above 0.5.
    Median,
    /// The depth of the first splat that blends at the pixel (front to back); 0 where none does.
    First,
}

impl DepthKind {
    /// Every kind (their shader ids become the `DEPTH_*` macros of constants.glsl).
    pub const ALL: [DepthKind; 3] = [DepthKind::Expected, DepthKind::Median, DepthKind::First];

    /// The value of `depth_kind` in the blend kernels' push constants.
    pub fn shader_id(self) -> u32 {
        match self {
            DepthKind::Expected => 0,
            DepthKind::Median => 1,
            DepthKind::First => 2,
        }
    }

    /// The transmittance level whose crossing picks the splat (`Median`, `First`): a splat is
    /// taken when it blends with T > level before it and T ≤ level after it. `First` uses the
    /// largest f32 below 1, which T crosses at the first blend (α ≥ 1/255 always lowers T
    /// from 1). `None` for `Expected`, which takes no single splat.
    pub fn level(self) -> Option<f32> {
        match self {
            DepthKind::Expected => None,
            DepthKind::Median => Some(0.5),
            DepthKind::First => Some(f32::from_bits(0x3f7f_ffff)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DepthKind::Expected => "expected",
            DepthKind::Median => "median",
            DepthKind::First => "first",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        DepthKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Per-frame settings that are not part of the camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderSettings {
    pub mode: RenderMode,
    /// Linear RGB composited behind the splats.
    pub background: [f32; 3],
    /// Near clip plane: splats whose camera depth is below it are culled. The mode's fixed
    /// near (0.01, or z > 0.2 in `Inria` mode) applies as well, so a smaller value changes
    /// nothing.
    pub near: Option<f32>,
    /// Far clip plane: splats whose camera depth is above it are culled.
    pub far: Option<f32>,
    /// What the depth output holds.
    pub depth: DepthKind,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            mode: RenderMode::Classic,
            background: [0.0; 3],
            near: None,
            far: None,
            depth: DepthKind::Expected,
        }
    }
}

impl RenderSettings {
    /// The depth range `[near, far]` a splat's camera depth must lie in (0 and +inf when
    /// unset), or why the clip planes are invalid: a plane that is NaN or infinite, a
    /// negative near, or far <= near.
    pub fn clip_range(&self) -> Result<[f32; 2], String> {
        let near = self.near.unwrap_or(0.0);
        let far = self.far.unwrap_or(f32::INFINITY);
        if let Some(n) = self.near {
            if !n.is_finite() || n < 0.0 {
                return Err(format!("near clip plane {n} is not a finite depth >= 0"));
            }
        }
        if let Some(f) = self.far {
            if !f.is_finite() {
                return Err(format!("far clip plane {f} is not finite"));
            }
        }
        if far <= near {
            return Err(format!(
                "far clip plane {far} is not beyond the near clip plane {near}"
            ));
        }
        Ok([near, far])
    }
}

/// Per-splat inputs beyond what a scene file stores, written by scene-variant plugins.
///
/// When `covariances` is set, splat i's world-space 3D covariance is taken from it (upper
/// triangle xx, xy, xz, yy, yz, zz) and its rotation and scale are ignored. When
/// `opacity_scale` is set, splat i's opacity (after the sigmoid) is multiplied by it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SplatExtras {
    pub covariances: Option<Vec<[f32; 6]>>,
    pub opacity_scale: Option<Vec<f32>>,
}

/// One splat after the preprocess stage. Culled splats have no `ProjectedSplat`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProjectedSplat {
    /// Pixel position of the centre, in the convention where pixel (i, j) has its centre
    /// at (i + 0.5, j + 0.5) (also in `Inria` mode).
    pub mean2d: [f32; 2],
    /// Inverse of the dilated 2D covariance: (a, b, c) = (inv00, inv01, inv11).
    pub conic: [f32; 3],
    /// Camera-space z (what the depth output averages).
    pub depth: f32,
    /// The depth-sort key: camera z, or in `Khr` mode the distance from the camera centre to
    /// the mean.
    pub sort_key: f32,
    /// Effective opacity (sigmoid, times the compensation in `Antialiased` mode).
    pub opacity: f32,
    /// View-dependent colour from SH (+0.5, clamped at 0 below).
    pub color: [f32; 3],
    /// Tiles touched: x in `tile_min[0]..tile_max[0]`, y in `tile_min[1]..tile_max[1]`.
    pub tile_min: [u32; 2],
    pub tile_max: [u32; 2],
}

impl ProjectedSplat {
    pub fn tiles_touched(&self) -> u32 {
        (self.tile_max[0] - self.tile_min[0]) * (self.tile_max[1] - self.tile_min[1])
    }
}

/// A rendered frame on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Row-major RGBA, 4 floats per pixel: RGB composited over the background
    /// (premultiplied colour + T·background), A = 1 − T.
    pub rgba: Vec<f32>,
    /// Camera depth of the settings' [`DepthKind`] (by default the expected depth
    /// Σ αᵢTᵢzᵢ / (1 − T)); 0 where the kind has no value (nothing was hit).
    pub depth: Vec<f32>,
}

/// Number of tiles along x and y for an image.
pub fn tile_grid(width: u32, height: u32) -> [u32; 2] {
    [width.div_ceil(TILE_SIZE), height.div_ceil(TILE_SIZE)]
}

/// What the host keeps of a scene to explain a frame in which no splat is visible, after the
/// splats themselves went to the GPU (a few numbers, not a copy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SceneExtent {
    /// Number of splats.
    pub count: usize,
    /// Box of the finite splat centres.
    pub bounds_min: [f32; 3],
    pub bounds_max: [f32; 3],
    /// The smallest splat's largest log-scale: min over splats of max(log_scale).
    pub smallest_log_scale: f32,
}

/// Square root of the largest f32: a value above it overflows f32 when squared, which is what
/// the projection does to focal lengths and splat sizes.
const SQRT_F32_MAX: f64 = 1.844_674_3e19;

impl SceneExtent {
    /// The extent of `splats` (finite values only).
    pub fn of(splats: &vksplat_io::Splats) -> Self {
        let mut lo = [f32::INFINITY; 3];
        let mut hi = [f32::NEG_INFINITY; 3];
        for m in splats
            .means
            .iter()
            .filter(|m| m.iter().all(|v| v.is_finite()))
        {
            for a in 0..3 {
                lo[a] = lo[a].min(m[a]);
                hi[a] = hi[a].max(m[a]);
            }
        }
        let smallest_log_scale = splats
            .log_scales
            .iter()
            .map(|s| s[0].max(s[1]).max(s[2]))
            .filter(|v| v.is_finite())
            .fold(f32::INFINITY, f32::min);
        SceneExtent {
            count: splats.len(),
            bounds_min: lo,
            bounds_max: hi,
            smallest_log_scale,
        }
    }

    /// Why a frame of this scene seen by `camera` in `mode` shows no splat at all, as far as
    /// the host can tell: an absurd focal length, splats so large that their projection
    /// overflows single precision, or a scene entirely behind the camera; otherwise the
    /// general rule (every splat culled). The renderer works in f32, so these thresholds are
    /// where its arithmetic overflows, not tuning.
    pub fn explain_empty(&self, camera: &Camera, mode: RenderMode) -> String {
        let f = f64::from(camera.fx.max(camera.fy));
        if f > SQRT_F32_MAX {
            return format!(
                "the camera's focal length (fx {:e}, fy {:e}) is so large that projecting any \
                 splat overflows single precision",
                camera.fx, camera.fy
            );
        }
        let (lo, hi) = (self.bounds_min, self.bounds_max);
        if lo[0] > hi[0] {
            return "no splat has a finite centre".into();
        }
        // Camera-space depth range of the scene's box (its eight corners).
        let m = camera.world_to_camera;
        let corners = (0..8).map(|c| {
            let p = [0, 1, 2].map(|a| f64::from(if c >> a & 1 == 1 { hi[a] } else { lo[a] }));
            let row = |r: usize| -> f64 {
                (0..3).map(|j| f64::from(m[r][j]) * p[j]).sum::<f64>() + f64::from(m[r][3])
            };
            ([row(0), row(1), row(2)], row(2))
        });
        let (mut z_max, mut dist_max) = (f64::NEG_INFINITY, 0.0f64);
        for (p, z) in corners {
            z_max = z_max.max(z);
            dist_max = dist_max.max((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt());
        }
        let near = if mode == RenderMode::Inria { 0.2 } else { 0.01 };
        if z_max < near {
            return format!(
                "every splat is behind the camera or nearer than its near plane ({near}): the \
                 scene's box spans camera depths up to {z_max:.4}"
            );
        }
        // The smallest splat, at the farthest distance in the scene, projected: if even that
        // overflows (σ² in world space, or (f·σ/z)² on the image), every splat does.
        let sigma = f64::from(self.smallest_log_scale).exp();
        let projected = f * sigma / dist_max.max(f64::MIN_POSITIVE);
        if sigma > SQRT_F32_MAX || projected > SQRT_F32_MAX {
            return format!(
                "every splat is so large (the smallest has scale e^{} = {sigma:.3e}) that its \
                 projected size overflows single precision",
                self.smallest_log_scale
            );
        }
        "every splat was culled (outside the view, behind or too near the camera, or too \
         transparent)"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(fx: f32, z: f32) -> Camera {
        Camera {
            name: "c".into(),
            width: 64,
            height: 48,
            fx,
            fy: fx,
            cx: 32.0,
            cy: 24.0,
            world_to_camera: [
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, z],
                [0.0, 0.0, 0.0, 1.0],
            ],
            projection: Default::default(),
        }
    }

    fn scene(log_scale: f32) -> vksplat_io::Splats {
        vksplat_io::Splats {
            means: vec![[0.0, 0.0, 0.0], [1.0, -1.0, 2.0]],
            rotations: vec![[1.0, 0.0, 0.0, 0.0]; 2],
            log_scales: vec![[log_scale, -1.0, -1.0], [log_scale + 1.0; 3]],
            opacity_logits: vec![0.0; 2],
            sh_degree: 0,
            sh: vec![0.0; 6],
        }
    }

    #[test]
    fn empty_frames_are_explained() {
        let e = SceneExtent::of(&scene(-2.0));
        assert_eq!(e.count, 2);
        assert_eq!(
            (e.bounds_min, e.bounds_max),
            ([0.0, -1.0, 0.0], [1.0, 0.0, 2.0])
        );
        assert_eq!(e.smallest_log_scale, -1.0);
        let why = |e: &SceneExtent, c: Camera| e.explain_empty(&c, RenderMode::Classic);
        assert!(why(&e, camera(3e38, 5.0)).contains("focal length"));
        assert!(why(&e, camera(500.0, -10.0)).contains("behind the camera"));
        // The Inria near plane (0.2) is farther than the classic one (0.01).
        let near = camera(500.0, -1.9);
        assert!(e
            .explain_empty(&near, RenderMode::Inria)
            .contains("near plane (0.2)"));
        assert!(why(&e, near.clone()).starts_with("every splat was culled"));
        assert!(why(&e, camera(500.0, 5.0)).starts_with("every splat was culled"));
        let huge = SceneExtent::of(&scene(40.0));
        assert!(why(&huge, camera(1000.0, 5.0)).contains("e^40"));
        // The same splats seen with a short focal length from afar are not overflowing.
        assert!(why(&huge, camera(1.0, 1e6)).starts_with("every splat was culled"));
        assert!(why(
            &SceneExtent::of(&vksplat_io::Splats::default()),
            camera(500.0, 5.0)
        )
        .contains("no splat has a finite centre"));
    }
}
