//! Small transformers with random weights, written as GGUF files, for architectures whose real
//! weights no package registry carries (Qwen 3, Phi 3, Llama 3.x's rope scaling): the runtime's
//! logits on them are checked against llama.cpp's on the same files (`tests/runtime.rs`). The
//! weights come from a fixed-seed generator, so a file is the same bytes on every machine (its
//! SHA-256 is in the fixture), and between them the models hold every weight format the runtime
//! computes with.

use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

use crate::Result;

/// The random models: `(name, architecture)`.
pub const RANDOM_MODELS: [(&str, &str); 3] = [
    ("random-llama3", "llama"),
    ("random-qwen3", "qwen3"),
    ("random-phi3", "phi3"),
];

const VOCAB: usize = 512;
const DIM: usize = 256;
const FF: usize = 512;
const LAYERS: usize = 3;
const HEADS: usize = 4;
const KV_HEADS: usize = 2;
const HEAD_DIM: usize = 64;

/// A fixed-seed generator of values in a range (xorshift64*).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        bits as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    fn values(&mut self, n: usize, centre: f32, spread: f32) -> Vec<f32> {
        (0..n).map(|_| centre + spread * self.next()).collect()
    }
}

/// The formats a model's tensors take: attention, feed-forward, embeddings, output.
struct Formats {
    attention: GgmlDType,
    feed_forward: GgmlDType,
    embeddings: GgmlDType,
    output: Option<GgmlDType>,
}

