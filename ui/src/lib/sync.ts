// Folders kept in sync and the words for what an indexing job does, without any framework. Pure,
// so the rules are unit-tested.

import type { JobKind, JobState, WatchedFolderView } from "./bindings";

/** A folder's last part, for display: `/home/me/Notes/` reads `Notes`; a root stays as it is. */
export function folderName(path: string): string {
  const trimmed = path.replace(/[/\\]+$/, "");
  if (trimmed === "" || /^[A-Za-z]:$/.test(trimmed)) return path;
  const cut = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return cut < 0 ? trimmed : trimmed.slice(cut + 1);
}

/**
 * What a job does, in words: "Adding", "Re-indexing", "Retrying failed files", "Syncing Notes"
 * (for a sync, `paths` are the watched folders that changed).
 */
export function jobKindLabel(kind: JobKind, paths: readonly string[]): string {
  switch (kind) {
    case "add":
      return "Adding";
    case "reindex":
      return "Re-indexing";
    case "retry":
      return "Retrying failed files";
    case "sync":
      if (paths.length === 1) return `Syncing ${folderName(paths[0])}`;
      if (paths.length > 1) return `Syncing ${paths.length} folders`;
      return "Syncing";
    default:
      return "Indexing";
  }
}

/** The same, once done: "Added", "Re-indexed", "Retried failed files", "Synced Notes". */
function jobKindDone(kind: JobKind, paths: readonly string[]): string {
  switch (kind) {
    case "add":
      return "Added";
    case "reindex":
      return "Re-indexed";
    case "retry":
      return "Retried failed files";
    case "sync":
      return "Synced" + jobKindLabel(kind, paths).slice("Syncing".length);
    default:
      return "Indexed";
  }
}

/** The progress card's title: what the job does, where, and where it stands. */
export function jobHeadline(job: {
  kind: JobKind;
  paths: readonly string[];
  state: JobState;
  collection: string;
}): string {
  const label = jobKindLabel(job.kind, job.paths);
  const where = `${job.kind === "add" ? "to" : "in"} ${job.collection}`;
  switch (job.state) {
    case "queued":
      return `${label} ${where}: waiting to start…`;
    case "running":
      return `${label} ${where}`;
    case "finished":
      return `${jobKindDone(job.kind, job.paths)} ${where}`;
    case "cancelled":
      return `${label} stopped`;
    default:
      return `${label} did not finish`;
  }
}

/** A watched folder's status: "Watching", or why it is not. */
export function watchStatus(folder: WatchedFolderView): { text: string; ok: boolean } {
  if (folder.problem) return { text: folder.problem, ok: false };
  if (folder.watching) return { text: "Watching", ok: true };
  return { text: "Not watching", ok: false };
}

export type WatchedGroup = { collection: string; folders: WatchedFolderView[] };

/**
 * Watched folders by collection, collections and folders in order; only those of `collection`
 * when one is given.
 */
export function groupWatched(watched: readonly WatchedFolderView[], collection: string | null = null): WatchedGroup[] {
  const groups = new Map<string, WatchedFolderView[]>();
  for (const w of watched) {
    if (collection !== null && w.collection !== collection) continue;
    const list = groups.get(w.collection);
    if (list) list.push(w);
    else groups.set(w.collection, [w]);
  }
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups.entries()]
    .sort(([a], [b]) => byText(a, b))
    .map(([c, folders]) => ({ collection: c, folders: folders.sort((a, b) => byText(a.path, b.path)) }));
}

/** How many folders `groupWatched` gave. */
export function folderCount(groups: readonly WatchedGroup[]): number {
  return groups.reduce((n, g) => n + g.folders.length, 0);
}
