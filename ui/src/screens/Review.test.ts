import { cleanup, fireEvent, render, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ReviewDecision, ReviewView, TraceView } from "../lib/bindings";

// The screen talks to the app through `commands` only: each test sets what they answer.
const api = vi.hoisted(() => ({ reviews: vi.fn(), decideReview: vi.fn(), trace: vi.fn() }));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));

const { reviews } = await import("../lib/reviews.svelte");
const { nav } = await import("../lib/nav.svelte");
const { chat } = await import("../lib/chat.svelte");
const { default: Review } = await import("./Review.svelte");

const citation = {
  n: 1,
  doc_path: "/docs/lighthouse.md",
  page: 4,
  heading: "The optic",
  text: "The lens was made in 1870.",
  score: 0.8,
  cited_by: "model",
};

function review(over: Partial<ReviewView> = {}): ReviewView {
  return {
    id: 1,
    trace_id: 7,
    thread_id: 2,
    collection: "default",
    question: "When was the lens made?",
    reason: "not grounded: 1 of 2 sentences in the passages",
    mode: "hold",
    answer: "It was made in **1870** [1].",
    citations: [citation],
    made_by: "local · SmolLM2",
    status: "pending",
    final_text: null,
    created_at: Date.UTC(2025, 2, 12, 12) / 1000,
    decided_at: null,
    cached_as: null,
    ...over,
  };
}

const older = review({ id: 1, question: "When was the lens made?", created_at: 1000 });
const newer = review({ id: 2, question: "Who built the tower?", mode: "warn", reason: "banned term: secret", created_at: 2000 });

/** What the app answers to a decision: the answer, decided. */
function decidedAs(r: ReviewView) {
  return async (d: ReviewDecision): Promise<ReviewView> => ({
    ...r,
    status: d.verdict === "approve" ? "approved" : d.verdict === "edit" ? "edited" : "rejected",
    final_text: d.verdict === "approve" ? r.answer : d.verdict === "edit" ? d.text : null,
    decided_at: r.created_at + 60,
    cached_as: d.keep ? 12 : null,
  });
}

function item(container: HTMLElement, id: number): HTMLElement {
  return container.querySelector(`[data-testid=review-item][data-id="${id}"]`) as HTMLElement;
}

beforeEach(() => {
  vi.clearAllMocks();
  api.reviews.mockResolvedValue([older, newer]);
  reviews.pending = null;
  nav.screen = "review";
  chat.trace = null;
});

afterEach(cleanup);

