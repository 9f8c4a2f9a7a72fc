//! Fallible host allocation, for every buffer whose size comes from an input file or a flag.
//!
//! `Vec::with_capacity` and `vec![x; n]` abort the whole process (SIGABRT, exit 134) when the
//! allocator refuses, which is what a render-farm node with a memory limit does for a
//! well-formed but large scene or image. Every such size in vksplat goes through this module
//! instead, so the failure is an error value ([`AllocError`], `IoError::OutOfMemory`, exit 7 in
//! the CLI) that names the number of bytes. The engine crates use these helpers too (one
//! implementation for the workspace).
//!
//! Invariants: a helper either returns a buffer of the requested length or an [`AllocError`];
//! it never aborts for a size a caller passes (sizes whose byte count overflows `usize` are
//! errors too). [`zeroed`] first reserves the whole buffer with `try_reserve_exact` and then
//! takes it from the allocator's lazily zeroed pages (`calloc`), so a large array is not
//! written twice; the reservation is released just before, so another thread could in
//! principle take the memory in between (the only window in which an allocation can still
//! abort).

use std::path::Path;

use crate::IoError;

/// An allocation of `bytes` bytes that the allocator refused (or that cannot be addressed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError {
    /// The size of the failed request.
    pub bytes: u64,
}

impl AllocError {
    /// The error for `path` (the file whose contents or output needed the memory).
    pub fn at(self, path: &Path) -> IoError {
        IoError::out_of_memory(path, self.bytes)
    }
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "needs {} bytes of host memory, which this process cannot allocate",
            self.bytes
        )
    }
}

impl std::error::Error for AllocError {}

/// Bytes of `n` values of `T`, saturating (a saturated size never allocates).
pub fn bytes_of<T>(n: usize) -> u64 {
    (n as u64).saturating_mul(std::mem::size_of::<T>() as u64)
}

/// An empty vector with room for exactly `n` values.
pub fn with_capacity<T>(n: usize) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    reserve(&mut v, n)?;
    Ok(v)
}

/// Makes room for `additional` more values in `v`.
pub fn reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<(), AllocError> {
    v.try_reserve_exact(additional).map_err(|_| AllocError {
        bytes: bytes_of::<T>(v.len().saturating_add(additional)),
    })
}

/// Checks that this process can get `bytes` of host memory now (reserved and released at
/// once; nothing is touched). For memory another library allocates (e.g. a driver's mapped
/// buffers), so that a request it would refuse, or abort on, is reported first.
pub fn probe(bytes: u64) -> Result<(), AllocError> {
    let n = usize::try_from(bytes).map_err(|_| AllocError { bytes })?;
    with_capacity::<u8>(n).map(drop)
}

/// `n` copies of `value`. When `value` is all zero bits (0.0, [0.0; 3], 0u8, …) the memory
/// comes from the allocator's zeroed pages and is not written here.
pub fn filled<T: Clone>(n: usize, value: T) -> Result<Vec<T>, AllocError> {
    // Reserve first: this is the allocation that may fail, without aborting.
    drop(with_capacity::<T>(n)?);
    Ok(vec![value; n])
}

/// `n` values of `T::default()`, see [`filled`]; for the numeric arrays of the decoders.
pub fn zeroed<T: Clone + Default>(n: usize) -> Result<Vec<T>, AllocError> {
    filled(n, T::default())
}

/// A copy of `src`.
pub fn copy_of<T: Clone>(src: &[T]) -> Result<Vec<T>, AllocError> {
    let mut v = with_capacity(src.len())?;
    v.extend_from_slice(src);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_errors_not_aborts() {
        let e = with_capacity::<u64>(usize::MAX / 4).unwrap_err();
        assert_eq!(e.bytes, u64::MAX);
        let e = zeroed::<[f32; 4]>(1 << 58).unwrap_err();
        assert_eq!(e.bytes, 1u64 << 62);
        assert!(probe(u64::MAX).is_err());
        let msg = e.at(Path::new("big.ply")).to_string();
        assert!(
            msg.starts_with("big.ply: needs 4611686018427387904 bytes"),
            "{msg}"
        );
    }

    #[test]
    fn small_sizes_work() {
        assert_eq!(zeroed::<[f32; 3]>(3).unwrap(), vec![[0.0; 3]; 3]);
        assert_eq!(filled(2, 7u8).unwrap(), vec![7, 7]);
        assert_eq!(copy_of(&[1, 2, 3]).unwrap(), vec![1, 2, 3]);
        assert!(with_capacity::<u8>(10).unwrap().capacity() >= 10);
        probe(1 << 20).unwrap();
    }
}
