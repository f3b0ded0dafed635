import { describe, expect, it } from "vitest";
import type { AnswerView, CitationView } from "./bindings";
import {
  applyEvent,
  askArgs,
  badge,
  cachedNote,
  cachedSimilarity,
  citedNumbers,
  citingSentences,
  failAnswer,
  feedbackRequest,
  finishAnswer,
  pendingAnswer,
  progressPercent,
  sourcesByDocument,
  turnFromMessage,
  why,
} from "./turns";

const passage: CitationView = {
  n: 1,
  doc_path: "/docs/lighthouse.md",
  page: null,
  heading: "The optic",
  text: "The Fresnel lens was made in 1870.",
  score: 0.8,
  cited_by: "retrieved",
};

function answer(over: Partial<AnswerView> = {}): AnswerView {
  return {
    answer: "It was made in 1870 [1].",
    citations: [{ ...passage, cited_by: "model" }],
    closest: [],
    route: "factual",
    route_reason: "a fact",
    tier: "primary",
    model: "SmolLM2-135M-Instruct.Q4_1",
    prompt_version: "grounded@1.0.0",
    tokens_in: 100,
    tokens_out: 10,
    thread_id: 4,
    truncated: false,
    on_device: true,
    provider: "local",
    cost: 0,
    model_route: "offline-only: the local model",
    fallbacks: [],
    redacted: 0,
    trace_id: 1,
    timings_ms: { route: 5, retrieve: 20, first_token: 300, total: 900 },
    cached: null,
    review: null,
    offline_copy: null,
    ...over,
  };
}

describe("an answer's stream", () => {
  it("takes the route, the numbered passages, then the text piece by piece", () => {
    let t = pendingAnswer("a1");
    t = applyEvent(t, { event: "route", route: "factual", confidence: 0.9, reason: "a fact" });
    t = applyEvent(t, { event: "sources", passages: [passage] });
    t = applyEvent(t, { event: "text", text: "It was " });
    t = applyEvent(t, { event: "text", text: "made in 1870 [1]." });
    expect(t.route).toBe("factual");
    expect(t.citations).toEqual([passage]);
    expect(t.content).toBe("It was made in 1870 [1].");
    expect(t.streaming).toBe(true);
  });

  it("forgets withdrawn text and keeps why", () => {
    let t = applyEvent(pendingAnswer("a1"), { event: "text", text: "Made up." });
    t = applyEvent(t, { event: "retracted", reason: "not supported by the passages" });
    expect(t.content).toBe("");
    expect(t.withdrawn).toBe("not supported by the passages");
  });

  it("ends with the final answer's text and citations, not the streamed copy", () => {
    let t = applyEvent(pendingAnswer("a1"), { event: "text", text: "It was made" });
    t = finishAnswer(t, answer());
    expect(t.streaming).toBe(false);
    expect(t.content).toBe("It was made in 1870 [1].");
    expect(t.citations[0].cited_by).toBe("model");
    expect(t.firstTokenMs).toBe(300);
    expect(t.traceId).toBe(1);
  });

  it("has no trace until the answer is finished, nor for one without a recorded trace", () => {
    expect(pendingAnswer("a1").traceId).toBeNull();
    expect(finishAnswer(pendingAnswer("a1"), answer({ trace_id: null })).traceId).toBeNull();
  });

  it("shows the closest passages of a not-found answer as its sources", () => {
    const t = finishAnswer(pendingAnswer("a1"), answer({ citations: [], closest: [passage], tier: "deterministic", model: "none" }));
    expect(t.citations).toEqual([passage]);
    expect(badge(t)).toBe("factual · fixed answer · on this device");
  });

  it("keeps what streamed when the answer fails", () => {
    let t = applyEvent(pendingAnswer("a1"), { event: "text", text: "Partial" });
    t = failAnswer(t, "the model could not be loaded");
    expect(t.content).toBe("Partial");
    expect(t.error).toBe("the model could not be loaded");
    expect(t.streaming).toBe(false);
  });
});

