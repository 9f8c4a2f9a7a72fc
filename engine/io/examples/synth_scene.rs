//! Writes a synthetic benchmark scene: `cargo run --release -p vksplat-io --example
//! synth_scene -- --count N --out NAME.ply [--seed S]`.
//!
//! The scene is a workload, not a picture: N splats with SH degree 3 spread through the view
//! frustum of a camera at the origin looking down +z (OpenCV axes), at depths 2–10, with
//! log-normal sizes (median 0.012, σ 0.6 in log space, clamped to 1e-4..0.5), so most splats
//! cover a few pixels and a few cover many, as in trained scenes. Rotations are uniform unit
//! quaternions; opacity logits, colours and higher SH bands are normal. Beside NAME.ply it
//! writes NAME.cameras.json (INRIA layout) with that camera at 1920×1080 (camera 0) and
//! 3840×2160 (camera 1), a 66° horizontal field of view: what `vksplat bench` reads when
//! no `--camera` is given. The same count and seed give the same bytes.

use std::path::PathBuf;

use vksplat_io::math::normalised_quat;
use vksplat_io::Splats;

/// xorshift64* with Box–Muller normals: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1) with 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Normal with the given mean and standard deviation.
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u = 1.0 - self.unit(); // (0, 1]: ln is finite
        let v = self.unit();
        mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn usage() -> ! {
    eprintln!("usage: synth_scene --count N --out NAME.ply [--seed S]");
    std::process::exit(2);
}

fn main() {
    let (mut count, mut out, mut seed) = (None, None, 7u64);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--count" => count = value.parse::<usize>().ok(),
            "--out" => out = Some(PathBuf::from(value)),
            "--seed" => seed = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let (Some(n), Some(out)) = (count, out) else {
        usage()
    };

    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut s = Splats {
        sh_degree: 3,
        ..Splats::default()
    };
    let (lo, hi) = (1e-4f64.ln(), 0.5f64.ln());
    for _ in 0..n {
        let z = rng.uniform(2.0, 10.0);
        // About 66° wide and 44° high around the optical axis.
        let x = rng.uniform(-0.65, 0.65) * z;
        let y = rng.uniform(-0.40, 0.40) * z;
        s.means.push([x as f32, y as f32, z as f32]);
        let mut log_scale = || rng.normal(0.012f64.ln(), 0.6).clamp(lo, hi) as f32;
        s.log_scales.push([log_scale(), log_scale(), log_scale()]);
        // A normal 4-vector has a uniformly distributed direction.
        let q = [0; 4].map(|_| rng.normal(0.0, 1.0) as f32);
        s.rotations.push(normalised_quat(q));
        s.opacity_logits.push(rng.normal(0.5, 2.0) as f32);
        // Coefficient-major: the DC term's RGB, then 15 higher coefficients' RGB.
        for _ in 0..3 {
            s.sh.push(rng.normal(0.0, 0.6) as f32);
        }
        for _ in 0..45 {
            s.sh.push(rng.normal(0.0, 0.05) as f32);
        }
    }
    if let Err(e) = vksplat_io::write_ply(&out, &s) {
        eprintln!("{e}");
        std::process::exit(1);
    }

    let cameras: Vec<serde_json::Value> = [(1920u32, 1080u32), (3840, 2160)]
        .iter()
        .enumerate()
        .map(|(i, &(w, h))| {
            let f = f64::from(w) / (2.0 * 33f64.to_radians().tan());
            serde_json::json!({
                "id": i, "img_name": format!("synth_{w}x{h}"), "width": w, "height": h,
                "position": [0.0, 0.0, 0.0],
                "rotation": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                "fx": f, "fy": f,
            })
        })
        .collect();
    let json = serde_json::to_string_pretty(&cameras).expect("JSON of numbers and strings");
    let cams = out.with_extension("cameras.json");
    if let Err(e) = vksplat_io::write_bytes_atomic(&cams, json.as_bytes()) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!("{}: {n} splats, SH 3; {}", out.display(), cams.display());
}
