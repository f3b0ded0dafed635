//! The passage index on a real LanceDB directory, with small synthetic vectors.

use cairn_index::{
    ChunkRow, EmbedderStamp, Error, Fusion, Index, IndexSettings, Passage, SearchParams,
};

const DIM: usize = 8;

fn stamp() -> EmbedderStamp {
    EmbedderStamp {
        id: "toy".into(),
        fingerprint: "sha256:0001".into(),
        dimension: DIM,
    }
}

/// A unit vector pointing mostly along `axis`, with a little of `axis + 1`.
fn vector(axis: usize, tilt: f32) -> Vec<f32> {
    let mut v = [0.0; DIM];
    v[axis % DIM] = 1.0;
    v[(axis + 1) % DIM] = tilt;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

fn row(doc_id: i64, ordinal: u32, text: &str, vector: Vec<f32>) -> ChunkRow {
    let passage = Passage {
        chunk_id: format!("{doc_id}:{ordinal}"),
        doc_id,
        doc_path: format!("/docs/{doc_id}.md"),
        ordinal,
        page: (doc_id % 2 == 0).then_some(ordinal + 1),
        heading: "Intro".into(),
        char_start: ordinal * 10,
        char_end: ordinal * 10 + 9,
        text: text.into(),
    };
    ChunkRow { passage, vector }
}

fn corpus() -> Vec<ChunkRow> {
    vec![
        row(
            1,
            0,
            "Lighthouses guide ships along rocky coasts.",
            vector(0, 0.0),
        ),
        row(
            1,
            1,
            "The Fresnel lens concentrates the lighthouse beam.",
            vector(0, 0.5),
        ),
        row(2, 0, "Tides follow the moon and the sun.", vector(3, 0.0)),
        row(
            3,
            0,
            "Sourdough bread needs a lively starter.",
            vector(5, 0.0),
        ),
    ]
}

#[tokio::test]
async fn dense_bm25_and_hybrid_find_the_right_passages() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).await.unwrap();
    let notes = index.collection("notes", &stamp()).await.unwrap();
    notes.add(&corpus()).await.unwrap();
    notes.optimize(&IndexSettings::default()).await.unwrap();
    let params = SearchParams {
        k: 3,
        ..SearchParams::default()
    };

    let dense = notes.dense(&vector(3, 0.1), 2, &params).await.unwrap();
    assert_eq!(dense[0].passage.chunk_id, "2:0");
    assert!(dense[0].dense_score.unwrap() > 0.99 && dense[0].score >= dense[1].score);

    let bm25 = notes.bm25("fresnel lens", 3).await.unwrap();
    assert_eq!(bm25.len(), 1, "only one passage mentions the terms");
    assert_eq!(bm25[0].passage.chunk_id, "1:1");
    assert!(bm25[0].bm25_score.unwrap() > 0.0);

    // The vector points at the tides passage, the words at the Fresnel passage: both come back, each
    // with both scores, and the metadata survives the round trip.
    let hybrid = notes
        .hybrid("fresnel", &vector(3, 0.0), &params)
        .await
        .unwrap();
    let ids: Vec<&str> = hybrid.iter().map(|h| h.passage.chunk_id.as_str()).collect();
    assert!(ids.contains(&"1:1") && ids.contains(&"2:0"), "{ids:?}");
    let fresnel = hybrid.iter().find(|h| h.passage.chunk_id == "1:1").unwrap();
    assert!(fresnel.bm25_score.is_some() && fresnel.dense_score.is_some());
    assert_eq!(
        (
            fresnel.passage.page,
            fresnel.passage.char_start,
            fresnel.passage.heading.as_str()
        ),
        (None, 10, "Intro")
    );
    assert_eq!(
        hybrid
            .iter()
            .find(|h| h.passage.chunk_id == "2:0")
            .unwrap()
            .passage
            .page,
        Some(1)
    );

    let rrf = SearchParams {
        fusion: Fusion::Rrf {
            k: 60.0,
            dense_weight: 1.0,
            bm25_weight: 1.0,
        },
        ..params
    };
    assert_eq!(
        notes
            .hybrid("fresnel", &vector(3, 0.0), &rrf)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn another_model_is_refused_and_collections_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).await.unwrap();
    index
        .collection("notes", &stamp())
        .await
        .unwrap()
        .add(&corpus())
        .await
        .unwrap();
    let other = EmbedderStamp {
        fingerprint: "sha256:0002".into(),
        ..stamp()
    };
    let err = index.collection("notes", &other).await.unwrap_err();
    assert!(matches!(err, Error::ModelMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("cairn reindex"),
        "the error offers re-indexing: {err}"
    );

    let recipes = index.collection("recipes", &other).await.unwrap();
    assert_eq!(recipes.count(None).await.unwrap(), 0);
    assert!(recipes.bm25("bread", 5).await.unwrap().is_empty());
    assert!(matches!(
        index.collection("no spaces", &stamp()).await,
        Err(Error::InvalidName(_))
    ));

    index.drop_collection("notes").await.unwrap();
    assert_eq!(index.stamp("notes").await.unwrap(), None);
    assert_eq!(
        index
            .collection("notes", &other)
            .await
            .unwrap()
            .count(None)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn deletes_persist_and_unindexed_rows_are_searchable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = Index::open(dir.path()).await.unwrap();
        let notes = index.collection("notes", &stamp()).await.unwrap();
        notes.add(&corpus()).await.unwrap();
        // No optimize: a run killed before indexing leaves rows without a full-text index.
        assert_eq!(notes.bm25("sourdough", 5).await.unwrap().len(), 1);
        assert_eq!(notes.delete_documents(&[1, 3]).await.unwrap(), 3);
    }
    let notes = Index::open(dir.path())
        .await
        .unwrap()
        .collection("notes", &stamp())
        .await
        .unwrap();
    let counts = notes.rows_per_document().await.unwrap();
    assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![(2, 1)]);
    assert!(notes.bm25("sourdough", 5).await.unwrap().is_empty());
    let err = notes
        .add(&[row(9, 0, "x", vec![1.0; 3])])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Dimension { want: DIM, got: 3 }));
}

#[tokio::test]
async fn a_vector_index_is_built_at_the_threshold_and_still_finds_exact_matches() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).await.unwrap();
    let notes = index.collection("notes", &stamp()).await.unwrap();
    let rows: Vec<ChunkRow> = (0..600)
        .map(|i| {
            // A small linear congruential generator: distinct pseudo-random directions.
            let mut state = (i as u64 + 1).wrapping_mul(6364136223846793005);
            let v: Vec<f32> = (0..DIM)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            row(
                i as i64,
                0,
                &format!("passage number {i}"),
                v.iter().map(|x| x / n).collect(),
            )
        })
        .collect();
    notes.add(&rows).await.unwrap();
    let settings = IndexSettings {
        vector_index_min_rows: 500,
        rows_per_partition: 300,
    };
    notes.optimize(&settings).await.unwrap();
    assert!(notes.has_vector_index().await.unwrap());
    let hits = notes
        .dense(&rows[123].vector, 1, &SearchParams::default())
        .await
        .unwrap();
    assert_eq!(hits[0].passage.chunk_id, "123:0");
}
