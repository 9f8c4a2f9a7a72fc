//! Loads a scene file and reports how fast: `cargo run --release -p vksplat-io --example
//! load_scene -- SCENE [REPEATS]`. Prints the format, count, SH degree, wall time and MB/s of
//! file read per load. Peak memory: run the built binary under `/usr/bin/time -f "%M KB"`.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: load_scene SCENE [REPEATS]");
        std::process::exit(2);
    };
    let repeats: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(1);
    for _ in 0..repeats {
        let t = Instant::now();
        match vksplat_io::read_scene(&path) {
            Ok(scene) => {
                let secs = t.elapsed().as_secs_f64();
                let s = &scene.splats;
                let decoded = s.len() * (12 + 16 + 12 + 4) + s.sh.len() * 4;
                println!(
                    "{}: {}, {} splats, SH {}, {:.3} s, {:.0} MB/s of file, decoded {:.0} MB",
                    path.display(),
                    scene.format,
                    s.len(),
                    s.sh_degree,
                    secs,
                    scene.file_bytes as f64 / secs / 1e6,
                    decoded as f64 / 1e6
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(3);
            }
        }
    }
}
