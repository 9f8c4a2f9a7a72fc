//! `cargo run -p vksplat-gen-header [-- --check]`: writes include/vksplat.h, or with `--check`
//! exits 1 when the checked-in header differs from the generated one.

#![forbid(unsafe_code)]

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let header = match vksplat_gen_header::generate() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let path = vksplat_gen_header::header_path();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if check {
        if current != header {
            eprintln!(
                "error: {} is out of date; run `cargo run -p vksplat-gen-header`",
                path.display()
            );
            std::process::exit(1);
        }
        return;
    }
    if current != header {
        if let Err(e) = std::fs::write(&path, header) {
            eprintln!("error: {}: cannot write: {e}", path.display());
            std::process::exit(1);
        }
        eprintln!("wrote {}", path.display());
    }
}
