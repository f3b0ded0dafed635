// The library as the UI knows it: collections, file rows and the indexing under way. Rows live in
// a plain Map (thousands of them) and a version counter tells Svelte when to look again, so a
// progress event costs one pass over the changed files, not a reactive proxy per row.

import {
  commands,
  type CollectionView,
  type IngestUpdate,
  type JobTicket,
  type WatchedFolderView,
} from "./bindings";
import { applyUpdate, rowFromDocument, rowKey, type FileRow, type JobProgress } from "./files";
import { errorMessage } from "./errors";

export const DEFAULT_COLLECTION = "default";

export class LibraryStore {
  collections = $state<CollectionView[]>([]);
  /** The collection the Library and Chat screens work on. */
  current = $state(DEFAULT_COLLECTION);
  /** Folders kept in sync, every collection's. */
  watched = $state<WatchedFolderView[]>([]);
  /** The latest progress of the running (or last) job. */
  job = $state<JobProgress | null>(null);
  /** Bumped whenever `rows` changes. */
  version = $state(0);
  /** The last failure of a library operation, for the banner. */
  error = $state<string | null>(null);
  loaded = $state(false);

  readonly rows = new Map<string, FileRow>();

  /** Reloads collections and documents from the library. */
  async refresh(): Promise<void> {
    try {
      const view = await commands.libraryView();
      this.collections = view.collections;
      this.watched = view.watched;
      // Rows of a running job keep their live state; the rest come from the library's records.
      const live = new Map<string, FileRow>();
      if (this.job && (this.job.state === "running" || this.job.state === "queued")) {
        for (const [k, r] of this.rows) {
          if (r.state === "queued" || r.state === "parsing" || r.state === "embedding" || r.state === "writing") {
            live.set(k, r);
          }
        }
      }
      this.rows.clear();
      for (const d of view.documents) this.rows.set(rowKey(d.collection, d.path), rowFromDocument(d));
      for (const [k, r] of live) this.rows.set(k, r);
      if (view.ingest) this.onProgress(view.ingest);
      if (!this.collections.some((c) => c.name === this.current) && this.collections.length > 0) {
        if (!this.collections.some((c) => c.name === DEFAULT_COLLECTION)) this.current = this.collections[0].name;
      }
      this.version++;
      this.loaded = true;
    } catch (e) {
      this.error = errorMessage(e);
      this.loaded = true;
    }
  }

  /** Applies a progress event; a job that ends reloads the library's records. */
  onProgress(update: IngestUpdate): void {
    const before = this.job;
    this.job = applyUpdate(this.rows, update, before);
    this.version++;
    const ended = update.state === "finished" || update.state === "cancelled" || update.state === "failed";
    if (ended) {
      if (update.error) this.error = update.error.message;
      void this.refresh();
    }
  }

  /** Queues files and folders for the current collection: what a drop and the Add… dialog do. */
  async add(paths: string[]): Promise<JobTicket | undefined> {
    if (paths.length === 0) return undefined;
    return this.run(() => commands.addPaths({ paths, collection: this.current }));
  }

  async reindex(paths: string[]): Promise<JobTicket | undefined> {
    return this.run(() => commands.reindexDocuments({ paths, collection: this.current }));
  }

  /** Reads failed files of the current collection again, set-aside ones included; `[]`: every one. */
  async retry(paths: string[]): Promise<JobTicket | undefined> {
    return this.run(() => commands.retryFailed({ paths, collection: this.current }));
  }

  /** Keeps folders in sync with the current collection (each is reconciled now). */
  async watch(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    for (const path of paths) {
      if ((await this.run(() => commands.watchFolder({ path, collection: this.current }))) === undefined) break;
    }
    await this.refresh();
  }

  /** Stops keeping a folder in sync; its documents stay. */
  async unwatch(folder: { collection: string; path: string }): Promise<void> {
    await this.run(() => commands.unwatchFolder({ collection: folder.collection, path: folder.path }));
    await this.refresh();
  }

  async remove(paths: string[]): Promise<void> {
    await this.run(() => commands.removeDocuments({ paths, collection: this.current }));
    await this.refresh();
  }

  async cancel(): Promise<void> {
    await this.run(() => commands.cancelIngest());
  }

  async createCollection(name: string): Promise<boolean> {
    const ok = (await this.run(() => commands.createCollection({ name }))) !== undefined;
    if (ok) {
      this.current = name.trim();
      await this.refresh();
    }
    return ok;
  }

  async deleteCollection(name: string): Promise<void> {
    await this.run(() => commands.deleteCollection({ name }));
    if (this.current === name) this.current = DEFAULT_COLLECTION;
    await this.refresh();
  }

  /** Every known file's state, by path (for tests and scripts). */
  fileStates(): Record<string, { state: string; reason: string | null }> {
    const out: Record<string, { state: string; reason: string | null }> = {};
    for (const r of this.rows.values()) out[r.path] = { state: r.state, reason: r.reason };
    return out;
  }

  /** Runs an operation; a failure is shown in the banner and gives `undefined`. */
  private async run<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      this.error = null;
      return await op();
    } catch (e) {
      this.error = errorMessage(e);
      return undefined;
    }
  }
}

export const library = new LibraryStore();
