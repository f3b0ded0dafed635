//! How the system is doing, from the traces: operations (latency per stage, errors, guardrail
//! triggers, cache hits, tokens and cost over time, local against cloud) and quality (grounded
//! answers, 👍/👎, follow-up questions, the deterministic tier). What `cairn stats` prints and the
//! app's dashboards draw. And feedback: a verdict on an answer, exported as an evaluation set.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::library::Library;

/// The 50th and 95th percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// One UTC day's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Questions asked.
    pub questions: usize,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// US dollars.
    pub cost: f64,
    /// Answers made on this device.
    pub local: usize,
    /// Answers made by a cloud model.
    pub cloud: usize,
}

/// Operations and quality over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// The period, in days up to now.
    pub days: u32,
    /// Questions asked.
    pub questions: usize,
    /// Questions that failed (an error, not an answer).
    pub failed: usize,
    /// `failed / questions`.
    pub error_rate: Option<f64>,
    /// Milliseconds per stage: `route`, `retrieve`, `first_token`, `total`.
    pub latency_ms: BTreeMap<String, Percentiles>,
    /// Share of questions where a guard acted: the question or a passage flagged for injection, or
    /// an answer withdrawn by the output checks.
    pub guardrail_rate: Option<f64>,
    /// Of the questions the answer cache looked up, the share it answered; `None` before any
    /// lookup.
    pub cache_hit_rate: Option<f64>,
    /// Share of model-written answers made on this device.
    pub local_share: Option<f64>,
    /// Share of model-written answers made by a cloud model.
    pub cloud_share: Option<f64>,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// US dollars.
    pub cost: f64,
    /// Day by day.
    pub by_day: Vec<DayFigures>,
    /// Share of checked answers that were grounded in their passages.
    pub grounded_rate: Option<f64>,
    /// Answers rated.
    pub rated: usize,
    /// Share of rated answers given 👍.
    pub thumbs_up_rate: Option<f64>,
    /// Share of questions asked as a follow-up in a thread.
    pub follow_up_rate: Option<f64>,
    /// Share of answers from the deterministic tier (not found, refusal, withdrawn, fallback).
    pub deterministic_rate: Option<f64>,
}

/// One line of `cairn export feedback`: usable as an evaluation or fine-tuning example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackExample {
    /// The answer's trace.
    pub trace_id: i64,
    /// The question.
    pub question: String,
    /// The passages the answer was made from.
    pub passages: Vec<Value>,
    /// The answer.
    pub answer: String,
    /// `up` or `down`.
    pub feedback: &'static str,
    /// What it should have said, if the person wrote it.
    pub correction: Option<String>,
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn percentiles(mut values: Vec<f64>) -> Percentiles {
    if values.is_empty() {
        return Percentiles::default();
    }
    values.sort_by(f64::total_cmp);
    // Nearest rank.
    let at =
        |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Percentiles {
        p50: at(0.5),
        p95: at(0.95),
    }
}

