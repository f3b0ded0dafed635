//! Requests about one whole document ("summarise the lease", "list every date in the minutes"):
//! the document is found (picked in the window, named in the question, or the one retrieval ranks
//! first), then read whole. One that fits the model's window is given to it in one prompt, its
//! passages in order; a longer one is read part by part (map: the fast local model notes what each
//! part says for the request, with progress shown and stoppable between parts) and answered from
//! the notes (reduce: the routed model, citing the parts it drew on).
//!
//! A document picked in the window with a question about one fact in it is answered from its own
//! passages closest to the question, like any factual question.

use cairn_index::{ChunkRow, Hit, Passage};
use cairn_models::llm::{ChatMessage, ChatModel, GenerateParams, Sampling};
use cairn_store::{DocState, DocumentRecord};

use crate::answer::citation::Citation;
use crate::answer::fixed::{fixed, source_lines};
use crate::answer::named::{Named, file_name, named_document, names_a_file};
use crate::answer::overview::{asks_for_overview, typical_passages};
use crate::answer::relevance;
use crate::answer::turn::Turn;
use crate::answer::value::Answer;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::policy::ModelRoute;
use crate::prompts::{self, Template};
use crate::router::Route;
use crate::search::SearchResults;
use crate::search::request::{SearchMode, SearchRequest};

/// Below this router confidence, a request on the document route that names no document is
/// answered like a factual question ("What is ticket PLAT-2281 about?" is about one passage).
const SURE_DOCUMENT: f32 = 0.7;

/// The router's confidence above which a question naming a document by the words of its file
/// name is read whole.
const LEANING_DOCUMENT: f32 = 0.5;

/// Tokens a part's notes may take.
const NOTES_TOKENS: usize = 120;

/// Room kept in a prompt for the template, the question and the chat framing, beyond what they
/// measure: tokenising pieces apart and together differ by a few tokens.
const SLACK_TOKENS: usize = 64;

/// Where the answer about a document comes from.
pub(crate) struct DocumentRequest<'a> {
    /// The collection asked.
    pub(crate) collection: &'a str,
    /// The document picked in the window (its path or file name), if one was.
    pub(crate) picked: Option<&'a str>,
    /// The question's embedding.
    pub(crate) vector: &'a [f32],
    /// The model router's choice for the answer.
    pub(crate) model_route: &'a ModelRoute,
}

/// One part of a document read in several prompts: consecutive passages.
struct Part {
    rows: Vec<ChunkRow>,
}

impl Part {
    /// The part as one passage: its first passage's place, the span of all of them, and `text`.
    fn as_hit(&self, text: String) -> Hit {
        let first = &self.rows[0].passage;
        let last = &self.rows[self.rows.len() - 1].passage;
        Hit {
            passage: Passage {
                text,
                char_end: last.char_end,
                ..first.clone()
            },
            score: 1.0,
            dense_score: None,
            bm25_score: None,
            fused_score: None,
            rerank_score: None,
        }
    }

