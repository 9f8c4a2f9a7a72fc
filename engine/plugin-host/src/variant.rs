//! [`VariantScene`]: a plugin instance and the [`GpuScene`] it writes every frame, by the GPU
//! path (the plugin's compute shader as the frame's first stage, `gpu_stage.rs`) or the CPU
//! path (the plugin fills host arrays, the engine uploads them, `cpu_path.rs`).
//!
//! Invariant: no frame is rendered from unchecked plugin output. The initial data and every
//! CPU frame are checked for non-finite values on the host; the first GPU frame is read back
//! and checked (`readback.rs`) before it is rendered, and later GPU frames run the stage
//! inside the frame's own command buffer unless [`VariantScene::check_every_frame`] is set.

use vksplat_core::{Frame, FrameStats, GpuScene, Occluder, RenderSettings, Renderer, SceneOptions};
use vksplat_io::Camera;

use crate::cpu_path::{first_non_finite, HostSplats};
use crate::error::PluginError;
use crate::gpu_stage::GpuState;
use crate::instance::Instance;

/// Which path evaluates a plugin scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EvalPath {
    /// The GPU path when the plugin has one, else the CPU path.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

/// A plugin instance and the scene it writes.
pub struct VariantScene {
    pub(crate) instance: Instance,
    pub(crate) scene: GpuScene,
    gpu: Option<GpuState>,
    /// The first GPU frame was checked for non-finite values.
    pub(crate) checked: bool,
    /// Check every GPU frame (reads the splats back), not only the first.
    pub check_every_frame: bool,
}

impl VariantScene {
    /// Creates the scene: uploads the plugin's initial data and, on the GPU path, compiles,
    /// reflects and validates its shader and uploads its static buffers.
    pub fn new(
        renderer: &Renderer,
        mut instance: Instance,
        path: EvalPath,
    ) -> Result<Self, PluginError> {
        let name = instance.name().to_string();
        let d = instance.desc.clone();
        let use_gpu = match path {
            EvalPath::Auto => d.has_gpu,
            EvalPath::Gpu if !d.has_gpu => {
                return Err(PluginError::Plugin(format!(
                    "plugin '{name}' has no GPU path"
                )))
            }
            EvalPath::Gpu => true,
            EvalPath::Cpu if !d.has_cpu => {
                return Err(PluginError::Plugin(format!(
                    "plugin '{name}' has no CPU path"
                )))
            }
            EvalPath::Cpu => false,
        };
        let mut scene = renderer.create_scene(
            d.splat_count,
            d.sh_degree,
            SceneOptions {
                covariance: d.covariance,
                opacity_scale: d.opacity_scale,
                ..Default::default()
            },
        )?;
        let i = &d.initial;
        let initial = HostSplats {
            means: i.means.clone(),
            rotations: i.rotations.clone(),
            log_scales: i.log_scales.clone(),
            opacity_logits: i.opacity_logits.clone(),
            sh: i.sh.clone(),
            covariances: i.covariances.clone(),
            opacity_scale: i.opacity_scale.clone(),
        };
        let widths = d.widths();
        for (b, (array, data)) in initial.arrays().into_iter().enumerate() {
            if let Some((a, splat, v)) = data.and_then(|x| first_non_finite(array, x, widths[b])) {
                return Err(PluginError::InvalidOutput(format!(
                    "plugin '{name}': initial data has {v} in {a} of splat {splat}"
                )));
            }
        }
        renderer.write_scene(&mut scene, &initial.update())?;
        let gpu = if use_gpu {
            Some(GpuState::build(renderer, &mut instance)?)
        } else {
            None
        };
        Ok(VariantScene {
            instance,
            scene,
            gpu,
            checked: false,
            check_every_frame: false,
        })
    }

    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    pub fn instance_mut(&mut self) -> &mut Instance {
        &mut self.instance
    }

    pub fn scene(&self) -> &GpuScene {
        &self.scene
    }

    /// The path this scene evaluates with.
    pub fn path(&self) -> EvalPath {
        if self.gpu.is_some() {
            EvalPath::Gpu
        } else {
            EvalPath::Cpu
        }
    }

    /// Writes this frame's splats into the scene without rendering (GPU: runs the stage;
    /// CPU: the plugin fills host arrays, which are uploaded). Checks for non-finite values.
    pub fn evaluate(&mut self, renderer: &Renderer, time: f64) -> Result<(), PluginError> {
        if let Some(gpu) = self.gpu.as_mut() {
            let push = gpu.prepare(&mut self.instance, time)?;
            renderer.run_variant(&self.scene, &gpu.stage(push))?;
            self.check_gpu_output(renderer, time)?;
        } else {
            let host = self.instance.cpu_frame(time)?;
            renderer.write_scene(&mut self.scene, &host.update())?;
        }
        Ok(())
    }

    /// Evaluates the plugin at `time` and renders the frame.
    pub fn render(
        &mut self,
        renderer: &mut Renderer,
        camera: &Camera,
        settings: &RenderSettings,
        time: f64,
    ) -> Result<(Frame, FrameStats), PluginError> {
        self.render_occluded(renderer, camera, settings, time, None)
    }

    /// [`VariantScene::render`], its splats occluded by a host depth when one is given
    /// (`Renderer::render_occluded`).
    pub fn render_occluded(
        &mut self,
        renderer: &mut Renderer,
        camera: &Camera,
        settings: &RenderSettings,
        time: f64,
        occluder: Option<&Occluder>,
    ) -> Result<(Frame, FrameStats), PluginError> {
        if let Some(gpu) = self
            .gpu
            .as_mut()
            .filter(|_| self.checked && !self.check_every_frame)
        {
            // The stage runs inside the frame's command buffer.
            let push = gpu.prepare(&mut self.instance, time)?;
            let stage = gpu.stage(push);
            return Ok(renderer.render_variant_occluded(
                &self.scene,
                &stage,
                camera,
                settings,
                occluder,
            )?);
        }
        self.evaluate(renderer, time)?;
        Ok(match occluder {
            Some(o) => renderer.render_occluded(
                &[vksplat_core::Instance::of(&self.scene)],
                camera,
                settings,
                o,
            )?,
            None => renderer.render(&self.scene, camera, settings)?,
        })
    }
}
