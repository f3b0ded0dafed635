//! Reads just enough of a GGUF file's header to know it is one Cairn can list: the magic, the
//! format version and `general.architecture`. No tensor is read.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::error::{CatalogError, Result};

/// The GGUF versions read here (1 used 32-bit counts and is long gone).
const VERSIONS: [u32; 2] = [2, 3];
/// More metadata entries than this, or a longer key, and the header is not trusted.
const MAX_ENTRIES: u64 = 1 << 20;
const MAX_KEY: u64 = 1 << 16;
/// GGUF's value type for strings, and for arrays.
const STRING: u32 = 8;
const ARRAY: u32 = 9;

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GgufInfo {
    /// The format version.
    pub version: u32,
    /// `general.architecture`, e.g. `llama`.
    pub architecture: String,
    /// How many tensors the file holds.
    pub tensors: u64,
}

/// Reads the header of the GGUF file at `path`: an error unless it starts with `GGUF`, is of
/// version 2 or 3 and names its architecture.
pub fn read_header(path: &Path) -> Result<GgufInfo> {
    let not_gguf = |reason: String| CatalogError::NotGguf {
        path: path.display().to_string(),
        reason,
    };
    let file = File::open(path).map_err(|e| CatalogError::io(path, e))?;
    let mut r = BufReader::new(file);
    let truncated = |_| not_gguf("the header is cut short".into());
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(truncated)?;
    if &magic != b"GGUF" {
        return Err(not_gguf("it does not start with the bytes GGUF".into()));
    }
    let version = u32_le(&mut r).map_err(truncated)?;
    if !VERSIONS.contains(&version) {
        return Err(not_gguf(format!("format version {version} is not 2 or 3")));
    }
    let tensors = u64_le(&mut r).map_err(truncated)?;
    let entries = u64_le(&mut r).map_err(truncated)?;
    if entries > MAX_ENTRIES {
        return Err(not_gguf(format!("it claims {entries} metadata entries")));
    }
    for _ in 0..entries {
        let key = string(&mut r, MAX_KEY).map_err(truncated)?;
        let kind = u32_le(&mut r).map_err(truncated)?;
        if key == "general.architecture" && kind == STRING {
            let architecture = string(&mut r, MAX_KEY).map_err(truncated)?;
            return Ok(GgufInfo {
                version,
                architecture,
                tensors,
            });
        }
        skip_value(&mut r, kind).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => not_gguf(e.to_string()),
            _ => not_gguf("the header is cut short".into()),
        })?;
    }
    Err(not_gguf(
        "its metadata names no general.architecture".into(),
    ))
}

fn u32_le(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn u64_le(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// A GGUF string: a 64-bit length, then UTF-8 bytes.
fn string(r: &mut impl Read, max: u64) -> std::io::Result<String> {
    let len = u64_le(r)?;
    if len > max {
        return Err(invalid(format!("a string of {len} bytes")));
    }
    let mut bytes = vec![0u8; len as usize];
    r.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| invalid("a string that is not UTF-8".into()))
}

/// Reads past one value of GGUF type `kind`.
fn skip_value(r: &mut BufReader<File>, kind: u32) -> std::io::Result<()> {
    match kind {
        STRING => skip_string(r),
        ARRAY => {
            let inner = u32_le(r)?;
            let count = u64_le(r)?;
            match fixed_size(inner) {
                Some(size) => skip(r, count.checked_mul(size).ok_or_else(too_long)?),
                None if inner == STRING => (0..count).try_for_each(|_| skip_string(r)),
                None => Err(invalid(format!("an array of value type {inner}"))),
            }
        }
        other => match fixed_size(other) {
            Some(size) => skip(r, size),
            None => Err(invalid(format!("an unknown value type {other}"))),
        },
    }
}

fn skip_string(r: &mut BufReader<File>) -> std::io::Result<()> {
    let len = u64_le(r)?;
    skip(r, len)
}

fn skip(r: &mut BufReader<File>, bytes: u64) -> std::io::Result<()> {
    let offset = i64::try_from(bytes).map_err(|_| too_long())?;
    r.seek_relative(offset)
}

/// The size of a value of a fixed-size GGUF type.
fn fixed_size(kind: u32) -> Option<u64> {
    match kind {
        0 | 1 | 7 => Some(1), // u8, i8, bool
        2 | 3 => Some(2),     // u16, i16
        4..=6 => Some(4),     // u32, i32, f32
        10..=12 => Some(8),   // u64, i64, f64
        _ => None,
    }
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("its header holds {what}"),
    )
}

fn too_long() -> std::io::Error {
    invalid("a value too long to be real".into())
}
