//! Reading a GGUF's tensors for the runtime: each tensor's bytes taken as they are, after checks
//! that turn a truncated file, a tensor of the wrong shape or an unknown quantization into an error
//! that names the file, the tensor and the reason, and a model too large for the machine's memory
//! into one that says how much it needs.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, TensorInfo};

use super::quant::dequant::dequantize_row;
use super::quant::{Format, QMatrix, WeightBytes};
use crate::error::bad_file;
use crate::{Error, Result};

/// The tensors of one open GGUF file.
pub(crate) struct Weights<'a> {
    path: &'a Path,
    content: &'a Content,
    file: &'a mut std::fs::File,
}

impl<'a> Weights<'a> {
    /// Checks that every tensor lies inside the file and that the machine has the memory for them,
    /// before any is read.
    pub(crate) fn new(
        path: &'a Path,
        content: &'a Content,
        file: &'a mut std::fs::File,
    ) -> Result<Self> {
        let file_len = file.metadata().map_err(|e| bad_file(path, e))?.len();
        let mut total = 0u64;
        for (name, info) in &content.tensor_infos {
            let (start, len) = extent(path, content, name, info)?;
            if start + len > file_len {
                return Err(bad_file(
                    path,
                    format!(
                        "the file is truncated: tensor {name} ends at byte {}, the file has {file_len}",
                        start + len
                    ),
                ));
            }
            total += len;
        }
        if let Some(available) = available_memory()
            && total > available
        {
            return Err(bad_file(
                path,
                format!(
                    "the model needs {:.1} MB of memory for its weights and {:.1} MB are available",
                    total as f64 / 1048576.0,
                    available as f64 / 1048576.0
                ),
            ));
        }
        Ok(Self {
            path,
            content,
            file,
        })
    }

    /// [`Error::BadFile`] for this file about `what`.
    pub(crate) fn bad(&self, what: &str, reason: impl std::fmt::Display) -> Error {
        bad_file(self.path, format!("{what}: {reason}"))
    }

    fn info(&self, name: &str) -> Result<&'a TensorInfo> {
        self.content
            .tensor_infos
            .get(name)
            .ok_or_else(|| bad_file(self.path, format!("tensor {name} is missing")))
    }

    fn bytes(&mut self, name: &str) -> Result<(Format, Vec<usize>, WeightBytes)> {
        let info = self.info(name)?;
        let (start, len) = extent(self.path, self.content, name, info)?;
        let format = Format::from_ggml(info.ggml_dtype).ok_or_else(|| {
            self.bad(
                &format!("tensor {name}"),
                format!("{:?} is not a format Cairn computes with", info.ggml_dtype),
            )
        })?;
        let mut data = WeightBytes::zeroed(len as usize);
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.read_exact(&mut data))
            .map_err(|e| self.bad(&format!("tensor {name}"), e))?;
        Ok((format, info.shape.dims().to_vec(), data))
    }

    /// A 2-D tensor as a matrix, in its own format.
    pub(crate) fn matrix(&mut self, name: &str) -> Result<QMatrix> {
        let (format, dims, data) = self.bytes(name)?;
        let [rows, cols] = dims[..] else {
            return Err(self.bad(
                &format!("tensor {name}"),
                format!("shape {dims:?} is not a matrix"),
            ));
        };
        QMatrix::new(format, rows, cols, data).map_err(|e| self.bad(&format!("tensor {name}"), e))
    }

    /// A 1-D tensor of `len` values, as floats.
    pub(crate) fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>> {
        let (format, dims, data) = self.bytes(name)?;
        let count: usize = dims.iter().product();
        if count != len {
            return Err(self.bad(
                &format!("tensor {name}"),
                format!("{count} values where the model's shape needs {len}"),
            ));
        }
        if !len.is_multiple_of(format.block_values()) {
            return Err(self.bad(&format!("tensor {name}"), "not whole blocks"));
        }
        let mut out = vec![0f32; len];
        dequantize_row(format, &data, &mut out);
        Ok(out)
    }

    /// Checks that `m` is `rows × cols`, naming `what` when it is not.
    pub(crate) fn expect_shape(
        &self,
        what: &str,
        m: &QMatrix,
        rows: usize,
        cols: usize,
    ) -> Result<()> {
        if (m.rows(), m.cols()) == (rows, cols) {
            Ok(())
        } else {
            Err(self.bad(
                what,
                format!(
                    "{} × {} where the model's shape needs {rows} × {cols}",
                    m.rows(),
                    m.cols()
                ),
            ))
        }
    }
}

/// Where tensor `name`'s bytes lie in the file: `(start, length)`.
fn extent(path: &Path, content: &Content, name: &str, info: &TensorInfo) -> Result<(u64, u64)> {
    let count: usize = info.shape.dims().iter().product();
    let len = match Format::from_ggml(info.ggml_dtype) {
        Some(f) if count.is_multiple_of(f.block_values()) => {
            count / f.block_values() * f.block_bytes()
        }
        Some(f) => {
            return Err(bad_file(
                path,
                format!(
                    "tensor {name}: {count} values is not a whole number of {} blocks",
                    f.name()
                ),
            ));
        }
        // A format the runtime does not compute with may still be in a file whose other tensors
        // are read; its size comes from candle's block table.
        None => {
            let dtype = info.ggml_dtype;
            count / dtype.block_size() * dtype.type_size()
        }
    };
    Ok((content.tensor_data_offset + info.offset, len as u64))
}

/// Bytes of memory the system can give without swapping, where the OS says (Linux's
/// `MemAvailable`); `None` elsewhere. `CAIRN_MEMORY_AVAILABLE` (bytes) stands in for the OS's
/// figure, to hold a model to less memory than the machine has.
fn available_memory() -> Option<u64> {
    if let Some(bytes) = std::env::var("CAIRN_MEMORY_AVAILABLE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return Some(bytes);
    }
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