/// The figures of `traces` (`(unix time, trace JSON, rating)`), over `days`.
pub fn compute(days: u32, traces: &[(i64, Value, Option<i64>)]) -> Stats {
    let mut s = Stats {
        days,
        questions: traces.len(),
        ..Stats::default()
    };
    let mut stages: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let (mut guarded, mut local, mut cloud, mut checked, mut grounded) = (0, 0, 0, 0, 0);
    let (mut up, mut follow_ups, mut deterministic, mut answered) = (0, 0, 0, 0);
    let (mut cache_hits, mut cache_misses) = (0, 0);
    let mut by_day: BTreeMap<String, DayFigures> = BTreeMap::new();
    for (at, trace, rating) in traces {
        let (day, _) = cairn_store::day_and_month(*at);
        let figures = by_day.entry(day.clone()).or_insert_with(|| DayFigures {
            day,
            ..DayFigures::default()
        });
        figures.questions += 1;
        if trace["follow_up"].as_bool() == Some(true) {
            follow_ups += 1;
        }
        match trace["cache"]["lookup"].as_str() {
            Some("hit") => cache_hits += 1,
            Some("miss") => cache_misses += 1,
            _ => {}
        }
        if let Some(r) = rating {
            s.rated += 1;
            if *r > 0 {
                up += 1;
            }
        }
        let answer = &trace["answer"];
        if answer.is_null() {
            s.failed += 1;
            continue;
        }
        answered += 1;
        for stage in ["route", "retrieve", "first_token", "total"] {
            if let Some(ms) = answer["timings_ms"][stage].as_f64().filter(|ms| *ms > 0.0) {
                stages.entry(stage.to_string()).or_default().push(ms);
            }
        }
        let flagged = |report: &Value| report["findings"].as_array().is_some_and(|f| !f.is_empty());
        let output = &answer["output_check"];
        let withdrawn = output["grounded"] == Value::Bool(false)
            || output["policy_hits"]
                .as_array()
                .is_some_and(|h| !h.is_empty());
        if flagged(&answer["input_check"])
            || answer["passages_flagged"].as_u64().unwrap_or(0) > 0
            || withdrawn
        {
            guarded += 1;
        }
        if output.is_object() {
            checked += 1;
            if output["grounded"] == Value::Bool(true) {
                grounded += 1;
            }
        }
        match answer["provider"].as_str() {
            Some("local") => {
                local += 1;
                figures.local += 1;
            }
            // Fixed answers, and answers served from the cache, were made by no model now.
            Some("none" | "cache") | None => {}
            Some(_) => {
                cloud += 1;
                figures.cloud += 1;
            }
        }
        if answer["tier"] == "deterministic" {
            deterministic += 1;
        }
        let tokens_in = answer["tokens_in"].as_u64().unwrap_or(0);
        let tokens_out = answer["tokens_out"].as_u64().unwrap_or(0);
        let cost = answer["cost"].as_f64().unwrap_or(0.0);
        figures.tokens_in += tokens_in;
        figures.tokens_out += tokens_out;
        figures.cost += cost;
        s.tokens_in += tokens_in;
        s.tokens_out += tokens_out;
        s.cost += cost;
    }
    s.error_rate = share(s.failed, s.questions);
    s.latency_ms = stages
        .into_iter()
        .map(|(stage, values)| (stage, percentiles(values)))
        .collect();
    s.guardrail_rate = share(guarded, answered);
    s.cache_hit_rate = share(cache_hits, cache_hits + cache_misses);
    s.local_share = share(local, local + cloud);
    s.cloud_share = share(cloud, local + cloud);
    s.grounded_rate = share(grounded, checked);
    s.thumbs_up_rate = share(up, s.rated);
    s.follow_up_rate = share(follow_ups, s.questions);
    s.deterministic_rate = share(deterministic, answered);
    s.by_day = by_day.into_values().collect();
    s
}

impl Library {
    /// Operations and quality figures over the last `days` days.
    pub fn stats(&self, days: u32) -> Result<Stats> {
        let since = cairn_store::now_unix() - i64::from(days) * 86_400;
        let traces: Vec<(i64, Value, Option<i64>)> = self
            .store
            .traces_since(since)?
            .into_iter()
            .map(|(at, data, rating)| {
                (
                    at,
                    serde_json::from_str(&data).unwrap_or(Value::Null),
                    rating,
                )
            })
            .collect();
        Ok(compute(days, &traces))
    }

    /// Records 👍 (`up`) or 👎 on the answer of a trace, with an optional correction; a later
    /// verdict replaces the earlier one.
    pub fn feedback(&self, trace_id: i64, up: bool, correction: Option<&str>) -> Result<()> {
        let correction = correction.map(str::trim).filter(|c| !c.is_empty());
        Ok(self.store.set_feedback(trace_id, up, correction)?)
    }

