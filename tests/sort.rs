//! The GPU radix sort alone against a CPU stable sort, with both sort kernels (radix_sort.comp
//! for GPUs, radix_sort_cpu.comp for CPU devices): random, many-tied, all-equal, sorted,
//! reversed and 2^22-element inputs, sizes around the kernels' block and workgroup boundaries,
//! every bit width 1..=32. The sort is stable, so its result is unique: each kernel must equal
//! the CPU sort, keys and values, and so each other. A frame renders the same with either
//! kernel set (which also picks the tile-ranges and scan kernels, and preprocess specialised per
//! SH degree and storage), for every SH degree and both storages. The scan alone (scan.comp,
//! scan_cpu.comp) equals a CPU saturating prefix sum. Run at subgroup sizes 8 and 4 by CI
//! (`LP_NATIVE_VECTOR_WIDTH=128` gives 4 on lavapipe).

use vksplat_core::gpu_layout::{SCAN_BLOCK, SORT_BLOCK_KEYS};
use vksplat_core::shaders::{SortKernel, SORT_CPU_LANES};
use vksplat_core::{RenderMode, RenderSettings};
use vksplat_tests::{camera, random_scene, Gpu, Rng};

const KERNELS: [SortKernel; 2] = [SortKernel::Gpu, SortKernel::Cpu];

/// Sorts with `kernel` and asserts keys and values equal a CPU stable sort by the low `bits`.
fn check_with(gpu: &mut Gpu, kernel: SortKernel, keys: &[u32], bits: u32, what: &str) {
    gpu.renderer.set_sort_kernel(kernel).expect("sort kernel");
    let what = format!("{what} ({} kernel)", kernel.name());
    let values: Vec<u32> = (0..keys.len() as u32).collect();
    let (k, v, _) = gpu.renderer.sort_pairs(keys, &values, bits).expect("sort");
    let mask = if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    let mut expected: Vec<(u32, u32)> = keys.iter().copied().zip(values).collect();
    expected.sort_by_key(|&(key, _)| key & mask); // stable
    let exp_k: Vec<u32> = expected.iter().map(|e| e.0).collect();
    let exp_v: Vec<u32> = expected.iter().map(|e| e.1).collect();
    assert_eq!(k.len(), keys.len(), "{what}");
    assert_eq!(v.len(), keys.len(), "{what}");
    let first_bad = k.iter().zip(&exp_k).position(|(a, b)| a != b);
    assert!(
        first_bad.is_none(),
        "{what}: keys differ first at {first_bad:?}"
    );
    let first_bad = v.iter().zip(&exp_v).position(|(a, b)| a != b);
    assert!(
        first_bad.is_none(),
        "{what}: values (stability) differ first at {first_bad:?}"
    );
}

/// Both kernels against the CPU sort.
fn check(gpu: &mut Gpu, keys: Vec<u32>, bits: u32, what: &str) {
    for kernel in KERNELS {
        check_with(gpu, kernel, &keys, bits, what);
    }
}

#[test]
fn sort_matches_cpu_stable_sort() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(1);
    let block = SORT_BLOCK_KEYS as usize;
    let group = block * SORT_CPU_LANES as usize; // keys of one CPU-kernel workgroup
    for &n in &[
        0usize,
        1,
        2,
        255,
        256,
        257,
        block - 1,
        block,
        block + 1,
        10_000,
        group - 1,
        group,
        group + 1,
        group + block + 7,
        100_003,
    ] {
        let keys: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
        check(&mut gpu, keys.clone(), 32, &format!("random n={n}"));
        check(
            &mut gpu,
            keys.iter().map(|k| k % 1000).collect(),
            10,
            &format!("random 10 bits n={n}"),
        );
        // Many ties: 13 bits like a 1080p tile sort, only 37 distinct tiles.
        check(
            &mut gpu,
            keys.iter().map(|k| (k % 37) * 211).collect(),
            13,
            &format!("37 distinct keys, 13 bits n={n}"),
        );
    }
    let n = 50_000;
    check(&mut gpu, vec![7; n], 32, "all equal");
    check(&mut gpu, (0..n as u32).collect(), 32, "sorted");
    check(&mut gpu, (0..n as u32).rev().collect(), 32, "reversed");
    check(
        &mut gpu,
        (0..n as u32).map(|i| i % 3).collect(),
        2,
        "few distinct, 2 bits",
    );
    check(
        &mut gpu,
        (0..n as u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect(),
        16,
        "low 16 bits only",
    );
}

