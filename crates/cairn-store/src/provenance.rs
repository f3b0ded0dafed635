//! Where an answer came from and which tier made it: stored as text columns (`messages.tier`,
//! `messages.provider`, and the same in `traces`), mapped here in one place in both directions.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

/// Which tier of the fallback chain produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The routed model, with full retrieval where the route asks for it.
    Primary,
    /// The fallback model (`router.secondary`), given only the single most relevant passage,
    /// after the primary failed.
    Secondary,
    /// A fixed answer: nothing relevant was found, or the request was refused.
    Deterministic,
}

impl Tier {
    /// The stored and displayed name: `primary`, `secondary`, `deterministic`.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Primary => "primary",
            Tier::Secondary => "secondary",
            Tier::Deterministic => "deterministic",
        }
    }

    /// The tier a stored name means. Rows written before tiers had these names said what kind of
    /// answer it was (`grounded`, `direct`: the model wrote it; `not_found`, `refusal`: fixed).
    pub fn from_label(label: &str) -> Option<Tier> {
        match label {
            "primary" | "grounded" | "direct" => Some(Tier::Primary),
            "secondary" => Some(Tier::Secondary),
            "deterministic" | "not_found" | "refusal" => Some(Tier::Deterministic),
            _ => None,
        }
    }
}

/// Who made an answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Provenance {
    /// The chat model on this device.
    Local,
    /// An earlier answer, served from the answer cache.
    Cache,
    /// A fixed text: a refusal, nothing found, or every model failed.
    Fixed,
    /// A cloud model, through the named provider (`[[providers]] name`).
    Cloud {
        /// The provider's name.
        provider: String,
    },
}

impl Provenance {
    /// Whether the answer was made without anything leaving this device.
    pub fn on_device(&self) -> bool {
        !matches!(self, Provenance::Cloud { .. })
    }

    /// The stored and displayed name: `local`, `cache`, `none` (a fixed answer) or the provider's
    /// name. No provider may take one of the first three (the config refuses them).
    pub fn label(&self) -> &str {
        match self {
            Provenance::Local => "local",
            Provenance::Cache => "cache",
            Provenance::Fixed => "none",
            Provenance::Cloud { provider } => provider,
        }
    }

    /// The provenance a stored name means.
    pub fn from_label(label: &str) -> Provenance {
        match label {
            "local" => Provenance::Local,
            "cache" => Provenance::Cache,
            "none" => Provenance::Fixed,
            provider => Provenance::Cloud {
                provider: provider.to_string(),
            },
        }
    }

    /// Names no provider may have: they mean something else in a stored answer.
    pub const RESERVED: [&'static str; 3] = ["local", "cache", "none"];
}

impl From<String> for Provenance {
    fn from(label: String) -> Self {
        Provenance::from_label(&label)
    }
}

impl From<Provenance> for String {
    fn from(p: Provenance) -> Self {
        p.label().to_string()
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl ToSql for Tier {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.label()))
    }
}

impl FromSql for Tier {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Tier::from_label(text)
            .ok_or_else(|| FromSqlError::Other(format!("no tier {text:?}").into()))
    }
}

impl ToSql for Provenance {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.label()))
    }
}

impl FromSql for Provenance {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str().map(Provenance::from_label)
    }
}
