//! OpenEXR PIZ compression (lossless) for one scanline chunk, and the
//! OpenEXR Huffman coder that PIZ and DWAA share.
//!
//! A PIZ chunk is built in four steps, written here from the OpenEXR file
//! format description:
//!
//! 1. the chunk is made planar: per channel, all of its lines, as 16-bit
//!    words (a FLOAT sample is two words, low half first, each transformed on
//!    its own);
//! 2. the words actually used are recorded in a bitmap and renumbered
//!    densely through a lookup table (0 always maps to 0);
//! 3. a 2D Haar-like wavelet runs over each channel (over each half of a
//!    FLOAT channel), with the exact integer lifting steps that OpenEXR's
//!    decoder inverts (14-bit steps when every renumbered value is below
//!    2^14, modular 16-bit steps otherwise);
//! 4. the result is Huffman-coded ([`huf_compress`]).
//!
//! Chunk layout, little-endian:
//!
//! ```text
//! u16 first bitmap byte | u16 last bitmap byte | bitmap[first..=last]
//! u32 Huffman block size | Huffman block
//! ```
//!
//! Huffman block: `u32 min symbol | u32 max symbol (the run symbol) |
//! u32 table bytes | u32 bit count | u32 0 | code-length table | code bits`.
//! Code lengths are 6-bit values (59..63 encode runs of unused symbols); the
//! canonical codes follow from the lengths alone: longer codes are
//! numerically smaller, and codes of one length increase with the symbol.
//! A run of a repeated word is sent as the word, the run symbol and an 8-bit
//! repeat count. Codes are at most 58 bits; a chunk that would need longer
//! ones (or that does not shrink) is stored raw, which OpenEXR recognises
//! by its size.
//!
//! Invariant: every function here is deterministic — equal input gives
//! equal bytes (ties in the Huffman tree are broken by symbol order).

use super::ChunkChannel;

/// Words a 16-bit value can take.
const USHORT_RANGE: usize = 1 << 16;
/// Bytes of the used-value bitmap.
const BITMAP_SIZE: usize = USHORT_RANGE / 8;

/// Compresses one scanline chunk with PIZ.
///
/// `raw` is the chunk as OpenEXR stores it uncompressed: for each of `lines`
/// lines, for each channel in `channels` order, `width` little-endian samples
/// (2 bytes HALF, 4 bytes FLOAT). The result is the chunk's payload; when
/// PIZ does not make it smaller it is a copy of `raw`.
pub(crate) fn compress_piz(
    raw: &[u8],
    channels: &[ChunkChannel],
    width: usize,
    lines: usize,
) -> Vec<u8> {
    let mut words = planar_words(raw, channels, width, lines);

    let (bitmap, first, last) = used_values(&words);
    let (lut, max_value) = forward_lut(&bitmap);
    for w in &mut words {
        *w = lut[*w as usize];
    }

    let mut start = 0;
    for ch in channels {
        let per_sample = if ch.half { 1 } else { 2 };
        let len = width * lines * per_sample;
        let plane = &mut words[start..start + len];
        for half in 0..per_sample {
            wavelet_encode(
                &mut plane[half..],
                width,
                per_sample,
                lines,
                width * per_sample,
                max_value,
            );
        }
        start += len;
    }

    let Some(huffman) = huf_compress(&words) else {
        return raw.to_vec();
    };
    let mut out = Vec::with_capacity(8 + BITMAP_SIZE + huffman.len());
    out.extend_from_slice(&first.to_le_bytes());
    out.extend_from_slice(&last.to_le_bytes());
    if first <= last {
        out.extend_from_slice(&bitmap[first as usize..=last as usize]);
    }
    out.extend_from_slice(&(huffman.len() as u32).to_le_bytes());
    out.extend_from_slice(&huffman);
    if out.len() >= raw.len() {
        return raw.to_vec();
    }
    out
}

