//! Reading a variant scene's splats back from the device: the check of the first GPU frame
//! and the download that compares the GPU path with the CPU path.

use vksplat_abi::*;
use vksplat_core::Renderer;

use crate::cpu_path::{first_non_finite, HostSplats, OUTPUT_NAMES};
use crate::error::PluginError;
use crate::variant::VariantScene;

impl VariantScene {
    /// Reads the scene's splats back and fails on the first non-finite value.
    pub(crate) fn check_gpu_output(
        &mut self,
        renderer: &Renderer,
        time: f64,
    ) -> Result<(), PluginError> {
        let name = self.instance.name().to_string();
        let d = &self.instance.desc;
        let n = d.splat_count;
        let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
        // (output bit, scene buffer index, floats per splat), in binding order.
        let layout = [
            (VKSPLAT_OUTPUT_MEANS, 0, 3),
            (VKSPLAT_OUTPUT_ROTATIONS, 1, 4),
            (VKSPLAT_OUTPUT_LOG_SCALES, 2, 3),
            (VKSPLAT_OUTPUT_OPACITY_LOGITS, 3, 1),
            (VKSPLAT_OUTPUT_SH, 4, k),
            (VKSPLAT_OUTPUT_SH, 5, k),
            (VKSPLAT_OUTPUT_SH, 6, k),
            (VKSPLAT_OUTPUT_COVARIANCES, 7, 6),
            (VKSPLAT_OUTPUT_OPACITY_SCALE, 8, 1),
        ];
        let buffers = self.scene.buffers();
        for (bit, index, per) in layout {
            if d.outputs & bit == 0 || n == 0 {
                continue;
            }
            let bytes = renderer.download(buffers[index], (n * per * 4) as u64)?;
            let floats: &[f32] = bytemuck::cast_slice(&bytes);
            if let Some((_, splat, v)) = first_non_finite("", floats, per) {
                let array = OUTPUT_NAMES[bit.trailing_zeros() as usize];
                return Err(PluginError::InvalidOutput(format!(
                    "plugin '{name}': GPU frame at time {time} wrote {v} into {array} of splat {splat}"
                )));
            }
        }
        self.checked = true;
        Ok(())
    }

    /// Reads back the arrays the plugin writes every frame, in the CPU path's layout (for
    /// comparing the two paths).
    pub fn download_outputs(&self, renderer: &Renderer) -> Result<HostSplats, PluginError> {
        let d = &self.instance.desc;
        let n = d.splat_count;
        let k = ((d.sh_degree + 1) * (d.sh_degree + 1)) as usize;
        let buffers = self.scene.buffers();
        let read = |bit: u32, index: usize, per: usize| -> Result<Option<Vec<f32>>, PluginError> {
            if d.outputs & bit == 0 {
                return Ok(None);
            }
            let bytes = renderer.download(buffers[index], (n * per * 4) as u64)?;
            Ok(Some(bytemuck::cast_slice::<u8, f32>(&bytes).to_vec()))
        };
        let sh = if d.outputs & VKSPLAT_OUTPUT_SH != 0 {
            let ch: Vec<Vec<f32>> = (4..7)
                .map(|i| read(VKSPLAT_OUTPUT_SH, i, k).map(Option::unwrap_or_default))
                .collect::<Result<_, _>>()?;
            Some(
                (0..n * k)
                    .flat_map(|j| [ch[0][j], ch[1][j], ch[2][j]])
                    .collect(),
            )
        } else {
            None
        };
        Ok(HostSplats {
            means: read(VKSPLAT_OUTPUT_MEANS, 0, 3)?,
            rotations: read(VKSPLAT_OUTPUT_ROTATIONS, 1, 4)?,
            log_scales: read(VKSPLAT_OUTPUT_LOG_SCALES, 2, 3)?,
            opacity_logits: read(VKSPLAT_OUTPUT_OPACITY_LOGITS, 3, 1)?,
            sh,
            covariances: read(VKSPLAT_OUTPUT_COVARIANCES, 7, 6)?,
            opacity_scale: read(VKSPLAT_OUTPUT_OPACITY_SCALE, 8, 1)?,
        })
    }
}
