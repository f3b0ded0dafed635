//! NEON dot products of weight rows (ggml block layouts, as the file holds them) with quantized
//! activations, for ARM CPUs (Apple silicon, Graviton, Ampere, a Raspberry Pi 4 or 5). Sixteen byte
//! pairs at a time meet in one [`Dot16`] step: `sdot` where the CPU has the dot-product extension
//! (Armv8.2 on: Apple M1 and later, Graviton 2 and later, Cortex-A76 and later), checked once at run
//! time, and otherwise `vmull_s8` with pairwise adds into 32-bit lanes, as llama.cpp's kernels do
//! on older cores. Each row function computes what its twin in [`super::scalar`] defines; the tests
//! in `tests.rs` and below hold them equal on every format, both ways.
//!
//! SAFETY (whole module): NEON is part of every AArch64 CPU, so every intrinsic is available;
//! `sdot` runs only where [`has_sdot`] found it. Every load reads 16 bytes inside one block of the
//! row slice (whose length is a whole number of blocks, checked by the caller's `chunks_exact`) or
//! inside one activation block's array.
#![allow(unsafe_code)]

use std::arch::aarch64::*;
use std::arch::asm;

use super::Activation;
use super::act::{Q8Block, Q8KBlock};
use super::format::Format;

mod rows;

/// One step of a dot product: `acc` plus `Σ a·b` of 16 signed byte pairs, folded into four 32-bit
/// lanes. Which pairs land in which lane differs between the two; every caller sums the lanes.
trait Dot16 {
    fn dot16(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t;
}

/// `vmull_s8` and pairwise adds: every AArch64 CPU. A product of two bytes fits 16 bits
/// (|−128 · −128| = 16384), a pair of them too.
struct Widening;

impl Dot16 for Widening {
    #[inline(always)]
    fn dot16(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        // SAFETY: register-only NEON operations.
        unsafe {
            let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
            let hi = vmull_high_s8(a, b);
            vpadalq_s16(vpadalq_s16(acc, lo), hi)
        }
    }
}

/// `sdot`: four products of four byte pairs added into each lane in one instruction. Its intrinsic
/// (`vdotq_s32`) is not stable Rust yet, so it is written out; the directive lets the assembler take
/// it in a function compiled for plain Armv8.
struct Sdot;

impl Dot16 for Sdot {
    #[inline(always)]
    fn dot16(mut acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        // SAFETY: reads and writes registers only; reached only through `has_sdot() == true`.
        unsafe {
            asm!(
                ".arch_extension dotprod",
                "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
                acc = inout(vreg) acc,
                a = in(vreg) a,
                b = in(vreg) b,
                options(pure, nomem, nostack, preserves_flags)
            );
        }
        acc
    }
}

/// Whether this CPU has the dot-product extension (the standard library asks the OS once).
#[inline(always)]
fn has_sdot() -> bool {
    std::arch::is_aarch64_feature_detected!("dotprod")
}

/// Row functions of the names `row_kernels!` calls, each choosing the dot step this CPU has.
macro_rules! choose_dot_step {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline(always)]
            fn $name($($arg: $ty),*) -> f32 {
                if has_sdot() {
                    rows::$name::<Sdot>($($arg),*)
                } else {
                    rows::$name::<Widening>($($arg),*)
                }
            }
        )*
    };
}

choose_dot_step! {
    q4_0_row(bytes: &[u8], x: &[Q8Block]);
    q4_1_row(bytes: &[u8], x: &[Q8Block]);
    q5_0_row(bytes: &[u8], x: &[Q8Block]);
    q5_1_row(bytes: &[u8], x: &[Q8Block]);
    q8_0_row(bytes: &[u8], x: &[Q8Block]);
    dot_q45k(five: bool, bytes: &[u8], x: &[Q8KBlock]);
    dot_q6k(bytes: &[u8], x: &[Q8KBlock]);
}

// `dot_q8`, `dot_q8k` and `dot_rows`, over the row functions above.
row_kernels!();

