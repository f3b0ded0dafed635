//! Settings: the library's `config.toml` (models, chunking, retrieval, answers) and the app's own
//! file, which names the data directory.
//!
//! Saving edits `config.toml` in place through the engine's config editor
//! ([`cairn_engine::config_file::update`]): only the keys whose values changed are written, so a
//! person's comments and the keys the screen does not show survive. The edited text is parsed as a
//! config before it replaces the file, and the library is reopened with it.

use std::path::{Path, PathBuf};

use cairn_engine::{Config, Fusion, Policy, RerankerChoice, ReviewMode};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::api::{
    AnswerSettings, ApiError, BudgetSettings, ChunkingSettings, DocumentSettings, LocalAnswers,
    ModelCheck, ModelCheckRequest, ModelRole, ModelSettings, PrivacyMode, PromptSetting,
    RetrievalSettings, Settings, SettingsSaved,
};

/// The app's own settings file, outside any library.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppFile {
    /// The library to open; unset: the default data directory.
    pub data_dir: Option<PathBuf>,
}

impl AppFile {
    pub(crate) fn load(path: &Path) -> Result<AppFile, ApiError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| ApiError::new("config", format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AppFile::default()),
            Err(e) => Err(ApiError::new("io", format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, path: &Path) -> Result<(), ApiError> {
        let text = toml::to_string(self).map_err(|e| ApiError::internal(e.to_string()))?;
        write_atomically(path, &text)
    }
}

/// Writes `text` to its own temporary file beside `path`, flushed to disk, then renamed over
/// `path` ([`cairn_engine::config_file::write_atomically`]): a crash leaves the old file or the new
/// one, never half of one, and two writers never share a temporary file.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), ApiError> {
    Ok(cairn_engine::config_file::write_atomically(path, text)?)
}

impl App {
    /// The settings in force.
    pub async fn settings(&self) -> Result<Settings, ApiError> {
        let library = self.library()?;
        Ok(settings_view(
            library.config(),
            library.data_dir(),
            self.paths.data_dir_override.is_some(),
        ))
    }

    /// Checks, writes and applies settings; the library is reopened with them. Refused while
    /// documents are being indexed or an answer is being written. The data directory is changed by
    /// [`App::set_data_dir`], not here.
    pub async fn save_settings(&self, wanted: Settings) -> Result<SettingsSaved, ApiError> {
        self.refuse_if_busy("change settings")?;
        let library = self.library()?;
        let current = library.config().clone();
        let mut next = current.clone();
        apply(&mut next, &wanted)?;
        for (role, path, before) in [
            (ModelRole::Chat, &next.models.chat, &current.models.chat),
            (
                ModelRole::Chat,
                &next.models.strong_chat,
                &current.models.strong_chat,
            ),
            (
                ModelRole::Embedder,
                &next.models.embedder,
                &current.models.embedder,
            ),
        ] {
            if let Some(path) = path.as_ref().filter(|_| path != before) {
                probe(path, role).await?;
            }
        }
        let config_path = library.data_dir().join("config.toml");
        // The screen's settings are applied to the file's config as it stands, so a key edited by
        // hand since the library opened is kept.
        let saved =
            cairn_engine::config_file::update(&config_path, |config| apply(config, &wanted))?;
        let reindex_needed =
            saved.chunking != current.chunking || saved.models.embedder != current.models.embedder;
        let reindex = if reindex_needed {
            library.collections()?.into_iter().map(|c| c.name).collect()
        } else {
            Vec::new()
        };
        drop(library);
        self.reopen(library_dir(self)?).await?;
        Ok(SettingsSaved {
            settings: self.settings().await?,
            reindex,
        })
    }

