import { describe, expect, it } from "vitest";
import type { DocumentView, FileUpdate, IngestUpdate } from "./bindings";
import {
  applyUpdate,
  countRows,
  formatEta,
  isQuarantined,
  nextState,
  retryTitle,
  rowFromDocument,
  rowKey,
  visibleRows,
  type FileRow,
} from "./files";

function update(files: Partial<FileUpdate>[], over: Partial<IngestUpdate> = {}): IngestUpdate {
  return {
    job: 1,
    collection: "default",
    kind: "add",
    state: "running",
    paths: ["/docs"],
    total: files.length,
    done: 0,
    failed: 0,
    eta_secs: null,
    queued_jobs: 0,
    waiting_for: null,
    error: null,
    files: files.map((f) => ({ path: "/docs/a.md", state: "queued", chunks: null, chunks_total: null, eta_seconds: null, pages_read: null, pages_total: null, ocr: false, code: null, reason: null, ...f })),
    ...over,
  };
}

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

describe("applyUpdate", () => {
  it("moves a file through its stages to indexed, with its passage count", () => {
    const rows = new Map<string, FileRow>();
    applyUpdate(rows, update([{ path: "/docs/a.md", state: "queued" }]), null);
    expect(rows.get(rowKey("default", "/docs/a.md"))?.state).toBe("queued");
    let job = applyUpdate(rows, update([{ path: "/docs/a.md", state: "embedding" }]), null);
    expect(job.current).toBe("/docs/a.md");
    job = applyUpdate(
      rows,
      update([{ path: "/docs/a.md", state: "indexed", chunks: 7 }], { done: 1, state: "finished" }),
      job,
    );
    const row = rows.get(rowKey("default", "/docs/a.md"))!;
    expect(row.state).toBe("indexed");
    expect(row.chunks).toBe(7);
    expect(row.name).toBe("a.md");
    expect(row.dir).toBe("/docs");
    expect(job.current).toBeNull();
    expect(job.done).toBe(1);
  });

  it("counts a large document's passages as they are written, then its total", () => {
    const rows = new Map<string, FileRow>();
    const key = rowKey("default", "/docs/manual.pdf");
    applyUpdate(rows, update([{ path: "/docs/manual.pdf", state: "parsing", pages_read: 2, pages_total: 9, ocr: true }]), null);
    expect(rows.get(key)).toMatchObject({ state: "parsing", pagesRead: 2, pages: 9, ocr: true });
    applyUpdate(rows, update([{ path: "/docs/manual.pdf", state: "embedding" }]), null);
    expect(rows.get(key)).toMatchObject({ chunksTotal: null, pagesRead: null, ocr: false });
    applyUpdate(rows, update([{ path: "/docs/manual.pdf", state: "embedding", chunks: 256, chunks_total: 600, eta_seconds: 95 }]), null);
    expect(rows.get(key)).toMatchObject({ state: "embedding", chunks: 256, chunksTotal: 600, etaSeconds: 95 });
    applyUpdate(rows, update([{ path: "/docs/manual.pdf", state: "embedding", chunks: 512, chunks_total: 600 }]), null);
    expect(rows.get(key)?.chunks).toBe(512);
    applyUpdate(rows, update([{ path: "/docs/manual.pdf", state: "indexed", chunks: 600 }], { done: 1, state: "finished" }), null);
    expect(rows.get(key)).toMatchObject({ state: "indexed", chunks: 600, chunksTotal: null, etaSeconds: null });
  });

  it("carries the job's kind and paths", () => {
    const rows = new Map<string, FileRow>();
    const job = applyUpdate(rows, update([], { kind: "sync", paths: ["/notes"] }), null);
    expect(job.kind).toBe("sync");
    expect(job.paths).toEqual(["/notes"]);
    expect(applyUpdate(rows, update([], { kind: "retry", paths: [] }), job).kind).toBe("retry");
  });

  it("keeps a set-aside file's code and reason from a retry or sync", () => {
    const rows = new Map<string, FileRow>();
    const reason = "damaged (corrupt; this content failed before, so it is not read again until the file changes)";
    applyUpdate(
      rows,
      update([{ path: "/docs/c.pdf", state: "failed", code: "quarantined", reason }], { kind: "sync", failed: 1 }),
      null,
    );
    const row = rows.get(rowKey("default", "/docs/c.pdf"))!;
    expect(row.state).toBe("failed");
    expect(row.code).toBe("quarantined");
    expect(row.reason).toBe(reason);
  });

  it("keeps a failed file's reason and code", () => {
    const rows = new Map<string, FileRow>();
    applyUpdate(
      rows,
      update([{ path: "/docs/b.pdf", state: "failed", code: "encrypted", reason: "the PDF is encrypted" }], {
        failed: 1,
      }),
      null,
    );
    const row = rows.get(rowKey("default", "/docs/b.pdf"))!;
    expect(row.state).toBe("failed");
    expect(row.reason).toBe("the PDF is encrypted");
    expect(row.code).toBe("encrypted");
  });

  it("drops removed files and keeps collections apart", () => {
    const rows = new Map<string, FileRow>();
    rows.set(rowKey("default", "/docs/a.md"), rowFromDocument(doc({})));
    rows.set(rowKey("work", "/docs/a.md"), rowFromDocument(doc({ collection: "work" })));
    applyUpdate(rows, update([{ path: "/docs/a.md", state: "removed" }]), null);
    expect(rows.has(rowKey("default", "/docs/a.md"))).toBe(false);
    expect(rows.has(rowKey("work", "/docs/a.md"))).toBe(true);
  });

  it("does not make an indexed file look unindexed while a folder is re-walked or cancelled", () => {
    const rows = new Map<string, FileRow>();
    rows.set(rowKey("default", "/docs/a.md"), rowFromDocument(doc({})));
    applyUpdate(rows, update([{ path: "/docs/a.md", state: "queued" }]), null);
    expect(rows.get(rowKey("default", "/docs/a.md"))?.state).toBe("indexed");
    applyUpdate(rows, update([{ path: "/docs/a.md", state: "cancelled" }], { state: "cancelled" }), null);
    expect(rows.get(rowKey("default", "/docs/a.md"))?.state).toBe("indexed");
    applyUpdate(rows, update([{ path: "/docs/new.md", state: "cancelled" }], { state: "cancelled" }), null);
    expect(rows.get(rowKey("default", "/docs/new.md"))?.state).toBe("cancelled");
  });
});