/// Writes the random model `name` (one of [`RANDOM_MODELS`]) to `path`.
pub fn write_random_gguf(name: &str, path: &Path) -> Result<()> {
    let Some(&(_, arch)) = RANDOM_MODELS.iter().find(|(n, _)| *n == name) else {
        return Err(crate::Error::Tokenizer(format!("no random model {name}")));
    };
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15 ^ (name.len() as u64 * 0x1000_0001));
    let formats = match arch {
        "llama" => Formats {
            attention: GgmlDType::Q4K,
            feed_forward: GgmlDType::Q5K,
            embeddings: GgmlDType::Q8_0,
            output: Some(GgmlDType::Q6K),
        },
        "qwen3" => Formats {
            attention: GgmlDType::Q4_0,
            feed_forward: GgmlDType::Q4_1,
            embeddings: GgmlDType::F16,
            output: None,
        },
        _ => Formats {
            attention: GgmlDType::Q5_0,
            feed_forward: GgmlDType::Q5_1,
            embeddings: GgmlDType::BF16,
            output: Some(GgmlDType::Q8_0),
        },
    };
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    let mut add = |name: String, rows: usize, cols: usize, dtype: GgmlDType, values: Vec<f32>| {
        let shape: Vec<usize> = if rows == 1 {
            vec![cols]
        } else {
            vec![rows, cols]
        };
        let t = Tensor::from_vec(values, shape, &Device::Cpu)?;
        tensors.push((name, QTensor::quantize(&t, dtype)?));
        Ok::<(), candle_core::Error>(())
    };
    let weight = 0.08;
    let (q_dim, kv_dim) = (HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM);
    add(
        "token_embd.weight".into(),
        VOCAB,
        DIM,
        formats.embeddings,
        noise.values(VOCAB * DIM, 0.0, 1.0),
    )?;
    add(
        "output_norm.weight".into(),
        1,
        DIM,
        GgmlDType::F32,
        noise.values(DIM, 1.0, 0.2),
    )?;
    if let Some(dtype) = formats.output {
        add(
            "output.weight".into(),
            VOCAB,
            DIM,
            dtype,
            noise.values(VOCAB * DIM, 0.0, weight),
        )?;
    }
    match arch {
        // Llama 3.x's rope scaling, as the converter writes it: a divisor per frequency.
        "llama" => add(
            "rope_freqs.weight".into(),
            1,
            HEAD_DIM / 2,
            GgmlDType::F32,
            (0..HEAD_DIM / 2)
                .map(|i| 1.0 + (i as f32 / 4.0).min(7.0))
                .collect(),
        )?,
        "phi3" => {
            for which in ["short", "long"] {
                add(
                    format!("rope_factors_{which}.weight"),
                    1,
                    HEAD_DIM / 2,
                    GgmlDType::F32,
                    noise.values(HEAD_DIM / 2, 2.0, 0.9),
                )?;
            }
        }
        _ => {}
    }
    for l in 0..LAYERS {
        let p = format!("blk.{l}");
        let mut norm = |name: &str, noise: &mut Noise| {
            add(
                format!("{p}.{name}.weight"),
                1,
                DIM,
                GgmlDType::F32,
                noise.values(DIM, 1.0, 0.2),
            )
        };
        norm("attn_norm", &mut noise)?;
        norm("ffn_norm", &mut noise)?;
        if arch == "phi3" {
            let rows = q_dim + 2 * kv_dim;
            add(
                format!("{p}.attn_qkv.weight"),
                rows,
                DIM,
                formats.attention,
                noise.values(rows * DIM, 0.0, weight),
            )?;
            add(
                format!("{p}.ffn_up.weight"),
                2 * FF,
                DIM,
                formats.feed_forward,
                noise.values(2 * FF * DIM, 0.0, weight),
            )?;
        } else {
            for (name, rows) in [("attn_q", q_dim), ("attn_k", kv_dim), ("attn_v", kv_dim)] {
                add(
                    format!("{p}.{name}.weight"),
                    rows,
                    DIM,
                    formats.attention,
                    noise.values(rows * DIM, 0.0, weight),
                )?;
            }
            for name in ["ffn_gate", "ffn_up"] {
                add(
                    format!("{p}.{name}.weight"),
                    FF,
                    DIM,
                    formats.feed_forward,
                    noise.values(FF * DIM, 0.0, weight),
                )?;
            }
        }
        if arch == "qwen3" {
            for name in ["attn_q_norm", "attn_k_norm"] {
                add(
                    format!("{p}.{name}.weight"),
                    1,
                    HEAD_DIM,
                    GgmlDType::F32,
                    noise.values(HEAD_DIM, 1.0, 0.2),
                )?;
            }
        }
        add(
            format!("{p}.attn_output.weight"),
            DIM,
            q_dim,
            formats.attention,
            noise.values(DIM * q_dim, 0.0, weight),
        )?;
        add(
            format!("{p}.ffn_down.weight"),
            DIM,
            FF,
            formats.feed_forward,
            noise.values(DIM * FF, 0.0, weight),
        )?;
    }

    let u32v = |v: usize| Value::U32(v as u32);
    let mut metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        ("general.name".into(), Value::String(name.into())),
        (format!("{arch}.vocab_size"), u32v(VOCAB)),
        (format!("{arch}.context_length"), u32v(4096)),
        (format!("{arch}.embedding_length"), u32v(DIM)),
        (format!("{arch}.feed_forward_length"), u32v(FF)),
        (format!("{arch}.block_count"), u32v(LAYERS)),
        (format!("{arch}.attention.head_count"), u32v(HEADS)),
        (format!("{arch}.attention.head_count_kv"), u32v(KV_HEADS)),
        (format!("{arch}.attention.key_length"), u32v(HEAD_DIM)),
        (format!("{arch}.attention.value_length"), u32v(HEAD_DIM)),
        (format!("{arch}.rope.dimension_count"), u32v(HEAD_DIM)),
        (
            format!("{arch}.rope.freq_base"),
            Value::F32(if arch == "qwen3" { 1e6 } else { 5e5 }),
        ),
        (
            format!("{arch}.attention.layer_norm_rms_epsilon"),
            Value::F32(1e-5),
        ),
        ("tokenizer.ggml.model".into(), Value::String("none".into())),
    ];
    if arch == "phi3" {
        metadata.push((format!("{arch}.rope.scaling.attn_factor"), Value::F32(1.19)));
        metadata.push((
            format!("{arch}.rope.scaling.original_context_length"),
            u32v(4096),
        ));
    }
    let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
    let mut file = std::fs::File::create(path).map_err(|e| crate::error::bad_file(path, e))?;
    gguf_file::write(&mut file, &metadata, &tensors)?;
    Ok(())
}
