import { cleanup, fireEvent, render, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DownloadUpdate, ModelsView } from "../lib/bindings";

// The section talks to the app through `commands` only: each test sets what they answer.
const api = vi.hoisted(() => ({
  modelsView: vi.fn(),
  downloadModel: vi.fn(),
  cancelDownload: vi.fn(),
  addModelFile: vi.fn(),
  useModel: vi.fn(),
  removeModel: vi.fn(),
}));
const dialog = vi.hoisted(() => ({ open: vi.fn() }));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));
vi.mock("@tauri-apps/plugin-dialog", () => dialog);

const { default: ModelCatalog } = await import("./ModelCatalog.svelte");
const { models } = await import("../lib/models.svelte");

const view: ModelsView = {
  total_memory: 16e9,
  free_disk: 40e9,
  endpoint: "https://huggingface.co",
  catalog: [
    {
      id: "gemma-3-1b-it",
      name: "Gemma 3 1B",
      parameters: "1B",
      repo: "ggml-org/gemma-3-1b-it-GGUF",
      bytes: 806_058_240,
      ram_bytes: 1_451_981_056,
      licence: "Gemma Terms of Use",
      good_at: "Small and multilingual",
      fits: true,
      recommended: false,
      installed: false,
      partial_bytes: 0,
    },
    {
      id: "qwen3-4b",
      name: "Qwen3 4B",
      parameters: "4B",
      repo: "unsloth/Qwen3-4B-GGUF",
      bytes: 2_497_281_312,
      ram_bytes: 3_638_132_000,
      licence: "Apache-2.0",
      good_at: "Reasoning across passages",
      fits: true,
      recommended: true,
      installed: false,
      partial_bytes: 0,
    },
  ],
  installed: [
    {
      name: "mine",
      path: "/home/me/mine.gguf",
      source: "local",
      downloaded: false,
      bytes: 2e9,
      architecture: "llama",
      in_use: false,
      present: true,
    },
  ],
  download: null,
};

const progress: DownloadUpdate = {
  id: "qwen3-4b",
  state: "downloading",
  done: 1e9,
  total: 2_497_281_312,
  bytes_per_second: 20e6,
  eta_secs: 75,
  error: null,
};

afterEach(() => cleanup());

beforeEach(() => {
  vi.clearAllMocks();
  models.view = null;
  models.error = models.notice = null;
  api.modelsView.mockResolvedValue(structuredClone(view));
  api.cancelDownload.mockResolvedValue(null);
});

function row(container: HTMLElement, id: string): HTMLElement {
  return container.querySelector(`[data-testid="catalog-model"][data-id="${id}"]`) as HTMLElement;
}

describe("the Models section", () => {
  it("lists the catalog with size, memory, licence, what each is good at, and the recommendation", async () => {
    const { container, getByTestId } = render(ModelCatalog);
    await waitFor(() => expect(row(container, "qwen3-4b")).toBeTruthy());
    const qwen = within(row(container, "qwen3-4b"));
    expect(qwen.getByText("Recommended")).toBeTruthy();
    expect(qwen.getByText("2.5 GB")).toBeTruthy();
    expect(qwen.getByText("3.6 GB")).toBeTruthy();
    expect(qwen.getByText("Apache-2.0")).toBeTruthy();
    expect(qwen.getByText("Reasoning across passages")).toBeTruthy();
    expect(within(row(container, "gemma-3-1b-it")).queryByText("Recommended")).toBeNull();
    expect(getByTestId("models-machine").textContent).toContain("16.0 GB of memory");
  });

  it("downloads on request, shows progress with the time left, and cancels", async () => {
    api.downloadModel.mockResolvedValue({ ...progress, done: 0, bytes_per_second: 0, eta_secs: null });
    const { container, findByTestId } = render(ModelCatalog);
    await waitFor(() => expect(row(container, "qwen3-4b")).toBeTruthy());
    expect(api.downloadModel).not.toHaveBeenCalled();
    await fireEvent.click(within(row(container, "qwen3-4b")).getByTestId("download"));
    expect(api.downloadModel).toHaveBeenCalledWith({ id: "qwen3-4b" });
    expect((await findByTestId("download-progress")).textContent).toContain("starting…");

    models.onDownload(progress);
    await waitFor(async () =>
      expect((await findByTestId("download-progress")).textContent).toBe("1.0 GB of 2.5 GB · 20.0 MB/s · 1 min 15 s left"),
    );
    // One download at a time.
    expect((within(row(container, "gemma-3-1b-it")).getByTestId("download") as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.click(await findByTestId("download-cancel"));
    expect(api.cancelDownload).toHaveBeenCalled();
    api.modelsView.mockResolvedValue({
      ...structuredClone(view),
      catalog: view.catalog.map((m) => (m.id === "qwen3-4b" ? { ...m, partial_bytes: 1e9 } : m)),
    });
    models.onDownload({ ...progress, state: "cancelled" });
    expect((await findByTestId("models-notice")).textContent).toContain("1.0 GB kept");
    await waitFor(() => expect(within(row(container, "qwen3-4b")).getByTestId("download").textContent).toBe("Resume"));
  });

  it("says why a download failed", async () => {
    const { findByTestId } = render(ModelCatalog);
    await waitFor(() => expect(models.view).not.toBeNull());
    models.onDownload({
      ...progress,
      state: "failed",
      error: { code: "no_space", message: "not enough free space in /data/models" },
    });
    expect((await findByTestId("models-error")).textContent).toContain("not enough free space in /data/models");
  });

  it("uses an installed model, telling the screen the chat model changed", async () => {
    const changed = vi.fn();
    api.useModel.mockResolvedValue({ ...view, installed: [{ ...view.installed[0], in_use: true }] });
    const { findByTestId } = render(ModelCatalog, { onchatchange: changed });
    await fireEvent.click(await findByTestId("model-use"));
    expect(api.useModel).toHaveBeenCalledWith({ name: "mine" });
    expect(await findByTestId("model-in-use")).toBeTruthy();
    await waitFor(() => expect(changed).toHaveBeenCalledTimes(1));
  });

  it("removes a model after saying what happens to its file", async () => {
    api.removeModel.mockResolvedValue({ ...view, installed: [] });
    const { findByTestId, getByRole, queryByTestId } = render(ModelCatalog);
    await fireEvent.click(await findByTestId("model-remove"));
    expect(getByRole("alertdialog").textContent).toContain("Its file stays where it is (/home/me/mine.gguf)");
    expect(api.removeModel).not.toHaveBeenCalled();
    await fireEvent.click(await findByTestId("model-remove-confirm"));
    expect(api.removeModel).toHaveBeenCalledWith({ name: "mine" });
    await waitFor(() => expect(queryByTestId("installed-model")).toBeNull());
  });

  it("adds a GGUF file chosen in the open-file dialog", async () => {
    dialog.open.mockResolvedValue("/home/me/.lmstudio/models/x.gguf");
    api.addModelFile.mockResolvedValue(view);
    const { findByTestId } = render(ModelCatalog);
    await fireEvent.click(await findByTestId("model-add-file"));
    await waitFor(() =>
      expect(api.addModelFile).toHaveBeenCalledWith({ path: "/home/me/.lmstudio/models/x.gguf", name: null }),
    );
    expect(dialog.open.mock.calls[0][0].filters[0].extensions).toEqual(["gguf"]);
  });
});
