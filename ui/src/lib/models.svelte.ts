// The Models section's state: the catalog for this machine, the installed models, and the download
// under way (kept current by the app's `model_download` events, which App.svelte passes on).

import { commands, type DownloadUpdate, type ModelsView } from "./bindings";
import { errorMessage } from "./errors";
import { downloadOutcome, withDownload } from "./models";

class ModelsStore {
  view = $state<ModelsView | null>(null);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  busy = $state(false);
  /** Bumped whenever the chat model in config.toml changed here (Use; Remove of the one in use). */
  chatChanged = $state(0);

  async refresh(): Promise<void> {
    try {
      this.view = await commands.modelsView();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** A `model_download` event: progress, or the end (then the lists are read again). */
  onDownload(update: DownloadUpdate): void {
    if (this.view) this.view = withDownload(this.view, update);
    const name = this.view?.catalog.find((m) => m.id === update.id)?.name ?? update.id;
    const outcome = downloadOutcome(update, name);
    if (outcome === null) return;
    if (outcome.failed) this.error = outcome.text;
    else this.notice = outcome.text;
    void this.refresh();
  }

  async download(id: string): Promise<void> {
    this.error = this.notice = null;
    try {
      const first = await commands.downloadModel({ id });
      if (this.view) this.view = withDownload(this.view, first);
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async cancel(): Promise<void> {
    try {
      await commands.cancelDownload();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async addFile(path: string): Promise<void> {
    await this.act(async () => {
      this.view = await commands.addModelFile({ path, name: null });
      this.notice = `Added ${path} where it is; nothing was copied.`;
    });
  }

  async use(name: string): Promise<void> {
    await this.act(async () => {
      this.view = await commands.useModel({ name });
      this.notice = `${name} now answers questions.`;
      this.chatChanged++;
    });
  }

  async remove(name: string): Promise<void> {
    const wasInUse = this.view?.installed.some((m) => m.name === name && m.in_use) ?? false;
    await this.act(async () => {
      this.view = await commands.removeModel({ name });
      this.notice = `Removed ${name}.`;
      if (wasInUse) this.chatChanged++;
    });
  }

  private async act(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = this.notice = null;
    try {
      await work();
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }
}

export const models = new ModelsStore();
