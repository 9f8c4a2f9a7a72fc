//! Frame order, patterns and the blend arithmetic.

use super::*;

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vksplat-kf-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn patterns_and_directories_list_frames_in_number_order() {
    let d = temp("order");
    for name in [
        "f_10.ply",
        "f_9.ply",
        "f_0010.ply",
        "f_0002.ply",
        "g_0001.ply",
        "f_0003.txt",
    ] {
        std::fs::write(d.join(name), b"").unwrap();
    }
    let names = |v: Vec<PathBuf>| -> Vec<String> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(frame_files(&d.join("f_####.ply")).unwrap()),
        ["f_0002.ply", "f_0010.ply"]
    );
    assert_eq!(
        names(frame_files(&d.join("f_%04d.ply")).unwrap()),
        ["f_0002.ply", "f_0010.ply"]
    );
    // %d takes every width: 10 and 0010 are the same frame.
    let e = frame_files(&d.join("f_%d.ply")).unwrap_err();
    assert!(e.contains("the same frame number"), "{e}");
    std::fs::remove_file(d.join("f_0010.ply")).unwrap();
    assert_eq!(
        names(frame_files(&d.join("f_%d.ply")).unwrap()),
        ["f_0002.ply", "f_9.ply", "f_10.ply"]
    );
    // A directory: its .ply files by the last number in their names.
    assert_eq!(
        names(frame_files(&d).unwrap()),
        ["g_0001.ply", "f_0002.ply", "f_9.ply", "f_10.ply"]
    );
    let e = frame_files(&d.join("h_%03d.ply")).unwrap_err();
    assert!(e.contains("no file matches the pattern"), "{e}");
    assert!(is_pattern(Path::new("a/time_%05d.ply")) && is_pattern(Path::new("x##.spz")));
    assert!(!is_pattern(Path::new("a/%/time.ply")) && !is_pattern(Path::new("a/b.ply")));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn blends_lerp_values_and_nlerp_rotations_on_one_hemisphere() {
    // Record: mean, rotation, log-scale, logit, SH (k = 1).
    let a = [
        0.0, 2.0, -1.0, 1.0, 0.0, 0.0, 0.0, -3.0, -3.0, -3.0, 1.0, 0.1, 0.2, 0.3,
    ];
    // The same rotation about z by 90° stored with both signs.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let mut b = [
        2.0, 0.0, 1.0, h, 0.0, 0.0, h, -1.0, -2.0, -5.0, 3.0, 0.3, 0.0, -0.3,
    ];
    let mut sh = [0.0f32; 3];
    let m = blend(&a, &b, 0.5, true, &mut sh);
    assert_eq!(m.mean, [1.0, 1.0, 0.0]);
    assert_eq!(m.log_scale, [-2.0, -2.5, -4.0]);
    assert_eq!(m.logit, 2.0);
    assert!(
        sh.iter()
            .zip([0.2, 0.1, 0.0])
            .all(|(x, y)| (x - y).abs() < 1e-7),
        "{sh:?}"
    );
    // Halfway between identity and 90° about z: 45° about z.
    let (s, c) = (
        std::f32::consts::FRAC_PI_8.sin(),
        std::f32::consts::FRAC_PI_8.cos(),
    );
    let want = [c, 0.0, 0.0, s];
    assert!(
        m.rotation
            .iter()
            .zip(want)
            .all(|(x, y)| (x - y).abs() < 1e-6),
        "{m:?}"
    );
    b[3] = -h;
    b[6] = -h;
    let n = blend(&a, &b, 0.5, true, &mut sh);
    assert!(
        n.rotation
            .iter()
            .zip(want)
            .all(|(x, y)| (x - y).abs() < 1e-6),
        "{n:?}"
    );
    // w = 0 is frame a exactly; static shape: SH right after the rotation.
    let z = blend(&a, &b, 0.0, false, &mut sh);
    assert_eq!(z.mean, [0.0, 2.0, -1.0]);
    assert_eq!(z.rotation, [1.0, 0.0, 0.0, 0.0]);
    assert_eq!(sh, [-3.0, -3.0, -3.0]);
}