    /// Every rated answer as an example: question, passages, answer, verdict, correction.
    pub fn feedback_examples(&self) -> Result<Vec<FeedbackExample>> {
        let mut out = Vec::new();
        for f in self.store.feedback()? {
            let trace: Value = serde_json::from_str(&f.trace)?;
            let answer = &trace["answer"];
            let passages = answer["citations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    serde_json::json!({
                        "doc_path": c["doc_path"], "page": c["page"], "chunk_id": c["chunk_id"],
                        "text": c["text"],
                    })
                })
                .collect();
            out.push(FeedbackExample {
                trace_id: f.trace_id,
                question: trace["question"].as_str().unwrap_or_default().to_string(),
                passages,
                answer: answer["answer"].as_str().unwrap_or_default().to_string(),
                feedback: if f.rating > 0 { "up" } else { "down" },
                correction: f.correction,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn figures_count_what_the_traces_say() {
        let day = 86_400 * 20_000;
        let answered = |provider: &str, tier: &str, total: f64, grounded: bool| {
            json!({"follow_up": false, "answer": {
                "provider": provider, "tier": tier, "tokens_in": 100, "tokens_out": 10,
                "cost": if provider == "acme" { 0.01 } else { 0.0 },
                "timings_ms": {"route": 5.0, "retrieve": 20.0, "first_token": 100.0, "total": total},
                "input_check": {"findings": []}, "passages_flagged": 0,
                "output_check": {"grounded": grounded, "policy_hits": []}}})
        };
        let traces = vec![
            (day, answered("local", "primary", 100.0, true), Some(1)),
            (day, answered("local", "primary", 200.0, true), Some(-1)),
            (day + 86_400, answered("acme", "primary", 300.0, true), None),
            (
                day + 86_400,
                answered("none", "deterministic", 400.0, false),
                Some(1),
            ),
            (
                day + 86_400,
                json!({"follow_up": true, "answer": null, "error": {"code": "model"}}),
                None,
            ),
        ];
        let s = compute(7, &traces);
        assert_eq!((s.questions, s.failed), (5, 1));
        assert_eq!(s.error_rate, Some(0.2));
        assert_eq!(
            s.latency_ms["total"],
            Percentiles {
                p50: 200.0,
                p95: 400.0
            }
        );
        assert_eq!(s.local_share, Some(2.0 / 3.0));
        assert_eq!(s.cloud_share, Some(1.0 / 3.0));
        assert_eq!(s.grounded_rate, Some(0.75));
        assert_eq!(s.guardrail_rate, Some(0.25), "the withdrawn answer");
        assert_eq!((s.rated, s.thumbs_up_rate), (3, Some(2.0 / 3.0)));
        assert_eq!(s.follow_up_rate, Some(0.2));
        assert_eq!(s.deterministic_rate, Some(0.25));
        assert_eq!(s.cache_hit_rate, None);
        assert_eq!((s.tokens_in, s.tokens_out), (400, 40));
        assert!((s.cost - 0.01).abs() < 1e-12);
        assert_eq!(s.by_day.len(), 2);
        assert_eq!((s.by_day[1].questions, s.by_day[1].cloud), (3, 1));
        assert_eq!(compute(7, &[]).error_rate, None);
    }

    #[test]
    fn a_cache_hit_counts_against_lookups_and_for_no_model() {
        let trace = |lookup: &str, provider: &str| {
            (
                86_400,
                json!({"follow_up": false, "cache": {"lookup": lookup},
                       "answer": {"provider": provider, "tier": "primary"}}),
                None,
            )
        };
        let s = compute(
            7,
            &[
                trace("hit", "cache"),
                trace("miss", "local"),
                trace("miss", "local"),
                trace("skipped", "local"),
                trace("off", "acme"),
            ],
        );
        assert_eq!(s.cache_hit_rate, Some(1.0 / 3.0));
        assert_eq!(
            s.local_share,
            Some(0.75),
            "the hit is neither local nor cloud"
        );
        assert_eq!(s.questions, 5);
    }
}
