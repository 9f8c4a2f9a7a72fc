//! Output you can trust (issue 9, items 1, 2, 7, 13 and 16), through the real binary: temporary
//! files that never follow planted links, special files and over-long names refused before any
//! work, concurrent writers of one file, stale temporary files of killed runs, SIGXFSZ and stop
//! signals in `convert`, `bench --json` and `render`, output directories created on demand, and
//! `--skip-existing` re-rendering files of another size or another command.
//!
//! `convert` needs no device, so most of these run everywhere; the `render` and `bench` parts
//! need one and fail without it under `VKSPLAT_REQUIRE_GPU=1` (see
//! `vksplat_tests::cli::gpu_available`). Every command that could hang (a FIFO opened for
//! writing) runs under a time limit. Images are tiny (64×48).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use vksplat_io::{read_exr, write_ply};
use vksplat_tests::cli::{
    assert_exit, bin, command, gpu_available, output_within, stderr, stdout, vksplat, TempDir,
};
use vksplat_tests::{random_scene, Rng};

const WIDTH: u32 = 64;
const HEIGHT: u32 = 48;
/// Long enough for a loaded CI machine, short enough that a hang fails quickly.
const LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Helpers

#[track_caller]
fn expect_code(out: &Output, code: i32) -> String {
    assert_exit(out, code);
    stderr(out)
}

/// A random PLY scene of `n` splats with SH degree `sh`: its path.
fn scene(dir: &TempDir, name: &str, n: usize, sh: u32) -> String {
    let splats = random_scene(&mut Rng::new(n as u64 + 5), n, sh);
    write_ply(&dir.join(name), &splats).expect("write scene");
    dir.arg(name)
}

/// `n` explicit 64×48 cameras sliding along x: the camera file's path.
fn cameras(dir: &TempDir, n: usize) -> String {
    let cams: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"width": {WIDTH}, "height": {HEIGHT}, "fx": 50, "fy": 50, "cx": 32, "cy": 24,
                    "world_to_camera": [[1,0,0,{}],[0,1,0,0],[0,0,1,0.1],[0,0,0,1]]}}"#,
                0.2 - 0.02 * i as f32
            )
        })
        .collect();
    std::fs::write(dir.join("cams.json"), format!("[{}]", cams.join(","))).unwrap();
    dir.arg("cams.json")
}