    /// Opens (creating if empty) the library in another folder, and remembers it. The library that
    /// was open stays where it is.
    pub async fn set_data_dir(
        &self,
        request: crate::api::DataDirRequest,
    ) -> Result<Settings, ApiError> {
        if self.paths.data_dir_override.is_some() {
            return Err(ApiError::invalid(
                "the data directory is set by the CAIRN_DATA_DIR environment variable",
            ));
        }
        self.refuse_if_busy("open another library")?;
        let dir = PathBuf::from(request.path.trim());
        if !dir.is_absolute() {
            return Err(ApiError::invalid(format!(
                "'{}' is not an absolute path",
                dir.display()
            )));
        }
        self.reopen(dir.clone()).await?;
        AppFile {
            data_dir: Some(dir),
        }
        .save(&self.paths.settings_file)?;
        self.settings().await
    }

    /// Loads a model to check it before it is chosen.
    pub async fn check_model(&self, request: ModelCheckRequest) -> Result<ModelCheck, ApiError> {
        let summary = probe(Path::new(&request.path), request.role).await?;
        Ok(ModelCheck { summary })
    }

    pub(crate) fn refuse_if_busy(&self, what: &str) -> Result<(), ApiError> {
        if self.ingest.is_busy() {
            return Err(ApiError::busy(format!(
                "Cannot {what} while documents are being indexed: wait for it to finish or cancel it."
            )));
        }
        if self.answering() {
            return Err(ApiError::busy(format!(
                "Cannot {what} while an answer is being written: wait for it or stop it."
            )));
        }
        Ok(())
    }
}

fn library_dir(app: &App) -> Result<PathBuf, ApiError> {
    Ok(app.library()?.data_dir().to_path_buf())
}

async fn probe(path: &Path, role: ModelRole) -> Result<String, ApiError> {
    let path = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || match role {
        ModelRole::Chat => cairn_engine::probe_chat_model(&path),
        ModelRole::Embedder => cairn_engine::probe_embedder(&path),
    })
    .await?;
    result.map_err(|e| {
        let what = match role {
            ModelRole::Chat => "a GGUF chat model (llama, mistral, qwen2, qwen3, gemma3 or phi3)",
            ModelRole::Embedder => "a BERT sentence-model folder",
        };
        ApiError::new(e.code(), format!("This is not {what} Cairn can load: {e}"))
    })
}

fn settings_view(config: &Config, data_dir: &Path, data_dir_locked: bool) -> Settings {
    let (dense_weight, bm25_weight) = match config.search.fusion {
        Fusion::Weighted {
            dense_weight,
            bm25_weight,
        }
        | Fusion::Rrf {
            dense_weight,
            bm25_weight,
            ..
        } => (dense_weight, bm25_weight),
    };
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    Settings {
        data_dir: data_dir.display().to_string(),
        data_dir_locked,
        models: ModelSettings {
            chat: path(&config.models.chat),
            strong_chat: path(&config.models.strong_chat),
            local_answers: local_answers(config.models.local_answers),
            embedder: path(&config.models.embedder),
            unload_after_minutes: unload_minutes(config.models.unload_after_secs),
        },
        chunking: ChunkingSettings {
            max_tokens: config.chunking.max_tokens as u32,
            overlap_tokens: config.chunking.overlap_tokens as u32,
        },
        documents: DocumentSettings {
            ocr: config.ingest.ocr,
            ocr_languages: config.ingest.ocr_languages.clone(),
            max_cores: config.ingest.max_cores as u32,
        },
        retrieval: RetrievalSettings {
            k: config.search.k as u32,
            candidates: config.search.candidates as u32,
            dense_weight,
            bm25_weight,
            rerank: config.search.reranker != RerankerChoice::None,
            rerank_depth: config.search.rerank_depth as u32,
        },
        answers: AnswerSettings {
            passages: config.answer.passages as u32,
            min_score: config.answer.min_score,
            context_tokens: config.answer.context_tokens as u32,
            max_tokens: config.answer.max_tokens as u32,
            temperature: config.answer.temperature,
            cache: config.cache.enabled,
            hold_for_review: config.review.mode == ReviewMode::Hold,
            condense: config.answer.condense,
        },
        privacy: privacy_mode(config.router.policy),
        budget: BudgetSettings {
            conversation_usd: config.budget.conversation.cost,
            day_usd: config.budget.day.cost,
            month_usd: config.budget.month.cost,
        },
        prompts: cairn_engine::prompts::infos(&config.prompts)
            .into_iter()
            .map(|p| PromptSetting {
                name: p.name,
                active: p.active,
                default: p.default,
                versions: p.versions,
                previous: p.previous,
            })
            .collect(),
    }
}

