//! The kernels against their definitions: every SIMD dot product equals its scalar twin, and the
//! scalar one equals the float dot product of the dequantized row (up to the activation's 8-bit
//! rounding). Dequantization itself is checked against the `gguf` Python package's in
//! `tests/llm.rs`.

use super::format::{Format, QK_K};
use super::*;

pub(super) fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

pub(super) fn uniform(seed: &mut u64) -> f32 {
    (lcg(seed) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
}

fn f16_bytes(x: f32) -> [u8; 2] {
    half::f16::from_f32(x).to_bits().to_le_bytes()
}

/// `blocks` random blocks of `format` with sane scales.
pub(super) fn random_row(format: Format, blocks: usize, seed: &mut u64) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..blocks {
        let mut b: Vec<u8> = (0..format.block_bytes()).map(|_| lcg(seed) as u8).collect();
        let small = |seed: &mut u64| f16_bytes(0.002 + 0.01 * uniform(seed).abs());
        match format {
            Format::Q4_0 | Format::Q5_0 | Format::Q8_0 => b[0..2].copy_from_slice(&small(seed)),
            Format::Q4_1 | Format::Q5_1 | Format::Q4K | Format::Q5K => {
                b[0..2].copy_from_slice(&small(seed));
                b[2..4].copy_from_slice(&small(seed));
            }
            Format::Q6K => b[208..210].copy_from_slice(&small(seed)),
            Format::F16 => b.copy_from_slice(&f16_bytes(uniform(seed))),
            Format::BF16 => b.copy_from_slice(&uniform(seed).to_bits().to_le_bytes()[2..4]),
            Format::F32 => b.copy_from_slice(&uniform(seed).to_le_bytes()),
        }
        out.extend(b);
    }
    out
}

/// The scalar definition of `row · act` for a row in `format`.
fn scalar_dot(format: Format, row: &[u8], act: &Activation) -> f32 {
    match format.activation() {
        ActivationKind::Q8 => scalar::dot_q8(format, row, &act.q8),
        ActivationKind::Q8K => scalar::dot_q8k(format, row, &act.q8k),
        ActivationKind::Float => scalar::dot_float(format, row, &act.float),
    }
}

#[test]
fn every_format_computes_what_its_dequantized_row_does() {
    let mut seed = 11;
    for format in Format::ALL {
        for cols in [QK_K, 3 * QK_K, 7 * QK_K] {
            let blocks = cols / format.block_values();
            let row = random_row(format, blocks, &mut seed);
            let xs: Vec<f32> = (0..cols).map(|_| uniform(&mut seed) * 2.0).collect();
            let m = QMatrix::new(format, 1, cols, row.clone()).unwrap();
            let act = Activation::for_matrix(&xs, &m);

            let mut w = vec![0f32; cols];
            m.row_f32(0, &mut w);
            let exact: f32 = w.iter().zip(&xs).map(|(a, b)| a * b).sum();
            let norm: f32 = w.iter().zip(&xs).map(|(a, b)| (a * b).abs()).sum();
            let reference = scalar_dot(format, &row, &act);
            let fast = m.dot_row(0, &act);
            let name = format.name();
            assert!(
                (fast - reference).abs() <= 1e-4 * norm.max(1e-3),
                "{name} × {cols}: kernel {fast} vs scalar {reference}"
            );
            assert!(
                (reference - exact).abs() <= 0.02 * norm.max(1e-3),
                "{name} × {cols}: quantized {reference} vs float {exact}"
            );
        }
    }
}

/// `rows` random rows of `cols` values in `format`, and an activation they meet.
struct RowsCase {
    format: Format,
    data: Vec<u8>,
    m: QMatrix,
    xs: Vec<f32>,
    act: Activation,
    row_bytes: usize,
}

impl RowsCase {
    fn new(format: Format, rows: usize, cols: usize, seed: &mut u64) -> RowsCase {
        let blocks = cols / format.block_values();
        let data: Vec<u8> = (0..rows)
            .flat_map(|_| random_row(format, blocks, seed))
            .collect();
        let m = QMatrix::new(format, rows, cols, data.clone()).unwrap();
        let xs: Vec<f32> = (0..cols).map(|_| uniform(seed) * 3.0).collect();
        let act = Activation::for_matrix(&xs, &m);
        let row_bytes = data.len() / rows;
        RowsCase {
            format,
            data,
            m,
            xs,
            act,
            row_bytes,
        }
    }

