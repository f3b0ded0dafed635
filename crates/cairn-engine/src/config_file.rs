//! Changes to `config.toml` that keep the file as the person wrote it.
//!
//! Settings, providers and prompt versions all change the config the same way: [`update`] reads
//! the file, lets the caller change the [`Config`], and writes back only the values that differ.
//! Comments, layout and the keys nobody touched stay as they were. The edited text must read back
//! as exactly the changed config before it replaces the file, and it replaces it whole or not at
//! all.
//!
//! The edit compares the two configs as TOML trees (what their `Serialize` gives) and applies the
//! differences to the document:
//!
//! * a value that did not change is left alone, even where the file spells it differently;
//! * a key that went away (an option that became unset) is removed;
//! * a table is edited key by key, in place: a `[table]` that is missing at the top level is
//!   created with the keys that differ; a missing table deeper down is written whole, inline;
//! * an array of tables (`[[providers]]`) that differs is written again whole;
//! * any other value that differs is replaced, keeping the comment beside it.
//!
//! Floats are written as a person types them: an `f32` setting of 0.6 is written `0.6`, not
//! `0.6000000238418579`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, TableLike};

use crate::config::Config;
use crate::error::Error;

/// Reads `config.toml` at `path` (absent: the defaults), lets `change` edit the [`Config`], and
/// writes back only what differs, comments and layout kept. The changed config must pass
/// [`Config::check`], and the edited text must parse back to exactly the changed config before it
/// replaces the file (atomically: a crash leaves the old file or the new one, never half of one).
/// Nothing is written when `change` changes nothing. Returns the new config.
///
/// Errors: `change`'s own, unchanged; [`Error::Config`] when the file cannot be read as a config
/// or the changed config does not pass its checks; [`Error::Io`] when the file cannot be read or
/// written; [`Error::Internal`] when the edited text would not read back as the changed config (the
/// file is then left as it was).
pub fn update<E: From<Error>>(
    path: &Path,
    change: impl FnOnce(&mut Config) -> Result<(), E>,
) -> Result<Config, E> {
    let label = path.display().to_string();
    let invalid = |reason: String| Error::Config {
        path: label.clone(),
        reason,
    };
    let text = read(path)?;
    let before = Config::parse(&text).map_err(invalid)?;
    let mut after = before.clone();
    change(&mut after)?;
    after.check().map_err(invalid)?;
    if after == before {
        return Ok(after);
    }
    let edited = edit(&label, &text, &before, &after)?;
    write_atomically(path, &edited)?;
    Ok(after)
}

/// `text`, a config file that reads as `before`, with the values that differ between `before` and
/// `after` written as `after` has them; everything else, comments included, as it was. The result
/// is checked to parse back to exactly `after`.
///
/// Errors: [`Error::Config`] when `text` is not TOML; [`Error::Internal`] when the edited text would
/// not read back as `after`.
pub fn edit_text(text: &str, before: &Config, after: &Config) -> Result<String, Error> {
    edit("config.toml", text, before, after)
}

/// Sets the version of prompt template `name` in the config file at `path` (`None`: back to its
/// default), keeping everything else in the file as it was. The new file is checked before it
/// replaces the old one, and written whole or not at all.
pub fn set_prompt_version(path: &Path, name: &str, version: Option<&str>) -> Result<Config, Error> {
    update(path, |config| {
        match version {
            Some(v) => {
                config.prompts.insert(name.to_string(), v.to_string());
            }
            None => {
                config.prompts.remove(name);
            }
        }
        Ok(())
    })
}

/// [`edit_text`], naming the file `label` in its errors.
fn edit(label: &str, text: &str, before: &Config, after: &Config) -> Result<String, Error> {
    let doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::Config {
            path: label.to_string(),
            reason: format!("cannot be edited: {e}"),
        })?;
    let old = tree(before)?;
    let new = tree(after)?;
    let mut problem = String::new();
    // Floats as typed first; written exactly, should an `f64` setting happen to hold a value that
    // is also an `f32`'s (the typed form would then read back as another number).
    for floats in [Floats::AsTyped, Floats::Exact] {
        let mut edited = doc.clone();
        apply_table(edited.as_table_mut(), Level::Root, &old, &new, floats)?;
        let edited = edited.to_string();
        match Config::parse(&edited) {
            Ok(read) if read == *after => return Ok(edited),
            Ok(_) => problem = "does not read back as the config saved".into(),
            Err(e) => problem = format!("does not read back: {e}"),
        }
    }
    Err(Error::Internal(format!(
        "{label}: the edited text {problem}"
    )))
}

