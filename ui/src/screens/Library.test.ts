import { tick } from "svelte";
import { cleanup, fireEvent, render, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DocumentView, IngestUpdate, LibraryView, WatchedFolderView } from "../lib/bindings";

// The screen talks to the app through `commands` only: each test sets what they answer.
const api = vi.hoisted(() => ({
  libraryView: vi.fn(),
  addPaths: vi.fn(),
  reindexDocuments: vi.fn(),
  retryFailed: vi.fn(),
  watchFolder: vi.fn(),
  unwatchFolder: vi.fn(),
  cancelIngest: vi.fn(),
  removeDocuments: vi.fn(),
  createCollection: vi.fn(),
  deleteCollection: vi.fn(),
}));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));
const dialog = vi.hoisted(() => ({ open: vi.fn() }));
vi.mock("@tauri-apps/plugin-dialog", () => dialog);

// jsdom has no ResizeObserver (the file list's `bind:clientHeight` uses one): a silent stand-in.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

const { library } = await import("../lib/library.svelte");
const { chat } = await import("../lib/chat.svelte");
const { nav } = await import("../lib/nav.svelte");
const { default: Library } = await import("./Library.svelte");

function doc(over: Partial<DocumentView>): DocumentView {
  return {
    collection: "default",
    path: "/docs/a.md",
    name: "a.md",
    kind: "markdown",
    state: "indexed",
    chunks: 3,
    pages: null,
    size_bytes: 100,
    error_code: null,
    error_message: null,
    warnings: [],
    indexed_at: 1,
    ...over,
  };
}

function folder(over: Partial<WatchedFolderView> = {}): WatchedFolderView {
  return { collection: "default", path: "/home/me/Notes", watching: true, problem: null, ...over };
}

function ingest(over: Partial<IngestUpdate> = {}): IngestUpdate {
  return {
    job: 3,
    collection: "default",
    kind: "sync",
    state: "running",
    paths: ["/home/me/Notes"],
    total: 10,
    done: 4,
    failed: 0,
    eta_secs: 125,
    files: [],
    queued_jobs: 0,
    waiting_for: null,
    error: null,
    ...over,
  };
}

const view: LibraryView = {
  collections: [
    { name: "default", embedder: "e5", indexed: 1, failed: 2, chunks: 3 },
    { name: "work", embedder: "e5", indexed: 0, failed: 0, chunks: 0 },
  ],
  documents: [
    doc({ path: "/docs/a.md", name: "a.md" }),
    doc({ path: "/docs/b.pdf", name: "b.pdf", state: "new", chunks: 0, error_code: "corrupt", error_message: "damaged" }),
    doc({
      path: "/docs/c.pdf",
      name: "c.pdf",
      state: "failed",
      chunks: 0,
      error_code: "quarantined",
      error_message: "damaged (corrupt; it is not read again until the file changes or a retry is asked)",
    }),
  ],
  ingest: null,
  watched: [
    folder(),
    folder({ path: "/home/me/Gone", watching: false, problem: "the folder is gone" }),
    folder({ collection: "work", path: "/srv/papers" }),
  ],
};

const ticket = { job: 9 };

beforeEach(async () => {
  vi.clearAllMocks();
  api.libraryView.mockResolvedValue(structuredClone(view));
  api.retryFailed.mockResolvedValue(ticket);
  api.reindexDocuments.mockResolvedValue(ticket);
  api.watchFolder.mockResolvedValue(ticket);
  api.unwatchFolder.mockResolvedValue(null);
  library.current = "default";
  library.job = null;
  library.error = null;
  await library.refresh();
});

afterEach(cleanup);

function row(container: HTMLElement, path: string): HTMLElement {
  return container.querySelector(`[data-testid=file-row][data-path="${path}"]`) as HTMLElement;
}

