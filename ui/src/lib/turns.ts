// A conversation as the Chat screen shows it, without any framework: turns built from stored
// messages, and an answer built up from its stream of events. Pure, so the rules are unit-tested.

import type {
  AnswerView,
  AskArgs,
  CachedView,
  ChatEvent,
  CitationView,
  FeedbackRequest,
  MessageView,
  ReviewNoteView,
} from "./bindings";
import { formatDay } from "./dashboard";
import { answerBadge, answerWhy } from "./providers";

/** How far the reading of a long document has got, while an answer waits for it. */
export type AnswerProgress = {
  /** Parts read. */
  done: number;
  /** Parts in all. */
  total: number;
  /** What is happening, in words: "Reading lease.pdf: part 2 of 7". */
  stage: string;
};

export type Turn = {
  /** Stable key for the list: the stored message id, or a local one while streaming. */
  key: string;
  role: "user" | "assistant";
  content: string;
  /** True while the answer is being written. */
  streaming: boolean;
  /** While a long document is read part by part, before any text: how far it has got. */
  progress: AnswerProgress | null;
  /** The passages the answer cites (final), or the numbered passages it was given (streaming). */
  citations: CitationView[];
  route: string | null;
  model: string | null;
  tier: string | null;
  /** Who made it: `local`, `none`, a provider's name; `null` when not known (a stored answer). */
  provider: string | null;
  /** US dollars, when known. */
  cost: number | null;
  /** Entities redacted from what was sent to a cloud model. */
  redacted: number;
  /** Why this model (the router's sentence), when known. */
  modelRoute: string | null;
  /** Steps of the fallback chain that failed first. */
  fallbacks: string[];
  promptVersion: string | null;
  /** Cut short by Stop or by the reply length limit. */
  truncated: boolean;
  /** Why the streamed text was withdrawn by the output checks, if it was. */
  withdrawn: string | null;
  /** A failure that ended the answer. */
  error: string | null;
  /** Milliseconds to the first token and in all, once known. */
  firstTokenMs: number | null;
  totalMs: number | null;
  /** The trace of how it was made (for feedback and "Why this answer?"), when one was recorded. */
  traceId: number | null;
  /** Served from the answer cache: the earlier question it answered, and when. */
  cached: CachedView | null;
  /** Failed the output checks or a policy: its place in the review queue. */
  review: ReviewNoteView | null;
  /** A shared collection's offline copy answered (its store could not be reached): what to say. */
  offlineCopy: string | null;
};

function blank(key: string, role: Turn["role"], content: string): Turn {
  return {
    key,
    role,
    content,
    streaming: false,
    progress: null,
    citations: [],
    route: null,
    model: null,
    tier: null,
    provider: null,
    cost: null,
    redacted: 0,
    modelRoute: null,
    fallbacks: [],
    promptVersion: null,
    truncated: false,
    withdrawn: null,
    error: null,
    firstTokenMs: null,
    totalMs: null,
    traceId: null,
    cached: null,
    review: null,
    offlineCopy: null,
  };
}

export function userTurn(key: string, question: string): Turn {
  return blank(key, "user", question);
}

/** An empty answer, about to stream. */
export function pendingAnswer(key: string): Turn {
  return { ...blank(key, "assistant", ""), streaming: true };
}

export function turnFromMessage(m: MessageView): Turn {
  const t = blank(`m${m.id}`, m.role === "user" ? "user" : "assistant", m.content);
  t.citations = m.citations;
  t.route = m.route;
  t.model = m.model;
  t.tier = m.tier;
  // Answers saved before providers existed were all made on this device.
  t.provider = m.role === "user" ? null : (m.provider ?? "local");
  t.cost = m.cost;
  t.promptVersion = m.prompt_version;
  return t;
}

/** The answer after one more event of its stream. */
export function applyEvent(turn: Turn, event: ChatEvent): Turn {
  switch (event.event) {
    case "route":
      return { ...turn, route: event.route };
    case "progress":
      return { ...turn, progress: { done: event.done, total: event.total, stage: event.stage } };
    case "sources":
      return { ...turn, citations: event.passages };
    case "text":
      // The reading is over once the answer's text arrives; the text takes its place.
      return { ...turn, content: turn.content + event.text, progress: null };
    case "retracted":
      // What streamed is withdrawn; the final answer replaces it.
      return { ...turn, content: "", withdrawn: event.reason };
  }
}

