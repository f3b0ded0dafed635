//! The library end to end on real files, a real LanceDB directory, real SQLite and the real model.

use std::path::{Path, PathBuf};

use cairn_engine::{
    CancelToken, Config, DocState, FileStatus, Library, Progress, SearchMode, SearchRequest,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cairn-ingest/tests/fixtures")
        .join(name)
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

async fn library(data: &Path) -> Library {
    Library::open(data, Config::default()).await.unwrap()
}

fn status_of<'a>(report: &'a cairn_engine::AddReport, name: &str) -> &'a FileStatus {
    &report
        .outcomes
        .iter()
        .find(|o| o.path.ends_with(name))
        .unwrap_or_else(|| panic!("no outcome for {name}"))
        .status
}

async fn search(library: &Library, query: &str, mode: SearchMode) -> Vec<cairn_engine::Hit> {
    let request = SearchRequest {
        k: Some(5),
        mode,
        ..SearchRequest::new(query)
    };
    library.search(&request).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_of_every_kind_is_indexed_and_bad_files_fail_alone() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = docs.path();
    write(
        d,
        "notes/baking.md",
        "# Baking\n## Sourdough\nA sourdough starter is wild yeast kept alive with flour and water.\n",
    );
    write(
        d,
        "notes/plain.txt",
        "Glaciers carve U-shaped valleys as they grind through rock.",
    );
    write(
        d,
        "web/page.html",
        "<h1>Volcanoes</h1><p>Basaltic lava flows are fluid and fast.</p>",
    );
    write(
        d,
        "code/lib.rs",
        "/// Computes the orbital period of a moon.\nfn orbital_period() {}\n",
    );
    write(d, ".git/ignored.md", "hidden folders are not documents");
    for name in [
        "three-pages.pdf",
        "field-guide.docx",
        "tide-tables.epub",
        "encrypted.pdf",
        "truncated.pdf",
    ] {
        std::fs::copy(fixture(name), d.join(name)).unwrap();
    }
    write(d, "bad/empty.md", "");
    write(d, "bad/binary.pdf", [0x89, b'P', b'N', b'G', 0, 0, 0, 13]);
    write(d, "bad/garbage.docx", b"PK\x03\x04 not really a zip");

    let library = library(data.path()).await;
    let events = std::sync::Mutex::new(Vec::new());
    let report = library
        .add(
            &[d.to_path_buf()],
            "default",
            &|e| events.lock().unwrap().push(e),
            &CancelToken::new(),
        )
        .await
        .unwrap();

    assert_eq!(report.indexed(), 7, "{:#?}", report.outcomes);
    for (name, code) in [
        ("encrypted.pdf", "encrypted"),
        ("truncated.pdf", "corrupt"),
        ("empty.md", "empty"),
        ("binary.pdf", "wrong_format"),
        ("garbage.docx", "corrupt"),
    ] {
        assert!(
            matches!(status_of(&report, name), FileStatus::Failed { code: c, .. } if c == code),
            "{name}: {:?}",
            status_of(&report, name)
        );
    }
    assert!(!report.outcomes.iter().any(|o| o.path.contains(".git")));
    let events = events.into_inner().unwrap();
    match &events[0] {
        Progress::Discovered { files, paths } => {
            assert_eq!(*files, 12);
            assert_eq!(paths.len(), 12, "every discovered file is named");
            assert!(
                events
                    .iter()
                    .any(|e| matches!(e, Progress::Finished(o) if o.path == paths[0])),
                "the named paths are the ones that finish"
            );
        }
        other => panic!("the first event is {other:?}"),
    }
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Progress::Finished(_)))
            .count(),
        12
    );

    // Every kind is searchable, with its citation metadata.
    let pdf = search(
        &library,
        "who invented the Fresnel lens",
        SearchMode::Hybrid,
    )
    .await;
    assert!(
        pdf[0].passage.doc_path.ends_with("three-pages.pdf") && pdf[0].passage.page == Some(2),
        "{pdf:#?}"
    );
    let md = search(&library, "sourdough starter", SearchMode::Hybrid).await;
    assert_eq!(md[0].passage.heading, "Baking > Sourdough");
    for (query, file) in [
        ("glaciers valleys", "plain.txt"),
        ("basaltic lava", "page.html"),
        ("orbital period of a moon", "lib.rs"),
        ("arctic terns migrate", "field-guide.docx"),
        ("spring tides new moon", "tide-tables.epub"),
    ] {
        let hits = search(&library, query, SearchMode::Hybrid).await;
        assert!(
            hits[0].passage.doc_path.ends_with(file),
            "{query}: {:?}",
            hits.iter().map(|h| &h.passage.doc_path).collect::<Vec<_>>()
        );
        assert!(hits[0].dense_score.is_some() && hits[0].bm25_score.is_some());
    }
    // The citation span points at the exact passage.
    let hit = &md[0];
    assert!(
        hit.passage.char_end > hit.passage.char_start
            && hit.passage.text.starts_with("A sourdough starter")
    );
    assert!(library.check("default").await.unwrap().is_consistent());
}

