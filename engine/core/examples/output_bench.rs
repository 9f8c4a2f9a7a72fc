//! GPU-side output against the readback path: `cargo run --release -p vksplat-core --example
//! output_bench -- SCENE.ply [--camera-index N] [--frames N]`.
//!
//! Renders the scene with the camera of `NAME.cameras.json` (as `vksplat bench`) in two ways on
//! one device and prints, per frame (medians over `--frames` after one warm-up frame):
//! - `readback`: `Renderer::render`, today's path (GPU frame, copy to a host-visible buffer,
//!   host copy into the `Frame`); all of its wall time is CPU time inside the vksplat call.
//! - `image`: `Renderer::submit_frame` into a device-local RGBA32F image and an R32F depth
//!   image (no readback), 2 frames in flight; CPU time inside vksplat calls is the submit plus
//!   the non-blocking polls, and the wall time per frame is the throughput of the loop.
//!
//! GPU time is the span of the frame's timestamps (its stages plus the output copies). On a CPU
//! device (lavapipe) the "GPU" work may run inside the submitting call, so CPU time inside
//! vksplat equals the GPU time there; the split shows on a GPU.

use std::path::PathBuf;
use std::time::Instant;

use vksplat_core::{
    Context, ContextDesc, FrameState, GpuTarget, Instance, RenderSettings, Renderer, TargetSurface,
};
use vksplat_vk::raw;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gpu_ms(times: &[(String, f64)]) -> f64 {
    let first = times.first().map_or(0.0, |t| t.1);
    let last = times.last().map_or(0.0, |t| t.1);
    (last - first) / 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut scene_path = None;
    let (mut camera_index, mut frames) = (0usize, 5usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--camera-index" => camera_index = args.next().ok_or("--camera-index N")?.parse()?,
            "--frames" => frames = args.next().ok_or("--frames N")?.parse()?,
            _ => scene_path = Some(PathBuf::from(a)),
        }
    }
    let scene_path =
        scene_path.ok_or("usage: output_bench SCENE.ply [--camera-index N] [--frames N]")?;
    let cams_path = scene_path.with_extension("cameras.json");
    let camera = vksplat_io::load_cameras(&cams_path)?
        .get(camera_index)
        .cloned()
        .ok_or("no such camera")?;
    let file = vksplat_io::read_scene(&scene_path)?;
    let ctx = Context::new(&ContextDesc::default())?;
    let mut renderer = Renderer::new(ctx.clone())?;
    let scene = renderer.upload_scene(&file.splats)?;
    let settings = RenderSettings::default();
    let (w, h) = (camera.width, camera.height);
    println!(
        "{}: {} splats, {w}x{h}, device {}",
        scene_path.display(),
        file.splats.len(),
        ctx.info().name
    );

    // Today's path.
    renderer.render(&scene, &camera, &settings)?;
    let (mut cpu, mut gpu) = (Vec::new(), Vec::new());
    for _ in 0..frames {
        let t = Instant::now();
        let (_, stats) = renderer.render(&scene, &camera, &settings)?;
        cpu.push(t.elapsed().as_secs_f64() * 1e3);
        gpu.push(gpu_ms(&stats.stage_end_ns));
    }
    println!(
        "readback: cpu in vksplat {:.2} ms/frame, gpu {:.2} ms/frame, wall {:.2} ms/frame",
        median(cpu.clone()),
        median(gpu),
        median(cpu)
    );

    // GPU-side output, 2 frames in flight.
    let images = [0, 1].map(|i| {
        (
            ctx.create_image(
                &format!("bench.color{i}"),
                raw::Format::R32G32B32A32_SFLOAT,
                w,
                h,
            ),
            ctx.create_image(&format!("bench.depth{i}"), raw::Format::R32_SFLOAT, w, h),
        )
    });
    let mut owned = Vec::new();
    for (c, d) in images {
        owned.push((c?, d?));
    }
    let (mut cpu, mut gpu, mut submit_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut longest_poll, mut polls) = (0.0f64, 0u32);
    let start = Instant::now();
    let mut submitted = Vec::new();
    for k in 0..=frames {
        let (c, d) = &owned[k % 2];
        let old = if k < 2 {
            raw::ImageLayout::UNDEFINED
        } else {
            raw::ImageLayout::TRANSFER_SRC_OPTIMAL
        };
        let color = c.target(old, raw::ImageLayout::TRANSFER_SRC_OPTIMAL);
        let depth = d.target(old, raw::ImageLayout::TRANSFER_SRC_OPTIMAL);
        let target = GpuTarget {
            color: Some(TargetSurface::Image(&color)),
            depth: Some(TargetSurface::Image(&depth)),
            ..Default::default()
        };
        let t = Instant::now();
        let ticket = renderer.submit_frame(&[Instance::of(&scene)], &camera, &settings, &target)?;
        let mut inside = t.elapsed().as_secs_f64() * 1e3;
        if k >= 1 {
            submit_ms.push(inside);
        }
        submitted.push(ticket.frame);
        // The host polls the previous frame once per loop, as a render loop would.
        if k >= 1 {
            let prev = submitted[k - 1];
            loop {
                let t = Instant::now();
                let state = renderer.poll_frame(prev)?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                inside += ms;
                longest_poll = longest_poll.max(ms);
                polls += 1;
                match state {
                    FrameState::Pending => {
                        std::thread::sleep(std::time::Duration::from_micros(200))
                    }
                    FrameState::Done(o) => {
                        if let Some(o) = o {
                            assert!(!o.clamped, "frame {prev} was clamped");
                            gpu.push(gpu_ms(&o.stats.stage_end_ns));
                        }
                        break;
                    }
                }
            }
        }
        if k >= 1 {
            cpu.push(inside);
        }
    }
    let last = *submitted.last().expect("frames > 0");
    renderer.wait_frame(last)?;
    let wall = start.elapsed().as_secs_f64() * 1e3 / (frames + 1) as f64;
    println!("image:    {polls} polls, the longest {longest_poll:.2} ms");
    println!(
        "image:    cpu in vksplat {:.2} ms/frame (submit {:.2}), gpu {:.2} ms/frame, wall \
         {:.2} ms/frame (2 in flight)",
        median(cpu),
        median(submit_ms),
        median(gpu),
        wall
    );
    Ok(())
}