/// The chunk's samples as 16-bit words, channel after channel (each channel
/// all lines, top to bottom), as PIZ transforms them.
fn planar_words(raw: &[u8], channels: &[ChunkChannel], width: usize, lines: usize) -> Vec<u16> {
    let sample_bytes = super::chunk_sample_bytes("PIZ", raw, channels, width, lines);
    let mut words = vec![0u16; raw.len() / 2];
    // Start of each channel's plane, in words.
    let mut plane_start = Vec::with_capacity(channels.len());
    let mut at = 0;
    for &b in &sample_bytes {
        plane_start.push(at);
        at += b / 2 * width * lines;
    }
    let mut src = raw.chunks_exact(2);
    for y in 0..lines {
        for (c, &b) in sample_bytes.iter().enumerate() {
            let row_words = b / 2 * width;
            let dst = plane_start[c] + y * row_words;
            for (d, s) in words[dst..dst + row_words].iter_mut().zip(&mut src) {
                *d = u16::from_le_bytes([s[0], s[1]]);
            }
        }
    }
    words
}

/// The bitmap of the values present (value 0 is implied and left out), and
/// the first and last non-zero bitmap bytes (`BITMAP_SIZE - 1, 0` when none).
fn used_values(words: &[u16]) -> (Vec<u8>, u16, u16) {
    // Plain stores into a byte per value: no read-modify-write chain when
    // neighbouring words fall into the same bitmap byte.
    let mut seen = vec![0u8; USHORT_RANGE];
    for &w in words {
        seen[w as usize] = 1;
    }
    let mut bitmap: Vec<u8> = seen
        .chunks_exact(8)
        .map(|b| b.iter().rev().fold(0u8, |acc, &s| (acc << 1) | s))
        .collect();
    bitmap[0] &= !1;
    let first = bitmap.iter().position(|&b| b != 0);
    let last = bitmap.iter().rposition(|&b| b != 0);
    match (first, last) {
        (Some(f), Some(l)) => (bitmap, f as u16, l as u16),
        _ => (bitmap, (BITMAP_SIZE - 1) as u16, 0),
    }
}

/// Dense renumbering of the used values (0 and every bitmap entry, in
/// order), and the largest new value.
fn forward_lut(bitmap: &[u8]) -> (Vec<u16>, u16) {
    let mut lut = vec![0u16; USHORT_RANGE];
    let mut k: u32 = 0;
    for (v, slot) in lut.iter_mut().enumerate() {
        if v == 0 || bitmap[v >> 3] & (1 << (v & 7)) != 0 {
            *slot = k as u16;
            k += 1;
        }
    }
    (lut, (k - 1) as u16)
}

// ---------------------------------------------------------------------------
// Wavelet

const MOD_MASK: i32 = 0xffff;
const HALF_RANGE: i32 = 1 << 15;

/// One lifting step for values below 2^14: (average, difference).
fn enc14(a: u16, b: u16) -> (u16, u16) {
    let (a, b) = (a as i16 as i32, b as i16 as i32);
    (((a + b) >> 1) as u16, (a - b) as u16)
}

/// One modular lifting step for full 16-bit values.
fn enc16(a: u16, b: u16) -> (u16, u16) {
    let ao = (a as i32 + HALF_RANGE) & MOD_MASK;
    let b = b as i32;
    let mut m = (ao + b) >> 1;
    let d = ao - b;
    if d < 0 {
        m = (m + HALF_RANGE) & MOD_MASK;
    }
    (m as u16, (d & MOD_MASK) as u16)
}

/// In-place forward 2D wavelet of an `nx` x `ny` grid whose sample (x, y)
/// is `buf[x * ox + y * oy]`, level by level over the smaller dimension.
fn wavelet_encode(buf: &mut [u16], nx: usize, ox: usize, ny: usize, oy: usize, max_value: u16) {
    let step = if max_value < (1 << 14) { enc14 } else { enc16 };
    let n = nx.min(ny);
    let mut p = 1;
    let mut p2 = 2;
    while p2 <= n {
        let (ox1, ox2, oy1, oy2) = (ox * p, ox * p2, oy * p, oy * p2);
        // Full 2x2 groups of this level; rows and columns left over when a
        // dimension is odd at this scale get a 1D step.
        let rows = ny / p2;
        let cols = nx / p2;
        for r in 0..rows {
            let py = r * oy2;
            for c in 0..cols {
                let px = py + c * ox2;
                let (p01, p10) = (px + ox1, px + oy1);
                let p11 = p10 + ox1;
                let (i00, i01) = step(buf[px], buf[p01]);
                let (i10, i11) = step(buf[p10], buf[p11]);
                (buf[px], buf[p10]) = step(i00, i10);
                (buf[p01], buf[p11]) = step(i01, i11);
            }
            if nx & p != 0 {
                let px = py + cols * ox2;
                let p10 = px + oy1;
                (buf[px], buf[p10]) = step(buf[px], buf[p10]);
            }
        }
        if ny & p != 0 {
            let py = rows * oy2;
            for c in 0..cols {
                let px = py + c * ox2;
                let p01 = px + ox1;
                (buf[px], buf[p01]) = step(buf[px], buf[p01]);
            }
        }
        p = p2;
        p2 <<= 1;
    }
}

