//! How questions were answered and what it cost: `cairn traces`, `cairn trace` and `cairn stats`.

use std::process::ExitCode;

use cairn_engine::{Library, Limit, Spend, Stats};

use crate::text::one_line;

/// `cairn traces`: the last `last` questions, newest first, one line each or as a JSON array.
pub fn traces(library: &Library, last: usize, json: bool) -> anyhow::Result<ExitCode> {
    let traces = library.traces(last)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&traces)?);
    } else {
        for t in &traces {
            println!(
                "#{} {} {} · {} · {} · {}/{} · {}+{} tokens · ${:.4} · {:.0} ms · {}",
                t.id,
                t.created_at,
                t.outcome,
                t.route.as_deref().unwrap_or("-"),
                t.tier.map_or("-", |tier| tier.label()),
                t.provider.as_ref().map_or("-", |p| p.label()),
                t.model.as_deref().unwrap_or("-"),
                t.tokens_in,
                t.tokens_out,
                t.cost,
                t.total_ms,
                one_line(&t.question, 80)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn trace`: one trace, whole, as indented JSON (compact with `--json`).
pub fn trace(library: &Library, id: i64, json: bool) -> anyhow::Result<ExitCode> {
    let Some((_, data)) = library.trace(id)? else {
        anyhow::bail!("there is no trace {id}");
    };
    if json {
        println!("{}", serde_json::to_string(&data)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&data)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn stats`: spend against the budgets, then the figures of the last `days` days.
pub fn stats(library: &Library, days: u32, json: bool) -> anyhow::Result<ExitCode> {
    let spend = library.spend()?;
    let stats = library.stats(days)?;
    if json {
        let mut value = serde_json::to_value(&spend)?;
        value["figures"] = serde_json::to_value(&stats)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", spend_text(&spend));
        print!("{}", stats_text(&stats));
    }
    Ok(ExitCode::SUCCESS)
}

/// Operations and quality, for `cairn stats`.
fn stats_text(s: &Stats) -> String {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", 100.0 * x));
    let mut out = format!(
        "\nlast {} days: {} questions, {} failed (error rate {})\n",
        s.days,
        s.questions,
        s.failed,
        pct(s.error_rate)
    );
    for (stage, p) in &s.latency_ms {
        out.push_str(&format!(
            "  {stage:<12} p50 {:>8.1} ms   p95 {:>8.1} ms\n",
            p.p50, p.p95
        ));
    }
    out.push_str(&format!(
        "guardrails acted: {} · answer cache hits: {} · local {} / cloud {}\n",
        pct(s.guardrail_rate),
        s.cache_hit_rate
            .map_or("no answer cache".to_string(), |x| pct(Some(x))),
        pct(s.local_share),
        pct(s.cloud_share)
    ));
    out.push_str(&format!(
        "tokens {} in / {} out · ${:.4}\n",
        s.tokens_in, s.tokens_out, s.cost
    ));
    out.push_str(&format!(
        "grounded {} · 👍 {} of {} rated · follow-ups {} · deterministic tier {}\n",
        pct(s.grounded_rate),
        pct(s.thumbs_up_rate),
        s.rated,
        pct(s.follow_up_rate),
        pct(s.deterministic_rate)
    ));
    for d in &s.by_day {
        out.push_str(&format!(
            "  {}: {} questions, {} local, {} cloud, {}+{} tokens, ${:.4}\n",
            d.day, d.questions, d.local, d.cloud, d.tokens_in, d.tokens_out, d.cost
        ));
    }
    out
}

/// Spend against the budgets, for `cairn stats`.
fn spend_text(spend: &Spend) -> String {
    let limit = |l: &Limit| -> String {
        let mut parts = Vec::new();
        if let Some(c) = l.cost {
            parts.push(format!("${c:.2}"));
        }
        if let Some(t) = l.tokens {
            parts.push(format!("{t} tokens"));
        }
        if parts.is_empty() {
            "no limit".into()
        } else {
            parts.join(", ")
        }
    };
    let mut out = String::new();
    out.push_str(&format!(
        "today:      ${:.4}  {} tokens  (budget: {})\n",
        spend.today.cost,
        spend.today.tokens,
        limit(&spend.budget.day)
    ));
    out.push_str(&format!(
        "this month: ${:.4}  {} tokens  (budget: {})\n",
        spend.month.cost,
        spend.month.tokens,
        limit(&spend.budget.month)
    ));
    out.push_str(&format!(
        "per conversation budget: {}\n",
        limit(&spend.budget.conversation)
    ));
    if spend.by_model.is_empty() {
        out.push_str("no cloud calls this month\n");
    }
    for m in &spend.by_model {
        out.push_str(&format!(
            "  {}/{}: {} calls, {} tokens, ${:.4}\n",
            m.provider, m.model, m.calls, m.spent.tokens, m.spent.cost
        ));
    }
    out
}