describe("the Library screen's folders kept in sync", () => {
  it("lists the current collection's folders with their status", async () => {
    const { findAllByTestId } = render(Library);
    const folders = await findAllByTestId("watched-folder");
    expect(folders.map((f) => f.dataset.path)).toEqual(["/home/me/Gone", "/home/me/Notes"]);
    expect(within(folders[0]).getByTestId("watched-status").textContent).toBe("the folder is gone");
    expect(within(folders[1]).getByTestId("watched-status").textContent).toBe("Watching");
  });

  it("shows every collection's when asked", async () => {
    const { getByTestId, findAllByTestId } = render(Library);
    await fireEvent.click(getByTestId("watched-all"));
    const folders = await findAllByTestId("watched-folder");
    expect(folders.map((f) => f.dataset.collection)).toEqual(["default", "default", "work"]);
  });

  it("says when the collection has none", async () => {
    library.current = "work";
    api.libraryView.mockResolvedValue({ ...structuredClone(view), watched: [] });
    await library.refresh();
    const { getByTestId, queryAllByTestId } = render(Library);
    expect(queryAllByTestId("watched-folder")).toHaveLength(0);
    expect(getByTestId("watched-empty").textContent).toMatch(/No folder is kept in sync with work/);
  });

  it("stops syncing a folder and reloads the library", async () => {
    const { getByRole } = render(Library);
    api.libraryView.mockResolvedValue({ ...structuredClone(view), watched: [folder({ path: "/home/me/Gone" })] });
    await fireEvent.click(getByRole("button", { name: "Stop syncing /home/me/Notes" }));
    expect(api.unwatchFolder).toHaveBeenCalledWith({ collection: "default", path: "/home/me/Notes" });
    await waitFor(() => expect(library.watched.map((w) => w.path)).toEqual(["/home/me/Gone"]));
    expect(api.libraryView).toHaveBeenCalledTimes(2);
  });

  it("starts syncing the folders picked in the folder dialog", async () => {
    dialog.open.mockResolvedValue(["/srv/new", "/srv/other"]);
    const { getByTestId } = render(Library);
    await fireEvent.click(getByTestId("watch-folder"));
    await waitFor(() => expect(api.watchFolder).toHaveBeenCalledTimes(2));
    expect(dialog.open).toHaveBeenCalledWith(expect.objectContaining({ directory: true }));
    expect(api.watchFolder).toHaveBeenNthCalledWith(1, { collection: "default", path: "/srv/new" });
    expect(api.watchFolder).toHaveBeenNthCalledWith(2, { collection: "default", path: "/srv/other" });
    await waitFor(() => expect(api.libraryView).toHaveBeenCalledTimes(2));
  });

  it("does nothing when the dialog is closed", async () => {
    dialog.open.mockResolvedValue(null);
    const { getByTestId } = render(Library);
    await fireEvent.click(getByTestId("watch-folder"));
    await Promise.resolve();
    expect(api.watchFolder).not.toHaveBeenCalled();
  });
});

describe("the Library screen's failed files", () => {
  it("offers Retry on failed rows and Re-index on the others", async () => {
    const { container } = render(Library);
    await waitFor(() => expect(row(container, "/docs/b.pdf")).not.toBeNull());
    expect(within(row(container, "/docs/b.pdf")).queryByRole("button", { name: "Re-index b.pdf" })).toBeNull();
    expect(within(row(container, "/docs/a.md")).getByRole("button", { name: "Re-index a.md" })).toBeTruthy();
    expect(within(row(container, "/docs/a.md")).queryByTestId("file-retry")).toBeNull();

    await fireEvent.click(within(row(container, "/docs/c.pdf")).getByRole("button", { name: "Retry c.pdf" }));
    expect(api.retryFailed).toHaveBeenCalledWith({ collection: "default", paths: ["/docs/c.pdf"] });
    expect(within(row(container, "/docs/c.pdf")).getByTestId("file-retry").title).toMatch(/set aside/);
  });

  it("retries every failed file of the collection at once", async () => {
    const { getByTestId } = render(Library);
    const all = getByTestId("retry-all");
    expect(all.textContent).toBe("Retry all failed (2)");
    await fireEvent.click(all);
    expect(api.retryFailed).toHaveBeenCalledWith({ collection: "default", paths: [] });
  });

  it("offers no Retry all when nothing failed", async () => {
    api.libraryView.mockResolvedValue({ ...structuredClone(view), documents: [doc({})] });
    await library.refresh();
    const { queryByTestId } = render(Library);
    expect(queryByTestId("retry-all")).toBeNull();
  });
});

