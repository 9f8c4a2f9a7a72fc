//! Types shared by the GPU pipeline and the CPU reference renderer.
//!
//! Both renderers implement the same rules (DESIGN.md §4); these types are what one
//! stage hands to the next, so tests can compare the two stage by stage.

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
}

impl RenderMode {
    /// The value of `mode` in the shaders' push constants.
    pub fn shader_id(self) -> u32 {
        match self {
            RenderMode::Classic => 0,
            RenderMode::Antialiased => 1,
            RenderMode::Inria => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RenderMode::Classic => "classic",
            RenderMode::Antialiased => "antialiased",
            RenderMode::Inria => "inria",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "classic" => Some(RenderMode::Classic),
            "antialiased" => Some(RenderMode::Antialiased),
            "inria" => Some(RenderMode::Inria),
            _ => None,
        }
    }
}

/// Per-frame settings that are not part of the camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderSettings {
    pub mode: RenderMode,
    /// Linear RGB composited behind the splats.
    pub background: [f32; 3],
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            mode: RenderMode::Classic,
            background: [0.0; 3],
        }
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
    /// Camera-space z; the sort key.
    pub depth: f32,
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
    /// Expected depth Σ αᵢTᵢzᵢ / (1 − T); 0 where nothing was hit.
    pub depth: Vec<f32>,
}

/// Number of tiles along x and y for an image.
pub fn tile_grid(width: u32, height: u32) -> [u32; 2] {
    [width.div_ceil(TILE_SIZE), height.div_ceil(TILE_SIZE)]
}