fn privacy_mode(policy: Policy) -> PrivacyMode {
    match policy {
        Policy::OfflineOnly => PrivacyMode::OfflineOnly,
        Policy::CostAware => PrivacyMode::CostAware,
        Policy::LatencyAware => PrivacyMode::LatencyAware,
        Policy::QualityFirst => PrivacyMode::QualityFirst,
        Policy::Hybrid => PrivacyMode::Hybrid,
    }
}

fn local_answers(choice: cairn_engine::LocalAnswers) -> LocalAnswers {
    match choice {
        cairn_engine::LocalAnswers::Strong => LocalAnswers::Strong,
        cairn_engine::LocalAnswers::Tiers => LocalAnswers::Tiers,
        cairn_engine::LocalAnswers::Fast => LocalAnswers::Fast,
    }
}

fn engine_local_answers(choice: LocalAnswers) -> cairn_engine::LocalAnswers {
    match choice {
        LocalAnswers::Strong => cairn_engine::LocalAnswers::Strong,
        LocalAnswers::Tiers => cairn_engine::LocalAnswers::Tiers,
        LocalAnswers::Fast => cairn_engine::LocalAnswers::Fast,
    }
}

fn policy(mode: PrivacyMode) -> Policy {
    match mode {
        PrivacyMode::OfflineOnly => Policy::OfflineOnly,
        PrivacyMode::CostAware => Policy::CostAware,
        PrivacyMode::LatencyAware => Policy::LatencyAware,
        PrivacyMode::QualityFirst => Policy::QualityFirst,
        PrivacyMode::Hybrid => Policy::Hybrid,
    }
}

/// `models.unload_after_secs` as the screen shows it: whole minutes, rounded up, so a time that is
/// not 0 never shows as 0 (which would keep models loaded).
fn unload_minutes(secs: u64) -> u32 {
    u32::try_from(secs.div_ceil(60)).unwrap_or(u32::MAX)
}

/// A value outside `range` is refused with the setting's name.
fn check<T: PartialOrd + std::fmt::Display>(
    name: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ApiError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(format!(
            "{name} must be between {} and {} (it is {value})",
            range.start(),
            range.end()
        )))
    }
}

