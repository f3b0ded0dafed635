import { afterEach, describe, expect, it, vi } from "vitest";
import {
  API_EMBEDDING_MODEL,
  API_MODEL,
  MODEL_HINT,
  TOKEN_PLACEHOLDER,
  apiErrorText,
  apiStateLine,
  baseUrlFor,
  collectionModel,
  copyText,
  exampleSnippet,
  maskToken,
} from "./localApi";

const token = "3f9a0c1d2e4b5a6978877665544332211ffeeddccbbaa99887766554433221100";

describe("the local API's model names", () => {
  it("are cairn, cairn/<collection> and cairn-embedding", () => {
    expect(API_MODEL).toBe("cairn");
    expect(collectionModel("work")).toBe("cairn/work");
    expect(API_EMBEDDING_MODEL).toBe("cairn-embedding");
    expect(MODEL_HINT).toContain("cairn/<collection>");
    expect(MODEL_HINT).toContain("cairn-embedding");
    expect(MODEL_HINT).not.toContain("\n");
  });
});

describe("baseUrlFor", () => {
  it("is on the loopback address, under /v1", () => {
    expect(baseUrlFor(8765)).toBe("http://127.0.0.1:8765/v1");
  });
});

describe("maskToken", () => {
  it("shows none of the token", () => {
    const masked = maskToken(token);
    expect(masked).toMatch(/^•+$/);
    for (const c of new Set(token)) expect(masked).not.toContain(c);
  });

  it("has between 8 and 24 dots, whatever the token's length", () => {
    expect(maskToken("")).toHaveLength(8);
    expect(maskToken("abc")).toHaveLength(8);
    expect(maskToken("0123456789ab")).toHaveLength(12);
    expect(maskToken(token)).toHaveLength(24);
  });
});

describe("apiStateLine", () => {
  it("says the port it would use while off", () => {
    const line = apiStateLine({ running: false, base_url: null, token: null, port: 9000 });
    expect(line).toContain("Off");
    expect(line).toContain("port 9000");
    expect(line).toContain("http://127.0.0.1:9000/v1");
  });

  it("says it is on and reachable from this device only", () => {
    const line = apiStateLine({ running: true, base_url: "http://127.0.0.1:8765/v1", token, port: 8765 });
    expect(line).toMatch(/^On/);
    expect(line).toContain("this device");
    expect(line).not.toContain(token);
  });
});

describe("apiErrorText", () => {
  const taken = { code: "api_server", message: "could not listen on 127.0.0.1:8765: Address already in use" };

  it("says the API could not start, with the app's reason", () => {
    expect(apiErrorText(taken, true)).toBe(
      "The local API could not start: could not listen on 127.0.0.1:8765: Address already in use",
    );
    expect(apiErrorText(taken, false)).toMatch(/^The local API could not stop: /);
  });

  it("passes other errors through as they are", () => {
    const keychain = { code: "keychain", message: "the API token could not be kept in the OS keychain: locked" };
    expect(apiErrorText(keychain, true)).toBe(keychain.message);
    expect(apiErrorText(new Error("boom"), true)).toBe("boom");
    expect(apiErrorText("odd", false)).toBe("odd");
  });
});

describe("exampleSnippet", () => {
  it("uses the base URL, the token and the model", () => {
    const text = exampleSnippet("http://127.0.0.1:8765/v1", token);
    expect(text).toContain('base_url="http://127.0.0.1:8765/v1"');
    expect(text).toContain(`api_key="${token}"`);
    expect(text).toContain('model="cairn"');
  });

  it("leaves the token out while it is hidden", () => {
    const text = exampleSnippet("http://127.0.0.1:8765/v1", null);
    expect(text).toContain(`api_key="${TOKEN_PLACEHOLDER}"`);
  });
});

describe("copyText", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("writes to the clipboard when there is one", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    expect(await copyText("hello")).toBe(true);
    expect(writeText).toHaveBeenCalledWith("hello");
  });

  it("says false without a clipboard, or when it refuses", async () => {
    vi.stubGlobal("navigator", {});
    expect(await copyText("hello")).toBe(false);
    vi.stubGlobal("navigator", { clipboard: { writeText: vi.fn().mockRejectedValue(new Error("denied")) } });
    expect(await copyText("hello")).toBe(false);
  });
});