// ---------------------------------------------------------------------------
// Huffman

/// Symbols: every 16-bit value plus the run symbol.
const HUF_SYMBOLS: usize = USHORT_RANGE + 1;
/// Longest code OpenEXR's decoders accept.
const MAX_CODE_LEN: u8 = 58;
/// Packed code lengths 59..=62 mean 2..=5 unused symbols; 63 is followed by
/// an 8-bit count of 6 or more.
const SHORT_ZEROCODE_RUN: u64 = 59;
const LONG_ZEROCODE_RUN: u64 = 63;
const SHORTEST_LONG_RUN: usize = 2 + (LONG_ZEROCODE_RUN - SHORT_ZEROCODE_RUN) as usize;
const LONGEST_LONG_RUN: usize = 255 + SHORTEST_LONG_RUN;
/// The most repeats one run code can carry.
const MAX_RUN: u32 = 255;

/// Huffman-codes `data` in OpenEXR's format; `None` when it cannot (a code
/// longer than 58 bits, or more than 2^32 - 1 bits of output).
pub(super) fn huf_compress(data: &[u16]) -> Option<Vec<u8>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    let mut freq = vec![0u64; HUF_SYMBOLS];
    // Counted run by run: one update per run of equal words.
    let mut rest = data;
    while let Some(&d) = rest.first() {
        let run = rest.iter().take_while(|&&x| x == d).count();
        freq[d as usize] += run as u64;
        rest = &rest[run..];
    }
    let min_sym = freq.iter().position(|&f| f != 0)?;
    // The run symbol sits right after the largest used value.
    let run_sym = freq.iter().rposition(|&f| f != 0)? + 1;
    freq[run_sym] = 1;

    let lengths = code_lengths(&freq[min_sym..=run_sym])?;
    let codes = canonical_codes(&lengths);
    let code = |s: usize| -> (u64, u32) {
        let i = s - min_sym;
        (codes[i], u32::from(lengths[i]))
    };

    let mut table = BitWriter::default();
    pack_lengths(&lengths, &mut table);
    let table = table.finish().0;

    let mut bits = BitWriter::default();
    let (run_code, run_len) = code(run_sym);
    let mut send = |s: u16, repeats: u32| {
        let (c, l) = code(s as usize);
        if l + run_len + 8 < l * repeats {
            bits.put(c, l);
            bits.put(run_code, run_len);
            bits.put(u64::from(repeats), 8);
        } else {
            for _ in 0..=repeats {
                bits.put(c, l);
            }
        }
    };
    let mut current = data[0];
    let mut repeats = 0;
    for &next in &data[1..] {
        if repeats == MAX_RUN || next != current {
            send(current, repeats);
            current = next;
            repeats = 0;
        } else {
            repeats += 1;
        }
    }
    send(current, repeats);
    let (code_bytes, bit_count) = bits.finish();
    let bit_count = u32::try_from(bit_count).ok()?;

    let mut out = Vec::with_capacity(20 + table.len() + code_bytes.len());
    for v in [
        min_sym as u32,
        run_sym as u32,
        table.len() as u32,
        bit_count,
        0,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&table);
    out.extend_from_slice(&code_bytes);
    Some(out)
}

