//! Base colour: the material factor (linear) times the texture (sRGB-encoded PNG or JPEG),
//! sampled bilinearly in linear space with repeat wrapping (glTF's default sampler) and
//! returned sRGB-encoded, the space splat colours are stored in.

use std::sync::Arc;

/// A decoded image: linear RGB, row-major from the top row (glTF UV (0, 0) is the top left).
#[derive(Clone, Debug)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub linear_rgb: Vec<[f32; 3]>,
}

/// A material's base colour.
#[derive(Clone, Debug)]
pub struct Material {
    /// baseColorFactor (linear RGBA).
    pub factor: [f32; 4],
    pub texture: Option<Arc<Image>>,
}

/// Largest decoded image (pixels), a bound on memory for hostile input.
const MAX_PIXELS: usize = 1 << 26;

pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

pub fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

impl Image {
    /// Decodes a PNG or JPEG (by signature).
    pub fn decode(bytes: &[u8]) -> Result<Image, String> {
        let (width, height, rgb8) = if bytes.starts_with(b"\x89PNG") {
            decode_png(bytes)?
        } else if bytes.starts_with(&[0xFF, 0xD8]) {
            decode_jpeg(bytes)?
        } else {
            return Err("not a PNG or JPEG image".into());
        };
        let lut: Vec<f32> = (0..256).map(|v| srgb_to_linear(v as f32 / 255.0)).collect();
        let linear_rgb = rgb8
            .chunks_exact(3)
            .map(|p| [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]])
            .collect();
        Ok(Image {
            width,
            height,
            linear_rgb,
        })
    }

    /// Bilinear sample at UV, repeat wrapping, texel centres at (i + 0.5) / width.
    pub fn sample(&self, uv: [f32; 2]) -> [f32; 3] {
        let (w, h) = (self.width as f32, self.height as f32);
        let x = uv[0] * w - 0.5;
        let y = uv[1] * h - 0.5;
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let wrap = |v: f32, n: usize| -> usize {
            let n = n as i64;
            (((v as i64) % n + n) % n) as usize
        };
        let (xa, xb) = (wrap(x0, self.width), wrap(x0 + 1.0, self.width));
        let (ya, yb) = (wrap(y0, self.height), wrap(y0 + 1.0, self.height));
        let px = |x: usize, y: usize| self.linear_rgb[y * self.width + x];
        let mut out = [0f32; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let top = px(xa, ya)[c] * (1.0 - fx) + px(xb, ya)[c] * fx;
            let bottom = px(xa, yb)[c] * (1.0 - fx) + px(xb, yb)[c] * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
        out
    }
}

impl Material {
    /// The sRGB base colour at UV (the factor alone without a texture or UVs).
    pub fn colour(&self, uv: Option<[f32; 2]>) -> [f32; 3] {
        let tex = match (&self.texture, uv) {
            (Some(t), Some(uv)) if uv.iter().all(|x| x.is_finite()) => t.sample(uv),
            _ => [1.0; 3],
        };
        [0, 1, 2].map(|c| linear_to_srgb(self.factor[c] * tex[c]))
    }
}

fn decode_png(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| format!("PNG: {e}"))?;
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    if w == 0 || h == 0 || w.saturating_mul(h) > MAX_PIXELS {
        return Err(format!("PNG: {w}x{h} pixels is empty or too large"));
    }
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG: {e}"))?;
    let data = &buf[..frame.buffer_size()];
    let channels = frame.color_type.samples();
    let mut rgb = Vec::with_capacity(w * h * 3);
    for p in data.chunks_exact(channels) {
        match channels {
            1 | 2 => rgb.extend_from_slice(&[p[0], p[0], p[0]]),
            _ => rgb.extend_from_slice(&p[..3]),
        }
    }
    Ok((w, h, rgb))
}

fn decode_jpeg(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
    decoder.read_info().map_err(|e| format!("JPEG: {e}"))?;
    let info = decoder.info().ok_or("JPEG: no header")?;
    let (w, h) = (info.width as usize, info.height as usize);
    if w == 0 || h == 0 || w.saturating_mul(h) > MAX_PIXELS {
        return Err(format!("JPEG: {w}x{h} pixels is empty or too large"));
    }
    let pixels = decoder.decode().map_err(|e| format!("JPEG: {e}"))?;
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|v| [v[0], v[0], v[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => return Err("JPEG: CMYK is not supported".into()),
    };
    if rgb.len() != w * h * 3 {
        return Err("JPEG: decoded size does not match the header".into());
    }
    Ok((w, h, rgb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trip() {
        for v in [0.0, 0.002, 0.2, 0.5, 0.9, 1.0] {
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-5);
        }
    }

    #[test]
    fn bilinear_repeat() {
        let img = Image {
            width: 2,
            height: 1,
            linear_rgb: vec![[0.0; 3], [1.0; 3]],
        };
        // Texel centres.
        assert_eq!(img.sample([0.25, 0.5])[0], 0.0);
        assert_eq!(img.sample([0.75, 0.5])[0], 1.0);
        // Halfway between, and across the repeat seam.
        assert!((img.sample([0.5, 0.5])[0] - 0.5).abs() < 1e-6);
        assert!((img.sample([0.0, 0.5])[0] - 0.5).abs() < 1e-6);
        assert!((img.sample([1.25, 0.5])[0] - 0.0).abs() < 1e-6);
    }
}
