//! The model router: which model answers a question, by policy and by how complex the question is.
//!
//! The complexity classifier ([`crate::complexity`]) sorts a question into simple, moderate or
//! complex; the policy maps that to a tier (the local model, a cloud "mid" model or a cloud "large"
//! model) and picks one model of the tier: the cheapest, the fastest measured, or simply the first.
//! A provider resting after failures (its circuit breaker is open) is passed over. The decision and
//! its reason are kept with the answer.

use cairn_providers::{ModelConfig, ModelTier};
use serde::{Deserialize, Serialize};

use crate::complexity::{Complexity, ComplexityDecision};

/// How questions are sent to models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Only the local model; no provider is even constructed, so nothing can leave the device.
    #[default]
    OfflineOnly,
    /// The cheapest model able to answer: local for simple questions, the cheapest mid model for
    /// moderate ones, the cheapest large model for complex ones.
    CostAware,
    /// Like cost-aware, but within a tier the model with the lowest measured median latency (a model
    /// never measured is tried first, to measure it).
    LatencyAware,
    /// The strongest model configured: large for moderate and complex questions, mid for simple.
    QualityFirst,
    /// Local for simple and moderate questions; the cheapest large model only for complex ones.
    Hybrid,
}

impl Policy {
    /// Every policy, for help texts and settings.
    pub const ALL: [Policy; 5] = [
        Policy::OfflineOnly,
        Policy::CostAware,
        Policy::LatencyAware,
        Policy::QualityFirst,
        Policy::Hybrid,
    ];

    /// Its name in config files and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Policy::OfflineOnly => "offline_only",
            Policy::CostAware => "cost_aware",
            Policy::LatencyAware => "latency_aware",
            Policy::QualityFirst => "quality_first",
            Policy::Hybrid => "hybrid",
        }
    }

    /// The tier this policy wants for a question of `complexity`.
    fn wanted(self, complexity: Complexity) -> Wanted {
        use Complexity::*;
        match (self, complexity) {
            (Policy::OfflineOnly, _) => Wanted::Local,
            (Policy::CostAware | Policy::LatencyAware | Policy::Hybrid, Simple) => Wanted::Local,
            (Policy::Hybrid, Moderate) => Wanted::Local,
            (Policy::CostAware | Policy::LatencyAware, Moderate) => Wanted::Cloud(ModelTier::Mid),
            (Policy::QualityFirst, Simple) => Wanted::Cloud(ModelTier::Mid),
            (_, Moderate | Complex) => Wanted::Cloud(ModelTier::Large),
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.replace('-', "_");
        Policy::ALL
            .into_iter()
            .find(|p| p.label() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Policy::ALL.iter().map(|p| p.label()).collect();
                format!("unknown policy {s:?}; one of {}", names.join(", "))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    Local,
    Cloud(ModelTier),
}

/// Which model answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The on-device model.
    Local,
    /// A model of a configured provider.
    Cloud {
        /// The provider's name.
        provider: String,
        /// The model's id.
        model: String,
    },
}

impl Target {
    /// `local`, or `provider/model`.
    pub fn label(&self) -> String {
        match self {
            Target::Local => "local".into(),
            Target::Cloud { provider, model } => format!("{provider}/{model}"),
        }
    }

    /// `local`, `none`, or `provider/model`, as the config's `router.secondary` writes it.
    pub fn parse(text: &str) -> Option<Option<Target>> {
        match text.trim() {
            "local" => Some(Some(Target::Local)),
            "none" | "" => Some(None),
            other => {
                let (provider, model) = other.split_once('/')?;
                Some(Some(Target::Cloud {
                    provider: provider.into(),
                    model: model.into(),
                }))
            }
        }
    }
}

/// Which of the two on-device models answers a question (the strong one is the fast one when no
/// strong model is installed or `models.local_answers` is `fast`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalTier {
    /// `models.chat`: quick to first token.
    Fast,
    /// `models.strong_chat`: slower, right more often.
    Strong,
}

impl LocalTier {
    /// The tier for a question of `complexity`.
    pub fn for_complexity(complexity: Complexity) -> LocalTier {
        match complexity {
            Complexity::Simple => LocalTier::Fast,
            Complexity::Moderate | Complexity::Complex => LocalTier::Strong,
        }
    }

