//! The weight formats the runtime computes with, byte for byte as GGUF stores them (ggml's block
//! layouts): nothing is converted at load, so a model takes the memory its file takes.

use candle_core::quantized::GgmlDType;

/// Values in a K-quant super-block.
pub const QK_K: usize = 256;
/// Values in a block of the 32-value formats.
pub const QK: usize = 32;

/// A weight format, with ggml's block layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `d: f16, qs: [u8; 16]`: `(q - 8) · d`.
    Q4_0,
    /// `d: f16, m: f16, qs: [u8; 16]`: `q · d + m`.
    Q4_1,
    /// `d: f16, qh: u32, qs: [u8; 16]`: `(q - 16) · d`, the fifth bit in `qh`.
    Q5_0,
    /// `d: f16, m: f16, qh: u32, qs: [u8; 16]`: `q · d + m`.
    Q5_1,
    /// `d: f16, qs: [i8; 32]`: `q · d`.
    Q8_0,
    /// 256 values in 8 groups of 32 with 6-bit scales and mins: `d: f16, dmin: f16,
    /// scales: [u8; 12], qs: [u8; 128]`.
    Q4K,
    /// As Q4K with a fifth bit: `d, dmin, scales: [u8; 12], qh: [u8; 32], qs: [u8; 128]`.
    Q5K,
    /// 256 values in 16 groups of 16 with 8-bit scales: `ql: [u8; 128], qh: [u8; 64],
    /// scales: [i8; 16], d: f16`.
    Q6K,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// Single precision.
    F32,
}

impl Format {
    /// The format of a GGUF tensor type, or `None` for one the runtime does not compute with.
    pub fn from_ggml(dtype: GgmlDType) -> Option<Format> {
        Some(match dtype {
            GgmlDType::Q4_0 => Format::Q4_0,
            GgmlDType::Q4_1 => Format::Q4_1,
            GgmlDType::Q5_0 => Format::Q5_0,
            GgmlDType::Q5_1 => Format::Q5_1,
            GgmlDType::Q8_0 => Format::Q8_0,
            GgmlDType::Q4K => Format::Q4K,
            GgmlDType::Q5K => Format::Q5K,
            GgmlDType::Q6K => Format::Q6K,
            GgmlDType::F16 => Format::F16,
            GgmlDType::BF16 => Format::BF16,
            GgmlDType::F32 => Format::F32,
            _ => return None,
        })
    }

    /// Values per block.
    pub fn block_values(self) -> usize {
        match self {
            Format::Q4_0 | Format::Q4_1 | Format::Q5_0 | Format::Q5_1 | Format::Q8_0 => QK,
            Format::Q4K | Format::Q5K | Format::Q6K => QK_K,
            Format::F16 | Format::BF16 | Format::F32 => 1,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Format::Q4_0 => 18,
            Format::Q4_1 => 20,
            Format::Q5_0 => 22,
            Format::Q5_1 => 24,
            Format::Q8_0 => 34,
            Format::Q4K => 144,
            Format::Q5K => 176,
            Format::Q6K => 210,
            Format::F16 | Format::BF16 => 2,
            Format::F32 => 4,
        }
    }

    /// Bytes of a row of `cols` values (`cols` a multiple of [`Format::block_values`]).
    pub fn row_bytes(self, cols: usize) -> usize {
        cols / self.block_values() * self.block_bytes()
    }

    /// What the activations a row of this format meets are quantized to.
    pub fn activation(self) -> ActivationKind {
        match self {
            Format::Q4_0 | Format::Q4_1 | Format::Q5_0 | Format::Q5_1 | Format::Q8_0 => {
                ActivationKind::Q8
            }
            Format::Q4K | Format::Q5K | Format::Q6K => ActivationKind::Q8K,
            Format::F16 | Format::BF16 | Format::F32 => ActivationKind::Float,
        }
    }

    /// The name GGUF tools use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Q4_0 => "Q4_0",
            Format::Q4_1 => "Q4_1",
            Format::Q5_0 => "Q5_0",
            Format::Q5_1 => "Q5_1",
            Format::Q8_0 => "Q8_0",
            Format::Q4K => "Q4_K",
            Format::Q5K => "Q5_K",
            Format::Q6K => "Q6_K",
            Format::F16 => "F16",
            Format::BF16 => "BF16",
            Format::F32 => "F32",
        }
    }

    /// Every format, for listing in errors.
    pub const ALL: [Format; 11] = [
        Format::Q4_0,
        Format::Q4_1,
        Format::Q5_0,
        Format::Q5_1,
        Format::Q8_0,
        Format::Q4K,
        Format::Q5K,
        Format::Q6K,
        Format::F16,
        Format::BF16,
        Format::F32,
    ];
}

/// The form an activation vector takes to meet a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationKind {
    /// 8-bit blocks of 32 ([`super::act::Q8Block`]).
    Q8,
    /// 8-bit super-blocks of 256 with group sums ([`super::act::Q8KBlock`]).
    Q8K,
    /// The floats themselves.
    Float,
}

/// `f16` bits as `f32` (F16C where the build has it).
#[inline(always)]
pub fn f16_le(b: &[u8]) -> f32 {
    half::f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32()
}

/// `bf16` bits as `f32`.
#[inline(always)]
pub fn bf16_le(b: &[u8]) -> f32 {
    f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16)
}