describe("nextState", () => {
  it.each([
    [null, "queued", "queued"],
    ["indexed", "queued", "indexed"],
    ["failed", "queued", "failed"],
    ["failed", "parsing", "parsing"],
    ["indexed", "unchanged", "indexed"],
    [null, "unchanged", "indexed"],
    ["parsing", "cancelled", "cancelled"],
    ["indexed", "failed", "failed"],
  ] as const)("%s then %s is %s", (before, reported, expected) => {
    expect(nextState(before, reported)).toBe(expected);
  });
});

describe("rowFromDocument", () => {
  it("shows a never-indexed document with an error as failed, with its reason", () => {
    const row = rowFromDocument(doc({ state: "new", error_message: "damaged", error_code: "corrupt", chunks: 0 }));
    expect(row.state).toBe("failed");
    expect(row.reason).toBe("damaged");
  });

  it("gives warnings as the reason of an indexed document", () => {
    expect(rowFromDocument(doc({ warnings: ["page 3 unreadable"] })).reason).toBe("page 3 unreadable");
  });
});

describe("visibleRows", () => {
  const rows = [
    rowFromDocument(doc({ path: "/b/z.md", name: "z.md" })),
    rowFromDocument(doc({ path: "/a/y.pdf", name: "y.pdf", state: "failed", error_message: "x" })),
    rowFromDocument(doc({ path: "/a/x.md", name: "x.md", collection: "work" })),
  ];

  it("filters by collection, state and path text, sorted by path", () => {
    expect(visibleRows(rows, "default", "all", "").map((r) => r.path)).toEqual(["/a/y.pdf", "/b/z.md"]);
    expect(visibleRows(rows, "default", "failed", "").map((r) => r.path)).toEqual(["/a/y.pdf"]);
    expect(visibleRows(rows, "default", "indexed", "").map((r) => r.path)).toEqual(["/b/z.md"]);
    expect(visibleRows(rows, "default", "all", "Z.MD").map((r) => r.path)).toEqual(["/b/z.md"]);
    expect(visibleRows(rows, "work", "all", "").length).toBe(1);
  });
});

describe("countRows", () => {
  it("counts one collection's files by state, failed ones apart", () => {
    const rows = [
      rowFromDocument(doc({ path: "/a.md" })),
      rowFromDocument(doc({ path: "/b.pdf", state: "new", error_message: "damaged", error_code: "corrupt" })),
      rowFromDocument(doc({ path: "/c.pdf", state: "failed", error_message: "set aside", error_code: "quarantined" })),
      rowFromDocument(doc({ path: "/d.md", state: "new" })),
      rowFromDocument(doc({ path: "/e.pdf", state: "failed", error_message: "x", collection: "work" })),
    ];
    expect(countRows(rows, "default")).toEqual({ all: 4, indexed: 1, failed: 2, active: 1 });
    expect(countRows(rows, "work")).toEqual({ all: 1, indexed: 0, failed: 1, active: 0 });
    expect(countRows(rows, "none")).toEqual({ all: 0, indexed: 0, failed: 0, active: 0 });
  });
});

describe("isQuarantined and retryTitle", () => {
  it("tell a set-aside file from one that just failed", () => {
    expect(isQuarantined("quarantined")).toBe(true);
    expect(isQuarantined("corrupt")).toBe(false);
    expect(isQuarantined(null)).toBe(false);
    expect(retryTitle("quarantined")).toMatch(/set aside until it changes/);
    expect(retryTitle("corrupt")).toBe("Read this file again");
  });
});

describe("formatEta", () => {
  it.each([
    [4.4, "4 s"],
    [125, "2 min 5 s"],
    [3780, "1 h 3 min"],
  ])("%d s reads %s", (s, text) => expect(formatEta(s)).toBe(text));
});
