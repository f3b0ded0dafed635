// "Why this answer?": a recorded trace (loose JSON) turned into what the panel shows. Every field
// may be missing or of another shape in older traces, so each is read defensively. Pure, so the
// rules are unit-tested.

import type { TraceView } from "./bindings";
import { formatCost, formatDay, formatMs } from "./dashboard";

type Json = Record<string, unknown>;

export type TraceCandidate = {
  chunkId: string;
  docPath: string;
  page: number | null;
  dense: number | null;
  bm25: number | null;
  fused: number | null;
  rerank: number | null;
  /** Given to the model as one of the answer's passages. */
  used: boolean;
};

export type TraceFallback = { target: string; tier: string; code: string; reason: string };

/** What the answer cache did for a question: the lookup, what it removed, and whether the answer was kept. */
export type TraceCache = {
  /** `off`, `skipped`, `hit` or `miss` (another word from a newer engine is kept as it is). */
  lookup: string;
  /** Why it was off, skipped or missed. */
  reason: string | null;
  /** The closest earlier question, and how close it was (0..1). */
  nearest: string | null;
  similarity: number | null;
  /** The similarity a hit needs. */
  threshold: number | null;
  /** The entry that answered (a hit). */
  entry: number | null;
  /** Entries removed before the lookup because a source changed. */
  invalidated: number[];
  /** `stored`, or why the answer was not kept. */
  store: string | null;
  /** The entry this answer was kept as. */
  entryStored: number | null;
  /** Older entries removed to make room for it. */
  evicted: number;
};

/** Where an answer served from the cache was first made. */
export type TraceCachedFrom = {
  entry: number | null;
  question: string;
  similarity: number | null;
  /** The trace of the answer when it was made. */
  traceId: number | null;
  madeBy: string;
  /** Unix seconds. */
  madeAt: number | null;
};

export type TraceModel = {
  id: number;
  createdAt: number;
  question: string;
  outcome: string;
  error: { code: string; message: string } | null;
  route: { route: string; confidence: number | null; reason: string } | null;
  modelRoute: {
    policy: string;
    complexity: string;
    tier: string;
    target: string;
    confidence: number | null;
    reason: string;
  } | null;
  provider: string;
  model: string;
  tier: string;
  promptVersion: string;
  /** Entities redacted before anything left the device. */
  redacted: number;
  /** Whether any text left this device (a cloud provider answered). */
  leftDevice: boolean;
  tokensIn: number | null;
  tokensOut: number | null;
  cost: number | null;
  timings: { stage: string; label: string; ms: number }[];
  fallbacks: TraceFallback[];
  inputFindings: string[];
  grounded: boolean | null;
  groundedFraction: number | null;
  /** Numbers, times and codes the answer states that none of its passages holds. */
  unsupportedFigures: string[];
  policyHits: string[];
  passagesUsed: number | null;
  candidates: TraceCandidate[];
  /** `null` for a trace recorded before the answer cache existed. */
  cache: TraceCache | null;
  /** Set when the answer came from the cache. */
  cachedFrom: TraceCachedFrom | null;
};

function obj(v: unknown): Json | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : null;
}

function str(v: unknown, fallback = ""): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return fallback;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A finding or policy hit, whatever its shape: a string, or an object's most telling field. */
function describe(v: unknown): string {
  if (typeof v === "string") return v;
  const o = obj(v);
  if (!o) return str(v);
  const name = str(o.kind) || str(o.rule) || str(o.name) || str(o.code) || str(o.pattern);
  const detail = str(o.reason) || str(o.message) || str(o.detail);
  if (name && detail) return `${name}: ${detail}`;
  return name || detail || JSON.stringify(o);
}

/** A model route's target: a string, or `{provider, model}`. */
function target(v: unknown): string {
  const o = obj(v);
  if (!o) return str(v);
  const provider = str(o.provider);
  const model = str(o.model);
  if (provider && model) return `${provider}/${model}`;
  return provider || model || str(o.name) || JSON.stringify(o);
}

const TIMING_STAGES: [string, string][] = [
  ["route", "Routing"],
  ["retrieve", "Retrieval"],
  ["first_token", "First token"],
  ["total", "Total"],
];