#[test]
fn every_bit_width() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(32);
    // Random keys below 2^bits (as the frame's keys are), many of them tied at the small
    // widths.
    let n = 2 * SORT_BLOCK_KEYS as usize + 123;
    let keys: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
    for bits in 1..=32 {
        let mask = ((1u64 << bits) - 1) as u32;
        let masked = keys.iter().map(|k| k & mask).collect();
        check(&mut gpu, masked, bits, &format!("{bits} bits n={n}"));
    }
}

#[test]
fn sort_2_pow_22() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(22);
    let keys: Vec<u32> = (0..1u32 << 22).map(|_| rng.next_u32()).collect();
    check(&mut gpu, keys, 32, "2^22 random");
}

#[test]
fn frames_are_identical_with_either_sort_kernel() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(7);
    // Every SH degree, f32 and half storage: the CPU kernels also run preprocess specialised
    // per degree and storage (Kernels::preprocess_for), the GPU kernels the generic one.
    let mut scenes = Vec::new();
    for degree in 0..=3u32 {
        let splats = random_scene(&mut rng, 3000, degree);
        for sh_half in [false, true] {
            let options = vksplat_core::SceneOptions {
                sh_half,
                ..Default::default()
            };
            let scene = gpu
                .renderer
                .upload_scene_with(&splats, &Default::default(), options)
                .expect("upload");
            scenes.push((format!("SH {degree}, half {sh_half}"), scene));
        }
    }
    // Enough pairs for several workgroups of the CPU radix passes.
    let many = random_scene(&mut rng, 40_000, 0);
    let many = gpu.renderer.upload_scene(&many).expect("upload");
    scenes.push(("40k splats".to_string(), many));
    // Splats that cover hundreds of tiles (more than one step of the GPU key emission's
    // workgroup, which shares a splat's pairs among its 256 invocations), between splats
    // that cover none (behind the camera).
    let mut huge = random_scene(&mut rng, 2000, 0);
    for i in (0..huge.len()).step_by(9) {
        huge.log_scales[i] = [0.3; 3];
        huge.means[i][2] = huge.means[i][2].abs() + 1.5;
    }
    let huge = gpu.renderer.upload_scene(&huge).expect("upload");
    scenes.push(("huge splats".to_string(), huge));
    // 300x200 has 19x13 tiles: 8 tile bits, one pass; 2100x70 has 132x5 = 660 tiles: 10
    // bits, two passes.
    for (w, h) in [(300u32, 200u32), (2100, 70)] {
        let cam = camera(
            w,
            h,
            0.8 * w as f32,
            0.8 * w as f32,
            0.5 * w as f32,
            0.5 * h as f32,
        );
        let settings = RenderSettings {
            mode: RenderMode::Classic,
            ..Default::default()
        };
        for (what, scene) in &scenes {
            if (w, h) == (2100, 70)
                && !matches!(
                    what.as_str(),
                    "SH 1, half false" | "40k splats" | "huge splats"
                )
            {
                continue; // the second pass of the radix tile sort needs two scenes only
            }
            let mut runs = Vec::new();
            for kernel in KERNELS {
                gpu.renderer.set_sort_kernel(kernel).expect("sort kernel");
                let (frame, stats, stages) = gpu
                    .renderer
                    .render_with_stages(scene, &cam, &settings)
                    .expect("render");
                assert!(stats.intersections > 1000, "{w}x{h} {what}: {stats:?}");
                if what == "huge splats" {
                    // At 2100x70 some splat covers more tiles than the emission's workgroup has
                    // invocations.
                    let mut per_splat = std::collections::HashMap::new();
                    for (_, splat) in &stages.intersections {
                        *per_splat.entry(*splat).or_insert(0u32) += 1;
                    }
                    let widest = per_splat.values().max().copied().unwrap_or(0);
                    // 300x200 has 247 tiles in all: some splat covers every one.
                    let want = if w == 300 { 247 } else { 257 };
                    assert!(
                        widest >= want,
                        "{w}x{h}: widest splat covers {widest} tiles"
                    );
                }
                if what == "40k splats" {
                    // Several workgroups of the CPU radix passes (SORT_CPU_LANES blocks each).
                    let group = (SORT_BLOCK_KEYS * SORT_CPU_LANES) as u64;
                    assert!(stats.intersections / group >= 2, "{w}x{h}: {stats:?}");
                }
                runs.push((frame, stages));
            }
            let (a, b) = (&runs[0], &runs[1]);
            assert_eq!(
                a.1.depth_order, b.1.depth_order,
                "{w}x{h} {what}: depth order"
            );
            assert_eq!(
                a.1.intersections, b.1.intersections,
                "{w}x{h} {what}: tile order"
            );
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert!(bits(&a.0.rgba) == bits(&b.0.rgba), "{w}x{h} {what}: image");
            assert!(
                bits(&a.0.depth) == bits(&b.0.depth),
                "{w}x{h} {what}: depth"
            );
        }
    }
}

