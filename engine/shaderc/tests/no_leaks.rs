//! Failed compiles free everything they allocated (the `shaderc` crate leaked the C result of
//! every failed compile: about 240 bytes each, measured with the heap counter below).
//!
//! One test in its own process, so no other test allocates while the heap is counted.

use vksplat_shaderc::{
    compile_compute, compile_compute_with_headers, live_objects, validate_spirv,
};

const BAD: &str =
    "#version 450\nlayout(local_size_x = 64) in;\nvoid main() { this is not glsl; }\n";
const MISSING_INCLUDE: &str =
    "#version 450\n#include \"nowhere.glsl\"\nlayout(local_size_x = 64) in;\nvoid main() {}\n";
const GOOD: &str = "#version 450\nlayout(local_size_x = 64) in;\n\
                    layout(std430, binding = 0) buffer B { uint v[]; };\n\
                    void main() { v[gl_GlobalInvocationID.x] = 7u; }\n";

/// Every way a compile or a validation can end.
fn one_of_each() {
    assert!(compile_compute(BAD, "bad.comp", &[], &[]).is_err());
    assert!(compile_compute_with_headers(MISSING_INCLUDE, "inc.comp", &[], &[], &[]).is_err());
    let words = compile_compute(GOOD, "good.comp", &[], &[]).unwrap();
    validate_spirv(&words).unwrap();
    assert!(validate_spirv(&words[..words.len() / 2]).is_err());
}

#[test]
fn failed_compiles_and_validations_release_their_results() {
    one_of_each();
    // Every C object created was released: the guards own them on every path.
    assert_eq!(live_objects(), 0);

    // And the heap agrees: glibc's count of allocated bytes does not grow with the number of
    // failed compiles (warm-up above: glslang's per-process tables are allocated once).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let heap = || unsafe { libc::mallinfo2() }.uordblks as i64;
        for _ in 0..3 {
            one_of_each();
        }
        // Each failed compile takes ~0.1 s (glslang's set-up per compiler).
        let n = 30;
        let before = heap();
        for _ in 0..n {
            assert!(compile_compute(BAD, "bad.comp", &[], &[]).is_err());
            assert!(
                compile_compute_with_headers(MISSING_INCLUDE, "inc.comp", &[], &[], &[]).is_err()
            );
        }
        let grown = heap() - before;
        // A leak of the result alone is ~240 bytes per compile (~14 KB here).
        assert!(
            grown < 32 * n,
            "the heap grew by {grown} bytes over {n} failed compile pairs"
        );
        assert_eq!(live_objects(), 0);
    }
}