#[tokio::test(flavor = "multi_thread")]
async fn re_adding_is_incremental_and_follows_edits_and_deletions() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = docs.path();
    let keep = write(
        d,
        "keep.md",
        "Penguins huddle together to survive the Antarctic winter.",
    );
    let edit = write(
        d,
        "edit.md",
        "The quokka is a small marsupial from Rottnest Island.",
    );
    let gone = write(d, "gone.md", "Axolotls can regrow entire limbs.");
    let library = library(data.path()).await;
    let all = [d.to_path_buf()];
    let first = library
        .add(&all, "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(first.indexed(), 3);

    let again = library
        .add(&all, "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!((again.unchanged(), again.chunks_written), (3, 0));

    std::fs::write(
        &edit,
        "The numbat is a termite-eating marsupial from Western Australia.",
    )
    .unwrap();
    std::fs::remove_file(&gone).unwrap();
    let third = library
        .add(&all, "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(matches!(
        status_of(&third, "edit.md"),
        FileStatus::Indexed { replaced: true, .. }
    ));
    assert_eq!(status_of(&third, "gone.md"), &FileStatus::Removed);
    assert_eq!(status_of(&third, "keep.md"), &FileStatus::Unchanged);

    assert!(
        search(&library, "quokka", SearchMode::Bm25)
            .await
            .is_empty(),
        "the old version left the index"
    );
    assert!(
        search(&library, "axolotls", SearchMode::Bm25)
            .await
            .is_empty(),
        "the deleted file left the index"
    );
    assert!(
        search(&library, "numbat", SearchMode::Bm25).await[0]
            .passage
            .doc_path
            .ends_with("edit.md")
    );
    let paths: Vec<String> = library
        .documents(None)
        .unwrap()
        .into_iter()
        .map(|d| d.path)
        .collect();
    assert_eq!(paths.len(), 2);
    assert!(library.check("default").await.unwrap().is_consistent());

    let removed = library
        .remove(std::slice::from_ref(&keep), "default")
        .await
        .unwrap();
    assert_eq!(removed.removed, vec![keep.display().to_string()]);
    assert!(
        search(&library, "penguins", SearchMode::Bm25)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_update_keeps_what_was_indexed() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let file = write(
        docs.path(),
        "notes.md",
        "Tardigrades survive the vacuum of space.",
    );
    let library = library(data.path()).await;
    library
        .add(
            std::slice::from_ref(&file),
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    std::fs::write(&file, [0u8, 159, 146, 150, 0, 0]).unwrap();
    let report = library
        .add(
            std::slice::from_ref(&file),
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert!(matches!(
        status_of(&report, "notes.md"),
        FileStatus::Failed { .. }
    ));
    assert_eq!(
        search(&library, "tardigrades", SearchMode::Bm25)
            .await
            .len(),
        1,
        "the indexed version is kept"
    );
    let doc = &library.documents(None).unwrap()[0];
    assert_eq!(doc.state, DocState::Indexed);
    assert_eq!(doc.error_code.as_deref(), Some("wrong_format"));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_model_is_refused_until_the_collection_is_reindexed() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let file = write(
        docs.path(),
        "a.md",
        "Octopuses have three hearts and blue blood.",
    );
    let first = library(data.path()).await;
    first
        .add(
            std::slice::from_ref(&file),
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let old_fingerprint = first.collections().unwrap()[0].embedder_fingerprint.clone();
    drop(first);

    // The same architecture with a different tokenizer file is a different model version.
    let model = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2");
    for name in [
        "config.json",
        "model.safetensors",
        "sentence_bert_config.json",
    ] {
        std::fs::copy(source.join(name), model.path().join(name)).unwrap();
    }
    let tokenizer = std::fs::read_to_string(source.join("tokenizer.json")).unwrap();
    std::fs::write(
        model.path().join("tokenizer.json"),
        format!("{tokenizer}\n"),
    )
    .unwrap();
    let mut config = Config::default();
    config.models.embedder = Some(model.path().to_path_buf());
    let second = Library::open(data.path(), config).await.unwrap();

    let err = second
        .add(
            std::slice::from_ref(&file),
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "model_mismatch");
    assert!(err.to_string().contains("cairn reindex"), "{err}");
    let err = second
        .search(&SearchRequest::new("octopus"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "model_mismatch",
        "never a search mixing two models' vectors"
    );

    let report = second
        .reindex("default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(report.indexed(), 1);
    assert_ne!(
        second.collections().unwrap()[0].embedder_fingerprint,
        old_fingerprint
    );
    assert!(
        second
            .search(&SearchRequest::new("three hearts"))
            .await
            .unwrap()[0]
            .passage
            .doc_path
            .ends_with("a.md")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn collections_keep_libraries_apart() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let work = write(
        docs.path(),
        "work/q3.md",
        "Quarterly revenue grew by twelve percent.",
    );
    let home = write(
        docs.path(),
        "home/garden.md",
        "Tomatoes need six hours of sun and steady watering.",
    );
    let library = library(data.path()).await;
    library
        .add(&[work], "work", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    library
        .add(&[home], "home", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    let request = SearchRequest {
        collection: "work".into(),
        ..SearchRequest::new("tomatoes sun watering")
    };
    let hits = library.search(&request).await.unwrap();
    assert!(
        hits.iter().all(|h| h.passage.doc_path.contains("/work/")),
        "{hits:?}"
    );
    let err = library
        .search(&SearchRequest {
            collection: "nope".into(),
            ..SearchRequest::new("x")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "no_such_collection");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_add_keeps_its_batches_and_the_next_run_finishes() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    for i in 0..40 {
        write(
            docs.path(),
            &format!("n{i:02}.md"),
            format!("Note {i}: the number {i} is written out here in words."),
        );
    }
    let mut config = Config::default();
    config.ingest.batch_chunks = 4;
    let library = Library::open(data.path(), config).await.unwrap();
    let cancel = CancelToken::new();
    let on_progress = |e: Progress| {
        if matches!(e, Progress::Finished(_)) {
            cancel.cancel();
        }
    };
    let first = library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &on_progress,
            &cancel,
        )
        .await
        .unwrap();
    assert!(first.cancelled);
    assert!(
        first.indexed() < 40,
        "it stopped early: {}",
        first.indexed()
    );
    let second = library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(second.indexed() + second.unchanged(), 40);
    assert_eq!(second.unchanged(), first.indexed());
    let check = library.check("default").await.unwrap();
    assert!(
        check.is_consistent() && check.indexed_documents == 40,
        "{check:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reranker_rescores_the_fused_candidates_and_can_be_skipped() {
    use cairn_models::{MaxSimReranker, Reranker};
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "a.md",
            "Bees communicate the direction of flowers with a waggle dance.",
        ),
        (
            "b.md",
            "A hive keeps its brood nest near thirty-five degrees Celsius.",
        ),
        (
            "c.md",
            "Honey is nectar that bees have dried and enriched with enzymes.",
        ),
    ] {
        write(docs.path(), name, text);
    }
    let library = library(data.path()).await;
    library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let query = "how do bees tell each other where flowers are";
    let reranked = library.search(&SearchRequest::new(query)).await.unwrap();
    let fused = library
        .search(&SearchRequest {
            rerank: Some(false),
            ..SearchRequest::new(query)
        })
        .await
        .unwrap();

    let direct = MaxSimReranker::new(library.embedder().unwrap());
    for hit in &reranked {
        let score = direct.score(query, &[hit.passage.text.as_str()]).unwrap()[0];
        assert!(
            (hit.score - score).abs() < 1e-4,
            "the score is the reranker's: {} vs {score}",
            hit.score
        );
    }
    assert!(reranked.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(reranked[0].passage.doc_path.ends_with("a.md"));
    assert_ne!(
        reranked[0].score, fused[0].score,
        "skipping the reranker leaves the fused score"
    );
}

const WINTER: &str = "Where do hedgehogs spend the winter?";

async fn add_folder(library: &Library, dir: &Path) {
    library
        .add(
            &[dir.to_path_buf()],
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_retrieval_cache_serves_a_repeat_until_the_index_changes() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path()).await;
    let hedgehogs = write(
        docs.path(),
        "hedgehogs.md",
        "Hedgehogs hibernate through the winter in nests of leaves.",
    );
    write(
        docs.path(),
        "otters.md",
        "Otters hold hands while they sleep so they do not drift apart.",
    );
    add_folder(&library, docs.path()).await;

    let first = search(&library, WINTER, SearchMode::Hybrid).await;
    assert_eq!(library.searches_cached(), 0);
    // The same question, spelt differently: served from the cache, the same passages.
    let again = search(
        &library,
        "  where do HEDGEHOGS spend   the winter ",
        SearchMode::Hybrid,
    )
    .await;
    assert_eq!(library.searches_cached(), 1);
    let ids = |hits: &[cairn_engine::Hit]| {
        hits.iter()
            .map(|h| h.passage.chunk_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&first));
    // Another mode is another search.
    search(&library, WINTER, SearchMode::Bm25).await;
    assert_eq!(library.searches_cached(), 1);

    // An edit changes the index: the next search runs again and sees the new text.
    write(
        docs.path(),
        "hedgehogs.md",
        "Hedgehogs spend the winter asleep under garden sheds.",
    );
    add_folder(&library, docs.path()).await;
    let edited = search(&library, WINTER, SearchMode::Hybrid).await;
    assert_eq!(library.searches_cached(), 1);
    assert!(
        edited[0].passage.text.contains("garden sheds"),
        "{:?}",
        edited[0].passage.text
    );

    // So does a removal, even by another process (the version lives in SQLite).
    let other = Library::open(data.path(), Config::default()).await.unwrap();
    other.remove(&[hedgehogs], "default").await.unwrap();
    let after = search(&library, WINTER, SearchMode::Hybrid).await;
    assert_eq!(library.searches_cached(), 1);
    assert!(after.iter().all(|h| !h.passage.text.contains("Hedgehogs")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_document_is_streamed_in_slices_and_small_files_do_not_wait_behind_it() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // 400 paragraphs of distinct sentences: far more chunks than a batch of 8.
    let big: String = (0..400)
        .map(|i| {
            format!(
                "Ledger entry {i} records that lighthouse number {i} was painted in colour {}.\n\n",
                i * 7
            )
        })
        .collect::<String>()
        + "The final entry says the keeper of the northern light retired to Skerrow.\n";
    write(docs.path(), "big/ledger.txt", &big);
    for i in 0..4 {
        write(
            docs.path(),
            &format!("small/note-{i}.md"),
            format!("# Note {i}\n\nOwls number {i} hunt by sound at night.\n"),
        );
    }
    let mut config = Config::default();
    config.ingest.batch_chunks = 8;
    let library = Library::open(data.path(), config).await.unwrap();
    let events = std::sync::Mutex::new(Vec::new());
    let report = library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &|e| events.lock().unwrap().push(e),
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.indexed(), 5, "{:#?}", report.outcomes);
    let FileStatus::Indexed { chunks, .. } = status_of(&report, "ledger.txt") else {
        panic!("{:?}", status_of(&report, "ledger.txt"));
    };
    assert!(*chunks > 8 * 3, "the ledger is several batches: {chunks}");

    let events = events.into_inner().unwrap();
    let slices: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Passages {
                path, done, total, ..
            } if path.ends_with("ledger.txt") => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(slices.len(), chunks.div_ceil(8), "{slices:?}");
    assert!(slices.windows(2).all(|w| w[0].0 < w[1].0), "{slices:?}");
    assert_eq!(slices.last(), Some(&(*chunks, *chunks)));
    let finished = |name: &str| {
        events
            .iter()
            .position(|e| matches!(e, Progress::Finished(o) if o.path.ends_with(name)))
            .unwrap()
    };
    let ledger_done = finished("ledger.txt");
    for i in 0..4 {
        assert!(
            finished(&format!("note-{i}.md")) < ledger_done,
            "note-{i}.md waited behind the ledger"
        );
    }

    // Every slice reached the index, the last one too; a second run reads nothing again.
    let hits = search(
        &library,
        "where did the keeper of the northern light retire",
        SearchMode::Hybrid,
    )
    .await;
    assert!(
        hits[0].passage.text.contains("retired to Skerrow"),
        "{hits:?}"
    );
    let again = library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(again.unchanged(), 5);
    assert_eq!(
        library
            .documents(Some("default"))
            .unwrap()
            .iter()
            .map(|d| d.chunk_count)
            .sum::<i64>(),
        *chunks as i64 + 4
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_text_is_cut_into_passages_while_they_are_written_with_an_estimate_and_eta() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let big: String = (0..300)
        .map(|i| {
            format!(
                "Tide table {i} lists high water at {} past the hour.\n\n",
                i % 60
            )
        })
        .collect::<String>()
        + "The last table notes that the ferry to Skerrow sails only at neap tides.\n";
    write(docs.path(), "tides.txt", &big);
    write(
        docs.path(),
        "owls.md",
        "# Owls\n\nBarn owls hunt by sound at night.\n",
    );
    let mut config = Config::default();
    config.ingest.batch_chunks = 8;
    // Any text past 1,000 characters is cut while it is written.
    config.ingest.stream_text_chars = 1000;
    let library = Library::open(data.path(), config).await.unwrap();
    let events = std::sync::Mutex::new(Vec::new());
    let report = library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &|e| events.lock().unwrap().push(e),
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.indexed(), 2, "{:#?}", report.outcomes);
    let FileStatus::Indexed { chunks, .. } = status_of(&report, "tides.txt") else {
        panic!("{:?}", status_of(&report, "tides.txt"));
    };
    let events = events.into_inner().unwrap();
    let slices: Vec<(usize, usize, Option<u64>)> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Passages {
                path,
                done,
                total,
                eta_seconds,
            } if path.ends_with("tides.txt") => Some((*done, *total, *eta_seconds)),
            _ => None,
        })
        .collect();
    assert_eq!(slices.len(), chunks.div_ceil(8), "{slices:?}");
    // Estimated from the text covered: within a fifth of the truth from the first slice on.
    for (done, total, eta) in &slices {
        assert!(
            total.abs_diff(*chunks) * 5 <= *chunks,
            "estimated {total} of {chunks} at {done}"
        );
        assert!(eta.is_some(), "{slices:?}");
    }
    assert_eq!(slices.last().unwrap().0, *chunks);
    assert_eq!(slices.last().unwrap().2, Some(0), "nothing left at the end");

    let hits = search(
        &library,
        "when does the ferry to Skerrow sail",
        SearchMode::Hybrid,
    )
    .await;
    assert!(hits[0].passage.text.contains("neap tides"), "{hits:?}");
    let record = library
        .documents(Some("default"))
        .unwrap()
        .into_iter()
        .find(|d| d.path.ends_with("tides.txt"))
        .unwrap();
    assert_eq!(record.chunk_count, *chunks as i64);
    assert_eq!(record.state, cairn_store::DocState::Indexed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_two_stopped_runs_were_reading_is_quarantined_not_read_again() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write(
        docs.path(),
        "crasher.md",
        "# Crasher\n\nThis file took the last run down.\n",
    );
    write(docs.path(), "fine.md", "# Fine\n\nNothing wrong here.\n");
    let crasher = docs.path().join("crasher.md");
    let hash = format!(
        "sha256:{:x}",
        <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&crasher).unwrap())
    );
    let library = Library::open(data.path(), Config::default()).await.unwrap();
    library
        .add(
            &[docs.path().join("fine.md")],
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    // What a run that died while reading it leaves behind.
    let store = cairn_store::Store::open(&data.path().join("cairn.sqlite")).unwrap();
    let die_reading_it = || {
        store
            .begin_parse("default", &crasher.display().to_string(), &hash)
            .unwrap()
    };
    let (folder, cancel) = (vec![docs.path().to_path_buf()], CancelToken::new());
    let add = || library.add(&folder, "default", &|_| {}, &cancel);

    // Stopped once (a kill stops good files too): read again.
    die_reading_it();
    let report = add().await.unwrap();
    assert!(
        matches!(status_of(&report, "crasher.md"), FileStatus::Indexed { .. }),
        "{report:?}"
    );
    library
        .remove(std::slice::from_ref(&crasher), "default")
        .await
        .unwrap();

    // Stopped twice in a row on the same content (the run after the first stop began as `add`
    // does, then died reading it again): quarantined, not read.
    die_reading_it();
    let first = store
        .quarantine_interrupted_parses("default", "interrupted", "x")
        .unwrap();
    assert!(first.is_empty());
    die_reading_it();
    let report = add().await.unwrap();
    let FileStatus::Failed { code, reason } = status_of(&report, "crasher.md") else {
        panic!("{:?}", status_of(&report, "crasher.md"));
    };
    assert_eq!(code, "quarantined");
    assert!(reason.contains("stopped while reading"), "{reason}");
    assert_eq!(*status_of(&report, "fine.md"), FileStatus::Unchanged);

    // Retried, it is read again, and a clean read leaves no mark behind.
    let retried = library
        .retry(&[], "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(
        matches!(
            status_of(&retried, "crasher.md"),
            FileStatus::Indexed { .. }
        ),
        "{retried:?}"
    );
    let again = add().await.unwrap();
    assert_eq!(again.unchanged(), 2, "{:?}", again.outcomes);
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_again_replaces_passages_and_a_file_that_now_fails_keeps_its_own() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path()).await;
    let d = docs.path();
    let kept = write(
        d,
        "kept.md",
        "# Otters\n\nSea otters hold hands while they sleep.",
    );
    let broken = write(
        d,
        "broken.md",
        "# Lens\n\nThe Fresnel lens was made in 1870.",
    );
    let cancel = CancelToken::new();
    library
        .add(&[d.to_path_buf()], "default", &|_| {}, &cancel)
        .await
        .unwrap();
    let before = library.check("default").await.unwrap();

    // Unchanged files are read again, and replace their passages rather than add to them.
    let again = library
        .reread(std::slice::from_ref(&kept), "default", &|_| {}, &cancel)
        .await
        .unwrap();
    assert!(
        matches!(
            status_of(&again, "kept.md"),
            FileStatus::Indexed { replaced: true, .. }
        ),
        "{again:?}"
    );
    let after = library.check("default").await.unwrap();
    assert!(after.is_consistent(), "{after:?}");
    assert_eq!(after.rows_in_index, before.rows_in_index, "nothing doubled");

    // A file that can no longer be read keeps what was indexed from it, with the failure recorded.
    std::fs::write(&broken, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let report = library
        .reread(&[d.to_path_buf()], "default", &|_| {}, &cancel)
        .await
        .unwrap();
    assert!(
        matches!(status_of(&report, "broken.md"), FileStatus::Failed { .. }),
        "{report:?}"
    );
    let record = library
        .documents(Some("default"))
        .unwrap()
        .into_iter()
        .find(|d| d.path.ends_with("broken.md"))
        .unwrap();
    assert_eq!(record.state, DocState::Indexed);
    assert!(record.error_code.is_some());
    let hits = search(
        &library,
        "when was the Fresnel lens made",
        SearchMode::Hybrid,
    )
    .await;
    assert!(hits[0].passage.text.contains("1870"), "{hits:?}");
    assert!(library.check("default").await.unwrap().is_consistent());
}

/// Sets a file's modification time to `ago` before now.
fn modified_ago(path: &Path, ago: std::time::Duration) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - ago)
        .unwrap();
}

/// Rewrites a file in place (same inode) and gives it back its modification time.
fn rewrite_keeping_time(path: &Path, content: &str) {
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, content).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(modified).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_whose_size_time_and_inode_are_unchanged_is_not_read_again() {
    use std::time::Duration;
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = docs.path();
    let settled = write(
        d,
        "settled.md",
        "Gannets dive into the sea from thirty metres.",
    );
    let fresh = write(
        d,
        "fresh.md",
        "Puffins nest in burrows on grassy cliff tops.",
    );
    modified_ago(&settled, Duration::from_secs(3600));
    let library = library(data.path()).await;
    let all = [d.to_path_buf()];
    let cancel = CancelToken::new();
    let add = || library.add(&all, "default", &|_| {}, &cancel);
    assert_eq!(add().await.unwrap().indexed(), 2);

    // Other words of the same length under the same time and inode: the stamp is trusted, so the
    // file is not read (had it been, its new hash would have re-indexed it).
    rewrite_keeping_time(&settled, "Gannets swim into the sea from thirty metres.");
    // A file modified just before it was indexed is not trusted: it is read and found changed.
    rewrite_keeping_time(&fresh, "Puffins nest in burrows on rocky cliff tops..");
    let again = add().await.unwrap();
    assert_eq!(status_of(&again, "settled.md"), &FileStatus::Unchanged);
    assert!(
        matches!(status_of(&again, "fresh.md"), FileStatus::Indexed { .. }),
        "{:?}",
        status_of(&again, "fresh.md")
    );

    // A new time means reading: the changed words are indexed.
    modified_ago(&settled, Duration::from_secs(1800));
    let read = add().await.unwrap();
    assert!(matches!(
        status_of(&read, "settled.md"),
        FileStatus::Indexed { .. }
    ));
    let hits = search(&library, "Gannets swim", SearchMode::Bm25).await;
    assert!(hits[0].passage.text.contains("swim"), "{hits:?}");

    // Only touched: read, found the same, and its new stamp kept, so the next add trusts it.
    modified_ago(&settled, Duration::from_secs(900));
    let touched = add().await.unwrap();
    assert_eq!(status_of(&touched, "settled.md"), &FileStatus::Unchanged);
    rewrite_keeping_time(&settled, "Gannets flew into the sea from thirty metres.");
    let trusted = add().await.unwrap();
    assert_eq!(status_of(&trusted, "settled.md"), &FileStatus::Unchanged);
    // Reading again (`cairn add --reread`) never trusts a stamp.
    let reread = library
        .reread(&all, "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(matches!(
        status_of(&reread, "settled.md"),
        FileStatus::Indexed { .. }
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_models_leave_memory_and_come_back_on_their_next_use() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write(
        docs.path(),
        "a.md",
        "Storm petrels feed by pattering on the water.",
    );
    let mut config = Config::default();
    config.models.unload_after_secs = 1;
    let library = Library::open(data.path(), config).await.unwrap();
    library
        .add(
            &[docs.path().to_path_buf()],
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let chat = library.chat_model().unwrap();
    assert!(library.chat_model_loaded());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The chat model is held (an answer being written): it stays; the idle embedder goes.
    let unloaded = library.unload_idle_models();
    assert!(unloaded.contains(&"embedder"), "{unloaded:?}");
    assert!(!unloaded.contains(&"chat") && library.chat_model_loaded());
    drop(chat);
    assert_eq!(library.unload_idle_models(), ["chat"]);
    assert!(!library.chat_model_loaded());
    // Used again, they load again.
    let hits = search(&library, "storm petrels", SearchMode::Hybrid).await;
    assert!(hits[0].passage.text.contains("pattering"));
    library.chat_model().unwrap();
    assert!(library.chat_model_loaded());
    // Used a moment ago: nothing goes.
    assert!(library.unload_idle_models().is_empty());
}