describe("reading a long document before answering", () => {
  const progress = (done: number, total: number) =>
    ({ event: "progress", done, total, stage: `Reading lease.pdf: part ${done} of ${total}` }) as const;

  it("keeps the latest progress while the answer is pending", () => {
    let t = applyEvent(pendingAnswer("a1"), { event: "route", route: "document", confidence: 0.9, reason: "a summary" });
    expect(t.progress).toBeNull();
    t = applyEvent(t, progress(1, 7));
    t = applyEvent(t, progress(2, 7));
    expect(t.progress).toEqual({ done: 2, total: 7, stage: "Reading lease.pdf: part 2 of 7" });
    expect(t.content).toBe("");
    expect(t.streaming).toBe(true);
    // The passages the answer is given do not end the reading; its text does.
    t = applyEvent(applyEvent(t, progress(7, 7)), { event: "sources", passages: [passage] });
    expect(t.progress?.done).toBe(7);
  });

  it("gives way to the answer's text once it streams", () => {
    let t = applyEvent(pendingAnswer("a1"), progress(7, 7));
    t = applyEvent(t, { event: "text", text: "The lease runs " });
    expect(t.progress).toBeNull();
    expect(t.content).toBe("The lease runs ");
  });

  it("is gone from a finished, stopped or failed answer", () => {
    const reading = applyEvent(pendingAnswer("a1"), progress(2, 7));
    expect(finishAnswer(reading, answer({ route: "document", truncated: true })).progress).toBeNull();
    expect(failAnswer(reading, "the model could not be loaded").progress).toBeNull();
    expect(pendingAnswer("a2").progress).toBeNull();
  });

  it("fills the bar by the parts read, within 0 and 100", () => {
    expect(progressPercent({ done: 2, total: 7, stage: "" })).toBe(29);
    expect(progressPercent({ done: 7, total: 7, stage: "" })).toBe(100);
    expect(progressPercent({ done: 0, total: 0, stage: "" })).toBe(0);
    expect(progressPercent({ done: 9, total: 7, stage: "" })).toBe(100);
  });
});

describe("the ask request", () => {
  const lease = { collection: "default", path: "/docs/lease.pdf" };

  it("asks the whole collection when no document is chosen", () => {
    expect(askArgs(3, "When does it end?", "default", null, null)).toEqual({
      request_id: 3,
      question: "When does it end?",
      collection: "default",
      thread: null,
      document: null,
    });
  });

  it("names the chosen document by its path", () => {
    expect(askArgs(4, "Summarise it", "default", 9, lease)).toEqual({
      request_id: 4,
      question: "Summarise it",
      collection: "default",
      thread: 9,
      document: "/docs/lease.pdf",
    });
  });

  it("asks the whole collection when the chosen document is of another one", () => {
    expect(askArgs(5, "Summarise it", "work", null, lease).document).toBeNull();
  });
});

describe("badge", () => {
  it("names route and model and says it stayed on this device", () => {
    expect(badge(finishAnswer(pendingAnswer("a"), answer()))).toBe("factual · on this device · SmolLM2-135M-Instruct.Q4_1");
    expect(
      badge(finishAnswer(pendingAnswer("a"), answer({ route: "out_of_scope", tier: "deterministic", model: "none", provider: "none" }))),
    ).toBe("out of scope · fixed answer · on this device");
    expect(badge(finishAnswer(pendingAnswer("a"), answer({ route: "document" })))).toBe(
      "whole document · on this device · SmolLM2-135M-Instruct.Q4_1",
    );
  });

  it("says where a cloud answer was sent, what was redacted and what it cost", () => {
    const t = finishAnswer(
      pendingAnswer("a"),
      answer({ provider: "openai", model: "gpt-4o-mini", on_device: false, cost: 0.00123456, redacted: 2 }),
    );
    expect(badge(t)).toBe("factual · sent to openai · gpt-4o-mini · 2 redacted first · $0.0012");
    expect(badge(t)).not.toContain("on this device");
  });

  it("takes an answer without a provider as local only when it stayed on the device", () => {
    expect(badge(finishAnswer(pendingAnswer("a"), answer({ provider: "" })))).toContain("on this device");
    expect(badge(finishAnswer(pendingAnswer("a"), answer({ provider: "", on_device: false })))).not.toContain(
      "on this device",
    );
  });

  it("says where a reopened answer was made, from what the thread stored", () => {
    const stored = {
      id: 7,
      role: "assistant",
      content: "It was made in 1870 [1].",
      route: "factual",
      tier: "primary",
      model: "gpt-4o-mini",
      provider: "openai",
      cost: 0.0012,
      prompt_version: "grounded@1.0.0",
      created_at: 0,
      citations: [],
    };
    const cloud = badge(turnFromMessage(stored));
    expect(cloud).toContain("sent to openai");
    expect(cloud).toContain("$0.0012");
    expect(cloud).not.toContain("on this device");
    // Saved before providers existed: every answer then was made on this device.
    const old = badge(turnFromMessage({ ...stored, model: "SmolLM2", provider: null, cost: null }));
    expect(old).toContain("on this device");
    expect(turnFromMessage({ ...stored, role: "user", provider: null }).provider).toBeNull();
  });

  it("keeps why this model and what failed first", () => {
    const t = finishAnswer(
      pendingAnswer("a"),
      answer({
        tier: "secondary",
        model_route: "cost-aware, complex: cheapest large model openai/gpt-4o",
        fallbacks: ["openai/gpt-4o (timeout): no reply in 30 s"],
      }),
    );
    expect(t.tier).toBe("secondary");
    expect(why(t)).toEqual([
      "cost-aware, complex: cheapest large model openai/gpt-4o",
      "Failed first: openai/gpt-4o (timeout): no reply in 30 s",
    ]);
    expect(why(finishAnswer(pendingAnswer("b"), answer({ model_route: "" })))).toEqual([]);
  });
});