/// A config as a TOML table, as its `Serialize` writes it.
fn tree(config: &Config) -> Result<toml::Table, Error> {
    match toml::Value::try_from(config) {
        Ok(toml::Value::Table(table)) => Ok(table),
        Ok(_) => Err(Error::Internal("a config is not a TOML table".into())),
        Err(e) => Err(Error::Internal(format!(
            "a config cannot be written as TOML: {e}"
        ))),
    }
}

/// Where a table sits in the document, which decides how a missing table is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The document itself: a missing table becomes a `[table]` holding the keys that differ.
    Root,
    /// A `[table]`: a missing table is written whole, inline; an array of tables as `[[array]]`.
    Table,
    /// An inline table: everything in it is inline.
    Inline,
}

/// Applies the differences between `before` and `after` to `doc`, the table that holds them.
fn apply_table(
    doc: &mut dyn TableLike,
    level: Level,
    before: &toml::Table,
    after: &toml::Table,
    floats: Floats,
) -> Result<(), Error> {
    let gone = before
        .keys()
        .filter(|key| !after.contains_key(key.as_str()));
    let keys: Vec<&String> = after.keys().chain(gone).collect();
    for key in keys {
        let old = before.get(key.as_str());
        match after.get(key.as_str()) {
            None => {
                doc.remove(key);
            }
            Some(new) if old == Some(new) => {}
            Some(new) => apply_key(doc, level, key, old, new, floats)?,
        }
    }
    Ok(())
}

/// What the document holds under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Nothing.
    Absent,
    /// A `[table]` (or dotted keys).
    Table,
    /// An inline table.
    Inline,
    /// Anything else.
    Other,
}

/// Writes `key`, which changed from `old` to `new`, into `doc`.
fn apply_key(
    doc: &mut dyn TableLike,
    level: Level,
    key: &str,
    old: Option<&toml::Value>,
    new: &toml::Value,
    floats: Floats,
) -> Result<(), Error> {
    let slot = match doc.get(key) {
        None => Slot::Absent,
        Some(item) if item.is_table() => Slot::Table,
        Some(item) if item.is_inline_table() => Slot::Inline,
        Some(_) => Slot::Other,
    };
    match new {
        toml::Value::Table(new_table) if old.is_none_or(toml::Value::is_table) => {
            let empty = toml::Table::new();
            let old_table = old.and_then(toml::Value::as_table).unwrap_or(&empty);
            match slot {
                Slot::Table | Slot::Inline => {
                    let inner = if slot == Slot::Table {
                        Level::Table
                    } else {
                        Level::Inline
                    };
                    if let Some(table) = doc.get_mut(key).and_then(Item::as_table_like_mut) {
                        apply_table(table, inner, old_table, new_table, floats)?;
                    }
                    // An inline table left empty (a limit cleared) goes with its key.
                    let emptied = doc
                        .get(key)
                        .and_then(Item::as_inline_table)
                        .is_some_and(InlineTable::is_empty);
                    if emptied && new_table.is_empty() {
                        doc.remove(key);
                    }
                }
                Slot::Absent if level == Level::Root => {
                    // The file left this section to its defaults, which `old_table` holds.
                    let mut table = toml_edit::Table::new();
                    apply_table(&mut table, Level::Table, old_table, new_table, floats)?;
                    if !table.is_empty() {
                        doc.insert(key, Item::Table(table));
                    }
                }
                Slot::Absent | Slot::Other => set(doc, key, new, floats)?,
            }
        }
        toml::Value::Array(items) if level != Level::Inline && is_array_of_tables(items) => {
            let mut tables = ArrayOfTables::new();
            for item in items {
                if let toml::Value::Table(table) = item {
                    tables.push(element(table, floats)?);
                }
            }
            doc.insert(key, Item::ArrayOfTables(tables));
        }
        toml::Value::Array(items)
            if items.is_empty() && doc.get(key).is_some_and(Item::is_array_of_tables) =>
        {
            // `[[x]]` cannot say "none": an emptied array of tables goes, leaving the default.
            doc.remove(key);
        }
        _ => set(doc, key, new, floats)?,
    }
    Ok(())
}

/// Whether `items` is written as `[[array]]`: tables, at least one.
fn is_array_of_tables(items: &[toml::Value]) -> bool {
    !items.is_empty() && items.iter().all(toml::Value::is_table)
}