/// `Σ w · x` of a float row and float activations (half precision through the scalar path).
pub fn dot_float(format: Format, bytes: &[u8], x: &[f32]) -> f32 {
    let width = match format {
        Format::BF16 => 2,
        Format::F32 => 4,
        Format::F16 => return super::scalar::dot_float(format, bytes, x),
        other => panic!("{} rows do not meet float activations", other.name()),
    };
    let n = bytes.len() / width;
    let whole = n / 4 * 4;
    // SAFETY: every load reads 4 values at index `i < whole <= n`.
    let mut sum = unsafe {
        let mut acc = vdupq_n_f32(0.0);
        for i in (0..whole).step_by(4) {
            let w = if format == Format::BF16 {
                let h = vld1_u16(bytes.as_ptr().add(2 * i).cast());
                vreinterpretq_f32_u32(vshll_n_u16::<16>(h))
            } else {
                vld1q_f32(bytes.as_ptr().add(4 * i).cast())
            };
            acc = vfmaq_f32(acc, w, vld1q_f32(x.as_ptr().add(i)));
        }
        vaddvq_f32(acc)
    };
    sum += super::scalar::dot_float(format, &bytes[whole * width..], &x[whole..n]);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::quant::tests::{random_row, uniform};
    use crate::llm::quant::{ActivationKind, QMatrix, scalar};

    /// A row of `format` through one dot step.
    fn row_dot<D: Dot16>(format: Format, row: &[u8], act: &Activation) -> f32 {
        let (q8, q8k) = (&act.q8, &act.q8k);
        match format {
            Format::Q4_0 => rows::q4_0_row::<D>(row, q8),
            Format::Q4_1 => rows::q4_1_row::<D>(row, q8),
            Format::Q5_0 => rows::q5_0_row::<D>(row, q8),
            Format::Q5_1 => rows::q5_1_row::<D>(row, q8),
            Format::Q8_0 => rows::q8_0_row::<D>(row, q8),
            Format::Q4K => rows::dot_q45k::<D>(false, row, q8k),
            Format::Q5K => rows::dot_q45k::<D>(true, row, q8k),
            Format::Q6K => rows::dot_q6k::<D>(row, q8k),
            other => panic!("{} is not a quantized format", other.name()),
        }
    }

    /// Both dot steps against the scalar definition, on every quantized format. `scripts/test`
    /// runs this under qemu with a CPU that has the extension and `CAIRN_EXPECT_SDOT=1`, so
    /// neither step goes untested there.
    #[test]
    fn both_dot_steps_compute_what_the_scalar_rows_do() {
        if std::env::var_os("CAIRN_EXPECT_SDOT").is_some() {
            assert!(
                has_sdot(),
                "this CPU was expected to have the dot-product extension"
            );
        }
        let mut seed = 5;
        let cols = 3 * 256;
        for format in Format::ALL {
            if format.activation() == ActivationKind::Float {
                continue;
            }
            let row = random_row(format, cols / format.block_values(), &mut seed);
            let m = QMatrix::new(format, 1, cols, row.clone()).unwrap();
            let xs: Vec<f32> = (0..cols).map(|_| uniform(&mut seed)).collect();
            let act = Activation::for_matrix(&xs, &m);
            let want = match format.activation() {
                ActivationKind::Q8K => scalar::dot_q8k(format, &row, &act.q8k),
                _ => scalar::dot_q8(format, &row, &act.q8),
            };
            let close = |got: f32| (got - want).abs() <= 1e-4 * want.abs().max(1.0);
            let widening = row_dot::<Widening>(format, &row, &act);
            assert!(
                close(widening),
                "{}: widening {widening}, scalar {want}",
                format.name()
            );
            if has_sdot() {
                let sdot = row_dot::<Sdot>(format, &row, &act);
                assert!(close(sdot), "{}: sdot {sdot}, scalar {want}", format.name());
            }
        }
    }
}
