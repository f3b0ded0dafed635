// Errors from commands arrive as `ApiError` objects ({code, message}); anything else is a bug.

import type { ApiError } from "./bindings";

export function isApiError(e: unknown): e is ApiError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** The sentence to show for a failed command. */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
