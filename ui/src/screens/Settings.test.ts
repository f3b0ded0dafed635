import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { tick } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApiStatus, ProviderView, Settings, SpendView, ToolsView } from "../lib/bindings";

// The screen talks to the app through `commands` only: each test sets what they answer.
const api = vi.hoisted(() => ({
  settings: vi.fn(),
  saveSettings: vi.fn(),
  checkModel: vi.fn(),
  providers: vi.fn(),
  saveProvider: vi.fn(),
  removeProvider: vi.fn(),
  setKey: vi.fn(),
  removeKey: vi.fn(),
  spend: vi.fn(),
  libraryView: vi.fn(),
  apiStatus: vi.fn(),
  setApi: vi.fn(),
  modelsView: vi.fn(),
  toolsView: vi.fn(),
  shareWithTools: vi.fn(),
  setToolsRedact: vi.fn(),
}));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));
const dialog = vi.hoisted(() => ({ open: vi.fn() }));
vi.mock("@tauri-apps/plugin-dialog", () => dialog);

const { default: SettingsScreen } = await import("./Settings.svelte");

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
  prompts: [
    { name: "grounded", active: "1.0.0", default: "1.0.0", versions: ["1.0.0", "1.1.0"], previous: null },
    { name: "analytical", active: "1.0.0", default: "1.0.0", versions: ["1.0.0"], previous: null },
    { name: "refusal", active: "1.0.0", default: "1.0.0", versions: ["1.0.0"], previous: null },
  ],
};

const openai: ProviderView = {
  name: "openai",
  kind: "openai",
  base_url: null,
  models: [{ id: "gpt-4o-mini", tier: "mid", input_per_mtok: 0.15, output_per_mtok: 0.6 }],
  needs_key: true,
  has_key: false,
};

const spend: SpendView = {
  today_usd: 0.5,
  today_tokens: 1200,
  month_usd: 3,
  month_tokens: 50_000,
  by_model: [{ provider: "openai", model: "gpt-4o-mini", calls: 4, tokens: 50_000, usd: 3 }],
  budget: settings.budget,
};

const apiOff: ApiStatus = { running: false, base_url: null, token: null, port: 8765 };
const apiToken = "5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b";
const apiOn: ApiStatus = { running: true, base_url: "http://127.0.0.1:8765/v1", token: apiToken, port: 8765 };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

beforeEach(() => {
  vi.clearAllMocks();
  api.settings.mockResolvedValue(structuredClone(settings));
  api.providers.mockResolvedValue([]);
  api.spend.mockResolvedValue(spend);
  api.modelsView.mockResolvedValue({
    total_memory: 8e9,
    free_disk: 20e9,
    endpoint: "https://huggingface.co",
    catalog: [],
    installed: [],
    download: null,
  });
  api.libraryView.mockResolvedValue({ collections: [], documents: [], ingest: null, watched: [] });
  api.apiStatus.mockResolvedValue(apiOff);
  api.toolsView.mockResolvedValue(tools(false));
});

/** Other AI tools: two collections, `default` shared or not; no call yet. */
function tools(defaultShared: boolean, httpUrl: string | null = null): ToolsView {
  return {
    collections: [
      { name: "default", shared: defaultShared },
      { name: "private", shared: false },
    ],
    redact: false,
    stdio_config: '{"mcpServers":{"cairn":{"command":"/usr/bin/cairn-desktop","args":["--data-dir","/data","mcp"]}}}',
    http_url: httpUrl,
    recent_calls: [],
  };
}

function modeRadio(container: HTMLElement, mode: string): HTMLInputElement {
  return container.querySelector(`input[name=privacy][value=${mode}]`) as HTMLInputElement;
}

