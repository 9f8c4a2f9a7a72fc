//! Test fixture, two scenes in one plugin:
//! - opened without a source file, its CPU frame panics: the SDK must catch the panic, the
//!   host must report it naming the plugin, and keep working;
//! - opened on a source file (any content; test manifests declare which files it "reads"), a
//!   small blob of splats that moves along x with time, `x = 2·t − 1` over the declared time
//!   range [0, 1], for tests of time on the command line and the C API.
//!
//! Text options (`VKSPLAT_PARAM_TEXT`) for their round trip: `label` sets the blob's splat
//! count to the number of characters of its value; `fail` makes open fail with a message that
//! quotes its value exactly.

use vksplat_plugin_sdk::abi::VKSPLAT_OUTPUT_MEANS;
use vksplat_plugin_sdk::{
    export_plugin, Description, Error, FrameInput, Param, Plugin, SplatArrays, SplatData,
};

const PARAMS: [Param; 2] = [
    Param::text(
        c"label",
        c"blob only: its splat count is the label's length",
    ),
    Param::text(c"fail", c"open fails, quoting this text"),
];

pub enum Panics {
    /// No source: the CPU frame panics.
    Panics,
    /// A moving blob of `count` splats.
    Mover {
        count: usize,
        rotations: Vec<f32>,
        log_scales: Vec<f32>,
        opacity_logits: Vec<f32>,
        sh: Vec<f32>,
    },
}

/// The blob's offsets from its centre: a small cross in the xy plane.
fn offset(i: usize) -> [f32; 3] {
    let r = 0.02 * (i / 4 + 1) as f32;
    match i % 4 {
        0 => [r, 0.0, 0.0],
        1 => [-r, 0.0, 0.0],
        2 => [0.0, r, 0.0],
        _ => [0.0, -r, 0.0],
    }
}

impl Plugin for Panics {
    const NAME: &'static std::ffi::CStr = c"panics";
    const VERSION: &'static std::ffi::CStr = c"0.0.2";

    fn open(source: Option<&str>, options: &[(&str, &str)]) -> Result<Self, Error> {
        let text = |key: &str| options.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        if let Some(v) = text("fail") {
            return Err(format!("fail requested: [{v}]"));
        }
        if source.is_none() {
            return Ok(Panics::Panics);
        }
        let count = text("label").map_or(8, |l| l.chars().count()).clamp(1, 64);
        Ok(Panics::Mover {
            count,
            rotations: [1.0, 0.0, 0.0, 0.0].repeat(count),
            log_scales: vec![(0.03f32).ln(); count * 3],
            opacity_logits: vec![3.0; count],
            // A bright orange blob (SH DC).
            sh: [1.2, 0.4, -1.0].repeat(count),
        })
    }

    fn describe(&self) -> Description<'_> {
        match self {
            Panics::Panics => Description {
                splat_count: 16,
                outputs: VKSPLAT_OUTPUT_MEANS,
                params: PARAMS.to_vec(),
                ..Default::default()
            },
            Panics::Mover {
                count,
                rotations,
                log_scales,
                opacity_logits,
                sh,
            } => Description {
                splat_count: *count as u64,
                outputs: VKSPLAT_OUTPUT_MEANS,
                params: PARAMS.to_vec(),
                initial: SplatData {
                    rotations: Some(rotations),
                    log_scales: Some(log_scales),
                    opacity_logits: Some(opacity_logits),
                    sh: Some(sh),
                    ..Default::default()
                },
                time_range: Some((0.0, 1.0)),
                ..Default::default()
            },
        }
    }

    fn cpu_frame(&mut self, input: &FrameInput, out: &mut SplatArrays) -> Result<(), Error> {
        match self {
            Panics::Panics => panic!("deliberate panic at time {}", input.time),
            Panics::Mover { .. } => {
                let means = out.means.as_deref_mut().ok_or("no means array")?;
                let x = (2.0 * input.time - 1.0) as f32;
                for (i, m) in means.chunks_exact_mut(3).enumerate() {
                    let o = offset(i);
                    m.copy_from_slice(&[x + o[0], o[1], o[2]]);
                }
                Ok(())
            }
        }
    }
}

export_plugin!(Panics);
