import { describe, expect, it } from "vitest";
import type { ProviderView } from "./bindings";
import {
  PRIVACY_MODES,
  answerBadge,
  answerWhy,
  budgetText,
  budgetTexts,
  budgetUse,
  checkProviderForm,
  formatPrice,
  formatTokens,
  formatUsd,
  isFallback,
  keyStatus,
  modeDisabled,
  networkNote,
  parseBudget,
  parseBudgets,
  CAP_REQUIRED,
  providerAddress,
  providerForm,
  routeLabel,
  type AnswerFacts,
  type ProviderForm,
} from "./providers";

const openai: ProviderView = {
  name: "openai",
  kind: "openai",
  base_url: null,
  models: [
    { id: "gpt-4o-mini", tier: "mid", input_per_mtok: 0.15, output_per_mtok: 0.6 },
    { id: "gpt-4o", tier: "large", input_per_mtok: 2.5, output_per_mtok: 10 },
  ],
  needs_key: true,
  has_key: true,
};

function form(over: Partial<ProviderForm> = {}): ProviderForm {
  return {
    editing: null,
    name: "mistral",
    kind: "mistral",
    baseUrl: "",
    models: [{ id: "mistral-small-latest", tier: "mid", input: "0.2", output: "0.6" }],
    ...over,
  };
}

function errorsOf(f: ProviderForm, existing: ProviderView[] = []): string[] {
  const r = checkProviderForm(f, existing);
  return r.ok ? [] : r.errors;
}

describe("privacy modes", () => {
  it("lists the five modes, offline-only first", () => {
    expect(PRIVACY_MODES.map((m) => m.value)).toEqual([
      "offline_only",
      "cost_aware",
      "latency_aware",
      "quality_first",
      "hybrid",
    ]);
  });

  it("allows only offline-only while no provider is configured", () => {
    expect(modeDisabled("offline_only", 0)).toBe(false);
    for (const m of PRIVACY_MODES.filter((m) => m.value !== "offline_only")) {
      expect(modeDisabled(m.value, 0)).toBe(true);
      expect(modeDisabled(m.value, 1)).toBe(false);
    }
  });

  it("says offline only when nothing can leave the device", () => {
    expect(networkNote(null)).toBeNull();
    expect(networkNote("offline_only")?.label).toBe("Offline · on this device");
    expect(networkNote("hybrid")?.label).toBe("Cloud allowed · hybrid");
    expect(networkNote("hybrid")?.label).not.toContain("Offline");
  });
});

describe("budgets", () => {
  it("reads empty as no limit and dollars as a number", () => {
    expect(parseBudget("")).toEqual({ value: null, error: null });
    expect(parseBudget("   ")).toEqual({ value: null, error: null });
    expect(parseBudget("5")).toEqual({ value: 5, error: null });
    expect(parseBudget(" 0.50 ")).toEqual({ value: 0.5, error: null });
    expect(parseBudget("$2.5")).toEqual({ value: 2.5, error: null });
    expect(parseBudget(".25")).toEqual({ value: 0.25, error: null });
    expect(parseBudget("0")).toEqual({ value: 0, error: null });
  });

  it("refuses what is not an amount", () => {
    for (const bad of ["-1", "abc", "1e3", "1,5", "5 USD", "Infinity", "NaN", "1.2.3"]) {
      const p = parseBudget(bad);
      expect(p.value, bad).toBeNull();
      expect(p.error, bad).not.toBeNull();
    }
    expect(parseBudget("1000001").error).toMatch(/at most/);
    expect(parseBudget("1000000").value).toBe(1_000_000);
  });

  it("round-trips stored limits through the fields", () => {
    const b = { conversation_usd: 0.5, day_usd: null, month_usd: 20 };
    expect(budgetTexts(b)).toEqual({ conversation: "0.5", day: "", month: "20" });
    expect(parseBudgets(budgetTexts(b)).budget).toEqual(b);
    expect(budgetText(null)).toBe("");
  });

  it("names the fields that are wrong and gives no budget", () => {
    const r = parseBudgets({ conversation: "1", day: "lots", month: "" });
    expect(r.budget).toBeNull();
    expect(Object.keys(r.errors)).toEqual(["day"]);
  });

  it("asks for a daily and a monthly limit while a mode uses cloud models", () => {
    const none = { conversation: "", day: "", month: "" };
    expect(parseBudgets(none).budget).toEqual({ conversation_usd: null, day_usd: null, month_usd: null });
    const r = parseBudgets({ ...none, day: "2" }, true);
    expect(r.budget).toBeNull();
    expect(r.errors).toEqual({ month: CAP_REQUIRED });
    expect(parseBudgets({ ...none, day: "2", month: "20" }, true).budget).toEqual({
      conversation_usd: null,
      day_usd: 2,
      month_usd: 20,
    });
  });
});