    /// `fast` or `strong`.
    pub fn label(self) -> &'static str {
        match self {
            LocalTier::Fast => "fast",
            LocalTier::Strong => "strong",
        }
    }
}

/// Which on-device model answers questions (`models.local_answers`). Chosen by measurement
/// (BENCHMARKS.md, "Answers"): on the held-out questions the strong model was right 12 times and
/// wrong twice, the fast one right once and wrong 11 times, so the strong one answers by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAnswers {
    /// The strong model answers every question; the fast one writes the notes on each part of a
    /// long document.
    #[default]
    Strong,
    /// The fast model answers simple questions, the strong one the rest.
    Tiers,
    /// The fast model answers everything; the strong one is never loaded.
    Fast,
}

impl LocalAnswers {
    /// The model for a question of `complexity`.
    pub fn tier_for(self, complexity: Complexity) -> LocalTier {
        match self {
            LocalAnswers::Strong => LocalTier::Strong,
            LocalAnswers::Tiers => LocalTier::for_complexity(complexity),
            LocalAnswers::Fast => LocalTier::Fast,
        }
    }
}

/// The model router's decision, kept with the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRoute {
    /// The policy applied.
    pub policy: Policy,
    /// The question's complexity.
    pub complexity: Complexity,
    /// The classifier's probability for it.
    pub confidence: f32,
    /// `local`, `mid` or `large`: the tier of the model chosen.
    pub tier: &'static str,
    /// The model chosen.
    pub target: Target,
    /// The on-device model for this question, should it be answered locally (as the chosen model
    /// or a step of the fallback chain), as `models.local_answers` gives it.
    pub local_tier: LocalTier,
    /// Why, in a sentence.
    pub reason: String,
}

/// A cloud model the router may choose.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Its provider.
    pub provider: &'a str,
    /// The model.
    pub model: &'a ModelConfig,
    /// The provider is resting after failures.
    pub paused: bool,
    /// Its median latency over recent calls, in milliseconds, if measured.
    pub median_ms: Option<f64>,
}

/// Picks the model for a question of `complexity` under `policy` from `candidates` (in config
/// order), and the on-device model `local_answers` gives it. With no usable cloud model, the local
/// one answers, and the reason says why (and which local model).
pub fn choose(
    policy: Policy,
    complexity: &ComplexityDecision,
    local_answers: LocalAnswers,
    candidates: &[Candidate<'_>],
) -> ModelRoute {
    let local_tier = local_answers.tier_for(complexity.complexity);
    let route = |tier: &'static str, target: Target, reason: String| {
        let reason = if target == Target::Local {
            format!("{reason} (the {} local model)", local_tier.label())
        } else {
            reason
        };
        ModelRoute {
            policy,
            complexity: complexity.complexity,
            confidence: complexity.confidence,
            tier,
            target,
            local_tier,
            reason,
        }
    };
    let asked = format!(
        "{}: a {} question ({:.2})",
        policy.label(),
        complexity.complexity.label(),
        complexity.confidence
    );
    let tier = match policy.wanted(complexity.complexity) {
        Wanted::Local if policy == Policy::OfflineOnly => {
            return route(
                "local",
                Target::Local,
                format!("{asked}: offline-only, nothing leaves this device"),
            );
        }
        Wanted::Local => {
            return route(
                "local",
                Target::Local,
                format!("{asked} is answered on this device"),
            );
        }
        Wanted::Cloud(tier) => tier,
    };
    let paused: Vec<&str> = candidates
        .iter()
        .filter(|c| c.paused)
        .map(|c| c.provider)
        .collect();
    let usable: Vec<&Candidate<'_>> = candidates.iter().filter(|c| !c.paused).collect();
    // The wanted tier, else the other cloud tier, else local.
    let other = match tier {
        ModelTier::Mid => ModelTier::Large,
        ModelTier::Large => ModelTier::Mid,
    };
    let note = if paused.is_empty() {
        String::new()
    } else {
        let mut names = paused.clone();
        names.dedup();
        format!(" ({} resting after failures)", names.join(", "))
    };
    for (t, substitute) in [(tier, false), (other, true)] {
        let in_tier: Vec<&Candidate<'_>> = usable
            .iter()
            .copied()
            .filter(|c| c.model.tier == t)
            .collect();
        let pick = match policy {
            Policy::CostAware | Policy::Hybrid => in_tier
                .iter()
                .min_by(|a, b| price(a.model).total_cmp(&price(b.model)))
                .map(|c| (*c, "the cheapest")),
            Policy::LatencyAware => in_tier
                .iter()
                .find(|c| c.median_ms.is_none())
                .map(|c| (*c, "not yet measured"))
                .or_else(|| {
                    in_tier
                        .iter()
                        .min_by(|a, b| {
                            a.median_ms
                                .unwrap_or(f64::MAX)
                                .total_cmp(&b.median_ms.unwrap_or(f64::MAX))
                        })
                        .map(|c| (*c, "the fastest measured"))
                }),
            _ => in_tier.first().map(|c| (*c, "the first configured")),
        };
        if let Some((c, why)) = pick {
            let tier_name = tier_label(t);
            let latency = c
                .median_ms
                .map(|ms| format!(", median {ms:.0} ms"))
                .unwrap_or_default();
            let instead = if substitute {
                format!(" (no {} model available)", tier_label(tier))
            } else {
                String::new()
            };
            return route(
                tier_name,
                Target::Cloud {
                    provider: c.provider.to_string(),
                    model: c.model.id.clone(),
                },
                format!(
                    "{asked} goes to {why} {tier_name} model {}/{}{instead}: ${:.2}/${:.2} per million tokens in/out{latency}{note}",
                    c.provider, c.model.id, c.model.input_per_mtok, c.model.output_per_mtok
                ),
            );
        }
    }
    route(
        "local",
        Target::Local,
        format!("{asked}: no cloud model is available{note}, so it is answered on this device"),
    )
}