/** The answer once it is complete: the final text is the one that counts. */
export function finishAnswer(turn: Turn, answer: AnswerView): Turn {
  return {
    ...turn,
    content: answer.answer,
    streaming: false,
    progress: null,
    citations: answer.citations.length > 0 ? answer.citations : answer.closest,
    route: answer.route,
    model: answer.model,
    tier: answer.tier,
    // An answer from before providers existed says only whether it stayed on the device.
    provider: answer.provider || (answer.on_device ? "local" : null),
    cost: answer.cost,
    redacted: answer.redacted,
    modelRoute: answer.model_route || null,
    fallbacks: answer.fallbacks,
    promptVersion: answer.prompt_version,
    truncated: answer.truncated,
    firstTokenMs: answer.timings_ms.first_token,
    totalMs: answer.timings_ms.total,
    traceId: answer.trace_id ?? null,
    cached: answer.cached ?? null,
    review: answer.review ?? null,
    offlineCopy: answer.offline_copy ?? null,
  };
}

/** The answer after a failure: what streamed stays, with the reason. */
export function failAnswer(turn: Turn, message: string): Turn {
  return { ...turn, streaming: false, progress: null, error: message };
}

/** How much of the document is read, as a whole percentage from 0 to 100 (0 while the parts are not
 * counted yet). */
export function progressPercent(p: AnswerProgress): number {
  if (!(p.total > 0)) return 0;
  return Math.round(Math.min(1, Math.max(0, p.done / p.total)) * 100);
}

/** "Ask about this document": the document the next questions are about, in its collection. */
export type AskDocument = { collection: string; path: string };

/**
 * The `ask` request for a question: about the chosen document when it belongs to the collection
 * asked, else about the whole collection.
 */
export function askArgs(
  requestId: number,
  question: string,
  collection: string,
  thread: number | null,
  document: AskDocument | null,
): AskArgs {
  return {
    request_id: requestId,
    question,
    collection,
    thread,
    document: document && document.collection === collection ? document.path : null,
  };
}

/** The quiet line under an answer: route, who made it (and at what cost), with which model. */
export function badge(turn: Turn): string {
  return answerBadge(turn);
}

/** Why this model, and the fallback steps that failed first; empty when not known. */
export function why(turn: Turn): string[] {
  return answerWhy(turn.modelRoute, turn.fallbacks);
}

/** How close a cached answer's question was: three decimals, or "same words" for an exact match. */
export function cachedSimilarity(similarity: number): string {
  return similarity >= 1 ? "same words" : similarity.toFixed(3);
}

/** The quiet note under an answer served from the answer cache. */
export function cachedNote(c: CachedView): string {
  const how = cachedSimilarity(c.similarity);
  return `From the answer cache — answered before as “${c.question}” (${how}) on ${formatDay(c.made_at)}`;
}

/** Citation numbers `[n]` in a text, in order of first use. */
export function citedNumbers(text: string): number[] {
  const seen: number[] = [];
  for (const m of text.matchAll(/\[(\d{1,3})\]/g)) {
    const n = Number(m[1]);
    if (!seen.includes(n)) seen.push(n);
  }
  return seen;
}

/** The sentences of `text` that cite `[n]`, or all of it when none does. */
export function citingSentences(text: string, n: number): string {
  const sentences = text.split(/(?<=[.!?])\s+|\n+/);
  const citing = sentences.filter((s) => s.includes(`[${n}]`));
  return (citing.length > 0 ? citing : sentences).join(" ");
}

/** A verdict on an answer as the `feedback` command takes it: a 👍 carries no correction, and a
 * blank correction is none. */
export function feedbackRequest(traceId: number, up: boolean, correction?: string | null): FeedbackRequest {
  const text = up ? "" : (correction ?? "").trim();
  return { trace_id: traceId, up, correction: text === "" ? null : text };
}

/** A document an answer draws on, with the passages of it that the answer cites. */
export type SourceDocument<C> = { doc_path: string; passages: C[] };

/**
 * The passages an answer cites, grouped by document in the order each was first cited: every
 * document is listed once, with its passages under it in their order.
 */
export function sourcesByDocument<C extends { doc_path: string }>(citations: C[]): SourceDocument<C>[] {
  const documents: SourceDocument<C>[] = [];
  for (const c of citations) {
    const known = documents.find((d) => d.doc_path === c.doc_path);
    if (known) known.passages.push(c);
    else documents.push({ doc_path: c.doc_path, passages: [c] });
  }
  return documents;
}
