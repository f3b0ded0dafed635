//! How far the integer kernels (prompt panels, the int8 embedder, the AVX-512 decoding kernels)
//! may go: to every VNNI the CPU has, or, where `CAIRN_VNNI` says so, less, to measure on one
//! machine what a CPU with fewer instructions runs. `avx` keeps them to AVX-VNNI (256-bit, as on
//! most laptops since Alder Lake; decoding on the AVX2 kernels), `none` to no VNNI (prompts
//! through the f32 GEMM, the embedder in f32 unless asked for int8). candle's GEMM still uses
//! what the CPU has: build without `gemm`'s `x86-v4` feature to hold it to AVX2.

use std::sync::OnceLock;

/// The widest VNNI the kernels may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum VnniLimit {
    None,
    Avx,
    Avx512,
}

/// What `CAIRN_VNNI` allows (`avx512`, the default, allows everything), read once.
pub(crate) fn vnni_limit() -> VnniLimit {
    static LIMIT: OnceLock<VnniLimit> = OnceLock::new();
    *LIMIT.get_or_init(|| match std::env::var("CAIRN_VNNI").ok().as_deref() {
        Some("none") => VnniLimit::None,
        Some("avx") => VnniLimit::Avx,
        Some("avx512") | None => VnniLimit::Avx512,
        Some(other) => {
            tracing::warn!("CAIRN_VNNI={other} is not avx512, avx or none; ignored");
            VnniLimit::Avx512
        }
    })
}

/// Those of `kernels` (each with the VNNI it needs) that the limit allows, in their order.
pub(crate) fn allowed<T>(
    kernels: impl IntoIterator<Item = (VnniLimit, T)>,
) -> impl Iterator<Item = T> {
    let limit = vnni_limit();
    kernels
        .into_iter()
        .filter(move |(needs, _)| *needs <= limit)
        .map(|(_, kernel)| kernel)
}

/// The first of `kernels` (fastest first, each with the VNNI it needs) that the limit allows.
pub(crate) fn fastest_allowed<T>(kernels: impl IntoIterator<Item = (VnniLimit, T)>) -> Option<T> {
    allowed(kernels).next()
}
