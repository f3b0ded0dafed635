//! Device choice: the one place that decides between CPU, CUDA and Metal.

use candle_core::Device;

/// The best device this build can use: CUDA with the `cuda` feature, Metal with `metal`, otherwise the
/// CPU. A build with a GPU feature on a machine without that GPU falls back to the CPU (logged).
pub fn select_device() -> Device {
    #[cfg(feature = "cuda")]
    match Device::new_cuda(0) {
        Ok(device) => return device,
        Err(e) => tracing::warn!("CUDA requested but unavailable ({e}); using the CPU"),
    }
    #[cfg(feature = "metal")]
    match Device::new_metal(0) {
        Ok(device) => return device,
        Err(e) => tracing::warn!("Metal requested but unavailable ({e}); using the CPU"),
    }
    Device::Cpu
}
