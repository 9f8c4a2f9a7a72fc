//! Writes a synthetic Spacetime Gaussians lite scene (for benchmarks and manual checks):
//! splats in a unit ball, each moving on its own cubic path, rotating, and fading in and out
//! around its own centre time in [0, 1].
//!
//! ```sh
//! cargo run --release -p vksplat-plugin-dynamic4d --example synth_stg -- \
//!     --count 1000000 --out stg.ply          # or --out stg.splatv
//! vksplat bench stg.ply --plugin dynamic4d --time 0.5
//! ```

use std::path::PathBuf;

use vksplat_dynamic4d::stg::{write_ply, StgSplat};

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
}

fn main() {
    let mut count = 100_000usize;
    let mut seed = 1u64;
    let mut out: Option<PathBuf> = None;
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
            _ => usage(&format!("unknown argument '{a}'")),
        }
    }
    let out = out.unwrap_or_else(|| usage("--out is required"));
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let splats: Vec<StgSplat> = (0..count)
        .map(|_| {
            let mut p = [0f32; 3];
            loop {
                p = p.map(|_| rng.range(-1.0, 1.0));
                if p.iter().map(|v| v * v).sum::<f32>() <= 1.0 {
                    break;
                }
            }
            StgSplat {
                mean: p,
                trbf_center: rng.range(0.0, 1.0),
                trbf_scale: rng.range(-1.5, 0.5),
                motion: std::array::from_fn(|k| rng.range(-0.3, 0.3) / (1 + k / 3) as f32),
                rgb: std::array::from_fn(|_| rng.range(0.0, 1.0)),
                opacity: rng.range(-1.0, 3.0),
                log_scale: std::array::from_fn(|_| rng.range(-5.5, -3.5)),
                rot: std::array::from_fn(|_| rng.range(-1.0, 1.0)),
                omega: std::array::from_fn(|_| rng.range(-0.5, 0.5)),
            }
        })
        .collect();
    let splatv = out.extension().is_some_and(|e| e == "splatv");
    let result = if splatv {
        vksplat_dynamic4d::splatv::write(&out, &splats, None)
    } else {
        write_ply(&out, &splats)
    };
    if let Err(e) = result {
        eprintln!("synth_stg: {e}");
        std::process::exit(1);
    }
    println!("{}: {count} splats", out.display());
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "synth_stg: {problem}\nusage: synth_stg --count N --out FILE.ply|FILE.splatv [--seed S]"
    );
    std::process::exit(2)
}
