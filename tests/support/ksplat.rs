//! A test-side `.ksplat` writer, written from the layout that `vksplat_io`'s reader documents
//! (GaussianSplats3D's `SplatBuffer`): main header, one header per section, bucketed
//! positions at compression levels 1 and 2, per-band channel-major SH. It is independent of
//! the reader under test: it shares no code with it, only the layout.

use vksplat_io::half::f32_to_half;
use vksplat_io::Splats;

const SH_C0: f64 = 0.282_094_791_773_878_14;

/// One section to write.
pub struct Section<'a> {
    /// Its splats (any SH degree 0–3).
    pub splats: &'a Splats,
    /// Records reserved beyond the splats (written as zeros, to be ignored by readers).
    pub spare: usize,
    /// Splats per full bucket (levels 1, 2).
    pub bucket_size: usize,
    /// Lengths of the partly filled buckets after the full ones; the remaining splats must
    /// add up (levels 1, 2).
    pub partial: Vec<usize>,
    /// Write 0 for the quantization range (readers use the level's default, 32767).
    pub default_range: bool,
}

/// The 8-bit SH range the writer stores in the main header.
pub const SH_RANGE: (f32, f32) = (-1.5, 1.5);

/// Encodes `sections` at compression `level` (0, 1 or 2).
pub fn encode(sections: &[Section<'_>], level: u8) -> Vec<u8> {
    let total: usize = sections.iter().map(|s| s.splats.len()).sum();
    let mut out = vec![0u8; 4096 + 1024 * sections.len()];
    out[1] = 1;
    let put32 = |b: &mut [u8], at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put32(&mut out, 4, sections.len() as u32);
    put32(&mut out, 8, sections.len() as u32);
    put32(&mut out, 12, total as u32);
    put32(&mut out, 16, total as u32);
    out[20..22].copy_from_slice(&u16::from(level).to_le_bytes());
    out[36..40].copy_from_slice(&SH_RANGE.0.to_le_bytes());
    out[40..44].copy_from_slice(&SH_RANGE.1.to_le_bytes());
    for (i, sec) in sections.iter().enumerate() {
        let s = sec.splats;
        let n = s.len();
        let degree = s.sh_degree as usize;
        // Buckets: full ones of bucket_size consecutive splats, then the partial ones.
        let mut buckets: Vec<(usize, usize)> = Vec::new();
        let mut full = 0;
        if level > 0 {
            let in_partial: usize = sec.partial.iter().sum();
            assert!(in_partial <= n && (n - in_partial).is_multiple_of(sec.bucket_size));
            full = (n - in_partial) / sec.bucket_size;
            for b in 0..full {
                buckets.push((b * sec.bucket_size, sec.bucket_size));
            }
            let mut at = full * sec.bucket_size;
            for &len in &sec.partial {
                buckets.push((at, len));
                at += len;
            }
        }
        let centres: Vec<[f64; 3]> = buckets
            .iter()
            .map(|&(first, len)| {
                let mut c = [0.0; 3];
                for m in &s.means[first..first + len] {
                    for a in 0..3 {
                        c[a] += f64::from(m[a]) / len.max(1) as f64;
                    }
                }
                // What the reader will add back: the stored f32.
                c.map(|v| f64::from(v as f32))
            })
            .collect();
        let mut half_block = 1e-3f64;
        for (b, &(first, len)) in buckets.iter().enumerate() {
            for m in &s.means[first..first + len] {
                for a in 0..3 {
                    half_block = half_block.max((f64::from(m[a]) - centres[b][a]).abs() * 1.001);
                }
            }
        }
        let block = (2.0 * half_block) as f32;
        let range = 32767.0;
        let h = 4096 + 1024 * i;
        put32(&mut out, h, n as u32);
        put32(&mut out, h + 4, (n + sec.spare) as u32);
        if level > 0 {
            put32(&mut out, h + 8, sec.bucket_size as u32);
            put32(&mut out, h + 12, buckets.len() as u32);
            out[h + 16..h + 20].copy_from_slice(&block.to_le_bytes());
            out[h + 20..h + 22].copy_from_slice(&12u16.to_le_bytes());
            put32(&mut out, h + 24, if sec.default_range { 0 } else { 32767 });
            put32(&mut out, h + 32, full as u32);
            put32(&mut out, h + 36, sec.partial.len() as u32);
        }
        out[h + 40..h + 42].copy_from_slice(&(degree as u16).to_le_bytes());
        for &len in &sec.partial {
            if level > 0 {
                out.extend_from_slice(&(len as u32).to_le_bytes());
            }
        }
        for c in &centres {
            for v in c {
                out.extend_from_slice(&(*v as f32).to_le_bytes());
            }
        }
        let scale_factor = f64::from(block) / 2.0 / range;
        let float = |out: &mut Vec<u8>, v: f32| {
            if level == 0 {
                out.extend_from_slice(&v.to_le_bytes());
            } else {
                out.extend_from_slice(&f32_to_half(v).to_le_bytes());
            }
        };
        let k = s.coeffs_per_splat();
        let start = out.len();
        for j in 0..n {
            let m = s.means[j];
            if level == 0 {
                for v in m {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            } else {
                let b = buckets
                    .iter()
                    .position(|&(f, l)| j >= f && j < f + l)
                    .unwrap();
                for a in 0..3 {
                    let q = ((f64::from(m[a]) - centres[b][a]) / scale_factor + range)
                        .round()
                        .clamp(0.0, 65535.0) as u16;
                    out.extend_from_slice(&q.to_le_bytes());
                }
            }
            for l in s.log_scales[j] {
                float(&mut out, l.exp());
            }
            for q in s.rotations[j] {
                float(&mut out, q);
            }
            let sh = &s.sh[j * k * 3..(j + 1) * k * 3];
            for &dc in &sh[..3] {
                out.push(
                    ((0.5 + SH_C0 * f64::from(dc)) * 255.0)
                        .round()
                        .clamp(0.0, 255.0) as u8,
                );
            }
            let alpha = 1.0 / (1.0 + (-f64::from(s.opacity_logits[j])).exp());
            out.push((alpha * 255.0).round() as u8);
            // Per band, channel-major: band 1 coefficients 1..4, band 2 4..9, band 3 9..16.
            for (lo, hi) in [(1, 4), (4, 9), (9, 16)].into_iter().take(degree) {
                for c in 0..3 {
                    for coeff in lo..hi {
                        let v = sh[coeff * 3 + c];
                        match level {
                            0 => out.extend_from_slice(&v.to_le_bytes()),
                            1 => out.extend_from_slice(&f32_to_half(v).to_le_bytes()),
                            _ => {
                                let (lo, hi) = SH_RANGE;
                                let t = (f64::from(v) - f64::from(lo)) / f64::from(hi - lo);
                                out.push((t * 255.0).round().clamp(0.0, 255.0) as u8);
                            }
                        }
                    }
                }
            }
        }
        let sh_values = [0, 9, 24, 45][degree];
        let per = match level {
            0 => 44 + 4 * sh_values,
            1 => 24 + 2 * sh_values,
            _ => 24 + sh_values,
        };
        assert_eq!(out.len() - start, n * per);
        out.resize(out.len() + sec.spare * per, 0);
    }
    out
}
