import { describe, expect, it } from "vitest";
import type { TraceView } from "./bindings";
import {
  cacheInvalidatedLine,
  cacheLookupLines,
  cacheStoreLine,
  cachedFromLine,
  formatScore,
  redactionLine,
  timingLines,
  traceCache,
  traceModel,
  usageLine,
  type TraceCache,
} from "./trace";

function view(data: Record<string, unknown>): TraceView {
  return { id: 7, created_at: 1_700_000_000, data };
}

const full = {
  question: "When was the lens made?",
  outcome: "answered",
  route: { route: "factual", confidence: 0.92, reason: "asks for a fact" },
  candidates: [
    { chunk_id: "c1", doc_path: "/d/a.md", page: null, dense: 0.81234, bm25: 3.2, fused: 0.032, rerank: 0.9 },
    { chunk_id: "c2", doc_path: "/d/b.pdf", page: 4, dense: null, bm25: 1.1, fused: 0.016, rerank: null },
    { chunk_id: "c3", doc_path: "/d/a.md", page: null, dense: 0.5, bm25: null, fused: 0.01, rerank: 0.1 },
  ],
  answer: {
    model_route: {
      policy: "balanced",
      complexity: "simple",
      confidence: 0.8,
      tier: "primary",
      target: { provider: "openai", model: "gpt-x" },
      reason: "simple question, cheapest model",
    },
    input_check: { findings: ["instruction override", { kind: "exfiltration", reason: "asks for secrets" }] },
    output_check: { grounded: false, grounded_fraction: 0.875, unsupported_figures: ["17:30"], policy_hits: [] },
    citations: [{ n: 1, doc_path: "/d/a.md", page: null, chunk_id: "c1", text: "…", tokens: 120 }],
    passages_used: 2,
    prompt_version: "grounded@1.0.0",
    provider: "openai",
    model: "gpt-x",
    tokens_in: 1200,
    tokens_out: 80,
    cost: 0.0012,
    timings_ms: { route: 3, retrieve: 45, first_token: 800, total: 2100 },
    fallbacks: [{ target: "local", tier: "primary", code: "timeout", reason: "took too long" }],
    redacted: 2,
    tier: "primary",
  },
};

describe("traceModel", () => {
  it("reads a whole trace", () => {
    const m = traceModel(view(full));
    expect(m.question).toBe("When was the lens made?");
    expect(m.route).toEqual({ route: "factual", confidence: 0.92, reason: "asks for a fact" });
    expect(m.modelRoute?.target).toBe("openai/gpt-x");
    expect(m.modelRoute?.reason).toBe("simple question, cheapest model");
    expect(m.leftDevice).toBe(true);
    expect(m.redacted).toBe(2);
    expect(m.groundedFraction).toBe(0.875);
    expect(m.grounded).toBe(false);
    expect(m.unsupportedFigures).toEqual(["17:30"]);
    expect(m.inputFindings).toEqual(["instruction override", "exfiltration: asks for secrets"]);
    expect(m.fallbacks).toEqual([{ target: "local", tier: "primary", code: "timeout", reason: "took too long" }]);
    expect(m.timings.map((t) => t.stage)).toEqual(["route", "retrieve", "first_token", "total"]);
    expect(m.passagesUsed).toBe(2);
  });

  it("marks the candidates the answer used by chunk id, not by document", () => {
    const m = traceModel(view(full));
    expect(m.candidates.map((c) => c.used)).toEqual([true, false, false]);
    expect(m.candidates[1].dense).toBeNull();
    expect(m.candidates[1].page).toBe(4);
  });

  it("falls back to document and page when citations carry no chunk id", () => {
    const answer = { ...full.answer, citations: [{ n: 1, doc_path: "/d/b.pdf", page: 4 }] };
    const m = traceModel(view({ ...full, answer }));
    expect(m.candidates.map((c) => c.used)).toEqual([false, true, false]);
  });

  it("survives a failed trace with almost nothing in it", () => {
    const m = traceModel(view({ error: { code: "no_model", message: "No model" }, candidates: "oops" }));
    expect(m.outcome).toBe("failed");
    expect(m.error).toEqual({ code: "no_model", message: "No model" });
    expect(m.route).toBeNull();
    expect(m.modelRoute).toBeNull();
    expect(m.candidates).toEqual([]);
    expect(m.timings).toEqual([]);
    expect(m.grounded).toBeNull();
    expect(m.leftDevice).toBe(false);
    expect(usageLine(m)).toBe("–");
  });

  it("ignores values of the wrong type", () => {
    const m = traceModel(view({ answer: { tokens_in: "12", cost: Number.NaN, model_route: "x", fallbacks: ["step"] } }));
    expect(m.tokensIn).toBeNull();
    expect(m.cost).toBeNull();
    expect(m.modelRoute).toBeNull();
    expect(m.fallbacks).toEqual([{ target: "", tier: "", code: "", reason: "step" }]);
  });
});

