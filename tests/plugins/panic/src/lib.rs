//! Test fixture: a Rust plugin whose CPU frame panics. The SDK must catch the panic, the host
//! must report it naming the plugin, and keep working.

use vksplat_plugin_sdk::abi::VKSPLAT_OUTPUT_MEANS;
use vksplat_plugin_sdk::{export_plugin, Description, Error, FrameInput, Plugin, SplatArrays};

pub struct Panics;

impl Plugin for Panics {
    const NAME: &'static std::ffi::CStr = c"panics";
    const VERSION: &'static std::ffi::CStr = c"0.0.1";

    fn open(_source: Option<&str>, _options: &[(&str, &str)]) -> Result<Self, Error> {
        Ok(Panics)
    }

    fn describe(&self) -> Description<'_> {
        Description {
            splat_count: 16,
            outputs: VKSPLAT_OUTPUT_MEANS,
            ..Default::default()
        }
    }

    fn cpu_frame(&mut self, input: &FrameInput, _out: &mut SplatArrays) -> Result<(), Error> {
        panic!("deliberate panic at time {}", input.time);
    }
}

export_plugin!(Panics);
