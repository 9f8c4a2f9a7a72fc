//! [`Scene`]: the one scene model every face renders (the CLI's `render`, the C API's
//! `VksplatScene`).
//!
//! A scene is either static splats on the device (read from a file, or copied from arrays the
//! host holds, which the host may write again) or a plugin's [`VariantScene`], which writes its
//! splats for the time of each frame. Both render through [`Scene::render_many`]: several views
//! of one moment, in one GPU submission for static splats.
//!
//! Invariants: a scene's splat count, SH degree and optional inputs are fixed at creation; only
//! static scenes are written by the host ([`Scene::write`]); a scene knows whether its file asks
//! for antialiased rendering, and [`default_mode`] is the one rule that turns that into a mode.

use vksplat_core::{
    CoreError, Frame, FrameStats, GpuScene, Occluder, RenderMode, RenderSettings, Renderer,
    SceneOptions, SceneUpdate,
};
use vksplat_io::{Camera, Splats};

use crate::error::PluginError;
use crate::instance::Instance;
use crate::variant::{EvalPath, VariantScene};

/// The render mode for a scene without an explicit one: antialiased when its file says it was
/// trained with antialiasing (SPZ flag, PLY comment), else classic.
pub fn default_mode(antialiased: bool) -> RenderMode {
    if antialiased {
        RenderMode::Antialiased
    } else {
        RenderMode::Classic
    }
}

/// What a scene's splats come from.
#[allow(clippy::large_enum_variant)] // one per scene; a GpuScene is a handful of buffers
enum Kind {
    /// Splats uploaded once: a file's, or arrays the host copied in (and may write again).
    Static(GpuScene),
    /// A plugin instance that writes the splats of each frame.
    Variant(Box<VariantScene>),
}

/// A scene on the device, ready to render (see the module docs).
pub struct Scene {
    kind: Kind,
    antialiased: bool,
}

impl Scene {
    /// Uploads `splats` (validated by the caller, e.g. with `vksplat_io::scene::read_scene_checked`);
    /// `antialiased` is what their file says.
    pub fn upload(
        renderer: &Renderer,
        splats: &Splats,
        antialiased: bool,
    ) -> Result<Scene, PluginError> {
        Ok(Scene {
            kind: Kind::Static(renderer.upload_scene(splats)?),
            antialiased,
        })
    }

    /// A static scene of `count` splats copied from host arrays (checked by the caller). The
    /// arrays present decide the scene's optional inputs: covariances replace rotation + scale,
    /// an opacity multiplier per splat. The host may write them again with [`Scene::write`].
    pub fn from_arrays(
        renderer: &Renderer,
        count: usize,
        sh_degree: u32,
        arrays: &SceneUpdate,
    ) -> Result<Scene, PluginError> {
        let mut gpu = renderer.create_scene(
            count,
            sh_degree,
            SceneOptions {
                covariance: arrays.covariances.is_some(),
                opacity_scale: arrays.opacity_scale.is_some(),
                ..Default::default()
            },
        )?;
        renderer.write_scene(&mut gpu, arrays)?;
        Ok(Scene {
            kind: Kind::Static(gpu),
            antialiased: false,
        })
    }

    /// A plugin instance's scene, evaluated by `path` ([`VariantScene::new`]).
    pub fn open_variant(
        renderer: &Renderer,
        instance: Instance,
        path: EvalPath,
    ) -> Result<Scene, PluginError> {
        Ok(Scene::from(VariantScene::new(renderer, instance, path)?))
    }

