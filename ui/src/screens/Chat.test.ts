import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AnswerView, PageImage, PageRequest, TraceView } from "../lib/bindings";

const api = vi.hoisted(() => ({
  feedback: vi.fn(),
  trace: vi.fn(),
  threads: vi.fn(),
  ask: vi.fn(),
  reviews: vi.fn(),
  citedPage: vi.fn(),
}));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));

const { chat } = await import("../lib/chat.svelte");
const { nav } = await import("../lib/nav.svelte");
const { reviews } = await import("../lib/reviews.svelte");
const { finishAnswer, pendingAnswer } = await import("../lib/turns");
const { pageCache } = await import("../lib/pageView.svelte");
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

function answerView(traceId: number | null, over: Partial<AnswerView> = {}): AnswerView {
  return {
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
    cached: null,
    review: null,
    offline_copy: null,
    ...over,
  };
}

function answered(traceId: number | null, over: Partial<AnswerView> = {}) {
  return finishAnswer(pendingAnswer("a1"), answerView(traceId, over));
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
  chat.passage = null;
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

describe("an answer from the answer cache", () => {
  const cached = {
    question: "When was the lens made?",
    similarity: 0.99123,
    made_by: "local · SmolLM2",
    made_at: Date.UTC(2025, 2, 12, 12) / 1000,
    trace_id: 3,
  };

  const hitTrace: TraceView = {
    id: 8,
    created_at: 0,
    data: {
      question: "when was the lens made",
      outcome: "answered",
      candidates: [],
      cache: {
        lookup: "hit",
        reason: null,
        nearest: "When was the lens made?",
        similarity: 0.99123,
        threshold: 0.95,
        entry: 12,
        invalidated: [4, 5],
        store: null,
        entry_stored: null,
        evicted: 0,
      },
      answer: {
        provider: "cache",
        model: "SmolLM2",
        tokens_in: 0,
        tokens_out: 0,
        cost: 0,
        cache: {
          entry: 12,
          question: "When was the lens made?",
          similarity: 0.99123,
          trace_id: 3,
          made_by: "local · SmolLM2",
          made_at: cached.made_at,
        },
      },
    },
  };

  it("says so quietly, and opens the trace of the answer when it was made", async () => {
    chat.turns = [answered(8, { provider: "cache", tokens_in: 0, tokens_out: 0, cached })];
    const { getByTestId } = render(Chat);
    expect(getByTestId("answer-cached").textContent).toContain(
      "From the answer cache — answered before as “When was the lens made?” (0.991) on Mar 12, 2025",
    );
    expect(getByTestId("answer-badge").textContent).toContain("from the answer cache");
    await fireEvent.click(getByTestId("answer-cached-trace"));
    expect(api.trace).toHaveBeenLastCalledWith({ trace_id: 3 });
    await waitFor(() => expect(getByTestId("answer-cached-trace").getAttribute("aria-expanded")).toBe("true"));
  });

  it("says “same words” for an exact match, and offers no trace when none was kept", () => {
    chat.turns = [answered(8, { provider: "cache", cached: { ...cached, similarity: 1, trace_id: null } })];
    const { getByTestId, queryByTestId } = render(Chat);
    expect(getByTestId("answer-cached").textContent).toContain("(same words)");
    expect(queryByTestId("answer-cached-trace")).toBeNull();
  });

  it("shows no note under an answer the model wrote", () => {
    const { queryByTestId } = render(Chat);
    expect(queryByTestId("answer-cached")).toBeNull();
  });

  it("explains the cache lookup in the trace", async () => {
    api.trace.mockResolvedValue(hitTrace);
    chat.turns = [answered(8, { provider: "cache", cached })];
    const { getByTestId, findByTestId } = render(Chat);
    await fireEvent.click(getByTestId("answer-trace"));
    const section = await findByTestId("trace-cache");
    expect(section.textContent).toContain("Answered from the cache: “When was the lens made?” (similarity 0.991, entry 12)");
    expect(section.textContent).toContain("Made by local · SmolLM2 on Mar 12, 2025");
    expect(getByTestId("trace-cache-invalidated").textContent).toBe("2 earlier answers removed: a source changed");
    expect(getByTestId("trace-redacted").textContent).toContain("nothing left this device");
    await fireEvent.click(getByTestId("trace-cache-original"));
    expect(api.trace).toHaveBeenLastCalledWith({ trace_id: 3 });
  });
});

describe("an answer that failed the checks", () => {
  it("warns under an answer shown as written", () => {
    chat.turns = [answered(5, { review: { id: 3, mode: "warn", reason: "banned term: secret" } })];
    const { getByTestId, queryByTestId } = render(Chat);
    const note = getByTestId("answer-review");
    expect(note.getAttribute("role")).toBe("status");
    expect(note.textContent).toContain("This answer did not pass the checks (banned term: secret); it is waiting for review.");
    expect(queryByTestId("answer-review-open")).toBeNull();
  });

  it("says quietly that the model's answer is held, and opens the Review screen", async () => {
    nav.screen = "chat";
    chat.turns = [answered(5, { review: { id: 3, mode: "hold", reason: "not grounded" } })];
    const { getByTestId } = render(Chat);
    expect(getByTestId("answer-review").textContent).toContain("The model's answer is held for review (#3).");
    await fireEvent.click(getByTestId("answer-review-open"));
    expect(nav.screen).toBe("review");
  });

  it("shows no note under an answer that passed", () => {
    const { queryByTestId } = render(Chat);
    expect(queryByTestId("answer-review")).toBeNull();
  });

  it("updates the count of answers waiting for review after a queued answer", async () => {
    api.threads.mockResolvedValue([]);
    api.reviews.mockResolvedValue([{ id: 3, status: "pending" }, { id: 4, status: "pending" }]);
    reviews.pending = 1;
    chat.turns = [];
    api.ask.mockResolvedValue(answerView(5, { review: { id: 4, mode: "hold", reason: "not grounded" } }));
    await chat.ask("When?", "default");
    await waitFor(() => expect(reviews.pending).toBe(2));
    expect(api.reviews).toHaveBeenCalledWith({ all: false });

    api.reviews.mockClear();
    api.ask.mockResolvedValue(answerView(6));
    await chat.ask("And then?", "default");
    expect(api.reviews).not.toHaveBeenCalled();
  });
});

describe("an answer from a shared collection's offline copy", () => {
  it("says so, and how old the copy is", () => {
    const note = 'From this computer\'s offline copy of "team", as the shared store had it 12 minutes ago: the store could not be reached.';
    chat.turns = [answered(5, { offline_copy: note })];
    const { getByTestId } = render(Chat);
    const shown = getByTestId("answer-offline-copy");
    expect(shown.getAttribute("role")).toBe("status");
    expect(shown.textContent).toBe(note);
  });

  it("says nothing under an answer the store gave", () => {
    const { queryByTestId } = render(Chat);
    expect(queryByTestId("answer-offline-copy")).toBeNull();
  });
});

describe("the sources under an answer", () => {
  it("names a document once, with a chip for each passage of it the answer cites", () => {
    const at = (n: number, doc_path: string) => ({ ...citation, n, doc_path });
    chat.turns = [
      answered(null, {
        answer: "It was made in 1870 [1], lit in 1871 [2] and moved [3].",
        citations: [at(1, "/docs/lighthouse.md"), at(2, "/docs/tides.md"), at(3, "/docs/lighthouse.md")],
      }),
    ];
    const { getAllByTestId } = render(Chat);
    const docs = getAllByTestId("source-document");
    expect(docs.map((d) => d.getAttribute("data-doc-path"))).toEqual(["/docs/lighthouse.md", "/docs/tides.md"]);
    const chips = (d: HTMLElement) =>
      [...d.querySelectorAll<HTMLElement>("[data-testid=citation-chip]")].map((c) => c.getAttribute("data-n"));
    expect(chips(docs[0])).toEqual(["1", "3"]);
    expect(chips(docs[1])).toEqual(["2"]);
    expect(docs[0].textContent).toContain("lighthouse.md");
  });
});

describe("asking about one document", () => {
  const lease = { collection: "default", path: "/docs/lease.pdf" };

  beforeEach(() => {
    api.threads.mockResolvedValue([]);
    api.ask.mockReset();
    chat.turns = [];
    chat.thread = null;
    chat.clearDocument();
  });

  afterEach(() => chat.clearDocument());

  async function send(getByTestId: (id: string) => HTMLElement, question: string) {
    await fireEvent.input(getByTestId("chat-input"), { target: { value: question } });
    await fireEvent.submit(getByTestId("chat-input").closest("form") as HTMLFormElement);
  }

  it("shows the chosen document's name on a chip, and sends its path with the question", async () => {
    api.ask.mockResolvedValue(answerView(5, { route: "document" }));
    chat.askAbout(lease.collection, lease.path);
    const { getByTestId } = render(Chat);
    const chip = getByTestId("ask-document-chip");
    expect(chip.textContent).toContain("lease.pdf");
    expect(chip.getAttribute("title")).toBe("/docs/lease.pdf");
    expect(getByTestId("chat-input").getAttribute("placeholder")).toMatch(/^Ask about lease\.pdf…/);

    await send(getByTestId, "Summarise it");
    await waitFor(() => expect(api.ask).toHaveBeenCalledTimes(1));
    expect(api.ask.mock.calls[0][0]).toMatchObject({ question: "Summarise it", collection: "default", document: "/docs/lease.pdf" });
    await waitFor(() => expect(chat.answering).toBeNull());
    // The chip stays for the follow-up questions.
    expect(getByTestId("ask-document-chip")).toBeTruthy();
    await waitFor(() => expect(getByTestId("answer-badge").textContent).toContain("whole document"));
  });

  it("goes back to the whole collection when the chip's × is clicked", async () => {
    api.ask.mockResolvedValue(answerView(5));
    chat.askAbout(lease.collection, lease.path);
    const { getByTestId, queryByTestId } = render(Chat);
    await fireEvent.click(getByTestId("ask-document-clear"));
    expect(queryByTestId("ask-document-chip")).toBeNull();
    expect(chat.document).toBeNull();

    await send(getByTestId, "When?");
    await waitFor(() => expect(api.ask).toHaveBeenCalledTimes(1));
    expect(api.ask.mock.calls[0][0]).toMatchObject({ question: "When?", document: null });
  });

  it("shows no chip, and sends no document, for a document of another collection", async () => {
    api.ask.mockResolvedValue(answerView(5));
    chat.askAbout("work", "/srv/papers/plan.md");
    const { getByTestId, queryByTestId } = render(Chat);
    expect(queryByTestId("ask-document-chip")).toBeNull();
    await send(getByTestId, "When?");
    await waitFor(() => expect(api.ask).toHaveBeenCalledTimes(1));
    expect(api.ask.mock.calls[0][0]).toMatchObject({ collection: "default", document: null });
  });

  it("shows how far a long document is read, until the answer's text streams", async () => {
    let events: { onmessage: (e: unknown) => void } | undefined;
    let reply: (a: AnswerView) => void = () => {};
    api.ask.mockImplementation((_args: unknown, channel: { onmessage: (e: unknown) => void }) => {
      events = channel;
      return new Promise<AnswerView>((resolve) => (reply = resolve));
    });
    chat.askAbout(lease.collection, lease.path);
    const { getByTestId, queryByTestId } = render(Chat);
    await send(getByTestId, "Summarise it");
    await waitFor(() => expect(events).toBeDefined());
    expect(queryByTestId("answer-progress")).toBeNull();

    events!.onmessage({ event: "route", route: "document", confidence: 0.9, reason: "a summary" });
    events!.onmessage({ event: "progress", done: 2, total: 7, stage: "Reading lease.pdf: part 2 of 7" });
    const progress = await waitFor(() => getByTestId("answer-progress"));
    expect(progress.textContent).toContain("Reading lease.pdf: part 2 of 7");
    const bar = progress.querySelector("[role=progressbar]") as HTMLElement;
    expect(bar.getAttribute("aria-valuenow")).toBe("2");
    expect(bar.getAttribute("aria-valuemax")).toBe("7");
    expect((bar.firstElementChild as HTMLElement).style.width).toBe("29%");
    // Stop stays on offer while it reads.
    expect(getByTestId("chat-stop")).toBeTruthy();

    events!.onmessage({ event: "text", text: "The lease runs to 2030 [1]." });
    await waitFor(() => expect(queryByTestId("answer-progress")).toBeNull());
    const contents = document.querySelectorAll("[data-testid=message-content]");
    expect(contents[contents.length - 1].textContent).toContain("The lease runs to 2030");

    reply(answerView(5, { answer: "The lease runs to 2030 [1].", route: "document" }));
    await waitFor(() => expect(chat.answering).toBeNull());
  });
});

describe("the cited page of a PDF", () => {
  const pdf = { ...citation, doc_path: "/docs/report.pdf", page: 2, text: "The lens was made in 1870." };
  const highlights = [{ left: 80, top: 400, right: 700, bottom: 430 }];

  function drawn(request: PageRequest, over: Partial<PageImage> = {}): PageImage {
    return {
      data_url: `data:image/png;base64,${request.doc_path}#${request.page}`,
      width: 800,
      height: 1035,
      highlights: request.page === 2 ? highlights : [],
      page_count: 3,
      ...over,
    };
  }

  beforeEach(() => {
    pageCache.clear();
    api.citedPage.mockReset().mockImplementation(async (request: PageRequest) => drawn(request));
    chat.turns = [answered(5, { citations: [pdf] })];
  });

  function openCitation(getAllByTestId: (id: string) => HTMLElement[], n = 1) {
    const chip = getAllByTestId("citation-chip").find((c) => c.getAttribute("data-n") === String(n));
    return fireEvent.click(chip as HTMLElement);
  }

  it("draws the cited page, the cited lines highlighted, above the passage's text", async () => {
    const { getAllByTestId, getByTestId, findByTestId, queryByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    const img = (await findByTestId("passage-page-image")) as HTMLImageElement;
    expect(api.citedPage).toHaveBeenCalledTimes(1);
    // jsdom lays nothing out: the panel's width is unknown, so the default width is asked for.
    expect(api.citedPage).toHaveBeenCalledWith({ doc_path: "/docs/report.pdf", page: 2, passage: pdf.text, width: 800 });
    expect(img.getAttribute("alt")).toBe("Page 2 of report.pdf, the cited lines highlighted");
    expect(img.getAttribute("src")).toBe("data:image/png;base64,/docs/report.pdf#2");
    expect(getByTestId("passage-page-number").textContent).toBe("Page 2 of 3");
    expect(queryByTestId("passage-page-moved")).toBeNull();
    expect(queryByTestId("passage-page-loading")).toBeNull();
    // The text view is still there, under the page.
    const text = getByTestId("passage-text");
    expect(text.textContent).toContain("The lens was made in 1870.");
    expect(img.compareDocumentPosition(text) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(getByTestId("passage-panel").classList.contains("pdf")).toBe(true);
  });

  it("shows a placeholder while the page is drawn", async () => {
    let reply: (i: PageImage) => void = () => {};
    api.citedPage.mockImplementation(() => new Promise<PageImage>((resolve) => (reply = resolve)));
    const { getAllByTestId, getByTestId, queryByTestId, findByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    await waitFor(() => expect(api.citedPage).toHaveBeenCalledTimes(1));
    expect(getByTestId("passage-page-loading")).toBeTruthy();
    expect(queryByTestId("passage-page-image")).toBeNull();
    expect(getByTestId("passage-text").textContent).toContain("1870");
    reply(drawn(api.citedPage.mock.calls[0][0]));
    await findByTestId("passage-page-image");
    expect(queryByTestId("passage-page-loading")).toBeNull();
  });

  it("turns the pages, disabled at either end, and draws a page only once", async () => {
    const { getAllByTestId, getByTestId, findByTestId, queryByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    await findByTestId("passage-page-image");
    const prev = getByTestId("passage-page-prev") as HTMLButtonElement;
    const next = getByTestId("passage-page-next") as HTMLButtonElement;
    expect(prev.disabled).toBe(false);
    expect(next.disabled).toBe(false);
    expect(queryByTestId("passage-page-cited")).toBeNull();

    await fireEvent.click(prev);
    await waitFor(() => expect(getByTestId("passage-page-number").textContent).toBe("Page 1 of 3"));
    const page1 = await waitFor(() => {
      const img = getByTestId("passage-page-image");
      expect(img.getAttribute("alt")).toBe("Page 1 of report.pdf");
      return img;
    });
    expect(page1.getAttribute("src")).toBe("data:image/png;base64,/docs/report.pdf#1");
    expect(prev.disabled).toBe(true);
    // The passage is sent with every page; it is found (and highlighted) on its own page only.
    expect(api.citedPage).toHaveBeenLastCalledWith({ doc_path: "/docs/report.pdf", page: 1, passage: pdf.text, width: 800 });
    // Off the cited page, no highlight is no news.
    expect(queryByTestId("passage-page-moved")).toBeNull();

    await fireEvent.click(next);
    await waitFor(() =>
      expect(getByTestId("passage-page-image").getAttribute("alt")).toBe("Page 2 of report.pdf, the cited lines highlighted"),
    );
    await fireEvent.click(next);
    await waitFor(() => expect(getByTestId("passage-page-image").getAttribute("alt")).toBe("Page 3 of report.pdf"));
    expect(next.disabled).toBe(true);
    expect(getByTestId("passage-page-number").textContent).toBe("Page 3 of 3");

    await fireEvent.click(getByTestId("passage-page-cited"));
    await waitFor(() => expect(getByTestId("passage-page-number").textContent).toBe("Page 2 of 3"));
    // Pages 2, 1 and 3, each drawn once; going back to one came from the cache.
    expect(api.citedPage.mock.calls.map(([r]) => r.page)).toEqual([2, 1, 3]);
  });

  it("goes back to the cited page when the citation is opened again, and closes cleanly", async () => {
    const { getAllByTestId, getByTestId, findByTestId, queryByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    await findByTestId("passage-page-image");
    await fireEvent.click(getByTestId("passage-page-next"));
    await waitFor(() => expect(getByTestId("passage-page-image").getAttribute("alt")).toBe("Page 3 of report.pdf"));
    await openCitation(getAllByTestId);
    await waitFor(() =>
      expect(getByTestId("passage-page-image").getAttribute("alt")).toBe("Page 2 of report.pdf, the cited lines highlighted"),
    );
    expect(api.citedPage).toHaveBeenCalledTimes(2);
    await fireEvent.click(getByTestId("passage-panel").querySelector("button.close") as HTMLButtonElement);
    expect(queryByTestId("passage-panel")).toBeNull();
    expect(queryByTestId("passage-page-view")).toBeNull();
  });

  it("scrolls the panel to the first highlight once the page is shown", async () => {
    const { getAllByTestId, getByTestId, findByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    const img = await findByTestId("passage-page-image");
    const panel = getByTestId("passage-panel");
    let scrollTop = 0;
    Object.defineProperty(panel, "scrollTop", { configurable: true, get: () => scrollTop, set: (v) => (scrollTop = v) });
    Object.defineProperty(panel, "clientHeight", { configurable: true, value: 300 });
    panel.getBoundingClientRect = () => ({ top: 50 }) as DOMRect;
    // Shown 400px wide, 100px down the panel: the highlight is at 300..315, below the fold.
    img.getBoundingClientRect = () => ({ top: 150, width: 400 }) as DOMRect;
    await fireEvent.load(img);
    expect(scrollTop).toBe(200);
  });

  it("says when the passage is no longer on its page", async () => {
    api.citedPage.mockImplementation(async (request: PageRequest) => drawn(request, { highlights: [] }));
    const { getAllByTestId, getByTestId, findByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    expect((await findByTestId("passage-page-moved")).textContent).toContain(
      "The passage was not found on this page; the file may have changed since it was indexed.",
    );
    expect(getByTestId("passage-page-image").getAttribute("alt")).toBe("Page 2 of report.pdf");
  });

  it("says why a page could not be drawn, and keeps the passage's text", async () => {
    api.citedPage.mockRejectedValue({ code: "no_pdf_engine", message: "PDFium is not installed." });
    const { getAllByTestId, getByTestId, findByTestId, queryByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    const note = await findByTestId("passage-page-error");
    expect(note.textContent).toBe("The page could not be drawn: PDFium is not installed.");
    expect(queryByTestId("passage-page-image")).toBeNull();
    expect(queryByTestId("passage-page-loading")).toBeNull();
    expect(queryByTestId("passage-page-prev")).toBeNull();
    expect(getByTestId("passage-text").textContent).toContain("The lens was made in 1870.");
  });

  it("shows the page of the citation clicked last, whichever answer arrives last", async () => {
    const other = { ...pdf, n: 2, doc_path: "/docs/tides.PDF", page: 7, text: "High tide at noon." };
    chat.turns = [answered(5, { answer: "Made in 1870 [1], tides at noon [2].", citations: [pdf, other] })];
    const replies: ((i: PageImage) => void)[] = [];
    api.citedPage.mockImplementation(() => new Promise<PageImage>((resolve) => replies.push(resolve)));
    const { getAllByTestId, getByTestId, findByTestId } = render(Chat);
    await openCitation(getAllByTestId, 1);
    await waitFor(() => expect(replies).toHaveLength(1));
    await openCitation(getAllByTestId, 2);
    await waitFor(() => expect(replies).toHaveLength(2));
    expect(api.citedPage.mock.calls[1][0]).toMatchObject({ doc_path: "/docs/tides.PDF", page: 7, passage: "High tide at noon." });
    replies[1](drawn(api.citedPage.mock.calls[1][0], { page_count: 12 }));
    const img = await findByTestId("passage-page-image");
    replies[0](drawn(api.citedPage.mock.calls[0][0]));
    await new Promise((r) => setTimeout(r, 0));
    expect(img.getAttribute("alt")).toBe("Page 7 of tides.PDF");
    expect(getByTestId("passage-page-image").getAttribute("src")).toBe("data:image/png;base64,/docs/tides.PDF#7");
    expect(getByTestId("passage-page-number").textContent).toBe("Page 7 of 12");
  });

  it("draws no page for a Markdown citation", async () => {
    chat.turns = [answered(5)];
    const { getAllByTestId, getByTestId, queryByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    expect(getByTestId("passage-text").textContent).toContain("The lens was made in 1870.");
    expect(queryByTestId("passage-page-view")).toBeNull();
    expect(queryByTestId("passage-page-image")).toBeNull();
    expect(queryByTestId("passage-page-loading")).toBeNull();
    expect(getByTestId("passage-panel").classList.contains("pdf")).toBe(false);
    expect(api.citedPage).not.toHaveBeenCalled();
  });

  it("draws no page for a PDF citation without a page", async () => {
    chat.turns = [answered(5, { citations: [{ ...pdf, page: null }] })];
    const { getAllByTestId, getByTestId, queryByTestId } = render(Chat);
    await openCitation(getAllByTestId);
    expect(getByTestId("passage-text")).toBeTruthy();
    expect(queryByTestId("passage-page-view")).toBeNull();
    expect(api.citedPage).not.toHaveBeenCalled();
  });
});