    fn text(&self) -> String {
        self.rows
            .iter()
            .map(|r| r.passage.text.trim())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Library {
    /// Answers `turn` about one document of `request.collection`.
    pub(crate) async fn answer_document(
        &self,
        turn: &Turn<'_>,
        request: &DocumentRequest<'_>,
    ) -> Result<Answer> {
        let documents: Vec<DocumentRecord> = self
            .store
            .documents(Some(request.collection))?
            .into_iter()
            .filter(|d| d.state == DocState::Indexed && d.chunk_count > 0)
            .collect();
        let named = match request.picked {
            Some(picked) => {
                let lower = picked.to_lowercase();
                let found: Vec<DocumentRecord> = documents
                    .iter()
                    .filter(|d| d.path == picked || file_name(d) == lower)
                    .cloned()
                    .collect();
                if found.is_empty() {
                    Named::Missing(picked.to_string())
                } else {
                    Named::Found(found)
                }
            }
            None => named_document(turn.question, &documents),
        };
        let document = match named {
            Named::Missing(name) => return Ok(self.no_such_document(turn, &name, &documents)),
            Named::Found(mut found) if found.len() == 1 => found.remove(0),
            named => {
                // Several fit the name, or none is named: the one retrieval ranks first.
                let hits = self
                    .search_for(turn.question, request.collection)
                    .await?
                    .hits;
                let among = match &named {
                    Named::Found(found) => found.iter().map(|d| d.id).collect(),
                    _ => Vec::new(),
                };
                let best = hits
                    .iter()
                    .find(|h| among.is_empty() || among.contains(&h.passage.doc_id));
                let gate = relevance::judge(turn.question, &hits, self.config.answer.min_score);
                match (best, named) {
                    (Some(hit), _) if !among.is_empty() || gate.relevant => {
                        let id = hit.passage.doc_id;
                        match documents.iter().find(|d| d.id == id) {
                            Some(d) => d.clone(),
                            None => return Ok(self.nothing_found(turn, &hits, &gate)),
                        }
                    }
                    (_, Named::Found(mut found)) => found.remove(0),
                    _ => return Ok(self.nothing_found(turn, &hits, &gate)),
                }
            }
        };
        let index = self.collection_index(request.collection, false).await?;
        let rows = index.document_rows(document.id).await?;
        if rows.is_empty() {
            return Ok(self.no_such_document(turn, &file_name(&document), &documents));
        }
        if turn.facts.decision.route != Route::Document {
            // A picked document and a question about one fact in it.
            let hits = closest_rows(&rows, request.vector, self.config.answer.passages);
            let template = if turn.facts.decision.route == Route::Analytical {
                prompts::ANALYTICAL
            } else {
                prompts::GROUNDED
            };
            let turn = Turn {
                template: self.template(template),
                ..*turn
            };
            return self.respond(&turn, &hits, request.model_route).await;
        }
        self.read_whole(turn, &document, rows, request.model_route, request.vector)
            .await
    }

    /// The document's passages in one prompt when they fit the answering model's window, else
    /// notes on each part, then the answer from them.
    async fn read_whole(
        &self,
        turn: &Turn<'_>,
        document: &DocumentRecord,
        rows: Vec<ChunkRow>,
        route: &ModelRoute,
        vector: &[f32],
    ) -> Result<Answer> {
        let turn = Turn {
            template: self.template(prompts::DOCUMENT),
            ..*turn
        };
        let question = turn.question.to_string();
        let cfg = self.config.answer.clone();
        // Whether it fits the answering model's window; the fast model loads only when it does not.
        let answering = self.chat_model_for(route.local_tier)?;
        let counted = rows.clone();
        let (q, c) = (question.clone(), cfg.clone());
        let (counts, room) = blocking(move || {
            let answering = answering.lock().unwrap_or_else(|p| p.into_inner());
            let window = c.context_tokens.min(answering.context_length());
            let room = window
                .saturating_sub(c.max_tokens + prompt_tokens(&answering, prompts::DOCUMENT, &q)?);
            Ok((token_counts(&answering, &counted)?, room))
        })
        .await?;
        if counts.iter().sum::<usize>() <= room {
            let hits: Vec<Hit> = rows.into_iter().map(row_hit).collect();
            return self.respond(&turn, &hits, route).await;
        }
        if asks_for_overview(&question) {
            let name = file_name(document);
            let picked = typical_passages(&rows, &counts, room, vector);
            turn.events.progress(
                rows.len(),
                rows.len(),
                format!(
                    "Weighed all {} passages of {name}; {} of them stand for its parts",
                    rows.len(),
                    picked.len()
                ),
            );
            let weighed = rows.len();
            let mut rows: Vec<Option<ChunkRow>> = rows.into_iter().map(Some).collect();
            let hits: Vec<Hit> = picked
                .into_iter()
                .filter_map(|i| rows[i].take().map(row_hit))
                .collect();
            let stand_for = hits.len();
            let turn = Turn {
                template: self.template(prompts::OVERVIEW),
                ..turn
            };
            let mut answer = self.respond(&turn, &hits, route).await?;
            answer.route_reason = format!(
                "{}; an overview of {name} from {stand_for} of its {weighed} passages, the most typical of each part",
                answer.route_reason
            );
            return Ok(answer);
        }
        let fast = self.chat_model()?;
        let parts = blocking(move || {
            let fast = fast.lock().unwrap_or_else(|p| p.into_inner());
            let window = cfg.part_tokens.min(fast.context_length());
            let room = window.saturating_sub(
                NOTES_TOKENS + prompt_tokens(&fast, prompts::DOCUMENT_NOTES, &question)?,
            );
            let counts = token_counts(&fast, &rows)?;
            Ok(split_parts(rows, &counts, room))
        })
        .await?;
        let total = parts.len();
        let name = file_name(document);
        let mut noted: Vec<Hit> = Vec::new();
        let mut read = 0;
        for (i, part) in parts.iter().enumerate() {
            if turn.cancel.is_cancelled() {
                break;
            }
            turn.events.progress(
                i,
                total,
                format!("Reading {name}: part {} of {total}", i + 1),
            );
            let notes = self
                .notes_on(
                    &turn,
                    part,
                    i + 1,
                    total,
                    &name,
                    self.template(prompts::DOCUMENT_NOTES),
                )
                .await?;
            let useful = !notes.trim().is_empty()
                && !notes
                    .trim()
                    .trim_end_matches('.')
                    .eq_ignore_ascii_case("nothing");
            if turn.cancel.is_cancelled() {
                // Notes cut off mid-part are not the part's notes.
                break;
            }
            read += 1;
            if useful {
                noted.push(part.as_hit(notes));
            }
        }
        turn.events.progress(
            read,
            total,
            format!("Read {read} of {total} parts of {name}"),
        );
        if turn.cancel.is_cancelled() {
            return Ok(self.stopped_reading(&turn, &noted, read, total, &name));
        }
        if noted.is_empty() {
            let hits: Vec<Hit> = parts.iter().map(|p| p.as_hit(p.text())).collect();
            let gate = relevance::Relevance {
                best_similarity: 0.0,
                matched_term: None,
                relevant: false,
            };
            return Ok(self.nothing_found(&turn, &hits[..hits.len().min(3)], &gate));
        }
        self.respond(&turn, &noted, route).await
    }

    /// The fast local model's notes on one part, for the request; not streamed to the person.
    async fn notes_on(
        &self,
        turn: &Turn<'_>,
        part: &Part,
        n: usize,
        total: usize,
        name: &str,
        template: Template,
    ) -> Result<String> {
        let model = self.chat_model()?;
        let system = template.section("system", &[]);
        let (n, total) = (n.to_string(), total.to_string());
        let user = template.section(
            "user",
            &[
                ("part", &n),
                ("parts", &total),
                ("document", name),
                ("text", &part.text()),
                ("question", turn.question),
            ],
        );
        let cancel = turn.cancel.clone();
        let repeat_penalty = self.config.answer.repeat_penalty;
        tokio::task::spawn_blocking(move || {
            let mut model = model.lock().unwrap_or_else(|p| p.into_inner());
            let ids = model.encode_chat(&[
                ChatMessage::new("system", system),
                ChatMessage::new("user", user),
            ])?;
            let mut params = GenerateParams {
                sampling: Sampling::Greedy,
                max_tokens: NOTES_TOKENS,
                repeat_penalty,
                ..GenerateParams::default()
            };
            let format = model.tokenizer().prompt_format();
            params
                .stop
                .extend(format.stop_strings().iter().map(|s| s.to_string()));
            let generation = model.generate(&ids, &params, cancel.flag(), &mut |_| {})?;
            Ok(generation.text.trim().to_string())
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
    }

    /// Stopped between parts: the notes so far, each citing its part, marked cut short.
    fn stopped_reading(
        &self,
        turn: &Turn<'_>,
        noted: &[Hit],
        read: usize,
        total: usize,
        name: &str,
    ) -> Answer {
        let citations: Vec<Citation> = noted
            .iter()
            .enumerate()
            .map(|(i, h)| Citation::of_hit(i + 1, h, "quote"))
            .collect();
        let mut text = format!("Stopped after reading {read} of {total} parts of {name}.");
        for c in &citations {
            text.push_str(&format!("\n\n[{}] {}", c.n, c.text.trim()));
        }
        Answer {
            answer: text,
            citations,
            truncated: true,
            route_reason: format!(
                "{}; stopped while reading {name}",
                turn.facts.decision.reason
            ),
            ..fixed(
                turn.facts,
                self.template(prompts::DOCUMENT_NOTES),
                "",
                Vec::new(),
            )
        }
    }

    /// Whether a request routed to the document path is read whole: the router is sure, or the
    /// question names a document (by its file name; by the words of one when the router leans
    /// this way). Otherwise it is answered like a factual question.
    pub(crate) fn reads_whole(
        &self,
        question: &str,
        collection: &str,
        confidence: f32,
    ) -> Result<bool> {
        if confidence >= SURE_DOCUMENT {
            return Ok(true);
        }
        let documents = self.store.documents(Some(collection))?;
        let named = named_document(question, &documents) != Named::Unnamed;
        Ok(named && (confidence >= LEANING_DOCUMENT || names_a_file(question)))
    }

    /// The fixed answer for a document the collection does not have, with the names that come
    /// closest.
    fn no_such_document(
        &self,
        turn: &Turn<'_>,
        name: &str,
        documents: &[DocumentRecord],
    ) -> Answer {
        let wanted: Vec<String> = name
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_string)
            .collect();
        let mut close: Vec<(usize, String)> = documents
            .iter()
            .map(|d| {
                let file = file_name(d);
                let shared = wanted.iter().filter(|w| file.contains(w.as_str())).count();
                (shared, file)
            })
            .filter(|(shared, _)| *shared > 0)
            .collect();
        close.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let sources = close
            .iter()
            .take(5)
            .map(|(_, f)| format!("Similar name: {f}"))
            .collect::<Vec<_>>()
            .join("\n");
        let template = self.template(prompts::NO_DOCUMENT);
        Answer {
            answer: template
                .section("text", &[("name", name), ("sources", &sources)])
                .trim()
                .to_string(),
            route_reason: format!(
                "{}; no document called {name:?} in the collection",
                turn.facts.decision.reason
            ),
            ..fixed(turn.facts, template, "", Vec::new())
        }
    }

    /// The fixed "not found" answer, listing the closest passages.
    pub(crate) fn nothing_found(
        &self,
        turn: &Turn<'_>,
        hits: &[Hit],
        gate: &relevance::Relevance,
    ) -> Answer {
        let closest = Citation::numbered(&hits[..hits.len().min(3)]);
        let sources = source_lines("Closest: ", &closest);
        Answer {
            route_reason: format!(
                "{}; {}",
                turn.facts.decision.reason,
                gate.reason(self.config.answer.min_score)
            ),
            ..fixed(
                turn.facts,
                self.template(prompts::NOT_FOUND),
                &sources,
                closest,
            )
        }
    }

    /// Hybrid search of the collection for `question` with the answer's passage count; an
    /// unknown collection has nothing.
    pub(crate) async fn search_for(
        &self,
        question: &str,
        collection: &str,
    ) -> Result<SearchResults> {
        let search = SearchRequest {
            query: question.to_string(),
            collection: collection.to_string(),
            k: Some(self.config.answer.passages),
            mode: SearchMode::Hybrid,
            rerank: None,
        };
        match self.search_with_source(&search).await {
            Ok(found) => Ok(found),
            Err(Error::NoSuchCollection(_)) => Ok(SearchResults {
                hits: Vec::new(),
                offline_copy: None,
            }),
            Err(e) => Err(e),
        }
    }
}

/// `work` on a blocking thread: tokenising a whole document is too long for the async one.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
}

/// A document passage as a retrieved one, scored by nothing.
fn row_hit(row: ChunkRow) -> Hit {
    Hit {
        passage: row.passage,
        score: 1.0,
        dense_score: None,
        bm25_score: None,
        fused_score: None,
        rerank_score: None,
    }
}

/// The `k` passages of `rows` closest to `vector` (cosine: rows are unit length), best first.
fn closest_rows(rows: &[ChunkRow], vector: &[f32], k: usize) -> Vec<Hit> {
    let mut scored: Vec<Hit> = rows
        .iter()
        .map(|r| {
            let similarity: f32 = r.vector.iter().zip(vector).map(|(a, b)| a * b).sum();
            Hit {
                score: similarity,
                dense_score: Some(similarity),
                ..row_hit(r.clone())
            }
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    scored.truncate(k.max(1));
    scored
}

/// Tokens of `template`'s prompt around `question`, without passages.
fn prompt_tokens(model: &ChatModel, template: Template, question: &str) -> Result<usize> {
    let system = ChatMessage::new("system", template.section("system", &[]));
    let user = ChatMessage::new(
        "user",
        template.section("user", &[("question", question), ("passages", "")]),
    );
    Ok(model.encode_chat(&[system, user])?.len() + SLACK_TOKENS)
}

/// Each row's tokens in `model`'s tokenizer, with a few for its number and label.
fn token_counts(model: &ChatModel, rows: &[ChunkRow]) -> Result<Vec<usize>> {
    rows.iter()
        .map(|r| {
            Ok(model
                .tokenizer()
                .encode(&r.passage.text, false, false)?
                .len()
                + 12)
        })
        .collect()
}

/// Consecutive rows gathered into parts of at most `room` tokens (a passage larger than that is a
/// part of its own).
fn split_parts(rows: Vec<ChunkRow>, counts: &[usize], room: usize) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    let mut used = 0;
    for (row, &tokens) in rows.into_iter().zip(counts) {
        match parts.last_mut() {
            Some(part) if used + tokens <= room => {
                part.rows.push(row);
                used += tokens;
            }
            _ => {
                parts.push(Part { rows: vec![row] });
                used = tokens;
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ordinal: u32, text: &str) -> ChunkRow {
        ChunkRow {
            passage: Passage {
                chunk_id: format!("7:{ordinal}"),
                doc_id: 7,
                doc_path: "/lib/minutes.md".into(),
                ordinal,
                page: Some(ordinal + 1),
                heading: String::new(),
                char_start: ordinal * 100,
                char_end: ordinal * 100 + 99,
                text: text.into(),
            },
            vector: vec![1.0, 0.0],
        }
    }

    #[test]
    fn parts_keep_document_order_and_stay_within_their_room() {
        let rows: Vec<ChunkRow> = (0..5).map(|i| row(i, &format!("passage {i}"))).collect();
        let parts = split_parts(rows, &[40, 40, 40, 90, 10], 100);
        let ordinals: Vec<Vec<u32>> = parts
            .iter()
            .map(|p| p.rows.iter().map(|r| r.passage.ordinal).collect())
            .collect();
        assert_eq!(ordinals, vec![vec![0, 1], vec![2], vec![3, 4]]);
        // A part cites from its first passage's page to its last passage's end.
        let hit = parts[2].as_hit("notes".into());
        assert_eq!(
            (
                hit.passage.page,
                hit.passage.char_start,
                hit.passage.char_end
            ),
            (Some(4), 300, 499)
        );
        assert_eq!(parts[0].text(), "passage 0\npassage 1");
    }

    #[test]
    fn a_picked_document_answers_a_fact_from_its_closest_passages() {
        let mut rows = vec![row(0, "a"), row(1, "b"), row(2, "c")];
        rows[1].vector = vec![0.0, 1.0];
        let hits = closest_rows(&rows, &[0.0, 1.0], 2);
        assert_eq!(hits[0].passage.ordinal, 1);
        assert_eq!(hits.len(), 2);
    }
}
