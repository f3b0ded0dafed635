// The local OpenAI-compatible API as the Settings screen shows it: where it listens, which model
// names it answers to, the token masked until asked for, and what a failed switch means. Pure
// (but for `copyText`), so the rules are unit-tested.

import type { ApiStatus } from "./bindings";
import { errorMessage, isApiError } from "./errors";

/** The model that answers from the default collection. */
export const API_MODEL = "cairn";

/** The model that turns text into vectors (the `/v1/embeddings` endpoint). */
export const API_EMBEDDING_MODEL = "cairn-embedding";

/** The model that answers from one collection. */
export function collectionModel(collection: string): string {
  return `${API_MODEL}/${collection}`;
}

/** The one-line hint under the address: which model names to use. */
export const MODEL_HINT =
  `Model ${API_MODEL} answers from the default collection, ${collectionModel("<collection>")} from another; ` +
  `${API_EMBEDDING_MODEL} makes embeddings.`;

/** The base URL the API has on a port (it listens on this device only). */
export function baseUrlFor(port: number): string {
  return `http://127.0.0.1:${port}/v1`;
}

/** The longest run of dots a masked token shows. */
const MASK_MAX = 24;

/**
 * A token as shown until "Show" is pressed: dots only, none of its characters. The number of dots
 * follows its length (at least 8, at most 24), so an empty or odd token still looks like a secret.
 */
export function maskToken(token: string): string {
  return "•".repeat(Math.min(Math.max(token.length, 8), MASK_MAX));
}

/** The line that says whether the API is on, and where it is (or would be). */
export function apiStateLine(status: ApiStatus): string {
  if (status.running) return "On: other apps on this device can use your library. It cannot be reached from other devices.";
  return `Off. When on, it listens on port ${status.port}, on this device only (${baseUrlFor(status.port)}).`;
}

/** A failed switch, as the screen says it: the app's message, with what it means for the API. */
export function apiErrorText(e: unknown, on: boolean): string {
  const message = errorMessage(e);
  if (!isApiError(e)) return message;
  switch (e.code) {
    case "api_server":
      return on ? `The local API could not start: ${message}` : `The local API could not stop: ${message}`;
    default:
      // `keychain` (and anything else) already says what went wrong.
      return message;
  }
}

/** What a token placeholder in the example reads while the token is hidden. */
export const TOKEN_PLACEHOLDER = "<the token above>";

/**
 * An example for another tool: Python with the `openai` package. `token` is `null` while the
 * token is hidden, so the example never shows it unasked.
 */
export function exampleSnippet(baseUrl: string, token: string | null): string {
  return [
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(baseUrl)}, api_key=${JSON.stringify(token ?? TOKEN_PLACEHOLDER)})`,
    "reply = client.chat.completions.create(",
    `    model=${JSON.stringify(API_MODEL)},`,
    '    messages=[{"role": "user", "content": "What do my notes say about…?"}],',
    ")",
    "print(reply.choices[0].message.content)",
  ].join("\n");
}

/** Copies text with the clipboard API; `false` where there is none or it refused. */
export async function copyText(text: string): Promise<boolean> {
  const clipboard = typeof navigator === "undefined" ? undefined : navigator.clipboard;
  if (!clipboard?.writeText) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