/** A trace's `cache` object; `null` when there is none. */
export function traceCache(v: unknown): TraceCache | null {
  const c = obj(v);
  if (!c) return null;
  const store = str(c.store);
  return {
    lookup: str(c.lookup),
    reason: str(c.reason) || null,
    nearest: str(c.nearest) || null,
    similarity: num(c.similarity),
    threshold: num(c.threshold),
    entry: num(c.entry),
    invalidated: arr(c.invalidated).map(num).filter((n): n is number => n !== null),
    store: store || null,
    entryStored: num(c.entry_stored),
    evicted: num(c.evicted) ?? 0,
  };
}

/** The `cache` object of an answer served from the cache; `null` for any other answer. */
export function cachedFrom(v: unknown): TraceCachedFrom | null {
  const c = obj(v);
  if (!c) return null;
  return {
    entry: num(c.entry),
    question: str(c.question),
    similarity: num(c.similarity),
    traceId: num(c.trace_id),
    madeBy: str(c.made_by),
    madeAt: num(c.made_at),
  };
}

/** Providers under which nothing leaves the device. */
export function staysOnDevice(provider: string): boolean {
  return provider === "" || provider === "local" || provider === "none" || provider === "cache";
}

/** The display model of a trace. */
export function traceModel(view: TraceView): TraceModel {
  const data = obj(view.data) ?? {};
  const answer = obj(data.answer) ?? {};
  const route = obj(data.route);
  const mr = obj(answer.model_route);
  const err = obj(data.error);
  const timings = obj(answer.timings_ms) ?? {};
  const outputCheck = obj(answer.output_check);
  const inputCheck = obj(answer.input_check);

  const citations = arr(answer.citations).map(obj).filter((c): c is Json => c !== null);
  const usedIds = new Set(citations.map((c) => str(c.chunk_id)).filter((id) => id !== ""));
  const usedPlaces = new Set(citations.map((c) => `${str(c.doc_path)}#${num(c.page) ?? ""}`));

  const candidates = arr(data.candidates)
    .map(obj)
    .filter((c): c is Json => c !== null)
    .map((c): TraceCandidate => {
      const chunkId = str(c.chunk_id);
      const docPath = str(c.doc_path);
      const page = num(c.page);
      // Match by chunk id; citations without one fall back to document and page.
      const used =
        usedIds.size > 0 ? usedIds.has(chunkId) : citations.length > 0 && usedPlaces.has(`${docPath}#${page ?? ""}`);
      return {
        chunkId,
        docPath,
        page,
        dense: num(c.dense),
        bm25: num(c.bm25),
        fused: num(c.fused),
        rerank: num(c.rerank),
        used,
      };
    });

  const provider = str(answer.provider);
  return {
    id: view.id,
    createdAt: view.created_at,
    question: str(data.question),
    outcome: str(data.outcome, err ? "failed" : "answered"),
    error: err ? { code: str(err.code), message: str(err.message) } : null,
    route: route ? { route: str(route.route), confidence: num(route.confidence), reason: str(route.reason) } : null,
    modelRoute: mr
      ? {
          policy: str(mr.policy),
          complexity: str(mr.complexity),
          tier: str(mr.tier),
          target: target(mr.target),
          confidence: num(mr.confidence),
          reason: str(mr.reason),
        }
      : null,
    provider,
    model: str(answer.model),
    tier: str(answer.tier),
    promptVersion: str(answer.prompt_version),
    redacted: num(answer.redacted) ?? 0,
    leftDevice: !staysOnDevice(provider),
    tokensIn: num(answer.tokens_in),
    tokensOut: num(answer.tokens_out),
    cost: num(answer.cost),
    timings: TIMING_STAGES.flatMap(([stage, label]) => {
      const ms = num(timings[stage]);
      return ms === null ? [] : [{ stage, label, ms }];
    }),
    fallbacks: arr(answer.fallbacks).map((f) => {
      const o = obj(f);
      if (!o) return { target: "", tier: "", code: "", reason: str(f) };
      return { target: target(o.target), tier: str(o.tier), code: str(o.code), reason: str(o.reason) };
    }),
    inputFindings: arr(inputCheck?.findings).map(describe),
    grounded: typeof outputCheck?.grounded === "boolean" ? outputCheck.grounded : null,
    groundedFraction: num(outputCheck?.grounded_fraction),
    unsupportedFigures: arr(outputCheck?.unsupported_figures).map(describe),
    policyHits: arr(outputCheck?.policy_hits).map(describe),
    passagesUsed: num(answer.passages_used),
    candidates,
    cache: traceCache(data.cache),
    cachedFrom: cachedFrom(answer.cache),
  };
}

