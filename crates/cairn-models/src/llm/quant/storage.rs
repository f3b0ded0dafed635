//! Where a weight matrix's bytes live: an anonymous memory mapping of exactly their size for any
//! tensor of a page or more, a plain vector for the rest.
//!
//! A general-purpose allocator rounds large blocks up and keeps freed ones: mimalloc held Qwen2.5
//! 0.5B's 462 MiB of tensors in 476 MiB (a 2,926 kB matrix took 3,072 kB), and kept them after the
//! model was unloaded. A mapping costs the pages its bytes touch, on Linux is backed by
//! transparent huge pages where a whole 2 MiB of it lies inside (fewer TLB misses while decoding
//! streams every weight once per token, without rounding the tail up), and goes back to the system
//! the moment the matrix is dropped.

use std::ops::{Deref, DerefMut};

/// Tensors smaller than this stay in the allocator: a mapping's page rounding would cost more.
const MAP_FROM_BYTES: usize = 64 * 1024;

/// The bytes of one weight tensor, zeroed when made.
pub struct WeightBytes(Inner);

enum Inner {
    Heap(Vec<u8>),
    Mapped(memmap2::MmapMut),
}

impl WeightBytes {
    /// `len` zero bytes, mapped where `len` is large enough and the system gives a mapping.
    pub fn zeroed(len: usize) -> WeightBytes {
        if len >= MAP_FROM_BYTES
            && let Ok(map) = memmap2::MmapMut::map_anon(len)
        {
            #[cfg(target_os = "linux")]
            // Advice only: a kernel without transparent huge pages refuses it and nothing changes.
            let _ = map.advise(memmap2::Advice::HugePage);
            return WeightBytes(Inner::Mapped(map));
        }
        WeightBytes(Inner::Heap(vec![0; len]))
    }

    /// Whether the bytes are an anonymous mapping of their own.
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Inner::Mapped(_))
    }
}

impl From<Vec<u8>> for WeightBytes {
    fn from(bytes: Vec<u8>) -> Self {
        WeightBytes(Inner::Heap(bytes))
    }
}

impl Deref for WeightBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Inner::Heap(v) => v,
            Inner::Mapped(m) => m,
        }
    }
}

impl DerefMut for WeightBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Inner::Heap(v) => v,
            Inner::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for WeightBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WeightBytes({} bytes, {})",
            self.len(),
            if self.is_mapped() { "mapped" } else { "heap" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_tensors_are_mapped_small_ones_are_not_and_both_start_zeroed() {
        let mut big = WeightBytes::zeroed(MAP_FROM_BYTES + 1);
        let small = WeightBytes::zeroed(MAP_FROM_BYTES - 1);
        assert!(big.is_mapped(), "{big:?}");
        assert!(!small.is_mapped(), "{small:?}");
        assert_eq!(big.len(), MAP_FROM_BYTES + 1);
        assert!(big.iter().chain(small.iter()).all(|&b| b == 0));
        big[MAP_FROM_BYTES] = 7;
        assert_eq!(big[MAP_FROM_BYTES], 7);
        assert_eq!(WeightBytes::from(vec![1, 2, 3]).to_vec(), vec![1, 2, 3]);
    }
}