/// Applies the screen's settings to a config, refusing values out of range.
fn apply(config: &mut Config, s: &Settings) -> Result<(), ApiError> {
    let model = |p: &Option<String>| -> Result<Option<PathBuf>, ApiError> {
        match p.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(p) if Path::new(p).is_absolute() => Ok(Some(PathBuf::from(p))),
            Some(p) => Err(ApiError::invalid(format!("'{p}' is not an absolute path"))),
        }
    };
    config.models.chat = model(&s.models.chat)?;
    config.models.strong_chat = model(&s.models.strong_chat)?;
    config.models.local_answers = engine_local_answers(s.models.local_answers);
    config.models.embedder = model(&s.models.embedder)?;
    // Minutes on the screen, seconds in the file. The minutes shown unchanged leave the file's
    // seconds as they are: a time set by hand that is not whole minutes, or longer than the
    // screen's day, is not rewritten by saving something else.
    let unload = s.models.unload_after_minutes;
    if unload != unload_minutes(config.models.unload_after_secs) {
        let minutes = check(
            "Minutes before an unused model is unloaded",
            unload,
            0..=1440,
        )?;
        config.models.unload_after_secs = u64::from(minutes) * 60;
    }

    let max_tokens = check("Passage length", s.chunking.max_tokens, 32..=8192)?;
    config.chunking.max_tokens = max_tokens as usize;
    config.chunking.overlap_tokens = check(
        "Passage overlap",
        s.chunking.overlap_tokens,
        0..=max_tokens / 2,
    )? as usize;

    config.ingest.ocr = s.documents.ocr;
    let languages = s.documents.ocr_languages.trim();
    let known = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !languages.split('+').all(known) {
        return Err(ApiError::invalid(format!(
            "OCR languages must be Tesseract language names joined by '+', like eng+deu \
             (it is '{languages}')"
        )));
    }
    config.ingest.ocr_languages = languages.to_string();
    config.ingest.max_cores = check(
        "Cores for adding documents",
        s.documents.max_cores,
        0..=1024,
    )? as usize;

    let r = &s.retrieval;
    let k = check("Passages per search", r.k, 1..=100)?;
    config.search.k = k as usize;
    config.search.candidates = check("Candidates", r.candidates, k..=1000)? as usize;
    let dense = check("Meaning weight", r.dense_weight, 0.0..=1.0)?;
    let bm25 = check("Word weight", r.bm25_weight, 0.0..=1.0)?;
    if dense + bm25 <= 0.0 {
        return Err(ApiError::invalid(
            "the meaning and word weights cannot both be 0",
        ));
    }
    config.search.fusion = match config.search.fusion {
        Fusion::Weighted { .. } => Fusion::Weighted {
            dense_weight: dense,
            bm25_weight: bm25,
        },
        Fusion::Rrf { k, .. } => Fusion::Rrf {
            k,
            dense_weight: dense,
            bm25_weight: bm25,
        },
    };
    config.search.reranker = match (&config.search.reranker, r.rerank) {
        (_, false) => RerankerChoice::None,
        (RerankerChoice::None, true) => RerankerChoice::Maxsim,
        (kept, true) => kept.clone(),
    };
    config.search.rerank_depth = check("Rerank depth", r.rerank_depth, 1..=200)? as usize;

    let a = &s.answers;
    config.answer.passages = check("Passages per answer", a.passages, 1..=20)? as usize;
    config.answer.min_score = check("Relevance threshold", a.min_score, 0.0..=1.0)?;
    let context = check("Context window", a.context_tokens, 256..=131_072)?;
    config.answer.context_tokens = context as usize;
    config.answer.max_tokens = check("Longest reply", a.max_tokens, 16..=context / 2)? as usize;
    config.answer.temperature = check("Temperature", a.temperature, 0.0..=2.0)?;
    config.cache.enabled = a.cache;
    config.answer.condense = a.condense;
    config.review.mode = if a.hold_for_review {
        ReviewMode::Hold
    } else {
        ReviewMode::Warn
    };

    config.router.policy = policy(s.privacy);
    if config.router.policy != Policy::OfflineOnly && config.providers.is_empty() {
        return Err(ApiError::invalid(
            "add a cloud or local-server provider before choosing a mode that uses one",
        ));
    }
    let budget = |name: &str, value: Option<f64>| -> Result<Option<f64>, ApiError> {
        value.map(|v| check(name, v, 0.0..=1_000_000.0)).transpose()
    };
    config.budget.conversation.cost = budget("Budget per conversation", s.budget.conversation_usd)?;
    config.budget.day.cost = budget("Budget per day", s.budget.day_usd)?;
    config.budget.month.cost = budget("Budget per month", s.budget.month_usd)?;
    if config.router.policy != Policy::OfflineOnly
        && let Some(missing) = config.budget.missing_caps()
    {
        return Err(ApiError::invalid(format!(
            "set a {missing} spending cap before choosing a mode that uses cloud models"
        )));
    }
    for p in &s.prompts {
        if cairn_engine::prompts::find(&p.name, &p.active).is_none() {
            return Err(ApiError::invalid(format!(
                "there is no version {} of the {} prompt",
                p.active, p.name
            )));
        }
        // A template left at its default stays unnamed, so a newer default reaches it.
        if config.prompts.contains_key(&p.name) || p.active != p.default {
            config.prompts.insert(p.name.clone(), p.active.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(config: &Config) -> Settings {
        settings_view(config, Path::new("/data"), false)
    }

    #[test]
    fn saving_edits_only_changed_keys_and_keeps_comments() {
        let text =
            "# my notes about tuning\n[search]\nk = 8 # fewer\n[ingest]\ntimeout_secs = 30.0\n";
        let before = Config::parse(text).unwrap();
        let mut wanted = screen(&before);
        wanted.retrieval.dense_weight = 0.7;
        wanted.retrieval.bm25_weight = 0.3;
        wanted.retrieval.rerank = false;
        wanted.answers.min_score = 0.35;
        let mut after = before.clone();
        apply(&mut after, &wanted).unwrap();
        let edited = cairn_engine::config_file::edit_text(text, &before, &after).unwrap();
        assert!(edited.starts_with("# my notes about tuning\n"), "{edited}");
        assert!(edited.contains("k = 8 # fewer"), "{edited}");
        assert!(edited.contains("timeout_secs = 30.0"), "{edited}");
        assert!(edited.contains("min_score = 0.35"), "{edited}");
        assert!(
            !edited.contains("max_tokens"),
            "unchanged keys stay out: {edited}"
        );
        assert_eq!(Config::parse(&edited).unwrap(), after);
        assert_eq!(after.search.reranker, RerankerChoice::None);
        assert_eq!(
            after.search.fusion,
            Fusion::Weighted {
                dense_weight: 0.7,
                bm25_weight: 0.3
            }
        );
    }

    #[test]
    fn an_unchanged_screen_changes_nothing() {
        let before = Config::default();
        let mut after = before.clone();
        apply(&mut after, &screen(&before)).unwrap();
        assert_eq!(after, before);
        assert_eq!(
            cairn_engine::config_file::edit_text("", &before, &after).unwrap(),
            ""
        );
    }

    /// A change to the screen's settings.
    type Change = fn(&mut Settings);

    #[test]
    fn out_of_range_values_are_refused_by_name() {
        let config = Config::default();
        let cases: Vec<(Change, &str)> = vec![
            (|s| s.chunking.max_tokens = 4, "Passage length"),
            (|s| s.chunking.overlap_tokens = 200, "Passage overlap"),
            (
                |s| s.documents.ocr_languages = "eng; rm -rf".into(),
                "OCR languages",
            ),
            (|s| s.documents.ocr_languages = " ".into(), "OCR languages"),
            (
                |s| s.documents.max_cores = 5000,
                "Cores for adding documents",
            ),
            (
                |s| s.models.unload_after_minutes = 5000,
                "Minutes before an unused model is unloaded",
            ),
            (|s| s.retrieval.k = 0, "Passages per search"),
            (|s| s.retrieval.candidates = 2, "Candidates"),
            (|s| s.answers.temperature = 3.0, "Temperature"),
            (|s| s.answers.max_tokens = 4000, "Longest reply"),
            (
                |s| {
                    s.retrieval.dense_weight = 0.0;
                    s.retrieval.bm25_weight = 0.0
                },
                "both be 0",
            ),
            (|s| s.models.chat = Some("models/x.gguf".into()), "absolute"),
            (
                |s| s.models.strong_chat = Some("models/y.gguf".into()),
                "absolute",
            ),
        ];
        for (change, expected) in cases {
            let mut s = screen(&config);
            change(&mut s);
            let err = apply(&mut config.clone(), &s).unwrap_err();
            assert_eq!(err.code, "invalid_input");
            assert!(err.message.contains(expected), "{}", err.message);
        }
    }

    #[test]
    fn the_answering_model_and_which_model_answers_are_written_and_read_back() {
        let text = "[models]\nchat = \"/m/fast.gguf\"\n";
        let before = Config::parse(text).unwrap();
        let mut wanted = screen(&before);
        assert_eq!(wanted.models.strong_chat, None);
        assert_eq!(wanted.models.local_answers, LocalAnswers::Strong);
        assert!(wanted.answers.condense);
        wanted.models.strong_chat = Some(" /m/strong.gguf ".into());
        wanted.models.local_answers = LocalAnswers::Tiers;
        wanted.answers.condense = false;
        let mut after = before.clone();
        apply(&mut after, &wanted).unwrap();
        let edited = cairn_engine::config_file::edit_text(text, &before, &after).unwrap();
        assert!(
            edited.contains("strong_chat = \"/m/strong.gguf\""),
            "{edited}"
        );
        assert!(edited.contains("local_answers = \"tiers\""), "{edited}");
        assert!(edited.contains("condense = false"), "{edited}");
        assert!(edited.contains("chat = \"/m/fast.gguf\""), "{edited}");
        let reread = Config::parse(&edited).unwrap();
        assert_eq!(reread, after);
        let shown = screen(&reread);
        assert_eq!(shown.models.strong_chat.as_deref(), Some("/m/strong.gguf"));
        assert_eq!(shown.models.local_answers, LocalAnswers::Tiers);
        assert!(!shown.answers.condense);

        // Each choice reads back as itself, the default included.
        for choice in [LocalAnswers::Fast, LocalAnswers::Strong] {
            let mut wanted = shown.clone();
            wanted.models.local_answers = choice;
            let mut next = reread.clone();
            apply(&mut next, &wanted).unwrap();
            let again = cairn_engine::config_file::edit_text(&edited, &reread, &next).unwrap();
            let parsed = Config::parse(&again).unwrap();
            assert_eq!(screen(&parsed).models.local_answers, choice, "{again}");
        }
    }

    #[test]
    fn the_unload_time_is_shown_in_minutes_and_written_in_seconds() {
        // The default, 300 s, is 5 minutes, and an unchanged screen keeps it.
        assert_eq!(screen(&Config::default()).models.unload_after_minutes, 5);

        // Seconds that are not whole minutes show rounded up, and stay as they are unless the
        // minutes are changed.
        let text = "[models]\nunload_after_secs = 90\n";
        let before = Config::parse(text).unwrap();
        let mut wanted = screen(&before);
        assert_eq!(wanted.models.unload_after_minutes, 2);
        wanted.retrieval.k = 7;
        let mut after = before.clone();
        apply(&mut after, &wanted).unwrap();
        assert_eq!(after.models.unload_after_secs, 90);
        let edited = cairn_engine::config_file::edit_text(text, &before, &after).unwrap();
        assert!(edited.contains("unload_after_secs = 90"), "{edited}");

        // A few seconds is a minute, never 0 (which keeps models loaded).
        let seconds = Config::parse("[models]\nunload_after_secs = 5\n").unwrap();
        assert_eq!(screen(&seconds).models.unload_after_minutes, 1);

        // Longer than the screen allows, set by hand: shown, and kept while unchanged.
        let week = Config::parse("[models]\nunload_after_secs = 604800\n").unwrap();
        let shown = screen(&week);
        assert_eq!(shown.models.unload_after_minutes, 10_080);
        let mut kept = week.clone();
        apply(&mut kept, &shown).unwrap();
        assert_eq!(kept, week);

        // Changed minutes are written as seconds; 0 keeps models loaded.
        for (minutes, secs) in [(10, 600), (0, 0), (1440, 86_400)] {
            let mut wanted = screen(&before);
            wanted.models.unload_after_minutes = minutes;
            let mut after = before.clone();
            apply(&mut after, &wanted).unwrap();
            let edited = cairn_engine::config_file::edit_text(text, &before, &after).unwrap();
            assert!(
                edited.contains(&format!("unload_after_secs = {secs}")),
                "{edited}"
            );
            let reread = Config::parse(&edited).unwrap();
            assert_eq!(reread.models.unload_after_secs, secs);
            assert_eq!(screen(&reread).models.unload_after_minutes, minutes);
        }
    }

    #[test]
    fn clearing_a_model_removes_its_key() {
        let text = "[models]\nchat = \"/m/big.gguf\"\n";
        let before = Config::parse(text).unwrap();
        let mut wanted = screen(&before);
        wanted.models.chat = None;
        let mut after = before.clone();
        apply(&mut after, &wanted).unwrap();
        let edited = cairn_engine::config_file::edit_text(text, &before, &after).unwrap();
        assert!(!edited.contains("big.gguf"), "{edited}");
        assert_eq!(Config::parse(&edited).unwrap().models.chat, None);
    }
}
