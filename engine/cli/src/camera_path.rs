//! Camera-source flags of `vksplat render`: `--orbit N[,radius[,height]]` and `--up X,Y,Z`.
//!
//! Only the argument parsing lives here; the cameras themselves come from vksplat-io, so that
//! every host computes the same ones: camera files of every form (explicit, INRIA
//! `cameras.json`, nerfstudio `camera_path.json`) through `vksplat_io::camera::load_camera_path`, the
//! turntable through `vksplat_io::camera::orbit` and the automatic camera through
//! `vksplat_io::camera::auto_camera`.

pub use vksplat_io::camera::OrbitSpec;

/// Parses `--orbit`.
pub fn parse_orbit(s: &str) -> Result<OrbitSpec, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() > 3 {
        return Err(format!(
            "expected N[,radius[,height]], got {} values",
            parts.len()
        ));
    }
    let frames: u32 = parts[0]
        .parse()
        .ok()
        .filter(|&n| (1..=1_000_000).contains(&n))
        .ok_or_else(|| format!("'{}' is not a frame count in 1..=1000000", parts[0]))?;
    let num = |i: usize, what: &str, positive: bool| -> Result<Option<f64>, String> {
        match parts.get(i) {
            None => Ok(None),
            Some(p) => p
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && (!positive || *v > 0.0))
                .map(Some)
                .ok_or_else(|| {
                    let need = if positive { "a positive" } else { "a finite" };
                    format!("{what} '{p}' is not {need} number")
                }),
        }
    };
    Ok(OrbitSpec {
        frames,
        radius: num(1, "radius", true)?,
        height: num(2, "height", false)?,
    })
}

/// Parses `--up X,Y,Z` (any non-zero finite vector).
pub fn parse_up(s: &str) -> Result<[f64; 3], String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("'{s}' is not three finite numbers X,Y,Z"))?;
    if v.len() != 3 || v.iter().all(|&c| c == 0.0) {
        return Err(format!("'{s}' is not a non-zero vector X,Y,Z"));
    }
    Ok([v[0], v[1], v[2]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orbit_parsing() {
        assert_eq!(
            parse_orbit("120").unwrap(),
            OrbitSpec {
                frames: 120,
                radius: None,
                height: None
            }
        );
        assert_eq!(parse_orbit("4,2.5").unwrap().radius, Some(2.5));
        assert_eq!(parse_orbit("4,2.5,-1").unwrap().height, Some(-1.0));
        for bad in ["0", "-1", "x", "4,0", "4,-2", "4,1,nan", "4,1,2,3", ""] {
            assert!(parse_orbit(bad).is_err(), "{bad}");
        }
        assert!(parse_up("0,0,0").is_err());
        assert!(parse_up("0,1").is_err());
        assert_eq!(parse_up("0, 0, 1").unwrap(), [0.0, 0.0, 1.0]);
    }
}
