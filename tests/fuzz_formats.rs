//! Mutation fuzzing of every scene reader (an equivalent of `cargo fuzz` that runs in the
//! regular suite): real and generated files of every format are mutated — bit flips, byte
//! and 32-bit field overwrites with boundary values, truncation, splicing, header-number
//! edits, and for gzip SPZ mutations of the *decompressed* payload re-compressed so that they
//! reach the inner header — and fed to `parse_scene`. Every case must return either splats
//! with consistent lengths or an `IoError::Input`; never panic, and never make one
//! allocation larger than `MAX_ALLOC` (a counting global allocator checks that lying counts
//! are rejected before anything is sized by them).
//!
//! The regular test runs for `VKSPLAT_FUZZ_SECS` seconds (default 2). The long run:
//! `VKSPLAT_FUZZ_SECS=600 cargo test --release -p vksplat-tests --test fuzz_formats -- --ignored --nocapture`.
//! A failing input is saved to the temp directory and its path printed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use vksplat_io::{parse_scene, write_scene, IoError, OutputFormat, WriteOptions};
use vksplat_tests::{random_scene, Rng};

/// Largest single allocation any case may make. Seeds decode to a few MiB at most.
const MAX_ALLOC: usize = 256 << 20;

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A seed file: name (its extension matters for `.splat`) and bytes.
struct Seed {
    name: String,
    bytes: Vec<u8>,
    /// For gzip SPZ: the decompressed payload, mutated and re-compressed.
    gzip_payload: Option<Vec<u8>>,
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn seeds() -> Vec<Seed> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/formats");
    let mut seeds = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>| {
        let gzip_payload = bytes.starts_with(&[0x1f, 0x8b]).then(|| gunzip(&bytes));
        seeds.push(Seed {
            name,
            bytes,
            gzip_payload,
        });
    };
    for f in [
        "splat-transform_minimal.splat",
        "splat-transform_minimal-raw.spz",
        "splat-transform_minimal-v2.spz",
        "splat-transform_minimal-v3.spz",
        "splat-transform_minimal-v4.spz",
        "playcanvas_test_sh.compressed.ply",
        "splat-transform_minimal.ksplat",
    ] {
        add(f.into(), std::fs::read(data.join(f)).unwrap());
    }
    let gltf = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gltf/khr_minimal.gltf");
    add("khr_minimal.gltf".into(), std::fs::read(gltf).unwrap());
    // Generated seeds of every writer and SH degree, small enough for many executions.
    let dir = std::env::temp_dir().join(format!("vksplat-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(99);
    for degree in [0, 1, 3] {
        let scene = random_scene(&mut rng, 40, degree);
        for (name, format, version) in [
            ("g.ply", OutputFormat::Ply, 3),
            ("g.compressed.ply", OutputFormat::CompressedPly, 3),
            ("g2.spz", OutputFormat::Spz, 2),
            ("g3.spz", OutputFormat::Spz, 3),
            ("g4.spz", OutputFormat::Spz, 4),
            ("g.splat", OutputFormat::Splat, 3),
        ] {
            let path = dir.join(name);
            let opts = WriteOptions {
                spz_version: version,
                antialiased: degree == 1,
                ..Default::default()
            };
            write_scene(&path, &scene, format, &opts).unwrap();
            add(format!("sh{degree}-{name}"), std::fs::read(&path).unwrap());
        }
        // glTF: GLB with float accessors, GLB with an SPZ payload (spz_2), and .gltf with the
        // buffer in a data: URI (self-contained, so parse_scene needs no sibling file).
        for (name, format, gltf_spz, gltf_embed) in [
            ("g.glb", OutputFormat::Glb, false, false),
            ("gs.glb", OutputFormat::Glb, true, false),
            ("g.gltf", OutputFormat::Gltf, false, true),
            ("g.sog", OutputFormat::Sog, false, false),
        ] {
            let path = dir.join(name);
            let opts = WriteOptions {
                gltf_spz,
                gltf_embed,
                ..Default::default()
            };
            write_scene(&path, &scene, format, &opts).unwrap();
            add(format!("sh{degree}-{name}"), std::fs::read(&path).unwrap());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // .ksplat at the bucketed levels, with a partial bucket, spare records and SH.
    for (level, degree) in [(1u8, 2u32), (2, 3)] {
        let scene = random_scene(&mut rng, 40, degree);
        let section = vksplat_tests::ksplat::Section {
            splats: &scene,
            spare: 1,
            bucket_size: 16,
            partial: vec![8],
            default_range: level == 2,
        };
        let bytes = vksplat_tests::ksplat::encode(&[section], level);
        add(format!("l{level}.ksplat"), bytes);
    }
    // An ASCII PLY with a double property.
    add(
        "a.ply".into(),
        b"ply\nformat ascii 1.0\nelement vertex 2\nproperty double x\nproperty float y\n\
          property float z\nproperty float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\n\
          property float opacity\nproperty float scale_0\nproperty float scale_1\n\
          property float scale_2\nproperty float rot_0\nproperty float rot_1\n\
          property float rot_2\nproperty float rot_3\nend_header\n\
          1 2 3 0.1 0.2 0.3 0.5 -1 -2 -3 1 0 0 0\n4 5 6 0.1 0.2 0.3 0.5 -1 -2 -3 0 1 0 0\n"
            .to_vec(),
    );
    seeds
}

const INTERESTING_U32: [u32; 12] = [
    0,
    1,
    2,
    3,
    4,
    255,
    256,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x0800_0000,
    134_217_729,
];

/// One random mutation of `b` in place.
fn mutate(rng: &mut Rng, b: &mut Vec<u8>) {
    let len = b.len();
    let pick = |rng: &mut Rng, n: usize| (rng.next_u64() % n.max(1) as u64) as usize;
    // Headers matter most: bias positions toward the first 64 bytes.
    let pos = |rng: &mut Rng| {
        if rng.next_u32().is_multiple_of(2) {
            pick(rng, len.min(64))
        } else {
            pick(rng, len)
        }
    };
    match rng.next_u32() % 8 {
        0 | 1 => {
            for _ in 0..1 + rng.next_u32() % 4 {
                if len > 0 {
                    let p = pos(rng);
                    b[p] ^= 1 << (rng.next_u32() % 8);
                }
            }
        }
        2 => {
            if len > 0 {
                let p = pos(rng);
                b[p] = [0, 0xff, 0x7f, 0x80, 1][pick(rng, 5)];
            }
        }
        3 => {
            if len >= 4 {
                let p = pos(rng).min(len - 4);
                let v = INTERESTING_U32[pick(rng, INTERESTING_U32.len())];
                b[p..p + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        4 => b.truncate(pick(rng, len + 1)),
        5 => {
            // Splice: duplicate or remove a range.
            if len > 0 {
                let a = pick(rng, len);
                let n = pick(rng, (len - a).min(256)) + 1;
                if rng.next_u32().is_multiple_of(2) {
                    let chunk = b[a..(a + n).min(len)].to_vec();
                    let at = pick(rng, len);
                    b.splice(at..at, chunk);
                } else {
                    b.drain(a..(a + n).min(len));
                }
            }
        }
        6 => {
            // Rewrite a number in a PLY header.
            if let Some(end) = b.windows(10).position(|w| w == b"end_header") {
                let digits: Vec<usize> = (0..end).filter(|&i| b[i].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    let at = digits[pick(rng, digits.len())];
                    let mut stop = at;
                    while stop < end && b[stop].is_ascii_digit() {
                        stop += 1;
                    }
                    let n = [
                        "0",
                        "1",
                        "255",
                        "257",
                        "4294967295",
                        "999999999999",
                        "134217729",
                    ][pick(rng, 7)];
                    b.splice(at..stop, n.bytes());
                }
            }
        }
        _ => {
            if len > 0 {
                let p = pick(rng, len);
                b[p] = rng.next_u32() as u8;
            }
        }
    }
}

/// Runs one case; returns Ok(accepted) or a description of the failure.
fn run_case(name: &str, bytes: &[u8]) -> Result<bool, String> {
    LARGEST.store(0, Ordering::Relaxed);
    let result = std::panic::catch_unwind(|| parse_scene(bytes, Path::new(name)));
    let largest = LARGEST.load(Ordering::Relaxed);
    if largest > MAX_ALLOC {
        return Err(format!("allocated {largest} bytes at once"));
    }
    match result {
        Err(_) => Err("panicked".into()),
        Ok(Err(IoError::Input { message, .. })) => {
            if message.is_empty() {
                Err("empty error message".into())
            } else if message.contains("internal error") {
                Err(format!("a worker thread failed: {message}"))
            } else {
                Ok(false)
            }
        }
        Ok(Err(e)) => Err(format!("not an input error: {e}")),
        Ok(Ok(scene)) => {
            let s = &scene.splats;
            let k = s.coeffs_per_splat();
            let consistent = s.rotations.len() == s.len()
                && s.log_scales.len() == s.len()
                && s.opacity_logits.len() == s.len()
                && s.sh.len() == s.len() * k * 3
                && s.sh_degree <= 3;
            if consistent {
                Ok(true)
            } else {
                Err("inconsistent splats".into())
            }
        }
    }
}

fn fuzz(duration: Duration, seed: u64) {
    // Panics are caught and reported per case; keep the default hook quiet meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let seeds = seeds();
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let (mut execs, mut accepted) = (0u64, 0u64);
    let mut failures = Vec::new();
    // Every seed parses unmutated.
    for s in &seeds {
        assert_eq!(run_case(&s.name, &s.bytes), Ok(true), "seed {}", s.name);
    }
    while start.elapsed() < duration && failures.len() < 5 {
        let s = &seeds[(rng.next_u64() % seeds.len() as u64) as usize];
        let mut bytes = match &s.gzip_payload {
            Some(p) if rng.next_u32().is_multiple_of(2) => p.clone(),
            _ => s.bytes.clone(),
        };
        let inner = bytes.len() != s.bytes.len() || s.gzip_payload.is_none();
        for _ in 0..1 + rng.next_u32() % 3 {
            mutate(&mut rng, &mut bytes);
        }
        if s.gzip_payload.is_some() && inner && !rng.next_u32().is_multiple_of(4) {
            bytes = gzip(&bytes);
        }
        execs += 1;
        match run_case(&s.name, &bytes) {
            Ok(ok) => accepted += u64::from(ok),
            Err(why) => {
                let path =
                    std::env::temp_dir().join(format!("vksplat-fuzz-fail-{execs}-{}", s.name));
                let _ = std::fs::write(&path, &bytes);
                failures.push(format!(
                    "{} mutated: {why} (input saved to {})",
                    s.name,
                    path.display()
                ));
            }
        }
    }
    std::panic::set_hook(hook);
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "fuzz: {execs} executions in {secs:.1} s ({:.0}/s) over {} seeds, {accepted} accepted, \
         {} failures",
        execs as f64 / secs,
        seeds.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

fn secs(default: u64) -> Duration {
    let s = std::env::var("VKSPLAT_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Duration::from_secs(s)
}

#[test]
fn mutated_files_never_panic_or_overallocate() {
    fuzz(secs(2), 1);
}

/// A zip of stored entries with correct CRCs (torch writes its checkpoints so), for pickles
/// mutated inside a checkpoint: the reader checks `data.pkl`'s CRC, so a mutated pickle must be
/// re-packed to reach the pickle machine.
fn zip_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        let fields = |v: &mut Vec<u8>| {
            v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        fields(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        fields(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// One checkpoint case: open it and read every tensor. Ok(accepted) or the failure.
fn run_torch_case(bytes: &[u8]) -> Result<bool, String> {
    use vksplat_io::torch::Checkpoint;
    LARGEST.store(0, Ordering::Relaxed);
    let result = std::panic::catch_unwind(|| {
        let ck = Checkpoint::parse(bytes.to_vec(), Path::new("fuzz.pt"))?;
        let mut read = 0usize;
        for (path, _) in ck.tensor_paths() {
            if ck.tensor(&path).is_ok() {
                read += 1;
            }
        }
        Ok::<usize, IoError>(read)
    });
    let largest = LARGEST.load(Ordering::Relaxed);
    if largest > MAX_ALLOC {
        return Err(format!("allocated {largest} bytes at once"));
    }
    match result {
        Err(_) => Err("panicked".into()),
        Ok(Err(IoError::Input { message, .. })) if message.is_empty() => {
            Err("empty error message".into())
        }
        Ok(Err(IoError::Input { .. })) => Ok(false),
        Ok(Err(e)) => Err(format!("not an input error: {e}")),
        Ok(Ok(_)) => Ok(true),
    }
}

/// Mutated PyTorch checkpoints (`vksplat_io::torch`): the committed fixture
/// `data/torch/sugar_small.pt` (written by `support/torch_pt.py` from `sugar_small.json`)
/// mutated as a file, or its pickle mutated and re-packed with correct CRCs.
fn fuzz_torch(duration: Duration, seed: u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/torch/sugar_small.pt");
    let file = std::fs::read(path).unwrap();
    // The fixture's entries, from its local headers (stored, sizes in the headers).
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut at = 0usize;
    while file[at..].starts_with(&0x0403_4b50u32.to_le_bytes()) {
        let u16_at = |o: usize| u16::from_le_bytes([file[at + o], file[at + o + 1]]) as usize;
        let size = u32::from_le_bytes(file[at + 18..at + 22].try_into().unwrap()) as usize;
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        let name = String::from_utf8(file[at + 30..at + 30 + name_len].to_vec()).unwrap();
        let start = at + 30 + name_len + extra_len;
        entries.push((name, file[start..start + size].to_vec()));
        at = start + size;
    }
    assert_eq!(run_torch_case(&file), Ok(true), "the seed reads");
    assert_eq!(
        run_torch_case(&zip_stored(&entries)),
        Ok(true),
        "re-packed seed reads"
    );
    let pkl = entries
        .iter()
        .position(|(n, _)| n.ends_with("/data.pkl"))
        .unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let (mut execs, mut accepted) = (0u64, 0u64);
    let mut failures = Vec::new();
    while start.elapsed() < duration && failures.len() < 5 {
        let bytes = if rng.next_u32().is_multiple_of(2) {
            let mut b = file.clone();
            for _ in 0..1 + rng.next_u32() % 3 {
                mutate(&mut rng, &mut b);
            }
            b
        } else {
            let mut e = entries.clone();
            for _ in 0..1 + rng.next_u32() % 3 {
                mutate(&mut rng, &mut e[pkl].1);
            }
            zip_stored(&e)
        };
        execs += 1;
        match run_torch_case(&bytes) {
            Ok(ok) => accepted += u64::from(ok),
            Err(why) => {
                let path = std::env::temp_dir().join(format!("vksplat-fuzz-fail-{execs}.pt"));
                let _ = std::fs::write(&path, &bytes);
                failures.push(format!("{why} (input saved to {})", path.display()));
            }
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "torch fuzz: {execs} executions, {accepted} accepted, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn mutated_checkpoints_never_panic_or_overallocate() {
    fuzz_torch(secs(2), 7);
}

#[test]
#[ignore]
fn long_fuzz() {
    let seed = std::env::var("VKSPLAT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed);
    fuzz(secs(600), seed);
}