    /// Number of splats.
    pub fn len(&self) -> u32 {
        self.gpu().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn sh_degree(&self) -> u32 {
        self.gpu().sh_degree()
    }

    /// The scene's file says it was trained with antialiasing (false for host arrays and
    /// plugins).
    pub fn antialiased(&self) -> bool {
        self.antialiased
    }

    /// The scene's first and last time, in its own units: a plugin's declared range, `None`
    /// for static splats and for plugins that declare none.
    pub fn time_range(&self) -> Option<(f64, f64)> {
        self.variant().and_then(|v| v.instance().desc.time_range)
    }

    /// The mode to render in when the host names none ([`default_mode`]).
    pub fn default_mode(&self) -> RenderMode {
        default_mode(self.antialiased)
    }

    /// The splats on the device (a variant scene's as of its last frame).
    pub fn gpu(&self) -> &GpuScene {
        match &self.kind {
            Kind::Static(g) => g,
            Kind::Variant(v) => v.scene(),
        }
    }

    /// The plugin's scene, for a variant scene.
    pub fn variant(&self) -> Option<&VariantScene> {
        match &self.kind {
            Kind::Variant(v) => Some(v),
            Kind::Static(_) => None,
        }
    }

    /// The plugin's scene, for a variant scene (to set parameters).
    pub fn variant_mut(&mut self) -> Option<&mut VariantScene> {
        match &mut self.kind {
            Kind::Variant(v) => Some(v),
            Kind::Static(_) => None,
        }
    }

    /// Writes new contents into some arrays of a static scene (`None` keeps an array; lengths
    /// as at creation). A variant scene is written by its plugin: an invalid-scene error.
    pub fn write(&mut self, renderer: &Renderer, arrays: &SceneUpdate) -> Result<(), PluginError> {
        match &mut self.kind {
            Kind::Static(g) => Ok(renderer.write_scene(g, arrays)?),
            Kind::Variant(v) => Err(PluginError::Core(CoreError::InvalidScene(format!(
                "the scene of plugin '{}' is written by the plugin, not by the host",
                v.instance().name()
            )))),
        }
    }

    /// Writes the splats of `time` without rendering: a variant scene evaluates (and checks)
    /// its frame, so that a failing plugin fails here; static splats have nothing to do.
    pub fn evaluate(&mut self, renderer: &Renderer, time: f64) -> Result<(), PluginError> {
        match &mut self.kind {
            Kind::Static(_) => Ok(()),
            Kind::Variant(v) => v.evaluate(renderer, time),
        }
    }

    /// Renders one view at `time` (static splats ignore the time).
    pub fn render(
        &mut self,
        renderer: &mut Renderer,
        camera: &Camera,
        settings: &RenderSettings,
        time: f64,
    ) -> Result<(Frame, FrameStats), PluginError> {
        self.render_occluded(renderer, camera, settings, time, None)
    }

    /// [`Scene::render`], the splats occluded by a host depth when one is given
    /// (`Renderer::render_occluded`: the scene as its one identity instance). A host depth
    /// belongs to one view, so occluded views render one at a time.
    pub fn render_occluded(
        &mut self,
        renderer: &mut Renderer,
        camera: &Camera,
        settings: &RenderSettings,
        time: f64,
        occluder: Option<&Occluder>,
    ) -> Result<(Frame, FrameStats), PluginError> {
        match (&mut self.kind, occluder) {
            (Kind::Static(g), None) => Ok(renderer.render(g, camera, settings)?),
            (Kind::Static(g), Some(o)) => Ok(renderer.render_occluded(
                &[vksplat_core::Instance::of(g)],
                camera,
                settings,
                o,
            )?),
            (Kind::Variant(v), o) => v.render_occluded(renderer, camera, settings, time, o),
        }
    }

    /// Renders several views of the scene at `time`, one frame per camera, in order. Static
    /// splats render them in one GPU submission (`Renderer::render_batch`); a variant scene
    /// renders one after the other (each evaluates the same moment).
    pub fn render_many(
        &mut self,
        renderer: &mut Renderer,
        cameras: &[&Camera],
        settings: &RenderSettings,
        time: f64,
    ) -> Result<Vec<(Frame, FrameStats)>, PluginError> {
        match &self.kind {
            Kind::Static(g) if cameras.len() > 1 => {
                let owned: Vec<Camera> = cameras.iter().map(|c| (*c).clone()).collect();
                Ok(renderer.render_batch(g, &owned, settings)?)
            }
            _ => cameras
                .iter()
                .map(|c| self.render(renderer, c, settings, time))
                .collect(),
        }
    }
}

impl From<VariantScene> for Scene {
    fn from(v: VariantScene) -> Self {
        Scene {
            kind: Kind::Variant(Box::new(v)),
            antialiased: false,
        }
    }
}

/// Splats that stand for a plugin's scene when a host frames a camera around it (an automatic
/// or orbit camera), before the device exists: the means of the CPU frame at `time` when the
/// plugin has a CPU path that writes them, else its initial means, else the corners of the
/// cube [-1, 1]³. Only the means mean anything.
#[allow(clippy::needless_update)] // Splats may grow fields
pub fn framing_splats(instance: &mut Instance, time: f64) -> Result<Splats, PluginError> {
    let means = if instance.desc.has_cpu
        && instance.desc.outputs & vksplat_abi::VKSPLAT_OUTPUT_MEANS != 0
    {
        instance.cpu_frame(time)?.means
    } else {
        instance.desc.initial.means.clone()
    };
    let means: Vec<[f32; 3]> = match means {
        Some(m) if !m.is_empty() => m.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        _ => (0..8)
            .map(|i| [0, 1, 2].map(|a| if i >> a & 1 == 1 { 1.0 } else { -1.0 }))
            .collect(),
    };
    let n = means.len();
    Ok(Splats {
        means,
        rotations: vec![[1.0, 0.0, 0.0, 0.0]; n],
        log_scales: vec![[-4.0; 3]; n],
        opacity_logits: vec![0.0; n],
        sh_degree: 0,
        sh: vec![0.0; n * 3],
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_flag_picks_the_default_mode() {
        assert_eq!(default_mode(true), RenderMode::Antialiased);
        assert_eq!(default_mode(false), RenderMode::Classic);
    }
}
