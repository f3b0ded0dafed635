//! What a model is given: passages screened for injection, then packed whole, best first, with the
//! thread's recent turns, into the context window that is left once the reply has its room. A
//! passage goes in whole or not at all; a question too long for the window is an error, never a
//! truncated prompt.

use cairn_index::Hit;
use cairn_models::llm::{ChatMessage, ChatModel};
use cairn_store::MessageRecord;

use crate::answer::citation::Citation;
use crate::config::{AnswerConfig, GuardConfig};
use crate::error::{Error, Result};
use crate::prompts::Template;

/// Passages are untrusted: each is checked, and what the policy strips never reaches a model.
/// Returns the passages to use and how many the check changed or removed.
pub(crate) fn screen(hits: &[Hit], guard: &GuardConfig) -> (Vec<Hit>, usize) {
    let mut flagged = 0;
    let kept = hits
        .iter()
        .filter_map(|h| {
            let report = cairn_guard::injection::check(
                &h.passage.text,
                guard.injection.passage_policy,
                usize::MAX,
            );
            if report.flagged() {
                flagged += 1;
            }
            if report.blocked {
                return None;
            }
            let mut h = h.clone();
            h.passage.text = report.text;
            Some(h)
        })
        .collect();
    (kept, flagged)
}

/// A prompt that fits the context window.
#[derive(Debug)]
pub(crate) struct Packed {
    /// The prompt's token ids, chat template applied.
    pub(crate) ids: Vec<u32>,
    /// The passages it holds, numbered as the prompt numbers them.
    pub(crate) passages: Vec<Citation>,
    /// Passages left out for want of room.
    pub(crate) dropped: usize,
}

/// Builds the prompt: system part, the thread's recent turns, the numbered passages and the
/// question, within `context_tokens` minus the reply's `max_tokens`. Passages go in whole, best
/// first; one that does not fit is left out (a smaller one after it may still go in). Turns go in
/// newest first while they fit in a quarter of the budget. A question too long for the window is an
/// error, never a truncated prompt.
pub(crate) fn pack(
    model: &ChatModel,
    template: Template,
    question: &str,
    hits: &[Hit],
    history: &[MessageRecord],
    cfg: &AnswerConfig,
) -> Result<Packed> {
    let tok = model.tokenizer();
    let count = |text: &str| -> Result<usize> { Ok(tok.encode(text, false, false)?.len()) };
    let window = cfg.context_tokens.min(model.context_length());
    let system = ChatMessage::new("system", template.section("system", &[]));
    let bare = template.section("user", &[("passages", ""), ("question", question)]);
    let fixed = model
        .encode_chat(&[system.clone(), ChatMessage::new("user", bare.clone())])?
        .len();
    let Some(mut budget) = window.checked_sub(cfg.max_tokens + fixed) else {
        return Err(Error::InvalidInput(format!(
            "the question is too long for the model's context window ({fixed} tokens of prompt, {} for the reply, {window} in all)",
            cfg.max_tokens
        )));
    };

    // Recent turns within a quarter of what is left (chat-template framing costs a few tokens a
    // turn), then whole passages.
    let turns: Vec<ChatMessage> =
        recent_turns(history, 2 * cfg.history_turns, &mut budget, |text| {
            Ok(count(text)? + 8)
        })?
        .into_iter()
        .map(|(role, content)| ChatMessage::new(&role, content))
        .collect();
    let (passages, blocks, dropped) = fit_passages(
        hits,
        &mut budget,
        |n, c| format!("[{n}] ({}) {}", c.label(), c.text.trim()),
        |block| Ok(count(block)? + 2),
    )?;
    let user = template.section(
        "user",
        &[("passages", &blocks.join("\n\n")), ("question", question)],
    );
    let mut messages = vec![system];
    messages.extend(turns);
    messages.push(ChatMessage::new("user", user));
    let ids = model.encode_chat(&messages)?;
    // The estimate above counts pieces separately; the final prompt must still leave room.
    if ids.len() + cfg.max_tokens > window && !passages.is_empty() {
        let mut smaller: Vec<Hit> = hits.to_vec();
        smaller.truncate(passages.len().saturating_sub(1));
        return pack(model, template, question, &smaller, history, cfg);
    }
    Ok(Packed {
        ids,
        passages,
        dropped,
    })
}

/// Recent turns of `history`, taken newest first while they fit in a quarter of `budget` (and
/// taken from it), returned oldest first. A thread that ends on a question without an answer (a
/// failed turn) must not leave two user turns in a row, so the turns start with a question.
pub(crate) fn recent_turns(
    history: &[MessageRecord],
    max: usize,
    budget: &mut usize,
    mut cost: impl FnMut(&str) -> Result<usize>,
) -> Result<Vec<(String, String)>> {
    let mut quarter = *budget / 4;
    let mut turns = Vec::new();
    for m in history.iter().rev().take(max) {
        let c = cost(&m.content)?;
        if c > quarter {
            break;
        }
        quarter -= c;
        *budget -= c;
        turns.push((m.role.clone(), m.content.clone()));
    }
    turns.reverse();
    while turns.first().is_some_and(|(role, _)| role != "user") {
        turns.remove(0);
    }
    Ok(turns)
}

/// Whole passages, best first, while they fit in `budget` (and taken from it): one that does not
/// fit is left out, and a smaller one after it may still go in. `render` writes passage `n`'s
/// block. Returns the passages given, their blocks, and how many were left out.
pub(crate) fn fit_passages(
    hits: &[Hit],
    budget: &mut usize,
    render: impl Fn(usize, &Citation) -> String,
    mut cost: impl FnMut(&str) -> Result<usize>,
) -> Result<(Vec<Citation>, Vec<String>, usize)> {
    let (mut passages, mut blocks, mut dropped) = (Vec::new(), Vec::new(), 0);
    for hit in hits {
        let n = passages.len() + 1;
        let cite = Citation::of_hit(n, hit, "model");
        let block = render(n, &cite);
        let c = cost(&block)?;
        if c > *budget {
            dropped += 1;
            continue;
        }
        *budget -= c;
        blocks.push(block);
        passages.push(Citation { tokens: c, ..cite });
    }
    Ok((passages, blocks, dropped))
}
