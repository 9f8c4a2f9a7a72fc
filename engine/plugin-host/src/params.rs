//! Plugin parameters: what a plugin declares ([`ParamInfo`]), the values an instance holds
//! ([`ParamValue`]) and the one check both the command line and the C API go through.
//!
//! Invariant: every value an [`crate::Instance`] passes to its plugin has passed
//! [`check_value`] against the parameter's declared type, count and range.

use crate::error::PluginError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Float,
    Int,
    FloatArray,
    /// Text read at open only (`VKSPLAT_PARAM_TEXT`): passed to the plugin unchanged, never
    /// parsed as a number.
    Text,
}

/// One parameter a plugin instance takes.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub description: String,
    pub ty: ParamType,
    /// Read at open, not per frame.
    pub open: bool,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub components: u32,
    pub min_count: u32,
    pub max_count: u32,
}

impl ParamInfo {
    /// "float in [0, 1], default 0.5" etc.
    pub fn summary(&self) -> String {
        match self.ty {
            ParamType::Float => format!(
                "float in [{}, {}], default {}",
                self.min, self.max, self.default
            ),
            ParamType::Int => format!(
                "int in [{}, {}], default {}",
                self.min, self.max, self.default
            ),
            ParamType::FloatArray => format!(
                "{}..={} element(s) of {} float(s) in [{}, {}]",
                self.min_count, self.max_count, self.components, self.min, self.max
            ),
            ParamType::Text => "text, read at open".into(),
        }
    }
}

/// A parameter's current value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Scalar(f64),
    /// Floats; empty means "not set" (the plugin's default).
    Array(Vec<f32>),
}

pub(crate) fn parse_floats(plugin: &str, key: &str, value: &str) -> Result<Vec<f32>, PluginError> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|s| {
            s.trim().parse::<f32>().map_err(|_| {
                PluginError::Param(format!(
                    "plugin '{plugin}': parameter '{key}': '{}' is not a number",
                    s.trim()
                ))
            })
        })
        .collect()
}

pub(crate) fn check_value(plugin: &str, p: &ParamInfo, values: &[f32]) -> Result<(), PluginError> {
    let bad = |why: String| {
        PluginError::Param(format!("plugin '{plugin}': parameter '{}': {why}", p.name))
    };
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(bad(format!("{v} is not finite")));
    }
    let range = |v: f32| {
        if (v as f64) < p.min || (v as f64) > p.max {
            Err(bad(format!("{v} is outside [{}, {}]", p.min, p.max)))
        } else {
            Ok(())
        }
    };
    match p.ty {
        ParamType::Float | ParamType::Int => {
            if values.len() != 1 {
                return Err(bad(format!("expected one number, got {}", values.len())));
            }
            if p.ty == ParamType::Int && values[0].fract() != 0.0 {
                return Err(bad(format!("{} is not an integer", values[0])));
            }
            range(values[0])
        }
        ParamType::FloatArray => {
            let c = p.components as usize;
            if !values.len().is_multiple_of(c) {
                return Err(bad(format!(
                    "{} floats is not a whole number of {c}-float elements",
                    values.len()
                )));
            }
            let count = (values.len() / c) as u32;
            if count != 0 && !(p.min_count..=p.max_count).contains(&count) {
                return Err(bad(format!(
                    "{count} element(s), expected {}..={}",
                    p.min_count, p.max_count
                )));
            }
            values.iter().try_for_each(|&v| range(v))
        }
        ParamType::Text => Err(bad(
            "is a text option read at open, not a number that can be set per frame".into(),
        )),
    }
}

/// Checks what a plugin declared about its parameters, when an instance is opened: names are
/// unique; bounds are finite with min ≤ max; a scalar's default (the value the plugin is sent
/// until one is set) lies inside them, and is an integer for an int parameter; an array's
/// element counts have min_count ≤ max_count. A plugin fault naming the parameter otherwise:
/// the host would send the plugin values outside the range it declared.
pub(crate) fn check_declared(plugin: &str, params: &[ParamInfo]) -> Result<(), PluginError> {
    for (i, p) in params.iter().enumerate() {
        let bad = |why: String| {
            PluginError::Plugin(format!(
                "plugin '{plugin}': describe: parameter '{}': {why}",
                p.name
            ))
        };
        if params[..i].iter().any(|o| o.name == p.name) {
            return Err(bad("declared twice".into()));
        }
        if p.ty == ParamType::Text {
            if !p.open {
                return Err(bad(
                    "a text parameter must be read at open (VKSPLAT_PARAM_OPEN)".into(),
                ));
            }
            continue;
        }
        if !p.min.is_finite() || !p.max.is_finite() || p.min > p.max {
            return Err(bad(format!("range [{}, {}] is not a range", p.min, p.max)));
        }
        match p.ty {
            ParamType::Float | ParamType::Int => {
                if !(p.min..=p.max).contains(&p.default) {
                    return Err(bad(format!(
                        "default {} is outside [{}, {}]",
                        p.default, p.min, p.max
                    )));
                }
                if p.ty == ParamType::Int && p.default.fract() != 0.0 {
                    return Err(bad(format!("default {} is not an integer", p.default)));
                }
            }
            ParamType::Text => {}
            ParamType::FloatArray => {
                if p.min_count > p.max_count {
                    return Err(bad(format!(
                        "element counts {}..={} are not a range",
                        p.min_count, p.max_count
                    )));
                }
            }
        }
    }
    Ok(())
}