describe("the Settings screen", () => {
  it("offers only offline-only while no provider is configured", async () => {
    const { container, findByText } = render(SettingsScreen);
    await findByText(/No provider yet/);
    expect(modeRadio(container, "offline_only").disabled).toBe(false);
    for (const m of ["cost_aware", "latency_aware", "quality_first", "hybrid"]) {
      expect(modeRadio(container, m).disabled, m).toBe(true);
    }
  });

  it("lets a mode that uses providers be chosen once one is configured", async () => {
    api.providers.mockResolvedValue([openai]);
    const { container, findByText } = render(SettingsScreen);
    await findByText("no key");
    expect(modeRadio(container, "hybrid").disabled).toBe(false);
  });

  it("saves budgets with the other settings, empty as no limit", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { getByTestId, findByTestId } = render(SettingsScreen);
    const day = (await findByTestId("budget-day")) as HTMLInputElement;
    expect(day.value).toBe("2");
    await fireEvent.input(day, { target: { value: "" } });
    await fireEvent.input(getByTestId("budget-month"), { target: { value: "$10.5" } });
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].budget).toEqual({ conversation_usd: null, day_usd: null, month_usd: 10.5 });
  });

  it("asks for daily and monthly limits before a mode that uses cloud models is saved", async () => {
    api.providers.mockResolvedValue([openai]);
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { container, getByTestId, findByText } = render(SettingsScreen);
    await findByText("no key");
    await fireEvent.click(modeRadio(container, "hybrid"));
    await fireEvent.input(getByTestId("budget-day"), { target: { value: "2" } });
    await fireEvent.input(getByTestId("budget-month"), { target: { value: "" } });
    expect(await findByText("required while a mode uses cloud models")).toBeTruthy();
    expect((getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(getByTestId("budget-month"), { target: { value: "20" } });
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    const saved = api.saveSettings.mock.calls[0][0];
    expect(saved.privacy).toBe("hybrid");
    expect(saved.budget).toEqual({ conversation_usd: null, day_usd: 2, month_usd: 20 });
  });

  it("turns OCR off and names its languages with the other settings", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { getByTestId, findByTestId } = render(SettingsScreen);
    const ocr = (await findByTestId("settings-ocr")) as HTMLInputElement;
    const languages = getByTestId("settings-ocr-languages") as HTMLInputElement;
    expect(ocr.checked).toBe(true);
    expect(languages.value).toBe("eng");
    await fireEvent.input(languages, { target: { value: "eng+deu" } });
    await fireEvent.click(ocr);
    expect(languages.disabled).toBe(true);
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].documents).toEqual({ ocr: false, ocr_languages: "eng+deu", max_cores: 0 });
  });

  it("saves the answer cache and review choices with the other settings", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { getByTestId, findByLabelText, getByLabelText } = render(SettingsScreen);
    const cache = (await findByLabelText(/Answer repeated questions from the cache/)) as HTMLInputElement;
    const hold = getByLabelText(/Hold answers that fail the checks until reviewed/) as HTMLInputElement;
    expect(cache.checked).toBe(true);
    expect(hold.checked).toBe(true);
    await fireEvent.click(cache);
    await fireEvent.click(hold);
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].answers).toMatchObject({ cache: false, hold_for_review: false });
  });

  it("saves condensed passages with the other answer settings", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { getByTestId, findByLabelText } = render(SettingsScreen);
    const condense = (await findByLabelText(/Give the local model only the sentences that bear on the question/)) as HTMLInputElement;
    expect(condense.checked).toBe(true);
    await fireEvent.click(condense);
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].answers).toMatchObject({ condense: false, cache: true });
  });

  it("shows the answering and fast models, bundled unless chosen, and the GGUF architectures that run", async () => {
    const { findByTestId, getByTestId, getByRole } = render(SettingsScreen);
    const strong = await findByTestId("model-strong-chat");
    expect(getByTestId("model-strong-chat-path").textContent).toBe("Qwen2.5-Coder-1.5B-Instruct (bundled)");
    expect(getByTestId("model-chat-path").textContent).toBe("SmolLM2-135M-Instruct (bundled)");
    expect(getByRole("group", { name: "Answering model" })).toBe(strong);
    expect(getByRole("group", { name: "Fast model" })).toBe(getByTestId("model-chat"));
    expect(strong.textContent).not.toContain("Use bundled");
    expect(getByTestId("models-hint").textContent).toMatch(/llama, mistral, qwen2, qwen3, gemma3 or phi3/);
  });

  it("saves which model answers, offered in plain words", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { getByTestId, findByLabelText } = render(SettingsScreen);
    const select = (await findByLabelText("Which model answers")) as HTMLSelectElement;
    expect(select.value).toBe("strong");
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ["strong", "The answering model, every question (best answers)"],
      ["tiers", "The fast model for simple questions, the answering model for the rest"],
      ["fast", "The fast model, every question (quickest, least accurate)"],
    ]);
    await fireEvent.change(select, { target: { value: "tiers" } });
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].models).toEqual({
      chat: null,
      strong_chat: null,
      local_answers: "tiers",
      embedder: null,
      unload_after_minutes: 5,
    });
  });

  it("shows how long an unused model stays in memory, in minutes, and saves a new time", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { getByTestId, findByLabelText } = render(SettingsScreen);
    const unload = (await findByLabelText("Unload models after (minutes)")) as HTMLInputElement;
    expect(unload).toBe(getByTestId("settings-unload-after"));
    expect(unload.value).toBe("5");
    expect(unload.max).toBe("1440");
    await fireEvent.input(unload, { target: { value: "0" } });
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].models).toEqual({ ...settings.models, unload_after_minutes: 0 });
    await fireEvent.input(unload, { target: { value: "45" } });
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(2));
    expect(api.saveSettings.mock.calls[1][0].models.unload_after_minutes).toBe(45);
  });

  it("lets a time past a day set by hand in config.toml stand", async () => {
    api.settings.mockResolvedValue({ ...settings, models: { ...settings.models, unload_after_minutes: 10_080 } });
    const { findByTestId } = render(SettingsScreen);
    const unload = (await findByTestId("settings-unload-after")) as HTMLInputElement;
    expect(unload.value).toBe("10080");
    expect(unload.max).toBe("10080");
    expect(unload.validity.valid).toBe(true);
  });

  it("checks a chosen answering model as a chat model and saves it; Use bundled clears it", async () => {
    dialog.open.mockResolvedValue("/models/qwen3-4b.gguf");
    api.checkModel.mockResolvedValue({ summary: "qwen3, 36 layers, 40960-token context" });
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { findByTestId, getByTestId, findByText } = render(SettingsScreen);
    const row = await findByTestId("model-strong-chat");
    await fireEvent.click(row.querySelector("button") as HTMLButtonElement);
    await findByText("qwen3, 36 layers, 40960-token context");
    expect(dialog.open).toHaveBeenCalledWith(expect.objectContaining({ filters: [{ name: "GGUF model", extensions: ["gguf"] }] }));
    expect(api.checkModel).toHaveBeenCalledWith({ path: "/models/qwen3-4b.gguf", role: "chat" });
    expect(getByTestId("model-strong-chat-path").textContent).toBe("/models/qwen3-4b.gguf");
    expect(getByTestId("model-chat-path").textContent).toBe("SmolLM2-135M-Instruct (bundled)");
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    expect(api.saveSettings.mock.calls[0][0].models).toMatchObject({ chat: null, strong_chat: "/models/qwen3-4b.gguf" });

    await fireEvent.click(await findByText("Use bundled"));
    expect(getByTestId("model-strong-chat-path").textContent).toBe("Qwen2.5-Coder-1.5B-Instruct (bundled)");
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(2));
    expect(api.saveSettings.mock.calls[1][0].models.strong_chat).toBeNull();
  });

  it("will not save a budget that is not an amount", async () => {
    const { getByTestId, findByTestId, findByText } = render(SettingsScreen);
    await fireEvent.input(await findByTestId("budget-conversation"), { target: { value: "ten" } });
    await findByText(/a number of US dollars/);
    expect((getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("sends a key to the keychain and forgets it at once", async () => {
    api.providers.mockResolvedValue([openai]);
    api.setKey.mockResolvedValue([{ ...openai, has_key: true }]);
    const { findByTestId, getByText, findByText } = render(SettingsScreen);
    const input = (await findByTestId("provider-key")) as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(input.getAttribute("autocomplete")).toBe("off");
    await fireEvent.input(input, { target: { value: "sk-secret " } });
    await fireEvent.click(getByText("Save key"));
    await tick();
    expect(input.value).toBe("");
    expect(api.setKey).toHaveBeenCalledWith({ provider: "openai", key: "sk-secret" });
    await findByText("key stored in the OS keychain");
    expect(document.body.innerHTML).not.toContain("sk-secret");
  });

  it("removes a provider only when asked twice", async () => {
    api.providers.mockResolvedValue([openai]);
    api.removeProvider.mockResolvedValue([]);
    const { findByText, getByText } = render(SettingsScreen);
    await fireEvent.click(await findByText("Remove provider"));
    expect(api.removeProvider).not.toHaveBeenCalled();
    await fireEvent.click(getByText("Remove openai and its key?"));
    await waitFor(() => expect(api.removeProvider).toHaveBeenCalledWith({ provider: "openai" }));
    await findByText(/No provider yet/);
  });

  it("checks the provider form before sending it, and shows the app's refusal", async () => {
    api.saveProvider.mockRejectedValue({ code: "invalid_input", message: "provider 'lan' lists no models" });
    const { findByTestId, getByTestId, findByText, getByLabelText, container } = render(SettingsScreen);
    await fireEvent.click(await findByTestId("provider-add"));
    const form = getByTestId("provider-form");
    await fireEvent.change(form.querySelector("select") as HTMLSelectElement, { target: { value: "openai-compatible" } });
    await fireEvent.click(getByTestId("provider-form").querySelector("button[type=submit]") as HTMLButtonElement);
    await findByText("Give the provider a name.");
    await findByText("An OpenAI-compatible server needs its base URL.");
    expect(api.saveProvider).not.toHaveBeenCalled();

    const [name, url] = [...form.querySelectorAll("input[type=text]")] as HTMLInputElement[];
    await fireEvent.input(name, { target: { value: "lan" } });
    await fireEvent.input(url, { target: { value: "http://10.0.0.2:8080/v1" } });
    await fireEvent.input(getByLabelText("Model 1: name"), { target: { value: "llama" } });
    await fireEvent.input(getByLabelText("Model 1: US dollars per million input tokens"), { target: { value: "0" } });
    await fireEvent.input(getByLabelText("Model 1: US dollars per million output tokens"), { target: { value: "0" } });
    await fireEvent.click(form.querySelector("button[type=submit]") as HTMLButtonElement);
    await findByText("provider 'lan' lists no models");
    expect(api.saveProvider).toHaveBeenCalledWith({
      name: "lan",
      kind: "openai-compatible",
      base_url: "http://10.0.0.2:8080/v1",
      models: [{ id: "llama", tier: "mid", input_per_mtok: 0, output_per_mtok: 0 }],
      needs_key: false,
      has_key: false,
    });
    expect(container.querySelector("[data-testid=provider-form]")).not.toBeNull();
  });

  it("lists each prompt template with its versions, the default marked", async () => {
    const { findByTestId } = render(SettingsScreen);
    const section = await findByTestId("prompts");
    const rows = [...section.querySelectorAll("[data-testid=prompt]")] as HTMLElement[];
    expect(rows.map((r) => r.dataset.name)).toEqual(["grounded", "analytical", "refusal"]);
    const grounded = rows[0];
    const select = grounded.querySelector("select") as HTMLSelectElement;
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ["1.0.0", "1.0.0 (default)"],
      ["1.1.0", "1.1.0"],
    ]);
    expect(select.value).toBe("1.0.0");
    expect(grounded.textContent).toContain("in use: grounded@1.0.0");
    expect(section.textContent).toContain("factual questions");
    expect(section.querySelector("[data-testid=prompt-rollback]")).toBeNull();
  });

  it("saves the chosen prompt version with the other settings", async () => {
    api.saveSettings.mockImplementation(async (s: Settings) => ({ settings: s, reindex: [] }));
    const { findByTestId, getByTestId, findByText } = render(SettingsScreen);
    const section = await findByTestId("prompts");
    const select = section.querySelector("[data-name=grounded] select") as HTMLSelectElement;
    expect((getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.change(select, { target: { value: "1.1.0" } });
    await fireEvent.click(getByTestId("settings-save"));
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    const sent: Settings = api.saveSettings.mock.calls[0][0];
    expect(sent.prompts.find((p) => p.name === "grounded")?.active).toBe("1.1.0");
    expect(sent.prompts.find((p) => p.name === "refusal")?.active).toBe("1.0.0");
    await findByText("Saved.");
    expect(section.querySelector("[data-name=grounded]")?.textContent).toContain("in use: grounded@1.1.0");
  });

  it("rolls a prompt back to its previous version and saves it in one click", async () => {
    const switched = structuredClone(settings);
    switched.prompts[0] = { ...switched.prompts[0], active: "1.1.0", previous: "1.0.0" };
    api.settings.mockResolvedValue(switched);
    api.saveSettings.mockImplementation(async (s: Settings) => ({
      settings: { ...s, prompts: s.prompts.map((p) => ({ ...p, previous: null })) },
      reindex: [],
    }));
    const { findByTestId, findByText, getByTestId } = render(SettingsScreen);
    const button = await findByTestId("prompt-rollback");
    expect(button.textContent).toBe("Roll back to 1.0.0");
    expect(getByTestId("prompts").querySelector("[data-name=grounded]")?.textContent).toContain("in use: grounded@1.1.0");
    await fireEvent.click(button);
    await waitFor(() => expect(api.saveSettings).toHaveBeenCalledTimes(1));
    const sent: Settings = api.saveSettings.mock.calls[0][0];
    expect(sent.prompts[0]).toMatchObject({ name: "grounded", active: "1.0.0" });
    expect(sent.prompts.slice(1)).toEqual(switched.prompts.slice(1));
    expect(sent.budget).toEqual(settings.budget);
    await findByText("Saved.");
    const grounded = getByTestId("prompts").querySelector("[data-name=grounded]") as HTMLElement;
    expect((grounded.querySelector("select") as HTMLSelectElement).value).toBe("1.0.0");
    expect(grounded.textContent).toContain("in use: grounded@1.0.0");
    expect(grounded.querySelector("[data-testid=prompt-rollback]")).toBeNull();
    expect(api.saveSettings).toHaveBeenCalledTimes(1);
  });

  it("shows the app's refusal of a prompt version as it does for any save", async () => {
    const switched = structuredClone(settings);
    switched.prompts[0] = { ...switched.prompts[0], active: "1.1.0", previous: "1.0.0" };
    api.settings.mockResolvedValue(switched);
    api.saveSettings.mockRejectedValue({ code: "invalid_input", message: "prompt grounded has no version 1.0.0" });
    const { findByTestId, findByRole } = render(SettingsScreen);
    await fireEvent.click(await findByTestId("prompt-rollback"));
    expect((await findByRole("alert")).textContent).toContain("prompt grounded has no version 1.0.0");
    expect(api.saveSettings).toHaveBeenCalledTimes(1);
  });

  it("shows spend against the budgets and by model", async () => {
    const { findByTestId, getByText } = render(SettingsScreen);
    const panel = await findByTestId("spend");
    expect(panel.textContent).toContain("$0.50 of $2.00");
    expect(panel.textContent).toContain("1,200 tokens");
    expect(panel.textContent).toContain("$3.00 · no limit");
    expect(getByText("gpt-4o-mini").closest("tr")?.textContent).toContain("50,000");
  });
});

describe("the Local API section", () => {
  it("shows the port it would use while off", async () => {
    const { findByTestId } = render(SettingsScreen);
    const section = await findByTestId("local-api");
    expect(api.apiStatus).toHaveBeenCalledTimes(1);
    expect((section.querySelector("[data-testid=api-switch]") as HTMLInputElement).checked).toBe(false);
    expect(section.textContent).toContain("port 8765");
    expect(section.querySelector("[data-testid=api-base-url]")).toBeNull();
    expect(section.querySelector("[data-testid=api-token]")).toBeNull();
  });

  it("switches on at once, apart from Save, and shows the base URL", async () => {
    api.setApi.mockResolvedValue(apiOn);
    const { findByTestId, getByTestId, getByLabelText } = render(SettingsScreen);
    await findByTestId("local-api");
    const toggle = getByLabelText(/Let other apps on this device use my library \(OpenAI-compatible API\)/) as HTMLInputElement;
    await fireEvent.click(toggle);
    await waitFor(() => expect(api.setApi).toHaveBeenCalledWith({ on: true }));
    expect((await findByTestId("api-base-url")).textContent).toBe("http://127.0.0.1:8765/v1");
    expect(toggle.checked).toBe(true);
    expect(getByTestId("api-models").textContent).toMatch(/cairn\/<collection>.*cairn-embedding/);
    expect(api.saveSettings).not.toHaveBeenCalled();
  });

  it("masks the token until Show, and copies it either way", async () => {
    api.apiStatus.mockResolvedValue(apiOn);
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    const { findByTestId, getByTestId, findByText } = render(SettingsScreen);
    const token = await findByTestId("api-token");
    expect(token.textContent).toMatch(/^•+$/);
    expect(document.body.innerHTML).not.toContain(apiToken);

    await fireEvent.click(getByTestId("api-copy-token"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(apiToken));
    await findByText("Copied.");
    expect(document.body.innerHTML).not.toContain(apiToken);

    const show = getByTestId("api-show-token");
    expect(show.textContent).toBe("Show");
    await fireEvent.click(show);
    expect(token.textContent).toBe(apiToken);
    expect(show.textContent).toBe("Hide");
    await fireEvent.click(show);
    expect(token.textContent).toMatch(/^•+$/);

    await fireEvent.click(getByTestId("api-copy-url"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith("http://127.0.0.1:8765/v1"));
  });

  it("shows why it could not start, and leaves the switch off", async () => {
    api.setApi.mockRejectedValue({ code: "api_server", message: "could not listen on 127.0.0.1:8765: Address already in use" });
    const { findByTestId, getByTestId } = render(SettingsScreen);
    await findByTestId("local-api");
    const toggle = getByTestId("api-switch") as HTMLInputElement;
    await fireEvent.click(toggle);
    const error = await findByTestId("api-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(error.textContent).toContain("The local API could not start: could not listen on 127.0.0.1:8765: Address already in use");
    expect(api.setApi).toHaveBeenCalledWith({ on: true });
    expect(toggle.checked).toBe(false);
    expect(toggle.disabled).toBe(false);
    expect(getByTestId("local-api").querySelector("[data-testid=api-base-url]")).toBeNull();
  });

  it("switches off again", async () => {
    api.apiStatus.mockResolvedValue(apiOn);
    api.setApi.mockResolvedValue(apiOff);
    const { findByTestId, getByTestId } = render(SettingsScreen);
    await findByTestId("api-base-url");
    await fireEvent.click(getByTestId("api-switch"));
    await waitFor(() => expect(api.setApi).toHaveBeenCalledWith({ on: false }));
    await waitFor(() => expect(getByTestId("local-api").querySelector("[data-testid=api-base-url]")).toBeNull());
    expect((getByTestId("api-switch") as HTMLInputElement).checked).toBe(false);
    expect(getByTestId("api-state").textContent).toContain("port 8765");
  });
});

describe("Settings › Other AI tools", () => {
  it("shows the configuration to paste and shares a collection at once", async () => {
    api.shareWithTools.mockResolvedValue(tools(true));
    const { findByTestId, getByTestId } = render(SettingsScreen);
    const config = await findByTestId("tools-stdio-config");
    expect(config.textContent).toContain("cairn-desktop");
    expect(getByTestId("tools-state").textContent).toBe("Other AI tools can read none of your collections.");
    expect(getByTestId("tools-http-off")).toBeTruthy();
    await fireEvent.click(getByTestId("tools-share-default"));
    await waitFor(() => expect(api.shareWithTools).toHaveBeenCalledWith({ collection: "default", shared: true }));
    await waitFor(() => expect(getByTestId("tools-state").textContent).toBe("Other AI tools can read the collection default."));
    expect(api.saveSettings).not.toHaveBeenCalled();
  });

  it("gives the HTTP address with the key hidden while the local API is on", async () => {
    api.apiStatus.mockResolvedValue(apiOn);
    api.toolsView.mockResolvedValue(tools(true, "http://127.0.0.1:8765/mcp"));
    const { findByTestId } = render(SettingsScreen);
    const http = await findByTestId("tools-http-config");
    expect(http.textContent).toContain("http://127.0.0.1:8765/mcp");
    expect(http.textContent).not.toContain(apiOn.token ?? "no token");
  });
});
