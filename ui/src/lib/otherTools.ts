// Other AI tools (MCP) as the Settings screen shows them: the configuration to paste into a client,
// the state line, and one line per recent call. Pure, so the rules are unit-tested.

import type { ToolCallView, ToolsView } from "./bindings";
import { TOKEN_PLACEHOLDER } from "./localApi";

/**
 * The configuration for a client that connects over HTTP (Cursor, VS Code, Zed's remote servers):
 * the address and the local API's token. `token` is `null` while the token is hidden, so the
 * configuration never shows it unasked.
 */
export function httpConfig(url: string, token: string | null): string {
  const config = {
    mcpServers: {
      cairn: { url, headers: { Authorization: `Bearer ${token ?? TOKEN_PLACEHOLDER}` } },
    },
  };
  return JSON.stringify(config, null, 2);
}

/** The line that says who may read what. */
export function sharingLine(view: ToolsView): string {
  const shared = view.collections.filter((c) => c.shared).map((c) => c.name);
  const read =
    shared.length === 0
      ? "Other AI tools can read none of your collections."
      : `Other AI tools can read ${shared.length === 1 ? "the collection" : "the collections"} ${shared.join(", ")}.`;
  return view.redact ? `${read} Personal data is replaced by placeholders in what they are given.` : read;
}

/** One call, as the list shows it: when, who, what, and how much was given. */
export function callLine(call: ToolCallView, now: Date = new Date()): string {
  const at = new Date(call.at * 1000);
  const sameDay = at.toDateString() === now.toDateString();
  const when = sameDay
    ? at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : at.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  const given = `${call.chars.toLocaleString("en")} characters`;
  const redacted = call.redacted > 0 ? `, ${call.redacted} personal ${call.redacted === 1 ? "item" : "items"} replaced` : "";
  return `${when} · ${call.client} · ${call.tool} · ${given}${redacted}`;
}