describe("an answer from the cache", () => {
  const cached = {
    question: "When was the lens made?",
    similarity: 0.99123,
    made_by: "local · SmolLM2",
    made_at: Date.UTC(2025, 2, 12, 12) / 1000,
    trace_id: 3,
  };

  it("keeps where a cached answer came from, and nothing for any other", () => {
    const t = finishAnswer(pendingAnswer("a"), answer({ provider: "cache", tokens_in: 0, tokens_out: 0, cached }));
    expect(t.cached).toEqual(cached);
    expect(badge(t)).toBe("factual · from the answer cache · on this device · SmolLM2-135M-Instruct.Q4_1");
    expect(finishAnswer(pendingAnswer("b"), answer()).cached).toBeNull();
    expect(pendingAnswer("c").cached).toBeNull();
  });

  it("says which question it answered before, how close, and when", () => {
    expect(cachedNote(cached)).toBe(
      "From the answer cache — answered before as “When was the lens made?” (0.991) on Mar 12, 2025",
    );
    expect(cachedSimilarity(1)).toBe("same words");
    expect(cachedSimilarity(0.95)).toBe("0.950");
  });
});

describe("citations in text", () => {
  it("lists numbers in order of first use", () => {
    expect(citedNumbers("A [2]. B [1] and [2]. C [10].")).toEqual([2, 1, 10]);
  });

  it("finds the sentences that cite a passage", () => {
    const text = "The lens was made in 1870 [1]. The tower is 30 m tall [2]. It still works.";
    expect(citingSentences(text, 2)).toBe("The tower is 30 m tall [2].");
    expect(citingSentences(text, 9)).toBe(text);
  });
});

describe("feedbackRequest", () => {
  it("sends a 👎 with its correction, trimmed", () => {
    expect(feedbackRequest(3, false, "  It was 1871. ")).toEqual({ trace_id: 3, up: false, correction: "It was 1871." });
  });

  it("sends no correction for a blank one or for a 👍", () => {
    expect(feedbackRequest(3, false, "   ")).toEqual({ trace_id: 3, up: false, correction: null });
    expect(feedbackRequest(3, false)).toEqual({ trace_id: 3, up: false, correction: null });
    expect(feedbackRequest(3, true, "ignored")).toEqual({ trace_id: 3, up: true, correction: null });
  });
});

describe("an answer that failed the checks", () => {
  it("says when a shared collection's offline copy answered, and nothing otherwise", () => {
    const note = 'From this computer\'s offline copy of "team", as the shared store had it 12 minutes ago: the store could not be reached.';
    expect(finishAnswer(pendingAnswer("a"), answer({ offline_copy: note })).offlineCopy).toBe(note);
    expect(finishAnswer(pendingAnswer("b"), answer()).offlineCopy).toBeNull();
    expect(pendingAnswer("c").offlineCopy).toBeNull();
  });

  it("keeps an answer's place in the review queue, and none for any other", () => {
    const review = { id: 3, mode: "warn", reason: "banned term: secret" };
    expect(finishAnswer(pendingAnswer("a"), answer({ review })).review).toEqual(review);
    expect(finishAnswer(pendingAnswer("b"), answer()).review).toBeNull();
    expect(pendingAnswer("c").review).toBeNull();
  });
});

describe("the sources under an answer", () => {
  it("lists each document once, with its passages under it in the order first cited", () => {
    const at = (n: number, doc_path: string) => ({ ...passage, n, doc_path });
    const docs = sourcesByDocument([
      at(1, "/docs/lighthouse.md"),
      at(2, "/docs/tides.md"),
      at(3, "/docs/lighthouse.md"),
      at(4, "/docs/lighthouse.md"),
    ]);
    expect(docs.map((d) => d.doc_path)).toEqual(["/docs/lighthouse.md", "/docs/tides.md"]);
    expect(docs[0].passages.map((p) => p.n)).toEqual([1, 3, 4]);
    expect(docs[1].passages.map((p) => p.n)).toEqual([2]);
    expect(sourcesByDocument([])).toEqual([]);
  });
});
