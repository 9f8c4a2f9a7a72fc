//! Writes a synthetic native 4D Gaussian scene (Yang et al.; for benchmarks and manual
//! checks): splats in a unit ball, each a 4D Gaussian around its own time in [0, 1], tilted a
//! little between space and time (so it moves), with degree-3 SH and two time bands.
//!
//! ```sh
//! cargo run --release -p vksplat-plugin-dynamic4d --example synth_yang -- \
//!     --count 1000000 --out yang.ply
//! vksplat render yang.ply --frames 0-5 --fps 10 --stats
//! ```
//!
//! With `--keyframes K` it writes instead a keyframe sequence of the same splats, sliced at K
//! times in [0, 1]: `OUT/frame_0000.ply` … (standard 3DGS PLYs, SH degree 3, every splat in
//! every frame), for the keyframe path: `vksplat render OUT --fps 4 --frames 0-5 --stats`.

use std::path::PathBuf;

use vksplat_dynamic4d::yang::{covariance_4d, slice, write_ply, YangScene, YangSplat};
use vksplat_io::Splats;

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    /// A unit quaternion within `spread` of identity.
    fn near_identity(&mut self, spread: f32) -> [f32; 4] {
        let q = [
            1.0,
            self.range(-spread, spread),
            self.range(-spread, spread),
            self.range(-spread, spread),
        ];
        let n = q.iter().map(|v| v * v).sum::<f32>().sqrt();
        q.map(|v| v / n)
    }
}

fn main() {
    let mut count = 100_000usize;
    let mut seed = 1u64;
    let mut out: Option<PathBuf> = None;
    let mut keyframes = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--count" => count = value().parse().unwrap_or_else(|_| usage("--count N")),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage("--seed S")),
            "--out" => out = Some(PathBuf::from(value())),
            "--keyframes" => keyframes = value().parse().unwrap_or_else(|_| usage("--keyframes K")),
            _ => usage(&format!("unknown argument '{a}'")),
        }
    }
    let out = out.unwrap_or_else(|| usage("--out is required"));
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let splats: Vec<YangSplat> = (0..count)
        .map(|_| {
            let mut p = [0f32; 3];
            loop {
                p = p.map(|_| rng.range(-1.0, 1.0));
                if p.iter().map(|v| v * v).sum::<f32>() <= 1.0 {
                    break;
                }
            }
            YangSplat {
                mean: p,
                t: rng.range(0.0, 1.0),
                scale_t: rng.range(-1.5, 0.0).exp(),
                scale: std::array::from_fn(|_| rng.range(-5.5, -3.5).exp()),
                opacity: rng.range(0.2, 0.99),
                rot_l: rng.near_identity(0.3),
                rot_r: rng.near_identity(0.3),
                features: (0..144)
                    .map(|i| {
                        if i < 3 {
                            rng.range(-1.0, 1.0)
                        } else {
                            rng.range(-0.2, 0.2)
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    if keyframes > 0 {
        write_keyframes(&out, &splats, keyframes);
        return;
    }
    let scene = YangScene {
        splats,
        coeffs: 48,
        time_range: Some((0.0, 1.0)),
    };
    if let Err(e) = write_ply(&out, &scene) {
        eprintln!("synth_yang: {e}");
        std::process::exit(1);
    }
    println!("{}: {count} splats", out.display());
}

/// The splats sliced at `k` times in [0, 1], as standard PLYs `dir/frame_0000.ply` …: the
/// mean moved along the slice's velocity, the conditional covariance's rotation and scales
/// replaced by the spatial scales and q_l (a stand-in shape: the benchmark needs frames of
/// the right size, not the exact slice), the opacity and SH band 0 as stored.
fn write_keyframes(dir: &std::path::Path, splats: &[YangSplat], k: usize) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| {
        eprintln!("synth_yang: {}: {e}", dir.display());
        std::process::exit(1)
    });
    for f in 0..k {
        let t = if k > 1 {
            f as f32 / (k - 1) as f32
        } else {
            0.0
        };
        let mut s = Splats {
            sh_degree: 3,
            ..Default::default()
        };
        for y in splats {
            let unit = |q: [f32; 4]| q.map(f64::from);
            let scales = [y.scale[0], y.scale[1], y.scale[2], y.scale_t].map(f64::from);
            let v = slice(&covariance_4d(unit(y.rot_l), unit(y.rot_r), scales)).velocity;
            let dt = t - y.t;
            s.means
                .push(std::array::from_fn(|a| y.mean[a] + v[a] as f32 * dt));
            s.rotations.push(y.rot_l);
            s.log_scales.push(y.scale.map(f32::ln));
            s.opacity_logits.push((y.opacity / (1.0 - y.opacity)).ln());
            s.sh.extend_from_slice(&y.features[..48]);
        }
        let path = dir.join(format!("frame_{f:04}.ply"));
        if let Err(e) = vksplat_io::write_ply(&path, &s) {
            eprintln!("synth_yang: {e}");
            std::process::exit(1);
        }
    }
    println!("{}: {k} frames of {} splats", dir.display(), splats.len());
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "synth_yang: {problem}\nusage: synth_yang --count N --out FILE.ply [--seed S]\n       \
         synth_yang --count N --keyframes K --out DIR [--seed S]"
    );
    std::process::exit(2)
}
