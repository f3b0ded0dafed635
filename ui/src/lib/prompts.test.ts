import { describe, expect, it } from "vitest";
import type { PromptSetting, Settings } from "./bindings";
import { promptDescription, promptTag, rollBackLabel, rolledBack, versionLabel, versionOptions } from "./prompts";

const grounded: PromptSetting = {
  name: "grounded",
  active: "1.1.0",
  default: "1.0.0",
  versions: ["1.0.0", "1.1.0"],
  previous: "1.0.0",
};

const refusal: PromptSetting = { name: "refusal", active: "1.0.0", default: "1.0.0", versions: ["1.0.0"], previous: null };

const settings: Settings = {
  data_dir: "/data",
  data_dir_locked: false,
  models: { chat: null, strong_chat: null, local_answers: "strong", embedder: null, unload_after_minutes: 5 },
  chunking: { max_tokens: 256, overlap_tokens: 32 },
  documents: { ocr: true, ocr_languages: "eng", max_cores: 0 },
  retrieval: { k: 8, candidates: 50, dense_weight: 0.7, bm25_weight: 0.3, rerank: false, rerank_depth: 20 },
  answers: {
    passages: 5,
    min_score: 0.3,
    context_tokens: 2048,
    max_tokens: 256,
    temperature: 0,
    cache: true,
    hold_for_review: true,
    condense: true,
  },
  privacy: "offline_only",
  budget: { conversation_usd: null, day_usd: 2, month_usd: null },
  prompts: [grounded, refusal],
};

describe("prompt templates", () => {
  it("say what each template is for", () => {
    expect(promptDescription("grounded")).toMatch(/factual questions/);
    expect(promptDescription("analytical")).toMatch(/need reasoning/);
    expect(promptDescription("chitchat")).toMatch(/Small talk/);
    expect(promptDescription("document")).toMatch(/one whole document/);
    expect(promptDescription("document-notes")).toMatch(/^Notes on one part/);
    expect(promptDescription("overview")).toMatch(/most typical passage/);
    for (const name of ["not-found", "unsupported", "quoted", "fallback", "refusal", "no-document"]) {
      expect(promptDescription(name), name).toMatch(/^Fixed answer/);
    }
    expect(promptDescription("haiku")).toBe("A prompt template.");
  });

  it("mark the default version", () => {
    expect(versionLabel(grounded, "1.0.0")).toBe("1.0.0 (default)");
    expect(versionLabel(grounded, "1.1.0")).toBe("1.1.0");
    expect(versionOptions(grounded)).toEqual([
      { value: "1.0.0", label: "1.0.0 (default)" },
      { value: "1.1.0", label: "1.1.0" },
    ]);
  });

  it("list an active version that is not a known one, so the select still shows it", () => {
    expect(versionOptions({ ...refusal, active: "9.9.9" }).map((o) => o.value)).toEqual(["1.0.0", "9.9.9"]);
  });

  it("read like the trace's prompt version", () => {
    expect(promptTag(grounded)).toBe("grounded@1.1.0");
  });

  it("offer a roll-back only when there is a previous version", () => {
    expect(rollBackLabel(grounded)).toBe("Roll back to 1.0.0");
    expect(rollBackLabel(refusal)).toBeNull();
  });

  it("roll one template back, leaving the rest and the input as they are", () => {
    const before = structuredClone(settings);
    const next = rolledBack(settings, "grounded");
    expect(next?.prompts).toEqual([{ ...grounded, active: "1.0.0" }, refusal]);
    expect(next?.answers).toEqual(settings.answers);
    expect(next?.budget).toEqual(settings.budget);
    expect(settings).toEqual(before);
  });

  it("roll nothing back without a previous version or for an unknown template", () => {
    expect(rolledBack(settings, "refusal")).toBeNull();
    expect(rolledBack(settings, "haiku")).toBeNull();
  });
});