    /// Panics unless each `out[i]` is row `first + i`'s scalar product; `what` names the kernel.
    fn check(&self, first: usize, out: &[f32], what: &str) {
        let cols = self.m.cols();
        for (i, fast) in out.iter().enumerate() {
            let r = first + i;
            let row = &self.data[r * self.row_bytes..(r + 1) * self.row_bytes];
            let reference = scalar_dot(self.format, row, &self.act);
            let mut w = vec![0f32; cols];
            self.m.row_f32(r, &mut w);
            let norm: f32 = w.iter().zip(&self.xs).map(|(a, b)| (a * b).abs()).sum();
            assert!(
                (fast - reference).abs() <= 1e-5 * norm.max(1e-3),
                "{what}, {} × {cols}, row {r}: kernel {fast} vs scalar {reference}",
                self.format.name()
            );
        }
    }
}

#[test]
fn a_run_of_rows_computes_what_each_row_does_alone() {
    // `dot_rows` takes the fastest decode kernel that takes the format; each row must equal its
    // scalar product.
    let mut seed = 23;
    for format in Format::ALL {
        // An odd number of 32-value blocks too, which the AVX-512 kernel leaves to others.
        let odd = (format.block_values() == 32).then_some(3 * 32);
        for cols in [QK_K, 6 * QK_K].into_iter().chain(odd) {
            let case = RowsCase::new(format, 7, cols, &mut seed);
            let mut out = vec![0f32; 6];
            case.m.dot_rows(1, &case.act, &mut out);
            let what = format!("dot_rows (AVX-512 VNNI: {})", avx512_here());
            case.check(1, &out, &what);
        }
    }
}

#[test]
fn every_run_kernel_this_cpu_has_computes_each_rows_scalar_product() {
    let runs = row_runs();
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    assert!(
        runs.iter().any(|(name, _)| *name == "avx2"),
        "no AVX2 run kernel"
    );
    let mut seed = 41;
    for (name, run) in runs {
        let mut taken = Vec::new();
        for format in Format::ALL {
            // 7 rows: the paired kernels run three pairs and one row alone.
            for cols in [QK_K, 6 * QK_K] {
                let case = RowsCase::new(format, 7, cols, &mut seed);
                let mut out = vec![f32::NAN; 7];
                if !run(format, &case.data, case.row_bytes, &case.act, &mut out) {
                    assert!(
                        out.iter().all(|o| o.is_nan()),
                        "{name} wrote a refused format"
                    );
                    continue;
                }
                taken.push(format.name());
                case.check(0, &out, name);
            }
        }
        for k in ["Q4_K", "Q5_K", "Q6_K", "Q8_0", "Q4_0"] {
            assert!(taken.contains(&k), "{name} took {taken:?}, not {k}");
        }
    }
}

