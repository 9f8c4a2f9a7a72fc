// The engine's kernels as build.rs compiles them: (SPIR-V name, source under shaders/,
// `#define`s). Included by build.rs, and by a unit test of src/shaders.rs that checks its
// KERNELS table names exactly these.
/// `#define NAME VALUE` pairs of one kernel.
type Defines = &'static [(&'static str, &'static str)];

const KERNEL_SOURCES: &[(&str, &str, Defines)] = &[
    ("preprocess", "preprocess.comp", &[]),
    ("scan_reduce", "scan.comp", &[("SCAN_STEP", "1")]),
    ("scan_blocks", "scan.comp", &[("SCAN_STEP", "2")]),
    ("scan_downsweep", "scan.comp", &[("SCAN_STEP", "3")]),
    ("sort_histogram", "radix_sort.comp", &[("SORT_STEP", "1")]),
    ("sort_scatter", "radix_sort.comp", &[("SORT_STEP", "2")]),
    ("dispatch_args", "dispatch_args.comp", &[]),
    ("emit_keys", "emit_keys.comp", &[]),
    ("tile_ranges", "tile_ranges.comp", &[]),
    ("blend", "blend.comp", &[]),
    ("blend_cpu", "blend_cpu.comp", &[]),
    ("sort_histogram_cpu", "radix_sort_cpu.comp", &[("SORT_STEP", "1")]),
    ("sort_offsets_cpu", "radix_sort_cpu.comp", &[("SORT_STEP", "2")]),
    ("sort_scatter_cpu", "radix_sort_cpu.comp", &[("SORT_STEP", "3")]),
    ("tile_ranges_cpu", "tile_ranges_cpu.comp", &[]),
    ("scan_reduce_cpu", "scan_cpu.comp", &[("SCAN_STEP", "1")]),
    ("scan_blocks_cpu", "scan_cpu.comp", &[("SCAN_STEP", "2")]),
    ("scan_downsweep_cpu", "scan_cpu.comp", &[("SCAN_STEP", "3")]),
    // preprocess specialised per SH degree and storage (CPU devices), in
    // Kernels::preprocess_for order: degree * 2 + half.
    ("preprocess_sh0", "preprocess.comp", &[("SH_MAX_DEGREE", "0"), ("SH_HALF", "0")]),
    ("preprocess_sh0_half", "preprocess.comp", &[("SH_MAX_DEGREE", "0"), ("SH_HALF", "1")]),
    ("preprocess_sh1", "preprocess.comp", &[("SH_MAX_DEGREE", "1"), ("SH_HALF", "0")]),
    ("preprocess_sh1_half", "preprocess.comp", &[("SH_MAX_DEGREE", "1"), ("SH_HALF", "1")]),
    ("preprocess_sh2", "preprocess.comp", &[("SH_MAX_DEGREE", "2"), ("SH_HALF", "0")]),
    ("preprocess_sh2_half", "preprocess.comp", &[("SH_MAX_DEGREE", "2"), ("SH_HALF", "1")]),
    ("preprocess_sh3", "preprocess.comp", &[("SH_MAX_DEGREE", "3"), ("SH_HALF", "0")]),
    ("preprocess_sh3_half", "preprocess.comp", &[("SH_MAX_DEGREE", "3"), ("SH_HALF", "1")]),
    // blend_cpu for the expected depth kind outside INRIA mode, no occluder (Kernels::blend_for).
    ("blend_cpu_expected", "blend_cpu.comp", &[("BLEND_EXPECTED", "1")]),
    ("emit_keys_cpu", "emit_keys_cpu.comp", &[]),
    // preprocess_sh3 reading a static scene's arrays as texels (CPU devices, when they fit).
    (
        "preprocess_sh3_texels",
        "preprocess.comp",
        &[("SH_MAX_DEGREE", "3"), ("SH_HALF", "0"), ("SCENE_TEXELS", "1")],
    ),
    // The CPU radix sort's passes reading their input pairs as texels (when they fit).
    ("sort_histogram_cpu_texels", "radix_sort_cpu.comp", &[("SORT_STEP", "1"), ("KEY_TEXELS", "1")]),
    ("sort_scatter_cpu_texels", "radix_sort_cpu.comp", &[("SORT_STEP", "3"), ("KEY_TEXELS", "1")]),
];
