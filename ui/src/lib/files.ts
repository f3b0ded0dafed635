// The Library screen's model of files, without any framework: rows from the library's documents,
// changed by indexing progress events. Pure functions, so the rules are unit-tested.

import type { DocumentView, FileState, IngestUpdate, JobKind, JobState } from "./bindings";

/** A file's state as the list shows it: the journal's (`new`) or a job's. */
export type RowState = FileState | "new" | "writing";

export type FileRow = {
  collection: string;
  path: string;
  name: string;
  /** The folder, for display. */
  dir: string;
  state: RowState;
  chunks: number | null;
  /** While a large document is written in slices: its passages in all (`chunks` counts those written). */
  chunksTotal: number | null;
  /** Seconds until a large document's last passage is written, while it is. */
  etaSeconds: number | null;
  /** Pages read so far while a paged document is parsed (`pages` is then its page count). */
  pagesRead: number | null;
  /** The last page read was a scan, read by OCR. */
  ocr: boolean;
  pages: number | null;
  kind: string | null;
  /** Why it failed, or what could not be read of it. */
  reason: string | null;
  code: string | null;
};

/** Rows are keyed by collection and path: one file may be in two collections. */
export function rowKey(collection: string, path: string): string {
  return `${collection}\u0000${path}`;
}

export function splitPath(path: string): { name: string; dir: string } {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut < 0 ? { name: path, dir: "" } : { name: path.slice(cut + 1), dir: path.slice(0, cut) };
}

export function rowFromDocument(d: DocumentView): FileRow {
  const reason = d.error_message ?? (d.warnings.length ? d.warnings.join("; ") : null);
  return {
    collection: d.collection,
    path: d.path,
    name: d.name,
    dir: splitPath(d.path).dir,
    // A document the journal holds as `new` with an error has failed; `writing` was cut short.
    state: d.state === "new" && d.error_message ? "failed" : d.state,
    chunks: d.chunks,
    chunksTotal: null,
    etaSeconds: null,
    pagesRead: null,
    ocr: false,
    pages: d.pages,
    kind: d.kind,
    reason,
    code: d.error_code,
  };
}

/** The counts and state of the job an update belongs to. */
export type JobProgress = {
  job: number;
  collection: string;
  /** What the job does: add, re-index, retry failed files or sync watched folders. */
  kind: JobKind;
  /** What it was given: for a sync, the watched folders that changed; for a retry of all, none. */
  paths: string[];
  state: JobState;
  total: number;
  done: number;
  failed: number;
  etaSecs: number | null;
  queuedJobs: number;
  /** Another program is writing to the library and the job waits for it: who, in words. */
  waitingFor: string | null;
  current: string | null;
  error: string | null;
};

/**
 * Applies one progress event to the rows: every file change in order. A file that finished as
 * `removed` leaves the list; `unchanged` shows as indexed. Returns the job's progress.
 */
export function applyUpdate(
  rows: Map<string, FileRow>,
  update: IngestUpdate,
  previous: JobProgress | null,
): JobProgress {
  let current = previous && previous.job === update.job ? previous.current : null;
  for (const f of update.files) {
    const key = rowKey(update.collection, f.path);
    if (f.state === "removed") {
      rows.delete(key);
      continue;
    }
    const existing = rows.get(key);
    const { name, dir } = splitPath(f.path);
    const row: FileRow = existing ?? {
      collection: update.collection,
      path: f.path,
      name,
      dir,
      state: "queued",
      chunks: null,
      chunksTotal: null,
      etaSeconds: null,
      pagesRead: null,
      ocr: false,
      pages: null,
      kind: null,
      reason: null,
      code: null,
    };
    row.state = nextState(existing?.state ?? null, f.state);
    if (f.state === "parsing" && f.pages_read !== null) {
      row.pagesRead = f.pages_read;
      row.pages = f.pages_total;
      row.ocr = f.ocr;
    }
    if (f.state === "embedding" && f.chunks_total !== null) {
      row.chunks = f.chunks;
      row.chunksTotal = f.chunks_total;
      row.etaSeconds = f.eta_seconds;
    }
    if (f.state !== "parsing") {
      row.pagesRead = null;
      row.ocr = false;
    }
    if (f.state === "indexed") {
      row.chunksTotal = null;
      row.etaSeconds = null;
      row.chunks = f.chunks;
      row.reason = f.reason;
      row.code = null;
    }
    if (f.state === "failed") {
      row.reason = f.reason;
      row.code = f.code;
    }
    if (f.state === "parsing" || f.state === "embedding" || f.state === "writing") current = f.path;
    rows.set(key, row);
  }
  const finished = update.state !== "running" && update.state !== "queued";
  return {
    job: update.job,
    collection: update.collection,
    kind: update.kind,
    paths: update.paths,
    state: update.state,
    total: update.total,
    done: update.done,
    failed: update.failed,
    etaSecs: update.eta_secs,
    queuedJobs: update.queued_jobs,
    waitingFor: finished ? null : update.waiting_for,
    current: finished ? null : current,
    error: update.error?.message ?? null,
  };
}

/**
 * A file's state after a job reports `reported` for it. Discovery lists every file of a folder as
 * queued, including files already indexed: those keep their state until their own turn comes, and
 * keep it if the job is cancelled before reaching them (what was indexed still is).
 */
export function nextState(before: RowState | null, reported: FileState): RowState {
  const settled = before === "indexed" || before === "failed" || before === "unchanged";
  if ((reported === "queued" || reported === "cancelled") && settled) return before;
  if (reported === "unchanged") return "indexed";
  return reported;
}

export type Filter = "all" | "indexed" | "failed" | "active";

const ACTIVE: ReadonlySet<RowState> = new Set(["queued", "parsing", "embedding", "writing", "new", "cancelled"]);

/** The rows of one collection that pass the filter and contain the search text, by path. */
export function visibleRows(
  rows: Iterable<FileRow>,
  collection: string,
  filter: Filter,
  search: string,
): FileRow[] {
  const needle = search.trim().toLowerCase();
  const out: FileRow[] = [];
  for (const r of rows) {
    if (r.collection !== collection) continue;
    if (filter === "indexed" && r.state !== "indexed" && r.state !== "unchanged") continue;
    if (filter === "failed" && r.state !== "failed") continue;
    if (filter === "active" && !ACTIVE.has(r.state)) continue;
    if (needle && !r.path.toLowerCase().includes(needle)) continue;
    out.push(r);
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** How many files of one collection are listed, indexed, failed and on their way. */
export type RowCounts = { all: number; indexed: number; failed: number; active: number };

export function countRows(rows: Iterable<FileRow>, collection: string): RowCounts {
  const counts: RowCounts = { all: 0, indexed: 0, failed: 0, active: 0 };
  for (const r of rows) {
    if (r.collection !== collection) continue;
    counts.all++;
    if (r.state === "indexed" || r.state === "unchanged") counts.indexed++;
    else if (r.state === "failed") counts.failed++;
    else counts.active++;
  }
  return counts;
}

/**
 * Whether a failed file was set aside: the same content failed before, so it is not read again
 * until it changes or a retry is asked.
 */
export function isQuarantined(code: string | null): boolean {
  return code !== null && code.toLowerCase().startsWith("quarantine");
}

/** What the Retry button of a failed file says when hovered. */
export function retryTitle(code: string | null): string {
  return isQuarantined(code)
    ? "Read this file again: it failed before and is set aside until it changes"
    : "Read this file again";
}

/** "2 min 5 s", "40 s", "1 h 3 min". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