/** A retrieval score with three decimals; "–" when that retriever did not score it. */
export function formatScore(v: number | null): string {
  return v === null ? "–" : v.toFixed(3);
}

/** What left the device, in a sentence. */
export function redactionLine(m: TraceModel): string {
  if (!m.leftDevice) return "nothing left this device";
  if (m.redacted === 0) return `sent to ${m.provider}; nothing needed redacting`;
  return `sent to ${m.provider}; ${m.redacted} ${m.redacted === 1 ? "entity" : "entities"} redacted before it left`;
}

/** Tokens and cost in one line: `1200 in · 80 out · $0.0012`. */
export function usageLine(m: TraceModel): string {
  const parts: string[] = [];
  if (m.tokensIn !== null) parts.push(`${m.tokensIn} in`);
  if (m.tokensOut !== null) parts.push(`${m.tokensOut} out`);
  if (m.cost !== null) parts.push(formatCost(m.cost));
  return parts.length > 0 ? parts.join(" · ") : "–";
}

/** Timings per stage: `Routing 3 ms`. */
export function timingLines(m: TraceModel): string[] {
  return m.timings.map((t) => `${t.label} ${formatMs(t.ms)}`);
}

/** A question as quoted in a sentence. */
function quoted(q: string): string {
  return `“${q}”`;
}

/** What the cache lookup found, in one or two sentences. */
export function cacheLookupLines(c: TraceCache): string[] {
  switch (c.lookup) {
    case "hit": {
      const facts: string[] = [];
      if (c.similarity !== null) facts.push(`similarity ${formatScore(c.similarity)}`);
      if (c.entry !== null) facts.push(`entry ${c.entry}`);
      const about = facts.length > 0 ? ` (${facts.join(", ")})` : "";
      return [c.nearest ? `Answered from the cache: ${quoted(c.nearest)}${about}` : `Answered from the cache${about}`];
    }
    case "miss": {
      const lines = [c.reason ? `Not in the cache: ${c.reason}` : "Not in the cache"];
      const need = c.threshold !== null ? `a hit needs ${formatScore(c.threshold)}` : null;
      if (c.nearest) {
        const facts = [c.similarity !== null ? `similarity ${formatScore(c.similarity)}` : null, need].filter(
          (f): f is string => f !== null,
        );
        lines.push(`Nearest: ${quoted(c.nearest)}${facts.length > 0 ? ` (${facts.join("; ")})` : ""}`);
      } else if (need) {
        lines.push(`No earlier question close enough; ${need}`);
      }
      return lines;
    }
    case "skipped":
      return [c.reason ? `Not looked up: ${c.reason}` : "Not looked up"];
    case "off":
      return [c.reason ? `The answer cache is off: ${c.reason}` : "The answer cache is off"];
    case "":
      return [];
    default:
      return [c.reason ? `${c.lookup}: ${c.reason}` : c.lookup];
  }
}

/** The entries removed because a source changed; `null` when none was. */
export function cacheInvalidatedLine(c: TraceCache): string | null {
  const n = c.invalidated.length;
  if (n === 0) return null;
  return `${n} earlier ${n === 1 ? "answer" : "answers"} removed: a source changed`;
}

/** What became of this answer: kept (as which entry), or why not; `null` when nothing was tried. */
export function cacheStoreLine(c: TraceCache): string | null {
  let line: string | null = null;
  if (c.entryStored !== null) line = `Kept in the cache as entry ${c.entryStored}`;
  else if (c.store === "stored") line = "Kept in the cache";
  else if (c.store) line = `Not kept: ${c.store}`;
  if (line !== null && c.evicted > 0) {
    line += `; ${c.evicted} older ${c.evicted === 1 ? "entry" : "entries"} removed to make room`;
  }
  return line;
}

/** Where a cached answer was first made: `Made by local · SmolLM2 on Mar 12, 2025`; `null` when not known. */
export function cachedFromLine(f: TraceCachedFrom): string | null {
  const by = f.madeBy ? ` by ${f.madeBy}` : "";
  const on = f.madeAt !== null ? ` on ${formatDay(f.madeAt)}` : "";
  return by || on ? `Made${by}${on}` : null;
}
