// The review queue without any framework: how a queued answer's mode and status read, the note the
// chat shows under an answer that failed the checks, and the requests a decision sends. Pure, so
// the rules are unit-tested.

import type { ReviewDecision, ReviewNoteView, ReviewVerdict, ReviewView } from "./bindings";

/** How an answer that failed the checks was treated in the chat: `hold` or `warn`. */
export function reviewModeLabel(mode: string): string {
  if (mode === "hold") return "held";
  if (mode === "warn") return "shown with a warning";
  return mode;
}

/** Where a queued answer stands: `pending`, `approved`, `edited` or `rejected`. */
export function reviewStatusLabel(status: string): string {
  if (status === "pending") return "waiting for review";
  return status;
}

/** Whether a queued answer still waits for a decision. */
export function isPending(r: ReviewView): boolean {
  return r.status === "pending";
}

/** Answers still waiting for a decision. */
export function pendingCount(reviews: ReviewView[]): number {
  return reviews.filter(isPending).length;
}

/** Newest first; the later id first for answers queued in the same second. */
export function newestFirst(reviews: ReviewView[]): ReviewView[] {
  return [...reviews].sort((a, b) => b.created_at - a.created_at || b.id - a.id);
}

/** The list with one answer replaced by its decided self, in place. */
export function replaceReview(reviews: ReviewView[], updated: ReviewView): ReviewView[] {
  return reviews.map((r) => (r.id === updated.id ? updated : r));
}

/** A moment from Unix seconds, in this device's time zone: `Mar 12, 2025, 1:05 PM`; "–" when unknown. */
export function formatWhen(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  return new Date(seconds * 1000).toLocaleString("en-US", {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  });
}

/** What approving or editing kept in the answer cache, when it kept anything. */
export function keptLine(r: ReviewView): string | null {
  return r.cached_as === null ? null : `kept in the cache as entry ${r.cached_as}`;
}

/** The text a decision put in place of what was shown, when it differs from the model's answer. */
export function replacedText(r: ReviewView): string | null {
  return r.final_text !== null && r.final_text !== r.answer ? r.final_text : null;
}

/** An edit needs some text: the app refuses an empty one. */
export function canSaveEdit(text: string): boolean {
  return text.trim() !== "";
}

/** A decision as `decide_review` takes it: only an edit carries text, and a rejection keeps nothing. */
export function decision(id: number, verdict: ReviewVerdict, keep: boolean, text?: string | null): ReviewDecision {
  return {
    id,
    verdict,
    text: verdict === "edit" ? (text ?? "").trim() : null,
    keep: verdict === "reject" ? false : keep,
  };
}

/** The line under a chat answer that failed the checks. */
export function reviewNote(note: ReviewNoteView): string {
  if (note.mode === "hold") {
    return note.id === null ? "The model's answer is held for review." : `The model's answer is held for review (#${note.id}).`;
  }
  return `This answer did not pass the checks (${note.reason}); it is waiting for review.`;
}
