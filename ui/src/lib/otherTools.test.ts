import { describe, expect, it } from "vitest";
import type { ToolsView } from "./bindings";
import { TOKEN_PLACEHOLDER } from "./localApi";
import { callLine, httpConfig, sharingLine } from "./otherTools";

const view = (shared: string[], redact = false): ToolsView => ({
  collections: ["default", "work", "private"].map((name) => ({ name, shared: shared.includes(name) })),
  redact,
  stdio_config: "{}",
  http_url: null,
  recent_calls: [],
});

describe("the HTTP configuration", () => {
  it("names the address and sends the token as a bearer header", () => {
    const config = JSON.parse(httpConfig("http://127.0.0.1:8765/mcp", "secret-token"));
    expect(config.mcpServers.cairn.url).toBe("http://127.0.0.1:8765/mcp");
    expect(config.mcpServers.cairn.headers.Authorization).toBe("Bearer secret-token");
  });

  it("never shows the token while it is hidden", () => {
    const text = httpConfig("http://127.0.0.1:8765/mcp", null);
    expect(text).toContain(TOKEN_PLACEHOLDER);
    expect(text).not.toContain("secret-token");
  });
});

describe("the sharing line", () => {
  it("says when nothing is shared", () => {
    expect(sharingLine(view([]))).toBe("Other AI tools can read none of your collections.");
  });

  it("names what is shared, and only that", () => {
    expect(sharingLine(view(["default"]))).toBe("Other AI tools can read the collection default.");
    const two = sharingLine(view(["default", "work"]));
    expect(two).toBe("Other AI tools can read the collections default, work.");
    expect(two).not.toContain("private");
  });

  it("says when personal data is replaced", () => {
    expect(sharingLine(view(["default"], true))).toContain("replaced by placeholders");
    expect(sharingLine(view(["default"], false))).not.toContain("placeholders");
  });
});

describe("a recent call", () => {
  const now = new Date(2026, 11, 7, 15, 0);
  const call = { at: Math.floor(new Date(2026, 11, 7, 14, 30).getTime() / 1000), client: "Claude Desktop", tool: "search", chars: 12345, redacted: 0 };

  it("shows the time today, the client, the tool and what was given", () => {
    const line = callLine(call, now);
    expect(line).toContain("Claude Desktop · search · 12,345 characters");
    expect(line).toMatch(/30/);
    expect(line).not.toContain("replaced");
  });

  it("shows the day for an older call and counts what was replaced", () => {
    const older = { ...call, at: Math.floor(new Date(2026, 10, 2, 9, 0).getTime() / 1000), redacted: 2 };
    const line = callLine(older, now);
    expect(line).toMatch(/Nov|2/);
    expect(line).toContain("2 personal items replaced");
    expect(callLine({ ...call, redacted: 1 }, now)).toContain("1 personal item replaced");
  });
});