describe("the provider form", () => {
  it("turns a good form into the provider to save", () => {
    const r = checkProviderForm(form({ name: "  mistral ", baseUrl: "  " }), [openai]);
    expect(r).toEqual({
      ok: true,
      view: {
        name: "mistral",
        kind: "mistral",
        base_url: null,
        models: [{ id: "mistral-small-latest", tier: "mid", input_per_mtok: 0.2, output_per_mtok: 0.6 }],
        needs_key: true,
        has_key: false,
      },
    });
  });

  it("needs a name of letters, digits, - and _, not one the router uses", () => {
    expect(errorsOf(form({ name: "" }))).toEqual(["Give the provider a name."]);
    expect(errorsOf(form({ name: "my provider" }))[0]).toMatch(/letters, digits/);
    expect(errorsOf(form({ name: "local" }))[0]).toMatch(/reserved/);
    expect(errorsOf(form({ name: "None" }))[0]).toMatch(/reserved/);
    expect(errorsOf(form({ name: "my-provider_2" }))).toEqual([]);
  });

  it("does not add a second provider of the same name, but edits one", () => {
    expect(errorsOf(form({ name: "openai", kind: "openai" }), [openai])[0]).toMatch(/already a provider/);
    expect(errorsOf({ ...providerForm(openai), kind: "openai" }, [openai])).toEqual([]);
  });

  it("needs a base URL for an OpenAI-compatible server only", () => {
    expect(errorsOf(form({ kind: "openai-compatible" }))).toEqual(["An OpenAI-compatible server needs its base URL."]);
    const local = checkProviderForm(form({ kind: "openai-compatible", baseUrl: "http://localhost:8080/v1" }), []);
    expect(local.ok && local.view.base_url).toBe("http://localhost:8080/v1");
    expect(local.ok && local.view.needs_key).toBe(false);
    expect(errorsOf(form({ baseUrl: "api.mistral.ai" }))[0]).toMatch(/https:\/\//);
    expect(errorsOf(form({ kind: "gemini" }))).toEqual(["Choose the kind of provider."]);
  });

  it("checks every model row and says which one is wrong", () => {
    const errors = errorsOf(
      form({
        models: [
          { id: "a", tier: "mid", input: "0.1", output: "0.2" },
          { id: "", tier: "huge", input: "-1", output: "" },
          { id: "a", tier: "large", input: "1", output: "2" },
        ],
      }),
    );
    expect(errors).toEqual([
      "Model 2: give its name in the provider's API.",
      "Model 2: choose mid or large.",
      "Model 2: the input price is US dollars per million tokens (0 if free).",
      "Model 2: the output price is US dollars per million tokens (0 if free).",
      "Model 3: 'a' is listed twice.",
    ]);
    expect(errorsOf(form({ models: [] }))).toEqual(["Add at least one model."]);
  });

  it("fills the form from a provider and back without change", () => {
    const f = providerForm(openai);
    expect(f.editing).toBe("openai");
    expect(f.models[1]).toEqual({ id: "gpt-4o", tier: "large", input: "2.5", output: "10" });
    const r = checkProviderForm(f, [openai]);
    expect(r.ok && r.view).toEqual(openai);
    expect(providerForm().models).toHaveLength(1);
  });
});

describe("provider facts", () => {
  it("says where the key is, without ever holding it", () => {
    expect(keyStatus({ needs_key: true, has_key: true })).toBe("key stored in the OS keychain");
    expect(keyStatus({ needs_key: true, has_key: false })).toBe("no key");
    expect(keyStatus({ needs_key: false, has_key: false })).toBe("needs no key");
  });

  it("shows the default address of a kind when none is set", () => {
    expect(providerAddress(openai)).toBe("https://api.openai.com/v1 (default)");
    expect(providerAddress({ kind: "openai-compatible", base_url: "http://127.0.0.1:8080/v1" })).toBe(
      "http://127.0.0.1:8080/v1",
    );
    expect(providerAddress({ kind: "openai-compatible", base_url: null })).toBe("no address");
  });

  it("prints prices and amounts", () => {
    expect(formatPrice(10)).toBe("$10.00");
    expect(formatPrice(2.5)).toBe("$2.50");
    expect(formatPrice(0.075)).toBe("$0.075");
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.00123)).toBe("$0.0012");
    expect(formatUsd(0.5)).toBe("$0.50");
    expect(formatUsd(0.3049)).toBe("$0.3049");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatTokens(1)).toBe("1 token");
    expect(formatTokens(12345)).toBe("12,345 tokens");
  });

  it("measures spend against a limit", () => {
    expect(budgetUse(0.5, null)).toEqual({ text: "$0.50 · no limit", fraction: null, over: false });
    expect(budgetUse(1, 4)).toEqual({ text: "$1.00 of $4.00", fraction: 0.25, over: false });
    expect(budgetUse(5, 4)).toEqual({ text: "$5.00 of $4.00 · limit reached", fraction: 1, over: true });
    expect(budgetUse(0, 0).over).toBe(true);
  });
});

