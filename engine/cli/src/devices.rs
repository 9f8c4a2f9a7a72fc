//! `vksplat devices`: the Vulkan devices this machine offers and whether vksplat can use them.
//!
//! The indices are the ones `--device INDEX` takes. Exit status 5 when no device is usable (or
//! no Vulkan loader is installed), so a farm can probe a node with this command.

use std::io::Write;

use clap::Args;
use serde_json::json;
use vksplat_core::{Context, DeviceInfo};

use crate::error::{stdout_error, CliError};

/// Arguments of `vksplat devices`.
#[derive(Args, Debug)]
pub struct DevicesArgs {
    /// Print a JSON list instead of text.
    #[arg(long)]
    pub json: bool,
}

fn kind_name(d: &DeviceInfo) -> String {
    format!("{:?}", d.kind).to_ascii_lowercase()
}

fn api(d: &DeviceInfo) -> String {
    let (major, minor, patch) = d.api_version;
    format!("{major}.{minor}.{patch}")
}

/// Runs `vksplat devices`.
pub fn run(args: &DevicesArgs) -> Result<(), CliError> {
    let devices = Context::list_devices()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = devices
            .iter()
            .map(|d| {
                json!({
                    "index": d.index,
                    "name": d.name,
                    "kind": kind_name(d),
                    "api_version": api(d),
                    "subgroup_size": d.subgroup_size,
                    "max_storage_buffer_range": d.max_storage_buffer_range,
                    "usable": d.unusable.is_none(),
                    "unusable_reason": d.unusable,
                })
            })
            .collect();
        writeln!(out, "{:#}", serde_json::Value::Array(list)).map_err(stdout_error)?;
    } else {
        for d in &devices {
            let status = match &d.unusable {
                None => "usable".to_string(),
                Some(why) => format!("UNUSABLE: {why}"),
            };
            writeln!(
                out,
                "{}: {} [{}] Vulkan {}, subgroup size {}, max storage buffer range {} bytes \
                 ({:.0} MiB): {status}",
                d.index,
                d.name,
                kind_name(d),
                api(d),
                d.subgroup_size,
                d.max_storage_buffer_range,
                d.max_storage_buffer_range as f64 / (1024.0 * 1024.0),
            )
            .map_err(stdout_error)?;
        }
    }
    out.flush().map_err(stdout_error)?;
    if devices.iter().all(|d| d.unusable.is_some()) {
        return Err(CliError::NoDevice(if devices.is_empty() {
            "no Vulkan device found (install a driver; mesa-vulkan-drivers provides a CPU one)"
                .into()
        } else {
            format!(
                "none of the {} Vulkan device(s) is usable by vksplat",
                devices.len()
            )
        }));
    }
    Ok(())
}