/// Sets `key` to `new`, keeping the comment and spacing of the value it replaces.
fn set(doc: &mut dyn TableLike, key: &str, new: &toml::Value, floats: Floats) -> Result<(), Error> {
    let mut value = value(new, floats)?;
    if let Some(Item::Value(existing)) = doc.get_mut(key) {
        *value.decor_mut() = existing.decor().clone();
        *existing = value;
    } else {
        doc.insert(key, Item::Value(value));
    }
    Ok(())
}

/// A TOML value as an editable (inline) value.
fn value(v: &toml::Value, floats: Floats) -> Result<toml_edit::Value, Error> {
    Ok(match v {
        toml::Value::String(s) => toml_edit::Value::from(s.as_str()),
        toml::Value::Integer(i) => toml_edit::Value::from(*i),
        toml::Value::Float(x) => toml_edit::Value::from(floats.write(*x)),
        toml::Value::Boolean(b) => toml_edit::Value::from(*b),
        toml::Value::Datetime(d) => {
            let datetime: toml_edit::Datetime = d.to_string().parse().map_err(|e| {
                Error::Internal(format!("the date-time {d} cannot be written: {e}"))
            })?;
            toml_edit::Value::from(datetime)
        }
        toml::Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(value(item, floats)?);
            }
            toml_edit::Value::Array(array)
        }
        toml::Value::Table(table) => {
            let mut inline = InlineTable::new();
            for (k, item) in table {
                inline.insert(k.as_str(), value(item, floats)?);
            }
            toml_edit::Value::InlineTable(inline)
        }
    })
}

/// One table of an array of tables, rendered as a document so that the tables inside it read
/// naturally (`[providers.timeouts]`, `[[providers.models]]`).
fn element(table: &toml::Table, floats: Floats) -> Result<toml_edit::Table, Error> {
    let text = toml::to_string(&floats.tidy_table(table))
        .map_err(|e| Error::Internal(format!("a table cannot be written as TOML: {e}")))?;
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::Internal(format!("a table written as TOML does not parse: {e}"))
    })?;
    let mut table = doc.into_table();
    unplace(&mut table);
    table.set_implicit(false);
    Ok(table)
}

/// Forgets where `table` and the tables inside it stood in the document they were parsed from, so
/// that they are written where they are put, each after the one before it.
fn unplace(table: &mut toml_edit::Table) {
    table.set_position(None);
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(inner) => unplace(inner),
            Item::ArrayOfTables(tables) => {
                for inner in tables.iter_mut() {
                    unplace(inner);
                }
            }
            _ => {}
        }
    }
}

/// How floats are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Floats {
    /// A float that is exactly an `f32` (every `f32` setting, widened) as the shortest decimal of
    /// that `f32`: 0.6, not 0.6000000238418579.
    AsTyped,
    /// Every float exactly as it is.
    Exact,
}

impl Floats {
    /// `x` as written.
    fn write(self, x: f64) -> f64 {
        match self {
            Floats::Exact => x,
            Floats::AsTyped => {
                let narrow = x as f32;
                if f64::from(narrow) == x {
                    narrow.to_string().parse().unwrap_or(x)
                } else {
                    x
                }
            }
        }
    }

    /// `value` with its floats as written.
    fn tidy(self, value: &toml::Value) -> toml::Value {
        match value {
            toml::Value::Float(x) => toml::Value::Float(self.write(*x)),
            toml::Value::Array(items) => {
                toml::Value::Array(items.iter().map(|item| self.tidy(item)).collect())
            }
            toml::Value::Table(table) => toml::Value::Table(self.tidy_table(table)),
            other => other.clone(),
        }
    }

    /// `table` with its floats as written.
    fn tidy_table(self, table: &toml::Table) -> toml::Table {
        table
            .iter()
            .map(|(key, value)| (key.clone(), self.tidy(value)))
            .collect()
    }
}

