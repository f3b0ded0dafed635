import { describe, expect, it } from "vitest";
import type { ReviewView } from "./bindings";
import {
  canSaveEdit,
  decision,
  formatWhen,
  isPending,
  keptLine,
  newestFirst,
  pendingCount,
  replaceReview,
  replacedText,
  reviewModeLabel,
  reviewNote,
  reviewStatusLabel,
} from "./review";

function review(over: Partial<ReviewView> = {}): ReviewView {
  return {
    id: 1,
    trace_id: 7,
    thread_id: 2,
    collection: "default",
    question: "When was the lens made?",
    reason: "not grounded: 1 of 2 sentences in the passages",
    mode: "hold",
    answer: "It was made in 1870 [1].",
    citations: [],
    made_by: "local · SmolLM2",
    status: "pending",
    final_text: null,
    created_at: 100,
    decided_at: null,
    cached_as: null,
    ...over,
  };
}

describe("labels", () => {
  it("names the mode as the chat treated the answer", () => {
    expect(reviewModeLabel("hold")).toBe("held");
    expect(reviewModeLabel("warn")).toBe("shown with a warning");
    expect(reviewModeLabel("later")).toBe("later");
  });

  it("names the status", () => {
    expect(reviewStatusLabel("pending")).toBe("waiting for review");
    expect(reviewStatusLabel("approved")).toBe("approved");
    expect(reviewStatusLabel("edited")).toBe("edited");
    expect(reviewStatusLabel("rejected")).toBe("rejected");
  });

  it("writes a moment in the device's time zone, and a dash when unknown", () => {
    expect(formatWhen(Date.UTC(2025, 2, 12, 12) / 1000)).toContain("Mar 12, 2025");
    expect(formatWhen(null)).toBe("–");
    expect(formatWhen(Number.NaN)).toBe("–");
  });

  it("says what was kept in the answer cache, if anything", () => {
    expect(keptLine(review({ cached_as: 12 }))).toBe("kept in the cache as entry 12");
    expect(keptLine(review())).toBeNull();
  });

  it("shows a final text only when it differs from the model's answer", () => {
    expect(replacedText(review({ status: "approved", final_text: "It was made in 1870 [1]." }))).toBeNull();
    expect(replacedText(review({ status: "edited", final_text: "1871 [1]." }))).toBe("1871 [1].");
    expect(replacedText(review({ status: "rejected" }))).toBeNull();
  });
});

describe("the chat's note", () => {
  it("warns under an answer shown as written", () => {
    expect(reviewNote({ id: 3, mode: "warn", reason: "banned term: secret" })).toBe(
      "This answer did not pass the checks (banned term: secret); it is waiting for review.",
    );
  });

  it("says quietly that a held answer waits, with its number when it has one", () => {
    expect(reviewNote({ id: 3, mode: "hold", reason: "not grounded" })).toBe("The model's answer is held for review (#3).");
    expect(reviewNote({ id: null, mode: "hold", reason: "not grounded" })).toBe("The model's answer is held for review.");
  });
});

describe("the list", () => {
  it("puts the newest first, the later id first within a second", () => {
    const list = [review({ id: 1, created_at: 100 }), review({ id: 3, created_at: 300 }), review({ id: 2, created_at: 300 })];
    expect(newestFirst(list).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(list.map((r) => r.id)).toEqual([1, 3, 2]);
  });

  it("counts what is still pending", () => {
    const list = [review({ id: 1 }), review({ id: 2, status: "approved" }), review({ id: 3 })];
    expect(pendingCount(list)).toBe(2);
    expect(isPending(list[1])).toBe(false);
  });

  it("replaces a decided answer where it was", () => {
    const list = [review({ id: 1 }), review({ id: 2 })];
    const updated = review({ id: 1, status: "approved" });
    const after = replaceReview(list, updated);
    expect(after.map((r) => r.status)).toEqual(["approved", "pending"]);
    expect(after[1]).toBe(list[1]);
  });
});

describe("decisions", () => {
  it("sends text only with an edit, trimmed", () => {
    expect(decision(4, "approve", true, "ignored")).toEqual({ id: 4, verdict: "approve", text: null, keep: true });
    expect(decision(4, "edit", false, "  It was 1871 [1].\n")).toEqual({
      id: 4,
      verdict: "edit",
      text: "It was 1871 [1].",
      keep: false,
    });
  });

  it("keeps nothing for a rejection", () => {
    expect(decision(4, "reject", true)).toEqual({ id: 4, verdict: "reject", text: null, keep: false });
  });

  it("will not save an empty edit", () => {
    expect(canSaveEdit("  \n")).toBe(false);
    expect(canSaveEdit("1871")).toBe(true);
  });
});
