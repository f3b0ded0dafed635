//! The table layout, and conversion between rows and Arrow batches.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::types::Float32Type;
use arrow_array::{
    Array, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fusion::Fusion;

/// A passage and where it stands in its document: everything a citation needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Passage {
    /// `{doc_id}:{ordinal}`: unique within a collection.
    pub chunk_id: String,
    /// The document's id in the store.
    pub doc_id: i64,
    /// The document's path.
    pub doc_path: String,
    /// Position within the document.
    pub ordinal: u32,
    /// 1-based page, for paged formats.
    pub page: Option<u32>,
    /// Heading path, joined with " > ".
    pub heading: String,
    /// Start of the passage in the document text, in characters.
    pub char_start: u32,
    /// End of the passage, in characters.
    pub char_end: u32,
    /// The passage.
    pub text: String,
}

/// One passage with its vector, as written to the index.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRow {
    /// The passage.
    pub passage: Passage,
    /// Its embedding, unit length.
    pub vector: Vec<f32>,
}

/// One search result: a passage and its scores. Serialises flat: the passage's fields, then the scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The passage.
    #[serde(flatten)]
    pub passage: Passage,
    /// The final score: fused, dense or BM25 by search mode (and replaced by a reranker's).
    pub score: f32,
    /// Cosine similarity to the query, where known.
    pub dense_score: Option<f32>,
    /// BM25 score, where the passage matched the query's terms.
    pub bm25_score: Option<f32>,
    /// The fused score of a hybrid search, kept when a reranker replaces `score`.
    #[serde(default)]
    pub fused_score: Option<f32>,
    /// The reranker's score, when one ran.
    #[serde(default)]
    pub rerank_score: Option<f32>,
}

impl Hit {
    pub(crate) fn new(
        passage: Passage,
        score: f32,
        dense_score: Option<f32>,
        bm25_score: Option<f32>,
    ) -> Hit {
        Hit {
            passage,
            score,
            dense_score,
            bm25_score,
            fused_score: None,
            rerank_score: None,
        }
    }
}

/// Tunables of one query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchParams {
    /// Results to return.
    pub k: usize,
    /// Candidates taken from each of the dense and BM25 lists before fusion.
    pub candidates: usize,
    /// How the two lists fuse.
    pub fusion: Fusion,
    /// IVF partitions probed when a vector index exists.
    pub nprobes: usize,
    /// Candidates re-scored with exact distances when a vector index exists, as a multiple of the limit.
    pub refine_factor: u32,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            k: 10,
            candidates: 50,
            fusion: Fusion::default(),
            nprobes: 20,
            refine_factor: 2,
        }
    }
}

pub(crate) const VECTOR: &str = "vector";
pub(crate) const TEXT: &str = "text";
pub(crate) const DISTANCE: &str = "_distance";
pub(crate) const SCORE: &str = "_score";

/// Columns returned with every hit (the vector is asked for only where a score must be computed).
pub(crate) const META_COLUMNS: &[&str] = &[
    "chunk_id",
    "doc_id",
    "doc_path",
    "ordinal",
    "page",
    "heading",
    "char_start",
    "char_end",
    TEXT,
];

pub(crate) fn schema(dimension: usize, metadata: HashMap<String, String>) -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("chunk_id", DataType::Utf8, false),
            Field::new("doc_id", DataType::Int64, false),
            Field::new("doc_path", DataType::Utf8, false),
            Field::new("ordinal", DataType::UInt32, false),
            Field::new("page", DataType::UInt32, true),
            Field::new("heading", DataType::Utf8, false),
            Field::new("char_start", DataType::UInt32, false),
            Field::new("char_end", DataType::UInt32, false),
            Field::new(TEXT, DataType::Utf8, false),
            Field::new(
                VECTOR,
                DataType::FixedSizeList(item, dimension as i32),
                true,
            ),
        ],
        metadata,
    ))
}

pub(crate) fn to_batch(
    schema: SchemaRef,
    dimension: usize,
    rows: &[ChunkRow],
) -> Result<RecordBatch> {
    if let Some(bad) = rows.iter().find(|r| r.vector.len() != dimension) {
        return Err(Error::Dimension {
            want: dimension,
            got: bad.vector.len(),
        });
    }
    let passages: Vec<&Passage> = rows.iter().map(|r| &r.passage).collect();
    let strings = |f: fn(&Passage) -> &str| {
        Arc::new(StringArray::from_iter_values(passages.iter().map(|p| f(p))))
    };
    let u32s = |f: fn(&Passage) -> u32| {
        Arc::new(UInt32Array::from_iter_values(passages.iter().map(|p| f(p))))
    };
    let vectors = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
        rows.iter()
            .map(|r| Some(r.vector.iter().copied().map(Some))),
        dimension as i32,
    );
    Ok(RecordBatch::try_new(
        schema,
        vec![
            strings(|r| &r.chunk_id),
            Arc::new(Int64Array::from_iter_values(
                passages.iter().map(|p| p.doc_id),
            )),
            strings(|r| &r.doc_path),
            u32s(|r| r.ordinal),
            Arc::new(passages.iter().map(|p| p.page).collect::<UInt32Array>()),
            strings(|r| &r.heading),
            u32s(|r| r.char_start),
            u32s(|r| r.char_end),
            strings(|r| &r.text),
            Arc::new(vectors),
        ],
    )?)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Schema(format!("column '{name}' is missing or has the wrong type")))
}

/// A passage read from a result batch, with its vector when the batch carries one.
pub(crate) struct RawHit {
    pub(crate) passage: Passage,
    pub(crate) vector: Option<Vec<f32>>,
    /// `_distance` or `_score`, whichever the query produced.
    pub(crate) raw_score: Option<f32>,
}

pub(crate) fn read_hits(batches: &[RecordBatch]) -> Result<Vec<RawHit>> {
    let mut out = Vec::new();
    for batch in batches {
        let chunk_id = column::<StringArray>(batch, "chunk_id")?;
        let doc_id = column::<Int64Array>(batch, "doc_id")?;
        let doc_path = column::<StringArray>(batch, "doc_path")?;
        let ordinal = column::<UInt32Array>(batch, "ordinal")?;
        let page = column::<UInt32Array>(batch, "page")?;
        let heading = column::<StringArray>(batch, "heading")?;
        let char_start = column::<UInt32Array>(batch, "char_start")?;
        let char_end = column::<UInt32Array>(batch, "char_end")?;
        let text = column::<StringArray>(batch, TEXT)?;
        let vectors = column::<FixedSizeListArray>(batch, VECTOR).ok();
        let raw = column::<Float32Array>(batch, DISTANCE)
            .or_else(|_| column::<Float32Array>(batch, SCORE))
            .ok();
        for i in 0..batch.num_rows() {
            let vector = vectors.map(|v| {
                let values = v.value(i);
                let values = values
                    .as_any()
                    .downcast_ref::<Float32Array>()
                    .map(|a| a.values().to_vec());
                values.unwrap_or_default()
            });
            out.push(RawHit {
                passage: Passage {
                    chunk_id: chunk_id.value(i).to_string(),
                    doc_id: doc_id.value(i),
                    doc_path: doc_path.value(i).to_string(),
                    ordinal: ordinal.value(i),
                    page: page.is_valid(i).then(|| page.value(i)),
                    heading: heading.value(i).to_string(),
                    char_start: char_start.value(i),
                    char_end: char_end.value(i),
                    text: text.value(i).to_string(),
                },
                vector,
                raw_score: raw.map(|r| r.value(i)),
            });
        }
    }
    Ok(out)
}