describe("lines", () => {
  it("says nothing left the device for a local or fixed answer", () => {
    for (const provider of ["local", "none"]) {
      const m = traceModel(view({ answer: { ...full.answer, provider, redacted: 0 } }));
      expect(redactionLine(m)).toBe("nothing left this device");
    }
  });

  it("counts what was redacted before a cloud call", () => {
    expect(redactionLine(traceModel(view(full)))).toBe("sent to openai; 2 entities redacted before it left");
    const one = traceModel(view({ answer: { ...full.answer, redacted: 1 } }));
    expect(redactionLine(one)).toBe("sent to openai; 1 entity redacted before it left");
  });

  it("formats scores with three decimals and a dash for none", () => {
    expect(formatScore(0.81234)).toBe("0.812");
    expect(formatScore(3.2)).toBe("3.200");
    expect(formatScore(null)).toBe("–");
  });

  it("sums up usage and timings", () => {
    const m = traceModel(view(full));
    expect(usageLine(m)).toBe("1200 in · 80 out · $0.0012");
    expect(timingLines(m)).toEqual(["Routing 3 ms", "Retrieval 45 ms", "First token 800 ms", "Total 2.10 s"]);
  });
});

describe("the answer cache", () => {
  const miss = {
    lookup: "miss",
    reason: "no earlier question close enough",
    nearest: "How tall is the tower?",
    similarity: 0.8123,
    threshold: 0.95,
    entry: null,
    invalidated: [],
    store: "stored",
    entry_stored: 7,
    evicted: 0,
  };

  function cache(over: Record<string, unknown> = {}): TraceCache {
    const c = traceCache({ ...miss, ...over });
    if (!c) throw new Error("no cache");
    return c;
  }

  it("reads the cache of a trace, and none from a trace older than the cache", () => {
    const m = traceModel(view({ ...full, cache: miss }));
    expect(m.cache).toEqual({
      lookup: "miss",
      reason: "no earlier question close enough",
      nearest: "How tall is the tower?",
      similarity: 0.8123,
      threshold: 0.95,
      entry: null,
      invalidated: [],
      store: "stored",
      entryStored: 7,
      evicted: 0,
    });
    expect(m.cachedFrom).toBeNull();
    expect(traceModel(view(full)).cache).toBeNull();
    expect(traceModel(view({ ...full, cache: "on" })).cache).toBeNull();
  });

  it("ignores values of the wrong type in it", () => {
    const c = cache({ similarity: "high", threshold: null, invalidated: [3, "x", 4], evicted: "2", store: 5 });
    expect(c.similarity).toBeNull();
    expect(c.threshold).toBeNull();
    expect(c.invalidated).toEqual([3, 4]);
    expect(c.evicted).toBe(0);
    expect(c.store).toBe("5");
  });

  it("says a hit was answered from the cache, by which entry and how close", () => {
    const hit = cache({ lookup: "hit", reason: null, nearest: "When was the lens made?", similarity: 0.99123, entry: 12 });
    expect(cacheLookupLines(hit)).toEqual(["Answered from the cache: “When was the lens made?” (similarity 0.991, entry 12)"]);
    expect(cacheLookupLines({ ...hit, nearest: null, similarity: null })).toEqual(["Answered from the cache (entry 12)"]);
  });

  it("says why a miss missed, the nearest question and the threshold", () => {
    expect(cacheLookupLines(cache())).toEqual([
      "Not in the cache: no earlier question close enough",
      "Nearest: “How tall is the tower?” (similarity 0.812; a hit needs 0.950)",
    ]);
    expect(cacheLookupLines(cache({ nearest: null, similarity: null, reason: "the cache is empty" }))).toEqual([
      "Not in the cache: the cache is empty",
      "No earlier question close enough; a hit needs 0.950",
    ]);
    expect(cacheLookupLines(cache({ reason: null, threshold: null, similarity: null }))).toEqual([
      "Not in the cache",
      "Nearest: “How tall is the tower?”",
    ]);
  });

  it("gives the reason a lookup was skipped or the cache was off", () => {
    expect(cacheLookupLines(cache({ lookup: "skipped", reason: "a follow-up question", nearest: null }))).toEqual([
      "Not looked up: a follow-up question",
    ]);
    expect(cacheLookupLines(cache({ lookup: "off", reason: "turned off in Settings" }))).toEqual([
      "The answer cache is off: turned off in Settings",
    ]);
    expect(cacheLookupLines(cache({ lookup: "off", reason: null }))).toEqual(["The answer cache is off"]);
    expect(cacheLookupLines(cache({ lookup: "later", reason: "new" }))).toEqual(["later: new"]);
    expect(cacheLookupLines(cache({ lookup: null }))).toEqual([]);
  });

  it("counts the earlier answers removed because a source changed", () => {
    expect(cacheInvalidatedLine(cache())).toBeNull();
    expect(cacheInvalidatedLine(cache({ invalidated: [3] }))).toBe("1 earlier answer removed: a source changed");
    expect(cacheInvalidatedLine(cache({ invalidated: [3, 4, 9] }))).toBe("3 earlier answers removed: a source changed");
  });

  it("says whether this answer was kept, and why not", () => {
    expect(cacheStoreLine(cache())).toBe("Kept in the cache as entry 7");
    expect(cacheStoreLine(cache({ entry_stored: null }))).toBe("Kept in the cache");
    expect(cacheStoreLine(cache({ store: "the answer was not grounded", entry_stored: null }))).toBe(
      "Not kept: the answer was not grounded",
    );
    expect(cacheStoreLine(cache({ store: null, entry_stored: null }))).toBeNull();
    expect(cacheStoreLine(cache({ evicted: 2 }))).toBe("Kept in the cache as entry 7; 2 older entries removed to make room");
  });

  it("reads where a cached answer was first made", () => {
    const madeAt = Date.UTC(2025, 2, 12, 12) / 1000;
    const answer = {
      provider: "cache",
      model: "SmolLM2",
      tokens_in: 0,
      tokens_out: 0,
      cost: 0,
      cache: {
        entry: 12,
        question: "When was the lens made?",
        similarity: 0.99,
        trace_id: 3,
        made_by: "local · SmolLM2",
        made_at: madeAt,
      },
    };
    const m = traceModel(view({ cache: { ...miss, lookup: "hit", entry: 12, store: null, entry_stored: null }, answer }));
    expect(m.cachedFrom).toEqual({
      entry: 12,
      question: "When was the lens made?",
      similarity: 0.99,
      traceId: 3,
      madeBy: "local · SmolLM2",
      madeAt,
    });
    expect(m.leftDevice).toBe(false);
    expect(redactionLine(m)).toBe("nothing left this device");
    expect(usageLine(m)).toBe("0 in · 0 out · $0");
    expect(cachedFromLine(m.cachedFrom!)).toBe("Made by local · SmolLM2 on Mar 12, 2025");
    expect(cachedFromLine({ ...m.cachedFrom!, madeBy: "", madeAt: null })).toBeNull();
  });
});