/// Huffman code lengths for `freq` (0 for unused symbols); `None` when a
/// code would exceed [`MAX_CODE_LEN`]. At least two symbols are used.
fn code_lengths(freq: &[u64]) -> Option<Vec<u8>> {
    // Two-queue construction: leaves sorted by (frequency, symbol) and the
    // merged nodes, which are created in non-decreasing weight order; the
    // lighter front is taken, a leaf on ties, so the result is deterministic.
    let mut leaves: Vec<(u64, usize)> = freq
        .iter()
        .enumerate()
        .filter(|(_, &f)| f != 0)
        .map(|(i, &f)| (f, i))
        .collect();
    leaves.sort_unstable();
    let n = leaves.len();
    if n < 2 {
        return None;
    }
    // Nodes 0..n are the sorted leaves, n.. the merges in creation order.
    let mut weight: Vec<u64> = Vec::with_capacity(2 * n - 1);
    weight.extend(leaves.iter().map(|l| l.0));
    let mut parent = vec![0usize; 2 * n - 1];
    let (mut next_leaf, mut next_merge) = (0, n);
    let mut take = |weight: &Vec<u64>| {
        if next_leaf < n && (next_merge >= weight.len() || weight[next_leaf] <= weight[next_merge])
        {
            next_leaf += 1;
            next_leaf - 1
        } else {
            next_merge += 1;
            next_merge - 1
        }
    };
    for _ in 1..n {
        let a = take(&weight);
        let b = take(&weight);
        parent[a] = weight.len();
        parent[b] = weight.len();
        weight.push(weight[a] + weight[b]);
    }
    // Parents come after their children: one backward pass gives depths.
    let root = 2 * n - 2;
    let mut depth = vec![0u8; 2 * n - 1];
    for i in (0..root).rev() {
        depth[i] = depth[parent[i]].checked_add(1)?;
    }
    let mut lengths = vec![0u8; freq.len()];
    for (node, &(_, sym)) in leaves.iter().enumerate() {
        if depth[node] > MAX_CODE_LEN {
            return None;
        }
        lengths[sym] = depth[node];
    }
    Some(lengths)
}

/// OpenEXR's canonical codes for the given lengths: the first code of each
/// length follows from how many codes are longer, and codes of one length
/// are handed out in symbol order.
fn canonical_codes(lengths: &[u8]) -> Vec<u64> {
    let mut count = [0u64; MAX_CODE_LEN as usize + 1];
    for &l in lengths {
        count[l as usize] += 1;
    }
    let mut next = [0u64; MAX_CODE_LEN as usize + 1];
    let mut c = 0u64;
    for l in (1..=MAX_CODE_LEN as usize).rev() {
        next[l] = c;
        c = (c + count[l]) >> 1;
    }
    lengths
        .iter()
        .map(|&l| {
            if l == 0 {
                0
            } else {
                let code = next[l as usize];
                next[l as usize] += 1;
                code
            }
        })
        .collect()
}

/// The code-length table: 6 bits per symbol, runs of unused symbols shortened.
fn pack_lengths(lengths: &[u8], out: &mut BitWriter) {
    let mut i = 0;
    while i < lengths.len() {
        if lengths[i] == 0 {
            let run = lengths[i..]
                .iter()
                .take(LONGEST_LONG_RUN)
                .take_while(|&&l| l == 0)
                .count();
            if run >= SHORTEST_LONG_RUN {
                out.put(LONG_ZEROCODE_RUN, 6);
                out.put((run - SHORTEST_LONG_RUN) as u64, 8);
                i += run;
                continue;
            }
            if run >= 2 {
                out.put(SHORT_ZEROCODE_RUN + run as u64 - 2, 6);
                i += run;
                continue;
            }
        }
        out.put(u64::from(lengths[i]), 6);
        i += 1;
    }
}

/// Most-significant-bit-first bit packer.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl BitWriter {
    /// Appends the low `count` (<= 58) bits of `bits`.
    fn put(&mut self, bits: u64, count: u32) {
        if count > 32 {
            self.put(bits >> 32, count - 32);
            self.put(bits & 0xffff_ffff, 32);
            return;
        }
        // At most 7 pending bits plus 32 new ones: no overflow.
        self.acc = (self.acc << count) | bits;
        self.pending += count;
        while self.pending >= 8 {
            self.pending -= 8;
            self.out.push((self.acc >> self.pending) as u8);
        }
    }

    /// The bytes (last one zero-padded) and the number of bits written.
    fn finish(mut self) -> (Vec<u8>, u64) {
        let bits = self.out.len() as u64 * 8 + u64::from(self.pending);
        if self.pending > 0 {
            self.out.push((self.acc << (8 - self.pending)) as u8);
        }
        (self.out, bits)
    }
}