/// Exclusive prefix sums saturating at 2^32 - 1, and the saturated total.
fn cpu_scan(values: &[u32]) -> (Vec<u32>, u32) {
    let mut sum = 0u32;
    let prefix = values
        .iter()
        .map(|&v| {
            let p = sum;
            sum = sum.saturating_add(v);
            p
        })
        .collect();
    (prefix, sum)
}

#[test]
fn scan_matches_cpu_prefix_sum() {
    let Some(mut gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(11);
    let b = SCAN_BLOCK as usize;
    let lanes = SORT_CPU_LANES as usize;
    let mut inputs: Vec<(String, Vec<u32>)> = Vec::new();
    // Around one block, one CPU workgroup of blocks (LANES blocks) and several of them.
    for n in [
        0,
        1,
        2,
        b - 1,
        b,
        b + 1,
        lanes * b - 1,
        lanes * b,
        lanes * b + 1,
        3 * lanes * b + 517,
        100_003,
    ] {
        let v = (0..n).map(|_| rng.next_u32() % 1000).collect();
        inputs.push((format!("n={n} below 1000"), v));
    }
    // Sums that pass 2^32 - 1 in the middle of a block, and in a later block.
    let big = (0..5000).map(|_| rng.next_u32() >> 4).collect();
    inputs.push(("5000 values below 2^28 (saturates)".into(), big));
    let mut late = vec![0u32; 3 * b];
    late[2 * b + 7] = u32::MAX - 3;
    late[2 * b + 9] = 9;
    late[3 * b - 1] = 1;
    inputs.push(("saturates in the third block".into(), late));
    for kernel in KERNELS {
        gpu.renderer.set_sort_kernel(kernel).expect("sort kernel");
        for (what, values) in &inputs {
            let (prefix, total) = gpu.renderer.scan_values(values).expect("scan");
            let (want, want_total) = cpu_scan(values);
            assert_eq!(
                total,
                want_total,
                "{what} ({} kernel): total",
                kernel.name()
            );
            if let Some(i) = (0..want.len()).find(|&i| prefix[i] != want[i]) {
                panic!(
                    "{what} ({} kernel): element {i} is {}, expected {}",
                    kernel.name(),
                    prefix[i],
                    want[i]
                );
            }
            assert_eq!(prefix.len(), want.len(), "{what}: length");
        }
    }
    let (_, total) = cpu_scan(&inputs[inputs.len() - 2].1);
    assert_eq!(total, u32::MAX, "the saturating input must saturate");
}

#[test]
fn cpu_devices_get_the_cpu_sort_unless_overridden() {
    let Some(gpu) = Gpu::new() else { return };
    let info = gpu.ctx.info();
    let picked = SortKernel::for_device(info).expect("choice");
    match std::env::var(SortKernel::ENV).as_deref() {
        Ok("gpu") => assert_eq!(picked, SortKernel::Gpu),
        Ok("cpu") => assert_eq!(picked, SortKernel::Cpu),
        _ if info.is_software() => assert_eq!(picked, SortKernel::Cpu, "{}", info.name),
        _ => assert_eq!(picked, SortKernel::Gpu, "{}", info.name),
    }
    assert_eq!(gpu.renderer.sort_kernel(), picked);
}
