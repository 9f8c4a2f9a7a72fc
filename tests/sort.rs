//! The GPU radix sort alone against a CPU stable sort: random, all-equal, sorted, reversed and
//! 2^22-element inputs, different bit widths. Run at subgroup sizes 8 and 4 by CI
//! (`LP_NATIVE_VECTOR_WIDTH=128` gives 4 on lavapipe).

use vksplat_tests::{Gpu, Rng};

fn check(gpu: &Gpu, keys: Vec<u32>, bits: u32, what: &str) {
    let values: Vec<u32> = (0..keys.len() as u32).collect();
    let (k, v, _) = gpu.renderer.sort_pairs(&keys, &values, bits).expect("sort");
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

#[test]
fn sort_matches_cpu_stable_sort() {
    let Some(gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(1);
    for &n in &[
        0usize, 1, 2, 255, 256, 257, 4095, 4096, 4097, 10_000, 100_003,
    ] {
        let keys: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
        check(&gpu, keys.clone(), 32, &format!("random n={n}"));
        check(
            &gpu,
            keys.iter().map(|k| k % 1000).collect(),
            10,
            &format!("random 10 bits n={n}"),
        );
    }
    let n = 50_000;
    check(&gpu, vec![7; n], 32, "all equal");
    check(&gpu, (0..n as u32).collect(), 32, "sorted");
    check(&gpu, (0..n as u32).rev().collect(), 32, "reversed");
    check(
        &gpu,
        (0..n as u32).map(|i| i % 3).collect(),
        2,
        "few distinct, 2 bits",
    );
    check(
        &gpu,
        (0..n as u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect(),
        16,
        "low 16 bits only",
    );
}

#[test]
fn sort_2_pow_22() {
    let Some(gpu) = Gpu::new() else { return };
    let mut rng = Rng::new(22);
    let keys: Vec<u32> = (0..1u32 << 22).map(|_| rng.next_u32()).collect();
    check(&gpu, keys, 32, "2^22 random");
}