fn price(model: &ModelConfig) -> f64 {
    // A typical RAG request: ~4 prompt tokens per reply token.
    4.0 * model.input_per_mtok + model.output_per_mtok
}

fn tier_label(tier: ModelTier) -> &'static str {
    match tier {
        ModelTier::Mid => "mid",
        ModelTier::Large => "large",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, tier: ModelTier, input: f64, output: f64) -> ModelConfig {
        ModelConfig {
            id: id.into(),
            tier,
            input_per_mtok: input,
            output_per_mtok: output,
        }
    }

    fn decision(complexity: Complexity) -> ComplexityDecision {
        ComplexityDecision {
            complexity,
            confidence: 0.9,
        }
    }

    fn target(route: &ModelRoute) -> String {
        route.target.label()
    }

    #[test]
    fn each_policy_maps_complexity_to_its_tier_and_model() {
        let mini = model("mini", ModelTier::Mid, 0.15, 0.6);
        let small = model("small", ModelTier::Mid, 0.1, 0.3);
        let big = model("big", ModelTier::Large, 3.0, 15.0);
        let opus = model("opus", ModelTier::Large, 15.0, 75.0);
        let c = |p, m, ms| Candidate {
            provider: p,
            model: m,
            paused: false,
            median_ms: ms,
        };
        let all = [
            c("openai", &mini, Some(900.0)),
            c("mistral", &small, Some(400.0)),
            c("anthropic", &opus, Some(2000.0)),
            c("openai", &big, Some(1500.0)),
        ];
        use Complexity::*;
        let pick = |p, x| target(&choose(p, &decision(x), LocalAnswers::Strong, &all));
        for x in Complexity::ALL {
            assert_eq!(pick(Policy::OfflineOnly, x), "local");
        }
        assert_eq!(pick(Policy::CostAware, Simple), "local");
        assert_eq!(pick(Policy::CostAware, Moderate), "mistral/small");
        assert_eq!(pick(Policy::CostAware, Complex), "openai/big");
        assert_eq!(pick(Policy::Hybrid, Moderate), "local");
        assert_eq!(pick(Policy::Hybrid, Complex), "openai/big");
        assert_eq!(pick(Policy::QualityFirst, Simple), "openai/mini");
        assert_eq!(pick(Policy::QualityFirst, Complex), "anthropic/opus");
        assert_eq!(pick(Policy::LatencyAware, Moderate), "mistral/small");
        assert_eq!(pick(Policy::LatencyAware, Complex), "openai/big");
        let r = choose(
            Policy::CostAware,
            &decision(Complex),
            LocalAnswers::Strong,
            &all,
        );
        assert_eq!(r.tier, "large");
        assert!(
            r.reason.contains("cheapest large model openai/big"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn an_unmeasured_model_is_tried_and_a_resting_provider_is_passed_over() {
        let a = model("a", ModelTier::Mid, 1.0, 1.0);
        let b = model("b", ModelTier::Mid, 1.0, 1.0);
        let new = [
            Candidate {
                provider: "p",
                model: &a,
                paused: false,
                median_ms: Some(100.0),
            },
            Candidate {
                provider: "q",
                model: &b,
                paused: false,
                median_ms: None,
            },
        ];
        let r = choose(
            Policy::LatencyAware,
            &decision(Complexity::Moderate),
            LocalAnswers::Strong,
            &new,
        );
        assert_eq!(target(&r), "q/b");
        assert!(r.reason.contains("not yet measured"));

        let mut resting = new.clone();
        resting[1].paused = true;
        let r = choose(
            Policy::LatencyAware,
            &decision(Complexity::Moderate),
            LocalAnswers::Strong,
            &resting,
        );
        assert_eq!(target(&r), "p/a");
        assert!(
            r.reason.contains("q resting after failures"),
            "{}",
            r.reason
        );

        // No large model: a mid one stands in; nothing usable: local.
        let r = choose(
            Policy::QualityFirst,
            &decision(Complexity::Complex),
            LocalAnswers::Strong,
            &new,
        );
        assert_eq!((r.tier, target(&r).as_str()), ("mid", "p/a"));
        assert!(r.reason.contains("no large model available"));
        resting[0].paused = true;
        let r = choose(
            Policy::CostAware,
            &decision(Complexity::Complex),
            LocalAnswers::Strong,
            &resting,
        );
        assert_eq!(r.target, Target::Local);
        assert!(r.reason.contains("no cloud model is available"));
    }

    #[test]
    fn policies_and_targets_parse_from_config_text() {
        assert_eq!("cost-aware".parse::<Policy>(), Ok(Policy::CostAware));
        assert!(
            "cheap"
                .parse::<Policy>()
                .unwrap_err()
                .contains("offline_only")
        );
        assert_eq!(Target::parse("local"), Some(Some(Target::Local)));
        assert_eq!(Target::parse("none"), Some(None));
        assert_eq!(
            Target::parse("openai/gpt-4o-mini")
                .unwrap()
                .unwrap()
                .label(),
            "openai/gpt-4o-mini"
        );
        assert_eq!(Target::parse("nonsense"), None);
    }

    #[test]
    fn local_answers_pick_the_local_model_and_the_reason_names_it() {
        let local = |answers, c| choose(Policy::OfflineOnly, &decision(c), answers, &[]);
        let strong = local(LocalAnswers::Strong, Complexity::Simple);
        assert_eq!(strong.local_tier, LocalTier::Strong);
        assert!(
            strong.reason.ends_with("(the strong local model)"),
            "{}",
            strong.reason
        );
        assert_eq!(
            local(LocalAnswers::Tiers, Complexity::Simple).local_tier,
            LocalTier::Fast
        );
        assert_eq!(
            local(LocalAnswers::Tiers, Complexity::Complex).local_tier,
            LocalTier::Strong
        );
        assert_eq!(
            local(LocalAnswers::Fast, Complexity::Complex).local_tier,
            LocalTier::Fast
        );
        // A cloud choice does not name a local model in its reason.
        let cloud = choose(
            Policy::QualityFirst,
            &decision(Complexity::Complex),
            LocalAnswers::Strong,
            &[Candidate {
                provider: "p",
                model: &model("a", ModelTier::Large, 1.0, 2.0),
                paused: false,
                median_ms: None,
            }],
        );
        assert!(!cloud.reason.contains("local model"), "{}", cloud.reason);
    }
}