/// The file's text; an absent file reads as empty (all defaults).
fn read(path: &Path) -> Result<String, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(Error::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Temporary files made by this process, counted so that each has its own name.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Writes `text` to a new temporary file beside `path`, flushes it to disk, then renames it over
/// `path`: a crash leaves the old file or the new one, never half of one. Each write has its own
/// temporary file, so two writers never write into one.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".into());
    let (tmp, file) = loop {
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            TEMPORARY.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            // Left by an earlier process that had this one's id: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    };
    let written = fill(file, text).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    // The rename itself reaches the disk with the directory (where a directory can be opened).
    let _ = std::fs::File::open(&dir).and_then(|dir| dir.sync_all());
    Ok(())
}

/// Writes `text` into `file` and waits until it is on the disk; the file is closed on return.
fn fill(mut file: std::fs::File, text: &str) -> std::io::Result<()> {
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RerankerChoice;
    use cairn_index::Fusion;

    /// `text` edited by `change`, checked to read back as the changed config.
    fn edit_with(text: &str, change: impl FnOnce(&mut Config)) -> (String, Config) {
        let before = Config::parse(text).unwrap();
        let mut after = before.clone();
        change(&mut after);
        let edited = edit_text(text, &before, &after).unwrap();
        assert_eq!(Config::parse(&edited).unwrap(), after, "{edited}");
        (edited, after)
    }

    #[test]
    fn a_prompt_version_is_set_and_reset_keeping_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "# mine\n[search]\nk = 5 # five\n").unwrap();
        let config = set_prompt_version(&path, "grounded", Some("1.1.0")).unwrap();
        assert_eq!(config.prompts["grounded"], "1.1.0");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# mine\n[search]\nk = 5 # five\n"),
            "{text}"
        );
        assert_eq!(Config::load(&path).unwrap(), config);

        let err = set_prompt_version(&path, "grounded", Some("7.0.0")).unwrap_err();
        assert!(err.to_string().contains("1.0.0, 1.1.0"), "{err}");
        let err = set_prompt_version(&path, "limerick", Some("1.0.0")).unwrap_err();
        assert!(err.to_string().contains("limerick"), "{err}");
        assert_eq!(
            Config::load(&path).unwrap(),
            config,
            "a refused change writes nothing"
        );

        let config = set_prompt_version(&path, "grounded", None).unwrap();
        assert!(config.prompts.is_empty());
        assert_eq!(config.search.k, 5);
    }

    #[test]
    fn an_unchanged_config_leaves_the_text_as_it_was() {
        let text = "# mine\n[search]\nk = 5 # five\nfusion = { method = \"rrf\", k = 60.0, dense_weight = 1.0, bm25_weight = 0.5 }\n";
        let (edited, _) = edit_with(text, |_| {});
        assert_eq!(edited, text);
        let (edited, _) = edit_with("", |_| {});
        assert_eq!(edited, "");
    }

    #[test]
    fn a_changed_value_keeps_its_comment_and_new_sections_hold_only_what_changed() {
        let text = "# mine\n[search]\nk = 5 # five\n";
        let (edited, _) = edit_with(text, |c| {
            c.search.k = 6;
            c.answer.temperature = 0.7;
            c.cache.threshold = 0.95;
        });
        assert!(
            edited.starts_with("# mine\n[search]\nk = 6 # five\n"),
            "{edited}"
        );
        assert!(edited.contains("temperature = 0.7\n"), "{edited}");
        assert!(edited.contains("threshold = 0.95\n"), "{edited}");
        assert!(!edited.contains("max_tokens"), "{edited}");
        assert!(!edited.contains("enabled"), "{edited}");
    }

    #[test]
    fn an_inline_table_is_edited_in_place_and_a_missing_one_written_whole() {
        let text = "[search]\nfusion = { method = \"rrf\", k = 60.0, dense_weight = 1.0, bm25_weight = 0.5 } # tuned\n";
        let (edited, _) = edit_with(text, |c| {
            c.search.fusion = Fusion::Weighted {
                dense_weight: 0.7,
                bm25_weight: 0.3,
            };
        });
        assert!(edited.contains("# tuned"), "{edited}");
        assert!(edited.contains("dense_weight = 0.7"), "{edited}");
        assert!(!edited.contains("60"), "{edited}");

        let (edited, _) = edit_with("[search]\nk = 5\n", |c| {
            c.search.fusion = Fusion::Rrf {
                k: 60.0,
                dense_weight: 1.0,
                bm25_weight: 0.5,
            };
        });
        assert!(edited.contains("method = \"rrf\""), "{edited}");
        assert!(edited.contains("bm25_weight = 0.5"), "{edited}");
    }

    #[test]
    fn an_enum_changes_between_a_word_and_a_table() {
        let (edited, after) = edit_with("[search]\nreranker = \"maxsim\"\n", |c| {
            c.search.reranker = RerankerChoice::CrossEncoder("/models/ms-marco".into());
        });
        assert!(edited.contains("cross-encoder"), "{edited}");
        let before = after.clone();
        let mut after = before.clone();
        after.search.reranker = RerankerChoice::None;
        let back = edit_text(&edited, &before, &after).unwrap();
        assert!(back.contains("reranker = \"none\""), "{back}");
        assert_eq!(Config::parse(&back).unwrap(), after);
    }

    #[test]
    fn a_cleared_limit_removes_its_key() {
        let (edited, after) = edit_with("", |c| c.budget.day.cost = Some(2.5));
        assert!(
            edited.contains("day = {") && edited.contains("cost = 2.5"),
            "{edited}"
        );
        let mut cleared = after.clone();
        cleared.budget.day.cost = None;
        let back = edit_text(&edited, &after, &cleared).unwrap();
        assert!(!back.contains("day"), "{back}");
        assert_eq!(Config::parse(&back).unwrap(), cleared);
    }

    #[test]
    fn providers_are_written_as_an_array_of_tables() {
        let providers = Config::parse(
            "[[providers]]\nname = \"acme\"\nkind = \"openai\"\n\
             models = [{ id = \"m\", tier = \"mid\", input_per_mtok = 0.15 }]\n\
             [[providers]]\nname = \"local-llm\"\nkind = \"openai-compatible\"\n\
             base_url = \"http://127.0.0.1:8080/v1\"\ntimeouts = { connect_secs = 2.5 }\n\
             models = [{ id = \"llama\", tier = \"large\" }, { id = \"small\", tier = \"mid\" }]\n",
        )
        .unwrap()
        .providers;
        let text = "# top\n[search]\nk = 5\n\n[answer]\npassages = 3\n";
        let (edited, after) = edit_with(text, |c| c.providers = providers.clone());
        assert!(edited.starts_with(text), "{edited}");
        assert_eq!(edited.matches("[[providers]]").count(), 2, "{edited}");
        assert!(edited.contains("name = \"local-llm\""), "{edited}");

        // One goes; the other is written again, the rest of the file as it was.
        let mut fewer = after.clone();
        fewer.providers.retain(|p| p.name == "local-llm");
        let back = edit_text(&edited, &after, &fewer).unwrap();
        assert!(back.starts_with(text), "{back}");
        assert!(!back.contains("acme"), "{back}");
        assert_eq!(Config::parse(&back).unwrap(), fewer);

        // None left: the key goes.
        let mut none = fewer.clone();
        none.providers.clear();
        let gone = edit_text(&back, &fewer, &none).unwrap();
        assert!(!gone.contains("providers"), "{gone}");
        assert_eq!(Config::parse(&gone).unwrap(), none);
    }

    #[test]
    fn floats_are_written_as_typed_or_exactly() {
        assert_eq!(Floats::AsTyped.write(f64::from(0.6f32)), 0.6);
        assert_eq!(Floats::AsTyped.write(0.1), 0.1);
        assert_eq!(Floats::AsTyped.write(2.5), 2.5);
        assert_eq!(Floats::Exact.write(f64::from(0.6f32)), f64::from(0.6f32));
        // An f64 setting that holds an f32's exact value still reads back as itself.
        let odd = f64::from(0.3f32);
        let (_, after) = edit_with("", |c| c.budget.month.cost = Some(odd));
        assert_eq!(after.budget.month.cost, Some(odd));
    }

    #[test]
    fn update_writes_the_change_whole_and_refusals_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");

        // Nothing changed: no file is made.
        let config = update::<Error>(&path, |_| Ok(())).unwrap();
        assert_eq!(config, Config::default());
        assert!(!path.exists());

        std::fs::write(&path, "# mine\n[search]\nk = 5 # five\n").unwrap();
        let config = update::<Error>(&path, |c| {
            c.search.candidates = 40;
            Ok(())
        })
        .unwrap();
        assert_eq!(config.search.candidates, 40);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# mine\n[search]\nk = 5 # five\n"),
            "{text}"
        );
        assert_eq!(Config::load(&path).unwrap(), config);

        // The closure's own error, and a config that fails its checks: the file stays.
        let err = update(&path, |c| {
            c.search.k = 9;
            Err(Error::InvalidInput("no".into()))
        })
        .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let err = update::<Error>(&path, |c| {
            c.cache.threshold = 2.0;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.code(), "config");
        assert!(err.to_string().contains("cache.threshold"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        // No temporary file is left beside it.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["config.toml".to_string()]);
    }

    #[test]
    fn a_file_that_is_not_toml_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[search\n").unwrap();
        let err = update::<Error>(&path, |c| {
            c.search.k = 9;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.code(), "config");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[search\n");
    }
}
