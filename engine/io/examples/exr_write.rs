//! EXR file sizes and write times for each compression, FLOAT and HALF: `cargo run --release
//! -p vksplat-io --example exr_write -- FRAME.exr [REPEATS] [OUT_DIR]`.
//!
//! FRAME.exr is a frame vksplat wrote with `--exr-compression none|zip|zips` (any colour
//! mode); its R, G, B, A and Z are written again (raw colour, so the pixels stay as they are)
//! with every compression and with and without HALF, REPEATS times each (default 5), into
//! OUT_DIR (default: the system temp directory). Prints the size, the ratio to the
//! uncompressed FLOAT file and the median and fastest wall time of one write (encoding, write, fsync,
//! rename), then the linear-colour ZIP write for the cost of the colour conversion.

use std::path::PathBuf;
use std::time::Instant;

use vksplat_io::{read_exr, write_exr_with, ExrColor, ExrCompression, ExrOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(input) = args.next().map(PathBuf::from) else {
        eprintln!("usage: exr_write FRAME.exr [REPEATS] [OUT_DIR]");
        std::process::exit(2);
    };
    let repeats: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    let dir = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let img = read_exr(&input).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(3)
    });
    let channel = |n: &str| {
        img.channel(n).unwrap_or_else(|| {
            eprintln!("{}: no channel {n}", input.display());
            std::process::exit(3)
        })
    };
    let (r, g, b, a, z) = (
        channel("R"),
        channel("G"),
        channel("B"),
        channel("A"),
        channel("Z"),
    );
    let rgba: Vec<f32> = (0..r.len())
        .flat_map(|i| [r[i], g[i], b[i], a[i]])
        .collect();
    let out = dir.join(format!("vksplat-exr-write-{}.exr", std::process::id()));
    let run = |compression, half, color| -> (u64, f64, f64) {
        let options = ExrOptions {
            compression,
            half,
            color,
            ..ExrOptions::default()
        };
        let mut times: Vec<f64> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                write_exr_with(&out, img.width, img.height, &rgba, z, &options)
                    .unwrap_or_else(|e| panic!("{e}"));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let size = std::fs::metadata(&out).map_or(0, |m| m.len());
        (size, times[times.len() / 2], times[0])
    };
    println!(
        "{}: {}x{}, {} thread(s)",
        input.display(),
        img.width,
        img.height,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (base, ..) = run(ExrCompression::None, false, ExrColor::Raw);
    for half in [false, true] {
        for c in ExrCompression::ALL {
            let (size, median, min) = run(c, half, ExrColor::Raw);
            println!(
                "{:5} {:5}  {:>11} bytes  {:6.1}x  median {:7.1} ms  min {:7.1} ms",
                c.name(),
                if half { "half" } else { "float" },
                size,
                base as f64 / size as f64,
                median,
                min
            );
        }
    }
    let linear = ExrColor::Linear {
        background: [0.0; 3],
    };
    let (_, median, min) = run(ExrCompression::Zip, false, linear);
    println!("zip   float  linear colour: median {median:7.1} ms  min {min:7.1} ms");
    let _ = std::fs::remove_file(&out);
}
