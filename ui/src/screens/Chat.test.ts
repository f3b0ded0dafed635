import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TraceView } from "../lib/bindings";

const api = vi.hoisted(() => ({ feedback: vi.fn(), trace: vi.fn(), threads: vi.fn() }));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));

const { chat } = await import("../lib/chat.svelte");
const { finishAnswer, pendingAnswer } = await import("../lib/turns");
const { default: Chat } = await import("./Chat.svelte");

const citation = {
  n: 1,
  doc_path: "/docs/lighthouse.md",
  page: null,
  heading: "",
  text: "The lens was made in 1870.",
  score: 0.8,
  cited_by: "model",
};

function answered(traceId: number | null) {
  return finishAnswer(pendingAnswer("a1"), {
    answer: "It was made in 1870 [1].",
    citations: [citation],
    closest: [],
    route: "factual",
    route_reason: "a fact",
    tier: "primary",
    model: "SmolLM2",
    prompt_version: "grounded@1.0.0",
    tokens_in: 100,
    tokens_out: 10,
    thread_id: 1,
    truncated: false,
    on_device: true,
    provider: "local",
    cost: 0,
    model_route: "",
    fallbacks: [],
    redacted: 0,
    trace_id: traceId,
    timings_ms: { route: 1, retrieve: 20, first_token: 300, total: 900 },
  });
}

const trace: TraceView = {
  id: 5,
  created_at: 0,
  data: {
    question: "When?",
    outcome: "answered",
    route: { route: "factual", confidence: 0.9, reason: "asks for a date" },
    candidates: [
      { chunk_id: "c1", doc_path: "/docs/lighthouse.md", page: null, dense: 0.8, bm25: null, fused: 0.03, rerank: null },
      { chunk_id: "c2", doc_path: "/docs/other.md", page: null, dense: 0.4, bm25: 1.5, fused: 0.01, rerank: null },
    ],
    answer: {
      provider: "local",
      model: "SmolLM2",
      citations: [{ n: 1, chunk_id: "c1", doc_path: "/docs/lighthouse.md" }],
      output_check: { grounded: true, grounded_fraction: 1, policy_hits: [] },
      timings_ms: { route: 1, retrieve: 20, first_token: 300, total: 900 },
      redacted: 0,
    },
  },
};

beforeEach(() => {
  api.feedback.mockReset().mockResolvedValue(null);
  api.trace.mockReset().mockResolvedValue(trace);
  chat.turns = [answered(5)];
  chat.verdicts = {};
  chat.trace = null;
  chat.error = null;
});

afterEach(() => cleanup());

describe("feedback and the trace beside an answer", () => {
  it("keeps the badge, and offers no rating or trace for an answer without one", () => {
    chat.turns = [answered(null)];
    const { getByTestId, queryByTestId } = render(Chat);
    expect(getByTestId("answer-badge").textContent).toContain("factual");
    expect(queryByTestId("answer-up")).toBeNull();
    expect(queryByTestId("answer-trace")).toBeNull();
  });

  it("records 👍, and a later 👎 with a correction replaces it", async () => {
    const { getByTestId, findByTestId, getByLabelText } = render(Chat);
    const up = getByTestId("answer-up");
    const down = getByTestId("answer-down");
    await fireEvent.click(up);
    await waitFor(() => expect(up.getAttribute("aria-pressed")).toBe("true"));
    expect(api.feedback).toHaveBeenLastCalledWith({ trace_id: 5, up: true, correction: null });

    await fireEvent.click(down);
    await waitFor(() => expect(down.getAttribute("aria-pressed")).toBe("true"));
    expect(up.getAttribute("aria-pressed")).toBe("false");
    await findByTestId("answer-correction");
    await fireEvent.input(getByLabelText(/What should it have said/), { target: { value: "1871" } });
    await fireEvent.submit(getByTestId("answer-correction"));
    await waitFor(() => expect(api.feedback).toHaveBeenLastCalledWith({ trace_id: 5, up: false, correction: "1871" }));
  });

  it("opens why this answer was made, with scores and the passages used", async () => {
    const { getByTestId, findByTestId } = render(Chat);
    await fireEvent.click(getByTestId("answer-trace"));
    expect(api.trace).toHaveBeenCalledWith({ trace_id: 5 });
    const table = await findByTestId("trace-candidates");
    expect(getByTestId("trace-redacted").textContent).toContain("nothing left this device");
    expect(getByTestId("trace-route").textContent).toContain("asks for a date");
    const rows = table.querySelectorAll("tbody tr");
    expect([...rows].map((r) => r.getAttribute("data-used"))).toEqual(["true", "false"]);
    expect(rows[0].textContent).toContain("0.800");
    expect(rows[0].textContent).toContain("–");
  });
});