/// Every name in `dir`, sorted, hidden ones included.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Temporary files in `dir` (hidden, ending in `.tmp`) other than `planted`.
fn temps(dir: &Path, planted: &[&str]) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp") && !planted.contains(&n.as_str()))
        .collect()
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn is_regular(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// The victim of a planted link still holds its bytes (not printed: they could be a scene).
#[track_caller]
fn assert_unchanged(victim: &Path, bytes: &[u8]) {
    let now = std::fs::read(victim).unwrap();
    assert!(
        now == bytes,
        "{} was overwritten ({} bytes now)",
        victim.display(),
        now.len()
    );
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

fn kill(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{signal}");
}

/// Waits until a temporary file other than `planted` appears in `dir` while `child` runs;
/// false if it exited first.
fn wait_for_temp(child: &mut Child, dir: &Path, planted: &[&str]) -> bool {
    let start = Instant::now();
    while start.elapsed() < LIMIT {
        if !temps(dir, planted).is_empty() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    panic!(
        "no temporary file appeared in {} within {LIMIT:?}",
        dir.display()
    );
}

/// Runs the binary under `ulimit -f blocks`.
fn with_file_limit(blocks: u32, args: &[&str]) -> Output {
    let script = format!(r#"ulimit -f {blocks} && exec "$0" "$@""#);
    output_within(
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg(bin())
            .args(args)
            .env("VKSPLAT_VALIDATION", "1"),
        LIMIT,
    )
}

/// `status=` values of the `PROGRESS` lines, by frame.
fn statuses(out: &Output) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = stdout(out)
        .lines()
        .filter_map(|l| l.strip_prefix("PROGRESS "))
        .map(|l| {
            let get = |k: &str| {
                l.split(' ')
                    .find_map(|kv| kv.strip_prefix(k))
                    .unwrap()
                    .to_string()
            };
            (get("frame=").parse().unwrap(), get("status="))
        })
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Item 1: links, special files, long names

#[test]
fn planted_symlinks_are_never_followed() {
    let dir = TempDir::new("symlinks");
    let input = scene(&dir, "in.ply", 200, 1);
    let victim = dir.join("victim");
    let victim2 = dir.join("victim2");
    std::fs::write(&victim, b"precious").unwrap();
    std::fs::write(&victim2, b"precious too").unwrap();
    let out_dir = dir.join("shared");
    std::fs::create_dir(&out_dir).unwrap();
    let reference = dir.arg("reference.ply");
    expect_code(&vksplat(&["convert", &input, &reference]), 0);

    // Every plausible temporary name points at the victim; the output name at another one.
    let planted = [".s.ply.tmp", "s.ply.tmp", ".s.ply", ".s.ply.tmp.tmp"];
    for name in planted {
        symlink(&victim, out_dir.join(name)).unwrap();
    }
    let target = out_dir.join("s.ply");
    symlink(&victim2, &target).unwrap();
    let out = vksplat(&["convert", &input, &target.to_string_lossy()]);
    expect_code(&out, 0);
    assert_unchanged(&victim, b"precious");
    assert_unchanged(&victim2, b"precious too");
    // The link at the output name was replaced by the file; the planted links are untouched.
    assert!(is_regular(&target));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(&reference).unwrap()
    );
    for name in planted {
        assert!(is_symlink(&out_dir.join(name)), "{name}");
    }
    assert_eq!(temps(&out_dir, &planted), Vec::<String>::new());

    if !gpu_available() {
        return;
    }
    let cams = cameras(&dir, 1);
    let planted_png = [".frame.png.tmp", ".frame.png", "frame.png.tmp"];
    for name in planted_png {
        symlink(&victim, out_dir.join(name)).unwrap();
    }
    let frame = out_dir.join("frame.png");
    symlink(&victim2, &frame).unwrap();
    let out = vksplat(&[
        "render",
        &input,
        "--camera",
        &cams,
        "-o",
        &frame.to_string_lossy(),
    ]);
    expect_code(&out, 0);
    assert_unchanged(&victim, b"precious");
    assert_unchanged(&victim2, b"precious too");
    assert!(is_regular(&frame));
    assert!(std::fs::read(&frame)
        .unwrap()
        .starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(
        temps(&out_dir, &[&planted[..], &planted_png[..]].concat()),
        Vec::<String>::new()
    );
}

#[test]
fn special_file_at_the_output_is_refused_without_blocking() {
    let dir = TempDir::new("fifo");
    let input = scene(&dir, "in.ply", 50, 0);
    let cams = cameras(&dir, 3);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let fifo = out_dir.join("f.0001.png");
    mkfifo(&fifo);
    let pattern = out_dir.join("f.####.png").to_string_lossy().into_owned();
    // The FIFO is one frame of the range: refused before anything is rendered, also when
    // --skip-existing would examine the existing files.
    for extra in [&[][..], &["--skip-existing"][..]] {
        let out = output_within(
            &mut command(
                &[
                    &["render", &input, "--camera", &cams, "-o", &pattern][..],
                    extra,
                ]
                .concat(),
            ),
            LIMIT,
        );
        let err = expect_code(&out, 6);
        assert!(err.contains("f.0001.png") && err.contains("FIFO"), "{err}");
        assert!(!err.contains("loaded"), "{err}");
        assert_eq!(listing(&out_dir), ["f.0001.png"]);
    }
    let scene_fifo = out_dir.join("s.ply");
    mkfifo(&scene_fifo);
    let out = output_within(
        &mut command(&["convert", &input, &scene_fifo.to_string_lossy()]),
        LIMIT,
    );
    let err = expect_code(&out, 6);
    assert!(err.contains("s.ply") && err.contains("FIFO"), "{err}");
    assert_eq!(listing(&out_dir), ["f.0001.png", "s.ply"]);
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn output_names_longer_than_name_max_fail_before_reading() {
    let dir = TempDir::new("longname");
    let input = scene(&dir, "in.ply", 50, 0);
    // 255 bytes is a valid name: its temporary name must fit too.
    let longest = dir.join(&format!("{}.ply", "n".repeat(251)));
    expect_code(
        &vksplat(&["convert", &input, &longest.to_string_lossy()]),
        0,
    );
    assert!(is_regular(&longest));
    assert_eq!(temps(&dir.0, &[]), Vec::<String>::new());
    // 256 bytes: exit 6 naming the file, before the input is read (a missing input would be
    // exit 3).
    let too_long = dir.join(&format!("{}.ply", "n".repeat(252)));
    let err = expect_code(
        &vksplat(&[
            "convert",
            &dir.arg("missing.ply"),
            &too_long.to_string_lossy(),
        ]),
        6,
    );
    assert!(
        err.contains(&"n".repeat(252)) && err.contains("255"),
        "{err}"
    );
    let cams = cameras(&dir, 1);
    let frame = dir.join(&format!("{}.png", "f".repeat(252)));
    let out = vksplat(&[
        "render",
        &input,
        "--camera",
        &cams,
        "-o",
        &frame.to_string_lossy(),
    ]);
    let err = expect_code(&out, 6);
    assert!(err.contains("255") && !err.contains("loaded"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Item 2: concurrent writers

#[test]
fn concurrent_writers_publish_only_complete_files() {
    const ROUNDS: usize = 20;
    let dir = TempDir::new("concurrent");
    let input = scene(&dir, "in.ply", 20_000, 3);
    // Two different results for one output name: the antialiasing comment differs.
    let variants = [["--antialiased", "true"], ["--antialiased", "false"]];
    let expected: Vec<Vec<u8>> = variants
        .iter()
        .enumerate()
        .map(|(i, flags)| {
            let path = dir.arg(&format!("ref{i}.ply"));
            expect_code(
                &vksplat(&[&["convert", &input, &path][..], flags].concat()),
                0,
            );
            std::fs::read(&path).unwrap()
        })
        .collect();
    assert_ne!(expected[0], expected[1]);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("frame.ply");
    let target_arg = target.to_string_lossy().into_owned();

    let done = std::sync::atomic::AtomicBool::new(false);
    let (reads, failures) = std::thread::scope(|s| {
        let writers: Vec<_> = variants
            .iter()
            .map(|flags| {
                let (input, target) = (&input, &target_arg);
                s.spawn(move || {
                    (0..ROUNDS)
                        .map(|_| {
                            let out =
                                vksplat(&[&["convert", input, target, "-q"][..], flags].concat());
                            (out.status.code(), stderr(&out))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let reader = s.spawn(|| {
            let (mut reads, mut bad, mut seen) = (0usize, Vec::new(), false);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                match std::fs::read(&target) {
                    Ok(bytes) => {
                        seen = true;
                        reads += 1;
                        if !expected.contains(&bytes) {
                            bad.push(format!(
                                "a {}-byte file that is neither output",
                                bytes.len()
                            ));
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && !seen => {}
                    Err(e) => bad.push(format!("read failed after the first publish: {e}")),
                }
            }
            (reads, bad)
        });
        let results: Vec<_> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let (reads, mut bad) = reader.join().unwrap();
        for (code, err) in results {
            if code != Some(0) {
                bad.push(format!("a writer exited {code:?}: {err}"));
            }
        }
        (reads, bad)
    });
    assert!(
        failures.is_empty(),
        "{} problem(s): {failures:#?}",
        failures.len()
    );
    assert!(reads > 0, "the reader never saw the file");
    assert!(expected.contains(&std::fs::read(&target).unwrap()));
    assert_eq!(listing(&out_dir), ["frame.ply"]);
}

// ---------------------------------------------------------------------------------------------
// Item 7: stale temporary files, SIGXFSZ, stop signals

/// A scene whose PLY output takes a while to write (~25 MB), for signals mid-write.
fn large_scene(dir: &TempDir) -> String {
    scene(dir, "large.ply", 100_000, 3)
}

#[test]
fn stale_temp_of_a_killed_run_is_removed_by_the_next_run() {
    let dir = TempDir::new("stale");
    let input = large_scene(&dir);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("s.ply").to_string_lossy().into_owned();
    // Another node's temporary file of the same output: it may still be written, so it stays.
    let foreign = ".s.ply.othernode-0badf00d.4242.00000000deadbeef.tmp";
    std::fs::write(out_dir.join(foreign), b"another node").unwrap();

    // SIGKILL cannot be caught: the temporary file of the write in progress stays behind.
    let mut stale = Vec::new();
    for _ in 0..5 {
        let mut child = command(&["convert", &input, &target])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let writing = wait_for_temp(&mut child, &out_dir, &[foreign]);
        kill(&child, "KILL");
        let _ = child.wait();
        stale = temps(&out_dir, &[foreign]);
        if writing && !stale.is_empty() {
            break;
        }
    }
    assert_eq!(
        stale.len(),
        1,
        "no stale temporary file: {:?}",
        listing(&out_dir)
    );

    expect_code(&vksplat(&["convert", &input, &target, "-q"]), 0);
    assert_eq!(temps(&out_dir, &[foreign]), Vec::<String>::new());
    let mut want = vec!["s.ply".to_string(), foreign.to_string()];
    want.sort();
    assert_eq!(listing(&out_dir), want);
}

#[test]
fn file_size_limit_in_convert_is_exit_6_without_temp() {
    let dir = TempDir::new("xfsz");
    let input = scene(&dir, "in.ply", 2_000, 3);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // ~500 KB of PLY against a 64-block limit.
    let out = with_file_limit(
        64,
        &["convert", &input, &out_dir.join("s.ply").to_string_lossy()],
    );
    let err = expect_code(&out, 6);
    assert!(err.contains("s.ply") && err.contains("large"), "{err}");
    assert_eq!(listing(&out_dir), Vec::<String>::new());
}

#[test]
fn stop_signals_abort_convert_and_remove_its_temp() {
    let dir = TempDir::new("convert_signals");
    let input = large_scene(&dir);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("s.ply").to_string_lossy().into_owned();
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        // Signalled while the temporary file is being written (retried should the write
        // finish first).
        let mut landed = false;
        for _ in 0..5 {
            let mut child = command(&["convert", &input, &target])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            if !wait_for_temp(&mut child, &out_dir, &[]) {
                let _ = child.wait();
                let _ = std::fs::remove_file(&target);
                continue;
            }
            kill(&child, signal);
            let out = child.wait_with_output().unwrap();
            if out.status.code() == Some(0) {
                let _ = std::fs::remove_file(&target);
                continue;
            }
            let err = expect_code(&out, code);
            assert!(err.contains(&format!("SIG{signal}")), "{err}");
            assert_eq!(listing(&out_dir), Vec::<String>::new(), "SIG{signal}");
            landed = true;
            break;
        }
        assert!(landed, "SIG{signal} never arrived during the write");
    }
}

#[test]
fn bench_json_handles_sigxfsz_and_sigterm() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("bench_signals");
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let json = out_dir.join("b.json").to_string_lossy().into_owned();
    let quick = [
        "bench",
        "--sort-keys",
        "4096",
        "--frames",
        "1",
        "--warmup",
        "0",
    ];
    // No file may grow at all: the JSON write fails with EFBIG instead of killing the process.
    let out = with_file_limit(0, &[&quick[..], &["--json", &json]].concat());
    let err = expect_code(&out, 6);
    assert!(err.contains("b.json") && err.contains("large"), "{err}");
    assert_eq!(listing(&out_dir), Vec::<String>::new());
    // Without a limit it works.
    expect_code(&vksplat(&[&quick[..], &["--json", &json]].concat()), 0);
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.contains("\"sort_pairs\": 4096"), "{text}");
    std::fs::remove_file(&json).unwrap();

    // SIGTERM during a long run: exit 143, no JSON, no temporary file.
    let child = command(&[
        "bench",
        "--sort-keys",
        "1000000",
        "--frames",
        "100000",
        "--json",
        &json,
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kill(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    let err = expect_code(&out, 143);
    assert!(err.contains("SIGTERM"), "{err}");
    assert_eq!(listing(&out_dir), Vec::<String>::new());
}

#[test]
fn sighup_stops_a_render_range_like_sigterm() {
    if !gpu_available() {
        return;
    }
    const N: usize = 40;
    let dir = TempDir::new("sighup");
    let input = scene(&dir, "in.ply", 300, 1);
    let cams = cameras(&dir, N);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let pattern = out_dir.join("h.####.exr").to_string_lossy().into_owned();
    let mut child = command(&["render", &input, "--camera", &cams, "-o", &pattern])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a progress line").unwrap();
    assert!(first.starts_with("PROGRESS frame="), "{first}");
    kill(&child, "HUP");
    let _rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(129), "stderr:\n{err}");
    assert!(
        err.contains("SIGHUP") && err.contains("--skip-existing"),
        "{err}"
    );
    let written = listing(&out_dir);
    assert!(!written.is_empty() && written.len() < N, "{written:?}");
    for name in &written {
        assert!(!name.starts_with('.'), "leftover {name}");
        let img = read_exr(&out_dir.join(name)).unwrap();
        assert_eq!((img.width, img.height), (WIDTH, HEIGHT));
    }
}

// ---------------------------------------------------------------------------------------------
// Item 13: output directories

/// The mode a new directory gets: 0777 minus this process's umask.
fn dir_mode() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap();
    0o777 & !umask
}

#[test]
fn missing_output_directories_are_created_unless_no_create_dirs() {
    let dir = TempDir::new("mkdirs");
    let input = scene(&dir, "in.ply", 50, 0);
    let nested = dir.join("a/b/c/s.ply");
    expect_code(&vksplat(&["convert", &input, &nested.to_string_lossy()]), 0);
    assert!(is_regular(&nested));
    let mode = std::fs::metadata(dir.join("a/b"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, dir_mode());

    let refused = dir.join("x/y/s.ply");
    let err = expect_code(
        &vksplat(&[
            "convert",
            &input,
            &refused.to_string_lossy(),
            "--no-create-dirs",
        ]),
        6,
    );
    assert!(
        err.contains("x/y") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!dir.join("x").exists());

    let cams = cameras(&dir, 2);
    let pattern = dir.join("r/####/f.png").to_string_lossy().into_owned();
    let render = |extra: &[&str]| {
        vksplat(
            &[
                &["render", &input, "--camera", &cams, "-o", &pattern][..],
                extra,
            ]
            .concat(),
        )
    };
    // Refused before the scene is read or the device opened.
    let err = expect_code(&render(&["--no-create-dirs"]), 6);
    assert!(
        err.contains("does not exist") && !err.contains("loaded"),
        "{err}"
    );
    assert!(!dir.join("r").exists());
    if !gpu_available() {
        return;
    }
    expect_code(&render(&[]), 0);
    assert_eq!(listing(&dir.join("r")), ["0000", "0001"]);
    assert!(is_regular(&dir.join("r/0001/f.png")));
    // Directories are made before the scene is read: they stay when the scene is bad.
    std::fs::write(dir.join("bad.ply"), b"ply\nformat nonsense\n").unwrap();
    let out = vksplat(&[
        "render",
        &dir.arg("bad.ply"),
        "--camera",
        &cams,
        "-o",
        &dir.arg("made/f.png"),
    ]);
    expect_code(&out, 3);
    assert!(dir.join("made").is_dir() && listing(&dir.join("made")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Item 16: --skip-existing and stale frames

#[test]
fn skip_existing_rerenders_other_sizes_commands_and_fake_pngs() {
    if !gpu_available() {
        return;
    }
    let dir = TempDir::new("skip");
    let input = scene(&dir, "in.ply", 300, 1);
    let cams = cameras(&dir, 3);
    std::fs::create_dir(dir.join("out")).unwrap();
    let pattern = dir.arg("out/s.####.exr");
    let run = |extra: &[&str]| -> Output {
        vksplat(
            &[
                &["render", &input, "--camera", &cams, "-o", &pattern][..],
                extra,
            ]
            .concat(),
        )
    };
    let all = |status: &str| -> Vec<(i64, String)> { (0..3).map(|f| (f, status.into())).collect() };

    // A stale half-size set, complete files all: rendered again at the job's size.
    expect_code(&run(&["--width", "32"]), 0);
    let out = run(&["--skip-existing"]);
    let err = expect_code(&out, 0);
    assert!(err.contains("is 32x24, this job renders 64x48"), "{err}");
    assert_eq!(statuses(&out), all("written"));
    let img = read_exr(&dir.join("out/s.0002.exr")).unwrap();
    assert_eq!((img.width, img.height), (WIDTH, HEIGHT));
    // The same job again: everything is kept.
    assert_eq!(statuses(&run(&["--skip-existing"])), all("skipped"));
    // Another background is another command: rendered again.
    let out = run(&["--skip-existing", "--background", "0.5,0,0"]);
    let err = expect_code(&out, 0);
    assert!(err.contains("another command"), "{err}");
    assert_eq!(statuses(&out), all("written"));
    // A mode the scene could not have picked is another command; without --mode, the mode the
    // scene picks (classic here) matches.
    let base = ["--background", "0.5,0,0", "--skip-existing"];
    assert_eq!(
        statuses(&run(&[&base[..], &["--mode", "inria"]].concat())),
        all("written")
    );
    assert_eq!(statuses(&run(&base)), all("written"));
    assert_eq!(statuses(&run(&base)), all("skipped"));
    assert_eq!(
        statuses(&run(&[&base[..], &["--mode", "classic"]].concat())),
        all("skipped")
    );

    // PNG: 20 bytes (signature + IEND) is not an image.
    let png = dir.join("p.png");
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
    std::fs::write(&png, &fake).unwrap();
    let png_arg = png.to_string_lossy().into_owned();
    let render_png = |extra: &[&str]| {
        vksplat(
            &[
                &["render", &input, "--camera", &cams, "-o", &png_arg][..],
                extra,
            ]
            .concat(),
        )
    };
    let out = render_png(&["--skip-existing"]);
    let err = expect_code(&out, 0);
    assert!(err.contains("incomplete or not a PNG"), "{err}");
    assert_eq!(statuses(&out), [(0, "written".to_string())]);
    assert!(std::fs::metadata(&png).unwrap().len() > 40);
    assert_eq!(
        statuses(&render_png(&["--skip-existing"])),
        [(0, "skipped".to_string())]
    );
    // A PNG of another size.
    expect_code(&render_png(&["--height", "24"]), 0);
    let out = render_png(&["--skip-existing"]);
    assert!(stderr(&out).contains("is 32x24, this job renders 64x48"));
    assert_eq!(statuses(&out), [(0, "written".to_string())]);

    // The automatic camera: the size comes from --width/--height, without reading the scene.
    let auto = dir.arg("auto.png");
    let render_auto = |w: &str| {
        vksplat(&[
            "render",
            &input,
            "-o",
            &auto,
            "--width",
            w,
            "--height",
            "30",
            "--skip-existing",
        ])
    };
    assert_eq!(statuses(&render_auto("40")), [(0, "written".to_string())]);
    assert_eq!(statuses(&render_auto("40")), [(0, "skipped".to_string())]);
    let out = render_auto("48");
    assert!(stderr(&out).contains("is 40x30, this job renders 48x30"));
    assert_eq!(statuses(&out), [(0, "written".to_string())]);
}