fn avx512_here() -> bool {
    #[cfg(target_arch = "x86_64")]
    return avx512::available();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[test]
fn a_stack_keeps_each_part_in_its_own_format() {
    let mut seed = 5;
    let cols = QK_K;
    let a = QMatrix::new(
        Format::Q5_0,
        2,
        cols,
        random_row(Format::Q5_0, 2 * 8, &mut seed),
    );
    let b = QMatrix::new(Format::Q6K, 3, cols, random_row(Format::Q6K, 3, &mut seed));
    let stacked = QMatrix::stack(vec![a.unwrap(), b.unwrap()]).unwrap();
    assert_eq!((stacked.rows(), stacked.cols()), (5, cols));
    assert_eq!(stacked.bytes(), 2 * 8 * 22 + 3 * 210);
    let kinds = stacked.activation_kinds();
    assert!(kinds.contains(&ActivationKind::Q8) && kinds.contains(&ActivationKind::Q8K));
    let xs: Vec<f32> = (0..cols).map(|_| uniform(&mut seed)).collect();
    let act = Activation::for_matrix(&xs, &stacked);
    let mut w = vec![0f32; cols];
    for r in 0..5 {
        stacked.row_f32(r, &mut w);
        let exact: f32 = w.iter().zip(&xs).map(|(a, b)| a * b).sum();
        let norm: f32 = w.iter().zip(&xs).map(|(a, b)| (a * b).abs()).sum();
        assert!(
            (stacked.dot_row(r, &act) - exact).abs() <= 0.02 * norm,
            "row {r}"
        );
    }
}

#[test]
fn malformed_shapes_are_refused_with_the_reason() {
    let err = QMatrix::new(Format::Q4K, 1, 100, vec![0; 144]).unwrap_err();
    assert!(err.contains("multiple of 256"), "{err}");
    let err = QMatrix::new(Format::Q8_0, 2, 32, vec![0; 34]).unwrap_err();
    assert!(err.contains("34 bytes"), "{err}");
}

/// `m · xs` for `n` vectors, from the dequantized rows in f64, and each product's `Σ |w·x|`.
fn float_products(m: &QMatrix, xs: &[f32], n: usize) -> (Vec<f64>, Vec<f64>) {
    let (rows, cols) = (m.rows(), m.cols());
    let (mut exact, mut norm) = (vec![0f64; n * rows], vec![0f64; n * rows]);
    let mut w = vec![0f32; cols];
    for r in 0..rows {
        m.row_f32(r, &mut w);
        for t in 0..n {
            let x = &xs[t * cols..(t + 1) * cols];
            exact[t * rows + r] = w.iter().zip(x).map(|(a, b)| f64::from(a * b)).sum();
            norm[t * rows + r] = w.iter().zip(x).map(|(a, b)| f64::from((a * b).abs())).sum();
        }
    }
    (exact, norm)
}

#[test]
fn a_prompt_batch_in_integers_computes_what_the_dequantized_rows_do() {
    let mut seed = 23;
    // 37 rows: two whole panels and a part of one; 11 tokens: a whole tile and a part of one.
    let (rows, cols, n) = (37, 2 * QK_K, 11);
    let formats = Format::ALL
        .into_iter()
        .filter(|f| !matches!(f, Format::F16 | Format::BF16 | Format::F32));
    for format in formats {
        let blocks = rows * cols / format.block_values();
        let m = QMatrix::new(format, rows, cols, random_row(format, blocks, &mut seed)).unwrap();
        assert!(panel::packable(&m), "{}", format.name());
        let xs: Vec<f32> = (0..n * cols).map(|_| uniform(&mut seed) * 3.0).collect();
        let (exact, norm) = float_products(&m, &xs, n);

        let mut reference = vec![0f32; n * rows];
        panel::matmul(
            &m,
            &xs,
            n,
            panel::tile_scalar,
            &mut Default::default(),
            &mut reference,
        );
        for (i, (got, want)) in reference.iter().zip(&exact).enumerate() {
            assert!(
                (f64::from(*got) - want).abs() <= 0.01 * norm[i],
                "{} at {i}: integers {got} vs floats {want}",
                format.name()
            );
        }
        for (name, tile) in panel_tiles() {
            let mut fast = vec![0f32; n * rows];
            panel::matmul(&m, &xs, n, tile, &mut Default::default(), &mut fast);
            assert_eq!(
                fast,
                reference,
                "{}: the {name} kernel vs its definition",
                format.name()
            );
        }
    }
}

#[test]
fn a_panel_straddling_two_formats_takes_the_finer_groups() {
    let mut seed = 31;
    let cols = QK_K;
    // Rows 0..10 Q4_K (a scale per 32), rows 10..20 Q6_K (a scale per 16): the first panel mixes them.
    let a = QMatrix::new(
        Format::Q4K,
        10,
        cols,
        random_row(Format::Q4K, 10, &mut seed),
    )
    .unwrap();
    let b = QMatrix::new(
        Format::Q6K,
        10,
        cols,
        random_row(Format::Q6K, 10, &mut seed),
    )
    .unwrap();
    let m = QMatrix::stack(vec![a, b]).unwrap();
    let mut panel = panel::Panel::default();
    panel.fill(&m, 0);
    assert_eq!((panel.sub, panel.groups), (16, cols / 16));
    panel.fill(&m, 16);
    assert_eq!(panel.sub, 16);
    let q4 = QMatrix::new(
        Format::Q4K,
        16,
        cols,
        random_row(Format::Q4K, 16, &mut seed),
    )
    .unwrap();
    panel.fill(&q4, 0);
    assert_eq!((panel.sub, panel.groups), (32, cols / 32));

    let n = 9;
    let xs: Vec<f32> = (0..n * cols).map(|_| uniform(&mut seed)).collect();
    let (exact, norm) = float_products(&m, &xs, n);
    let mut got = vec![0f32; n * m.rows()];
    panel::matmul(
        &m,
        &xs,
        n,
        panel::tile_scalar,
        &mut Default::default(),
        &mut got,
    );
    for (i, (got, want)) in got.iter().zip(&exact).enumerate() {
        assert!(
            (f64::from(*got) - want).abs() <= 0.01 * norm[i],
            "at {i}: {got} vs {want}"
        );
    }
}
