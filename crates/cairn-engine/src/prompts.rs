//! Prompt templates: versioned files in `prompts/` (`name-MAJOR.MINOR.PATCH.txt`), compiled in. A
//! changed prompt is a new file with a new version; every answer records the version it used.

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
/// Step-wise grounded answers to analytical questions.
pub const ANALYTICAL: Template = template!("analytical", "1.0.0");
/// Small talk, without retrieval.
pub const CHITCHAT: Template = template!("chitchat", "1.0.0");
/// The deterministic answer when the library holds nothing relevant.
pub const NOT_FOUND: Template = template!("not-found", "1.0.0");
/// The deterministic answer when a generated answer was not supported by its passages.
pub const UNSUPPORTED: Template = template!("unsupported", "1.0.0");
/// The last step of the fallback chain: every model failed; the best passage is quoted.
pub const FALLBACK: Template = template!("fallback", "1.0.0");
/// The polite refusal.
pub const REFUSAL: Template = template!("refusal", "1.0.0");

impl Template {
    /// `name@version`, as recorded with each answer.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
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
}