describe("the Library screen's progress", () => {
  it("says what the job does, with the time left", async () => {
    library.onProgress(ingest());
    const { getByTestId } = render(Library);
    const card = getByTestId("ingest-progress");
    expect(card.dataset.kind).toBe("sync");
    expect(getByTestId("ingest-title").textContent).toBe("Syncing Notes in default");
    expect(card.textContent).toMatch(/about 2 min 5 s left/);
  });

  it("says whom the job waits for while another program writes to the library, until it starts", async () => {
    library.onProgress(
      ingest({ kind: "add", done: 0, waiting_for: "cairn (process 4242) is adding files to 'default', for 3 s now" }),
    );
    const { getByTestId, queryByTestId } = render(Library);
    expect(getByTestId("ingest-waiting").textContent).toBe(
      "Waiting: cairn (process 4242) is adding files to 'default', for 3 s now. This starts when it is done.",
    );
    library.onProgress(ingest({ kind: "add", done: 1, waiting_for: null }));
    await tick();
    expect(queryByTestId("ingest-waiting")).toBeNull();
  });

  it("counts the passages of a large document as they are written", async () => {
    library.onProgress(
      ingest({
        kind: "add",
        files: [
          {
            path: "/docs/manual.pdf",
            state: "embedding",
            chunks: 512,
            chunks_total: 5988,
            eta_seconds: 754,
            pages_read: null,
            pages_total: null,
            ocr: false,
            code: null,
            reason: null,
          },
        ],
      }),
    );
    const { findByTestId } = render(Library);
    expect((await findByTestId("file-passages")).textContent?.replace(/\s+/g, " ")).toBe(
      "512 of 5988 passages · about 12 min 34 s left",
    );
  });

  it("counts the pages of a PDF as they are read, saying which are read by OCR", async () => {
    library.onProgress(
      ingest({
        kind: "add",
        files: [
          {
            path: "/docs/scans.pdf",
            state: "parsing",
            chunks: null,
            chunks_total: null,
            eta_seconds: null,
            pages_read: 3,
            pages_total: 12,
            ocr: true,
            code: null,
            reason: null,
          },
        ],
      }),
    );
    const { findByTestId } = render(Library);
    expect((await findByTestId("file-pages")).textContent).toBe("OCR: page 3 of 12");
  });

  it("names a retry of every failed file", async () => {
    library.onProgress(ingest({ kind: "retry", paths: [], eta_secs: null }));
    const { getByTestId } = render(Library);
    expect(getByTestId("ingest-title").textContent).toBe("Retrying failed files in default");
  });
});

describe("asking about one document", () => {
  afterEach(() => chat.clearDocument());

  it("is offered on indexed documents only, and opens the chat about the one chosen", async () => {
    nav.go("library");
    const { container } = render(Library);
    await waitFor(() => expect(row(container, "/docs/a.md")).not.toBeNull());
    expect(within(row(container, "/docs/b.pdf")).queryByTestId("ask-about-document")).toBeNull();
    expect(within(row(container, "/docs/c.pdf")).queryByTestId("ask-about-document")).toBeNull();
    const ask = within(row(container, "/docs/a.md")).getByTestId("ask-about-document");
    expect(ask.getAttribute("aria-label")).toBe("Ask about a.md");

    await fireEvent.click(ask);
    expect(chat.document).toEqual({ collection: "default", path: "/docs/a.md" });
    expect(nav.screen).toBe("chat");
  });

  it("forgets the document once it is removed from the library", async () => {
    chat.askAbout("default", "/docs/a.md");
    api.removeDocuments.mockResolvedValue({ removed: ["/docs/a.md"] });
    const { container } = render(Library);
    await waitFor(() => expect(row(container, "/docs/a.md")).not.toBeNull());
    api.libraryView.mockResolvedValue({ ...structuredClone(view), documents: view.documents.slice(1) });
    const remove = within(row(container, "/docs/a.md")).getByTestId("file-remove");
    await fireEvent.click(remove);
    await fireEvent.click(remove);
    await waitFor(() => expect(chat.document).toBeNull());
  });
});
