//! Prompt templates: versioned files in `prompts/` (`name-MAJOR.MINOR.PATCH.txt`), compiled in. A
//! changed prompt is a new file with a new version; every answer records the version it used. The
//! constants below are the defaults; `[prompts]` in the config picks another version of a template
//! (and rolling back is picking the one before).

/// A template: a system and a user part for the model, or a fixed text for deterministic answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Template name.
    pub name: &'static str,
    /// Semantic version, from the file name.
    pub version: &'static str,
    source: &'static str,
}

macro_rules! template {
    ($name:literal, $version:literal) => {
        Template {
            name: $name,
            version: $version,
            source: include_str!(concat!("../prompts/", $name, "-", $version, ".txt")),
        }
    };
}

/// Grounded answers to factual questions.
pub const GROUNDED: Template = template!("grounded", "1.0.0");
/// Grounded answers to analytical questions, explained in two or three sentences (1.0.0's
/// numbered steps ran past the reply's length; BENCHMARKS.md "Answers").
pub const ANALYTICAL: Template = template!("analytical", "1.1.0");
/// Small talk, without retrieval.
pub const CHITCHAT: Template = template!("chitchat", "1.0.0");
/// The deterministic answer when the library holds nothing relevant.
pub const NOT_FOUND: Template = template!("not-found", "1.0.0");
/// The deterministic answer when a generated answer was not supported by its passages.
pub const UNSUPPORTED: Template = template!("unsupported", "1.0.0");
/// In place of a generated answer the output check rejected: the passages' sentences that bear
/// on the question, quoted with their citations.
pub const QUOTED: Template = template!("quoted", "1.0.0");
/// The last step of the fallback chain: every model failed; the best passage is quoted.
pub const FALLBACK: Template = template!("fallback", "1.0.0");
/// The polite refusal.
pub const REFUSAL: Template = template!("refusal", "1.0.0");
/// A request about one whole document: its passages in order, or notes on its parts.
pub const DOCUMENT: Template = template!("document", "1.0.0");
/// An overview of a document too long for one prompt, from the most typical passage of each part.
pub const OVERVIEW: Template = template!("overview", "1.0.0");
/// Notes on one part of a document too long for one prompt (the map step of reading it whole).
pub const DOCUMENT_NOTES: Template = template!("document-notes", "1.0.0");
/// The deterministic answer when the document a question names is not in the collection.
pub const NO_DOCUMENT: Template = template!("no-document", "1.0.0");

/// The default version of every template.
pub const DEFAULTS: [Template; 12] = [
    GROUNDED,
    ANALYTICAL,
    CHITCHAT,
    NOT_FOUND,
    UNSUPPORTED,
    QUOTED,
    FALLBACK,
    REFUSAL,
    DOCUMENT,
    OVERVIEW,
    DOCUMENT_NOTES,
    NO_DOCUMENT,
];

/// Every template file, defaults or not.
pub const ALL: [Template; 14] = [
    GROUNDED,
    template!("grounded", "1.1.0"),
    template!("analytical", "1.0.0"),
    ANALYTICAL,
    CHITCHAT,
    NOT_FOUND,
    UNSUPPORTED,
    QUOTED,
    FALLBACK,
    REFUSAL,
    DOCUMENT,
    OVERVIEW,
    DOCUMENT_NOTES,
    NO_DOCUMENT,
];

/// The versions of template `name`, oldest first.
pub fn versions(name: &str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = ALL
        .iter()
        .filter(|t| t.name == name)
        .map(|t| t.version)
        .collect();
    v.sort_by_key(|v| semver(v));
    v
}

/// Template `name` at `version`, if there is such a file.
pub fn find(name: &str, version: &str) -> Option<Template> {
    ALL.iter()
        .find(|t| t.name == name && t.version == version)
        .copied()
}

/// The version of `name` before `version` (what rolling back goes to), if there is one.
pub fn previous(name: &str, version: &str) -> Option<&'static str> {
    let all = versions(name);
    let at = all.iter().position(|v| *v == version)?;
    at.checked_sub(1).map(|i| all[i])
}

/// A prompt template's versions, and which is in use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PromptInfo {
    /// The template.
    pub name: String,
    /// The version in use.
    pub active: String,
    /// The version used when the config names none.
    pub default: String,
    /// Every version, oldest first.
    pub versions: Vec<String>,
    /// The version rolling back would go to.
    pub previous: Option<String>,
}