#[cfg(test)]
pub(super) mod tests {
    //! Round trips through a test-only PIZ decoder written from the same
    //! format description; the Python OpenEXR checks in
    //! `tests/exr_codecs.rs` confirm OpenEXR itself reads the output.

    use super::*;
    use std::collections::HashMap;

    /// MSB-first bit reader over a byte slice.
    struct BitReader<'a> {
        bytes: &'a [u8],
        bit: usize,
    }

    impl BitReader<'_> {
        fn get(&mut self, n: u32) -> Result<u64, String> {
            let mut v = 0u64;
            for _ in 0..n {
                let byte = *self
                    .bytes
                    .get(self.bit / 8)
                    .ok_or("Huffman data ends early")?;
                v = (v << 1) | u64::from(byte >> (7 - self.bit % 8) & 1);
                self.bit += 1;
            }
            Ok(v)
        }
    }

    /// Decodes a block written by [`huf_compress`] into `count` words.
    pub(in crate::image) fn huf_decompress(block: &[u8], count: usize) -> Result<Vec<u16>, String> {
        if block.len() < 20 {
            return Err("Huffman block shorter than its header".into());
        }
        let word = |i: usize| u32::from_le_bytes(block[i..i + 4].try_into().unwrap()) as usize;
        let (min_sym, run_sym, table_len, bit_count) = (word(0), word(4), word(8), word(12));
        if word(16) != 0 || min_sym > run_sym || run_sym >= HUF_SYMBOLS {
            return Err("bad Huffman header".into());
        }
        let mut r = BitReader {
            bytes: &block[20..],
            bit: 0,
        };
        let symbols = run_sym - min_sym + 1;
        let mut lengths: Vec<u8> = Vec::with_capacity(symbols);
        while lengths.len() < symbols {
            let l = r.get(6)?;
            let zeros = match l {
                LONG_ZEROCODE_RUN => r.get(8)? as usize + SHORTEST_LONG_RUN,
                l if l >= SHORT_ZEROCODE_RUN => (l - SHORT_ZEROCODE_RUN) as usize + 2,
                l => {
                    lengths.push(l as u8);
                    continue;
                }
            };
            lengths.extend(std::iter::repeat_n(0, zeros));
        }
        if lengths.len() != symbols || r.bit.div_ceil(8) != table_len {
            return Err("Huffman table does not match its size".into());
        }
        let codes = canonical_codes(&lengths);
        let mut by_code: HashMap<(u32, u64), usize> = HashMap::new();
        for (i, (&l, &c)) in lengths.iter().zip(&codes).enumerate() {
            if l != 0 && by_code.insert((u32::from(l), c), min_sym + i).is_some() {
                return Err("two symbols share a code".into());
            }
        }
        let data = &block[20 + table_len..];
        if bit_count.div_ceil(8) != data.len() {
            return Err("Huffman bit count does not match the block size".into());
        }
        let mut r = BitReader {
            bytes: data,
            bit: 0,
        };
        let mut out: Vec<u16> = Vec::with_capacity(count);
        while r.bit < bit_count {
            let (mut code, mut len) = (0u64, 0u32);
            let sym = loop {
                code = (code << 1) | r.get(1)?;
                len += 1;
                if let Some(&s) = by_code.get(&(len, code)) {
                    break s;
                }
                if len > u32::from(MAX_CODE_LEN) {
                    return Err("no code matches".into());
                }
            };
            if sym == run_sym {
                let n = r.get(8)? as usize;
                let last = *out.last().ok_or("run with no previous word")?;
                out.extend(std::iter::repeat_n(last, n));
            } else {
                out.push(sym as u16);
            }
        }
        if r.bit != bit_count || out.len() != count {
            return Err(format!(
                "decoded {} words from {} bits, expected {count}",
                out.len(),
                r.bit
            ));
        }
        Ok(out)
    }

    fn dec14(l: u16, h: u16) -> (u16, u16) {
        let (l, h) = (l as i16 as i32, h as i16 as i32);
        let a = l + (h & 1) + (h >> 1);
        (a as i16 as u16, (a - h) as i16 as u16)
    }

    fn dec16(l: u16, h: u16) -> (u16, u16) {
        let (m, d) = (l as i32, h as i32);
        let b = (m - (d >> 1)) & MOD_MASK;
        let a = (d + b - HALF_RANGE) & MOD_MASK;
        (a as u16, b as u16)
    }

    /// Inverse of [`wavelet_encode`], coarsest level first.
    fn wavelet_decode(buf: &mut [u16], nx: usize, ox: usize, ny: usize, oy: usize, max_value: u16) {
        let step = if max_value < (1 << 14) { dec14 } else { dec16 };
        let n = nx.min(ny);
        let mut p = 1;
        while p <= n {
            p <<= 1;
        }
        p >>= 1;
        let mut p2 = p;
        p >>= 1;
        while p >= 1 {
            let (ox1, ox2, oy1, oy2) = (ox * p, ox * p2, oy * p, oy * p2);
            let rows = ny / p2;
            let cols = nx / p2;
            for r in 0..rows {
                let py = r * oy2;
                for c in 0..cols {
                    let px = py + c * ox2;
                    let (p01, p10) = (px + ox1, px + oy1);
                    let p11 = p10 + ox1;
                    let (i00, i10) = step(buf[px], buf[p10]);
                    let (i01, i11) = step(buf[p01], buf[p11]);
                    (buf[px], buf[p01]) = step(i00, i01);
                    (buf[p10], buf[p11]) = step(i10, i11);
                }
                if nx & p != 0 {
                    let px = py + cols * ox2;
                    let p10 = px + oy1;
                    (buf[px], buf[p10]) = step(buf[px], buf[p10]);
                }
            }
            if ny & p != 0 {
                let py = rows * oy2;
                for c in 0..cols {
                    let px = py + c * ox2;
                    let p01 = px + ox1;
                    (buf[px], buf[p01]) = step(buf[px], buf[p01]);
                }
            }
            p2 = p;
            p >>= 1;
        }
    }

    /// Test-only PIZ decoder: the inverse of [`compress_piz`].
    fn decompress_piz(
        chunk: &[u8],
        channels: &[ChunkChannel],
        width: usize,
        lines: usize,
    ) -> Result<Vec<u8>, String> {
        let raw_len: usize = channels
            .iter()
            .map(ChunkChannel::sample_bytes)
            .sum::<usize>()
            * width
            * lines;
        if chunk.len() == raw_len {
            return Ok(chunk.to_vec());
        }
        let u16_at = |i: usize| u16::from_le_bytes([chunk[i], chunk[i + 1]]);
        let (first, last) = (u16_at(0) as usize, u16_at(2) as usize);
        let mut bitmap = vec![0u8; BITMAP_SIZE];
        let mut at = 4;
        if first <= last {
            bitmap[first..=last].copy_from_slice(&chunk[at..at + last - first + 1]);
            at += last - first + 1;
        }
        let mut reverse: Vec<u16> = (0..USHORT_RANGE)
            .filter(|&v| v == 0 || bitmap[v >> 3] & (1 << (v & 7)) != 0)
            .map(|v| v as u16)
            .collect();
        let max_value = (reverse.len() - 1) as u16;
        reverse.resize(USHORT_RANGE, 0);
        let huf_len = u32::from_le_bytes(chunk[at..at + 4].try_into().unwrap()) as usize;
        at += 4;
        if at + huf_len != chunk.len() {
            return Err("PIZ chunk size does not match its Huffman block".into());
        }
        let mut words = huf_decompress(&chunk[at..], raw_len / 2)?;
        let mut start = 0;
        for ch in channels {
            let per = if ch.half { 1 } else { 2 };
            let len = width * lines * per;
            for half in 0..per {
                wavelet_decode(
                    &mut words[start + half..start + len],
                    width,
                    per,
                    lines,
                    width * per,
                    max_value,
                );
            }
            start += len;
        }
        for w in &mut words {
            *w = reverse[*w as usize];
        }
        // Back to the interleaved scanline layout.
        let mut raw = Vec::with_capacity(raw_len);
        for y in 0..lines {
            let mut plane = 0;
            for ch in channels {
                let per = if ch.half { 1 } else { 2 };
                let row = &words[plane + y * width * per..plane + (y + 1) * width * per];
                raw.extend(row.iter().flat_map(|w| w.to_le_bytes()));
                plane += width * lines * per;
            }
        }
        Ok(raw)
    }

    /// xorshift64*, enough for test data.
    pub(in crate::image) struct Rng(u64);

    impl Rng {
        pub(in crate::image) fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub(in crate::image) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    fn abgrz(half: bool) -> Vec<ChunkChannel<'static>> {
        ["A", "B", "G", "R", "Z"]
            .into_iter()
            .map(|name| ChunkChannel {
                name,
                half: half && name != "Z",
            })
            .collect()
    }

    fn chunk_len(channels: &[ChunkChannel], width: usize, lines: usize) -> usize {
        channels
            .iter()
            .map(ChunkChannel::sample_bytes)
            .sum::<usize>()
            * width
            * lines
    }

    #[test]
    fn huffman_round_trips() {
        let mut rng = Rng::new(7);
        let cases: Vec<Vec<u16>> = vec![
            vec![0],
            vec![65535],
            vec![5; 1000],                               // one long run, split at 256
            (0..5000).map(|i| (i % 3) as u16).collect(), // three symbols, no runs
            (0..20000).map(|_| rng.next() as u16).collect(), // near-uniform over 16 bits
            (0..20000).map(|_| (rng.next() % 7) as u16 * 1000).collect(),
            // Runs of every length around the 255 limit.
            (0..600u16)
                .flat_map(|n| std::iter::repeat_n(n % 2, n as usize))
                .collect(),
        ];
        for data in cases {
            let block = huf_compress(&data).expect("codes fit in 58 bits");
            assert_eq!(huf_decompress(&block, data.len()).unwrap(), data);
        }
    }

    #[test]
    fn long_runs_are_coded_as_runs() {
        // 100000 equal words need a run code per 256 words, not a code each.
        let block = huf_compress(&vec![42u16; 100_000]).unwrap();
        assert!(
            block.len() < 100_000 / 256 * 3 + 64,
            "{} bytes",
            block.len()
        );
    }

    #[test]
    fn canonical_codes_are_a_complete_prefix_code() {
        let mut rng = Rng::new(3);
        let freq: Vec<u64> = (0..3000).map(|_| rng.next() % 50).collect();
        let lengths = code_lengths(&freq).unwrap();
        let codes = canonical_codes(&lengths);
        // Kraft sum of a Huffman code is exactly 1.
        let kraft: f64 = lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 0.5f64.powi(l as i32))
            .sum();
        assert!((kraft - 1.0).abs() < 1e-12, "Kraft sum {kraft}");
        let used: Vec<(u8, u64)> = lengths
            .iter()
            .zip(&codes)
            .filter(|(&l, _)| l > 0)
            .map(|(&l, &c)| (l, c))
            .collect();
        for (i, &(la, ca)) in used.iter().enumerate() {
            assert!(ca >> la == 0, "code wider than its length");
            for &(lb, cb) in &used[i + 1..] {
                let l = la.min(lb);
                assert_ne!(ca >> (la - l), cb >> (lb - l), "one code prefixes another");
            }
        }
        // Longer codes are numerically smaller, as OpenEXR's decoder expects.
        let (short, long) = (
            lengths
                .iter()
                .min_by_key(|&&l| if l == 0 { 99 } else { l })
                .unwrap(),
            lengths.iter().max().unwrap(),
        );
        let first_of = |len: u8| {
            lengths
                .iter()
                .zip(&codes)
                .filter(|(&l, _)| l == len)
                .map(|(_, &c)| c << (64 - len as u32))
                .min()
                .unwrap()
        };
        assert!(first_of(*long) < first_of(*short));
    }

    #[test]
    fn codes_longer_than_58_bits_are_refused() {
        // Fibonacci frequencies give the deepest possible tree: 60 symbols
        // need a 59-bit code.
        let mut freq = vec![1u64, 1];
        while freq.len() < 60 {
            let n = freq.len();
            freq.push(freq[n - 1] + freq[n - 2]);
        }
        assert_eq!(code_lengths(&freq), None);
        assert!(code_lengths(&freq[..59]).is_some());
    }

    #[test]
    fn wavelet_round_trips() {
        let mut rng = Rng::new(11);
        for &(nx, ny) in &[
            (1, 1),
            (1, 33),
            (33, 1),
            (2, 2),
            (5, 3),
            (7, 32),
            (64, 31),
            (100, 33),
        ] {
            for &(max, stride) in &[
                ((1u16 << 14) - 1, 1),
                (u16::MAX, 1),
                (1000, 2),
                (u16::MAX, 2),
            ] {
                let n = nx * ny * stride;
                let orig: Vec<u16> = (0..n)
                    .map(|_| (rng.next() % (u64::from(max) + 1)) as u16)
                    .collect();
                for off in 0..stride {
                    let mut buf = orig.clone();
                    wavelet_encode(&mut buf[off..], nx, stride, ny, nx * stride, max);
                    if nx > 1 && ny > 1 {
                        assert_ne!(buf, orig, "{nx}x{ny} unchanged");
                    }
                    // The other interleaved half is untouched.
                    for (i, (a, b)) in buf.iter().zip(&orig).enumerate() {
                        if i % stride != off {
                            assert_eq!(a, b);
                        }
                    }
                    wavelet_decode(&mut buf[off..], nx, stride, ny, nx * stride, max);
                    assert_eq!(buf, orig, "{nx}x{ny} max {max} stride {stride}");
                }
            }
        }
    }

    #[test]
    fn piz_round_trips() {
        let mut rng = Rng::new(5);
        for half in [true, false] {
            let channels = abgrz(half);
            for &(width, lines) in &[(1, 1), (1, 32), (3, 31), (17, 32), (64, 33), (257, 7)] {
                let len = chunk_len(&channels, width, lines);
                let inputs: Vec<Vec<u8>> = vec![
                    vec![0; len],
                    (0..len).map(|_| rng.next() as u8).collect(),
                    // Smooth ramps: what PIZ is built for.
                    (0..len / 2)
                        .flat_map(|i| (((i % width) as u16 * 7) ^ 0x3c00).to_le_bytes())
                        .collect(),
                ];
                for raw in inputs {
                    let packed = compress_piz(&raw, &channels, width, lines);
                    assert!(packed.len() <= raw.len());
                    let back = decompress_piz(&packed, &channels, width, lines).unwrap();
                    assert!(back == raw, "{width}x{lines} half={half}");
                }
            }
        }
    }

    #[test]
    fn piz_shrinks_smooth_data_and_stores_noise_raw() {
        let channels = abgrz(true);
        let (width, lines) = (256, 32);
        let len = chunk_len(&channels, width, lines);
        let smooth: Vec<u8> = (0..len / 2)
            .flat_map(|i| (0x3800u16 + (i % width) as u16).to_le_bytes())
            .collect();
        let packed = compress_piz(&smooth, &channels, width, lines);
        assert!(
            packed.len() * 4 < smooth.len(),
            "{} of {}",
            packed.len(),
            smooth.len()
        );
        let mut rng = Rng::new(9);
        let noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert_eq!(compress_piz(&noise, &channels, width, lines), noise);
    }

    #[test]
    fn piz_is_deterministic() {
        let channels = abgrz(false);
        let mut rng = Rng::new(1);
        let raw: Vec<u8> = (0..chunk_len(&channels, 40, 32))
            .map(|i| {
                if i % 4 < 2 {
                    rng.next() as u8 & 3
                } else {
                    0x3f
                }
            })
            .collect();
        let a = compress_piz(&raw, &channels, 40, 32);
        assert!(a.len() < raw.len());
        assert_eq!(a, compress_piz(&raw, &channels, 40, 32));
    }
}
