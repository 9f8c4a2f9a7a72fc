//! The generated header `include/vksplat.h`: it compiles as C11 and C++17 with
//! `-Wall -Wextra -Werror` (and `-pedantic`), the C compiler agrees with Rust on every
//! struct's size, alignment and field offsets (vksplat_abi::layout::LAYOUTS), and the header's
//! own static assertions stop a program compiled with another layout of a struct. The header
//! being current is checked by the vksplat-gen-header crate's test.

use std::path::{Path, PathBuf};
use std::process::Command;

use vksplat_abi::layout::LAYOUTS;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("abi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn try_compile(
    compiler: &str,
    std: &str,
    include: &Path,
    src: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    Command::new(compiler)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-I")
        .arg(include)
        .args(extra)
        .arg(src)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"))
}

fn compile(compiler: &str, std: &str, src: &Path, out: &Path, extra: &[&str]) {
    let output = try_compile(compiler, std, &root().join("include"), src, out, extra);
    assert!(
        output.status.success(),
        "{compiler} -std={std} failed on {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn header_compiles_as_c11_and_cpp17_without_warnings() {
    let c = tmp("use_header.c");
    std::fs::write(
        &c,
        "#include \"vksplat.h\"\n\
         #include \"vksplat.h\" /* include guard */\n\
         int main(void) {\n\
           VksplatCamera cam = {VKSPLAT_STRUCT_CAMERA, sizeof cam, NULL, 1, 1, 1.f, 1.f, 0.5f, 0.5f, {0},\
                                VKSPLAT_PROJECTION_PERSPECTIVE, 0};\n\
           VksplatNegotiateFn f = 0;\n\
           (void)f;\n\
           return (int)(cam.width - 1u) + (VKSPLAT_ERROR_PANIC < 0 ? 0 : 1) +\n\
                  (VKSPLAT_MAKE_VERSION(0, 1, 0) == VKSPLAT_VERSION ? 0 : 1);\n\
         }\n",
    )
    .unwrap();
    compile("cc", "c11", &c, &tmp("use_header_c.o"), &["-c"]);
    let cpp = tmp("use_header.cpp");
    std::fs::write(
        &cpp,
        "#include \"vksplat.h\"\n\
         #include <cstdint>\n\
         static_assert(sizeof(VksplatPluginApi) == VKSPLAT_PLUGIN_API_V1_SIZE, \"v1 table\");\n\
         static_assert(VKSPLAT_LAYOUT_FINGERPRINT != 0, \"fingerprint\");\n\
         extern \"C\" VKSPLAT_PLUGIN_EXPORT VksplatResult vksplat_plugin_negotiate(VksplatNegotiation *n) {\n\
           n->plugin_abi_version = VKSPLAT_PLUGIN_ABI_VERSION;\n\
           return VKSPLAT_OK;\n\
         }\n\
         int main() { VksplatImage img{}; img.s_type = VKSPLAT_STRUCT_IMAGE; img.s_size = sizeof img; return static_cast<int>(img.width); }\n",
    )
    .unwrap();
    compile("c++", "c++17", &cpp, &tmp("use_header_cpp.o"), &["-c"]);
}

#[test]
fn c_and_rust_agree_on_every_struct_layout() {
    let mut src = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <stdalign.h>\n#include \"vksplat.h\"\nint main(void) {\n",
    );
    for l in LAYOUTS {
        src += &format!(
            "  printf(\"{0} %zu %zu\\n\", sizeof({0}), alignof({0}));\n",
            l.name
        );
        for f in l.fields {
            src += &format!(
                "  printf(\"{0}.{1} %zu %zu\\n\", offsetof({0}, {1}), sizeof((({0}*)0)->{1}));\n",
                l.name, f.name
            );
        }
    }
    src += "  return 0;\n}\n";
    let c = tmp("layouts.c");
    std::fs::write(&c, src).unwrap();
    let exe = tmp("layouts");
    compile("cc", "c11", &c, &exe, &[]);
    let out = Command::new(&exe).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut want = String::new();
    for l in LAYOUTS {
        want += &format!("{} {} {}\n", l.name, l.size, l.align);
        for f in l.fields {
            want += &format!("{}.{} {} {}\n", l.name, f.name, f.offset, f.size);
        }
    }
    assert_eq!(text, want, "C and Rust layouts differ");
    assert!(LAYOUTS.len() >= 20);
}

#[test]
fn header_asserts_every_struct_layout() {
    let header = std::fs::read_to_string(root().join("include/vksplat.h")).unwrap();
    for l in LAYOUTS {
        assert!(
            header.contains(&format!(
                "VKSPLAT_LAYOUT_ASSERT(sizeof({0}) == {1}, ",
                l.name, l.size
            )),
            "no size assertion for {}",
            l.name
        );
        for f in l.fields {
            assert!(
                header.contains(&format!(
                    "VKSPLAT_LAYOUT_ASSERT(offsetof({0}, {1}) == {2}, ",
                    l.name, f.name, f.offset
                )),
                "no offset assertion for {}.{}",
                l.name,
                f.name
            );
        }
    }
}

/// A program compiled against a header whose `VksplatRenderDesc` has another layout (a field
/// more, as another version could have) stops at the header's assertions, in C and C++.
#[test]
fn a_program_with_another_struct_layout_does_not_compile() {
    let header = std::fs::read_to_string(root().join("include/vksplat.h")).unwrap();
    let start = header.find("typedef struct VksplatRenderDesc {").unwrap();
    let field = start + header[start..].find("  uint32_t mode;\n").unwrap();
    let mutated = format!(
        "{}  uint32_t added_by_another_version;\n{}",
        &header[..field],
        &header[field..]
    );
    let include = tmp("mutated-include");
    std::fs::create_dir_all(&include).unwrap();
    std::fs::write(include.join("vksplat.h"), mutated).unwrap();
    for (compiler, std, name) in [("cc", "c11", "plugin.c"), ("c++", "c++17", "plugin.cpp")] {
        let src = tmp(name);
        std::fs::write(
            &src,
            "#include \"vksplat.h\"\nint main(void) { return 0; }\n",
        )
        .unwrap();
        let out = try_compile(compiler, std, &include, &src, &tmp("mutated.o"), &["-c"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{compiler} accepted a different layout"
        );
        assert!(
            stderr.contains("offsetof(VksplatRenderDesc, background) is 20"),
            "{compiler}: {stderr}"
        );
    }
    // The same source against the real header compiles.
    let src = tmp("plugin_ok.c");
    std::fs::write(
        &src,
        "#include \"vksplat.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    compile("cc", "c11", &src, &tmp("ok.o"), &["-c"]);
}