describe("who made an answer", () => {
  const local: AnswerFacts = { route: "factual", model: "SmolLM2", tier: "primary", provider: "local", cost: 0, redacted: 0 };

  it("says a local answer stayed on this device", () => {
    expect(answerBadge(local)).toBe("factual · on this device · SmolLM2");
    expect(answerBadge({ ...local, route: null })).toBe("on this device · SmolLM2");
  });

  it("names each route in words", () => {
    expect(routeLabel("factual")).toBe("factual");
    expect(routeLabel("out_of_scope")).toBe("out of scope");
    expect(routeLabel("document")).toBe("whole document");
    expect(answerBadge({ ...local, route: "document" })).toBe("whole document · on this device · SmolLM2");
  });

  it("says where a cloud answer went, with redactions and cost to four decimals", () => {
    const cloud = { ...local, provider: "anthropic", model: "claude-3-5-haiku", cost: 0.0004, redacted: 3 };
    expect(answerBadge(cloud)).toBe("factual · sent to anthropic · claude-3-5-haiku · 3 redacted first · $0.0004");
    expect(answerBadge({ ...cloud, redacted: 0, cost: 0.12345 })).toBe(
      "factual · sent to anthropic · claude-3-5-haiku · $0.1235",
    );
  });

  it("says an answer from the cache stayed on this device, at no cost", () => {
    const cached = { ...local, provider: "cache", cost: 0 };
    expect(answerBadge(cached)).toBe("factual · from the answer cache · on this device · SmolLM2");
    expect(answerBadge({ ...cached, model: null, route: null })).toBe("from the answer cache · on this device");
    expect(answerBadge(cached)).not.toContain("sent to");
    expect(answerBadge(cached)).not.toContain("$");
  });

  it("calls a fixed answer a fixed answer", () => {
    expect(answerBadge({ ...local, tier: "deterministic", model: "none", provider: "none" })).toBe(
      "factual · fixed answer · on this device",
    );
  });

  it("marks a fallback answer", () => {
    expect(isFallback({ tier: "secondary" })).toBe(true);
    expect(isFallback({ tier: "primary" })).toBe(false);
  });

  it("explains the choice and the failures before it", () => {
    expect(answerWhy("  hybrid, simple: the local model ", [])).toEqual(["hybrid, simple: the local model"]);
    expect(answerWhy(null, ["openai/gpt-4o (auth): key refused"])).toEqual([
      "Failed first: openai/gpt-4o (auth): key refused",
    ]);
    expect(answerWhy("", [])).toEqual([]);
  });
});