describe("the Review screen", () => {
  it("lists the pending answers, newest first, with what they failed and their passages", async () => {
    const { findAllByTestId, container } = render(Review);
    const items = await findAllByTestId("review-item");
    expect(api.reviews).toHaveBeenCalledWith({ all: false });
    expect(items.map((i) => within(i).getByTestId("review-question").textContent)).toEqual([
      "Who built the tower?",
      "When was the lens made?",
    ]);
    const first = within(item(container, 1));
    expect(first.getByTestId("review-mode").textContent).toBe("held");
    expect(first.getByTestId("review-reason").textContent).toContain("not grounded: 1 of 2 sentences");
    expect(first.getByTestId("review-meta").textContent).toContain("local · SmolLM2");
    expect(first.getByTestId("review-status").textContent).toBe("waiting for review");
    expect(first.getByTestId("review-answer").querySelector("strong")?.textContent).toBe("1870");
    expect(first.getByTestId("review-answer").querySelector("[data-testid=citation-chip]")?.getAttribute("data-n")).toBe("1");
    const passage = first.getByTestId("review-passage");
    expect(passage.textContent).toContain("lighthouse.md");
    expect(passage.textContent).toContain("The lens was made in 1870.");
    expect(within(item(container, 2)).getByTestId("review-mode").textContent).toBe("shown with a warning");
    expect(reviews.pending).toBe(2);
  });

  it("shows decided answers too when asked", async () => {
    const { findAllByTestId, getByTestId } = render(Review);
    await findAllByTestId("review-item");
    api.reviews.mockResolvedValue([older, newer, review({ id: 3, status: "rejected", created_at: 3000 })]);
    await fireEvent.click(getByTestId("review-show-decided"));
    await waitFor(() => expect(api.reviews).toHaveBeenLastCalledWith({ all: true }));
    await waitFor(() => expect(getByTestId("review-summary").textContent).toContain("2 waiting, 1 decided"));
    expect((await findAllByTestId("review-item"))[0].getAttribute("data-status")).toBe("rejected");
  });

  it("says so when nothing waits", async () => {
    api.reviews.mockResolvedValue([]);
    const { findByTestId } = render(Review);
    expect((await findByTestId("review-empty")).textContent).toContain("Nothing waits for review");
    expect(reviews.pending).toBe(0);
  });

  it("approves, keeping the answer in the cache when the box is ticked, and shows the decision in place", async () => {
    api.decideReview.mockImplementation(decidedAs(older));
    const { findAllByTestId, container } = render(Review);
    await findAllByTestId("review-item");
    const one = within(item(container, 1));
    await fireEvent.click(one.getByLabelText("Answer this question from the cache from now on"));
    await fireEvent.click(one.getByTestId("review-approve"));
    expect(api.decideReview).toHaveBeenCalledWith({ id: 1, verdict: "approve", text: null, keep: true });
    await waitFor(() => expect(item(container, 1).getAttribute("data-status")).toBe("approved"));
    expect(one.getByTestId("review-status").textContent).toBe("approved");
    expect(one.getByTestId("review-kept").textContent).toBe("kept in the cache as entry 12");
    expect(one.queryByTestId("review-approve")).toBeNull();
    expect(reviews.pending).toBe(1);
  });

  it("approves without keeping when the box is left alone", async () => {
    api.decideReview.mockImplementation(decidedAs(newer));
    const { findAllByTestId, container } = render(Review);
    await findAllByTestId("review-item");
    await fireEvent.click(within(item(container, 2)).getByTestId("review-approve"));
    expect(api.decideReview).toHaveBeenCalledWith({ id: 2, verdict: "approve", text: null, keep: false });
    await waitFor(() => expect(item(container, 2).getAttribute("data-status")).toBe("approved"));
    expect(within(item(container, 2)).queryByTestId("review-kept")).toBeNull();
  });

  it("sends the edited text, and shows it as the answer now given", async () => {
    api.decideReview.mockImplementation(decidedAs(older));
    const { findAllByTestId, container } = render(Review);
    await findAllByTestId("review-item");
    const one = within(item(container, 1));
    await fireEvent.click(one.getByTestId("review-edit"));
    const box = one.getByLabelText(/Edited answer/) as HTMLTextAreaElement;
    expect(box.value).toBe("It was made in **1870** [1].");
    await fireEvent.input(box, { target: { value: "  " } });
    expect((one.getByTestId("review-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(box, { target: { value: "It was made in 1871 [1]." } });
    await fireEvent.click(one.getByTestId("review-save"));
    expect(api.decideReview).toHaveBeenCalledWith({ id: 1, verdict: "edit", text: "It was made in 1871 [1].", keep: false });
    await waitFor(() => expect(one.getByTestId("review-status").textContent).toBe("edited"));
    expect(one.getByTestId("review-final").textContent).toContain("It was made in 1871");
    expect(one.queryByTestId("review-edit-form")).toBeNull();
  });

  it("rejects", async () => {
    api.decideReview.mockImplementation(decidedAs(older));
    const { findAllByTestId, container } = render(Review);
    await findAllByTestId("review-item");
    await fireEvent.click(within(item(container, 1)).getByTestId("review-reject"));
    expect(api.decideReview).toHaveBeenCalledWith({ id: 1, verdict: "reject", text: null, keep: false });
    await waitFor(() => expect(item(container, 1).getAttribute("data-status")).toBe("rejected"));
  });

  it("shows the app's refusal beside the answer, which stays pending", async () => {
    api.decideReview.mockRejectedValue({ code: "already_decided", message: "Review 1 was already decided (approved)." });
    const { findAllByTestId, container } = render(Review);
    await findAllByTestId("review-item");
    const one = within(item(container, 1));
    await fireEvent.click(one.getByTestId("review-approve"));
    expect((await one.findByTestId("review-error")).textContent).toBe("Review 1 was already decided (approved).");
    expect(item(container, 1).getAttribute("data-status")).toBe("pending");
    expect(within(item(container, 2)).queryByTestId("review-error")).toBeNull();
  });

  it("shows a failure to list as the command's message", async () => {
    api.reviews.mockRejectedValue({ code: "internal", message: "The library could not be read." });
    const { findByRole } = render(Review);
    expect((await findByRole("alert")).textContent).toContain("The library could not be read.");
  });

  it("opens why the answer was made in the chat's panel", async () => {
    const trace: TraceView = { id: 7, created_at: 0, data: { question: "When?", outcome: "answered" } };
    api.trace.mockResolvedValue(trace);
    const { findAllByTestId, container } = render(Review);
    await findAllByTestId("review-item");
    await fireEvent.click(within(item(container, 1)).getByTestId("review-trace"));
    expect(api.trace).toHaveBeenCalledWith({ trace_id: 7 });
    expect(nav.screen).toBe("chat");
    expect(chat.trace?.traceId).toBe(7);
  });

  it("offers no trace when none was recorded", async () => {
    api.reviews.mockResolvedValue([review({ trace_id: null })]);
    const { findByTestId } = render(Review);
    const one = await findByTestId("review-item");
    expect(within(one).queryByTestId("review-trace")).toBeNull();
  });
});