/// Every template, with the versions `chosen` picks (the config's `[prompts]`).
pub fn infos(chosen: &std::collections::BTreeMap<String, String>) -> Vec<PromptInfo> {
    DEFAULTS
        .iter()
        .map(|d| {
            let active = chosen
                .get(d.name)
                .and_then(|v| find(d.name, v))
                .map_or(d.version, |t| t.version);
            PromptInfo {
                name: d.name.into(),
                active: active.into(),
                default: d.version.into(),
                versions: versions(d.name).into_iter().map(Into::into).collect(),
                previous: previous(d.name, active).map(Into::into),
            }
        })
        .collect()
}

/// `MAJOR.MINOR.PATCH` as numbers, for ordering.
fn semver(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

impl Template {
    /// `name@version`, as recorded with each answer.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The whole file.
    pub fn text(&self) -> &'static str {
        self.source
    }

    /// The text of section `=== name ===`, with `{key}` placeholders filled from `vars`.
    pub fn section(&self, name: &str, vars: &[(&str, &str)]) -> String {
        let marker = format!("=== {name} ===\n");
        let Some(start) = self.source.find(&marker).map(|i| i + marker.len()) else {
            return String::new();
        };
        let end = self.source[start..]
            .find("=== ")
            .map_or(self.source.len(), |i| start + i);
        // Placeholders are filled in one scan of the template: values are never re-scanned, so a
        // passage containing "{question}" stays as it is.
        let mut rest = self.source[start..end].trim_end();
        let mut text = String::with_capacity(rest.len());
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            rest = &rest[open..];
            match vars.iter().find(|(key, _)| {
                rest.len() > key.len() + 1
                    && rest[1..].starts_with(key)
                    && rest[1 + key.len()..].starts_with('}')
            }) {
                Some((key, value)) => {
                    text.push_str(value);
                    rest = &rest[key.len() + 2..];
                }
                None => {
                    text.push('{');
                    rest = &rest[1..];
                }
            }
        }
        text.push_str(rest);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_their_sections_and_fill_placeholders_once() {
        for t in [GROUNDED, ANALYTICAL, CHITCHAT] {
            assert!(!t.section("system", &[]).is_empty(), "{}", t.id());
            assert!(t.section("user", &[]).contains("{question}"), "{}", t.id());
        }
        let user = GROUNDED.section(
            "user",
            &[("passages", "[1] says {question}"), ("question", "Why?")],
        );
        assert!(user.contains("[1] says {question}"), "{user}");
        assert!(user.ends_with("Question: Why?"), "{user}");
        assert_eq!(GROUNDED.id(), "grounded@1.0.0");
        assert!(
            NOT_FOUND
                .section("text", &[("sources", "")])
                .starts_with("I could not find")
        );
    }

    #[test]
    fn every_file_is_listed_with_its_versions_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut listed: Vec<String> = ALL
            .iter()
            .map(|t| format!("{}-{}.txt", t.name, t.version))
            .collect();
        listed.sort();
        assert_eq!(files, listed, "a prompt file is missing from ALL");
        assert!(DEFAULTS.iter().all(|d| ALL.contains(d)));
        assert_eq!(versions("grounded"), ["1.0.0", "1.1.0"]);
        assert!(semver("1.10.0") > semver("1.9.3"));
        assert_eq!(find("grounded", "1.1.0").unwrap().id(), "grounded@1.1.0");
        assert!(find("grounded", "9.9.9").is_none());
        assert_eq!(previous("grounded", "1.1.0"), Some("1.0.0"));
        assert_eq!(previous("grounded", "1.0.0"), None);
        let chosen = [("grounded".to_string(), "1.1.0".to_string())].into();
        let grounded = infos(&chosen).remove(0);
        assert_eq!(
            (grounded.active.as_str(), grounded.default.as_str()),
            ("1.1.0", "1.0.0")
        );
        assert_eq!(grounded.previous.as_deref(), Some("1.0.0"));
        assert_eq!(infos(&Default::default()).len(), DEFAULTS.len());
        for t in ALL {
            let part = if t.section("text", &[]).is_empty() {
                "system"
            } else {
                "text"
            };
            assert!(!t.section(part, &[]).is_empty(), "{}", t.id());
        }
    }
}
