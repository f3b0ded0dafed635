// Chat models as the Models section shows them, without any framework: sizes, the download's
// progress line, each catalog entry's marks and button, and what removing a model does. Pure, so
// the rules are unit-tested.

import type { CatalogModelView, DownloadUpdate, InstalledModelView, LocalAnswers, ModelsView } from "./bindings";

/** Bytes in decimal units, as Hugging Face shows file sizes: `806 MB`, `1.1 GB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Seconds left, as a person says them: `40 s`, `3 min 05 s`, `1 h 12 min`. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** The share of the file on disk, from 0 to 1. */
export function downloadFraction(update: DownloadUpdate): number {
  return update.total > 0 ? Math.min(1, update.done / update.total) : 0;
}

/** Under the progress bar: `312 MB of 1.1 GB · 12 MB/s · 1 min 05 s left`. */
export function downloadLine(update: DownloadUpdate): string {
  const parts = [`${formatBytes(update.done)} of ${formatBytes(update.total)}`];
  if (update.state === "downloading" && update.bytes_per_second > 0) {
    parts.push(`${formatBytes(update.bytes_per_second)}/s`);
  }
  if (update.state === "downloading" && update.eta_secs !== null) parts.push(`${formatEta(update.eta_secs)} left`);
  if (update.state === "downloading" && update.done === 0) parts.push("starting…");
  return parts.join(" · ");
}

/** What the section says when a download ends. */
export function downloadOutcome(update: DownloadUpdate, name: string): { text: string; failed: boolean } | null {
  switch (update.state) {
    case "done":
      return { text: `${name} is downloaded and verified. Use makes it the chat model.`, failed: false };
    case "cancelled":
      return {
        text: `Download of ${name} stopped with ${formatBytes(update.done)} kept: Resume picks it up from there.`,
        failed: false,
      };
    case "failed":
      return { text: `${name} could not be downloaded: ${update.error?.message ?? "unknown error"}`, failed: true };
    default:
      return null;
  }
}

/** The short marks beside a catalog entry. */
export function catalogBadges(model: CatalogModelView): string[] {
  const badges: string[] = [];
  if (model.recommended) badges.push("Recommended");
  if (model.installed) badges.push("Installed");
  else if (model.partial_bytes > 0) badges.push(`${Math.floor((model.partial_bytes * 100) / model.bytes)}% downloaded`);
  if (!model.fits) badges.push("Needs more memory");
  return badges;
}

/** The button of an entry not installed: `Download`, or `Resume` over a part. */
export function downloadLabel(model: CatalogModelView): string {
  return model.partial_bytes > 0 ? "Resume" : "Download";
}

/** Why an entry cannot be downloaded now, or `null` when it can. */
export function downloadBlocked(model: CatalogModelView, view: ModelsView): string | null {
  if (model.installed) return "already installed";
  if (view.download && view.download.state === "downloading") return `${view.download.id} is downloading`;
  const needed = model.bytes - model.partial_bytes;
  if (view.free_disk !== null && needed > view.free_disk) {
    return `needs ${formatBytes(needed)} free; ${formatBytes(view.free_disk)} are`;
  }
  return null;
}

/** The line above the catalog: this machine and the rule the recommendation follows. */
export function machineLine(view: ModelsView): string {
  const free = view.free_disk === null ? "" : `, ${formatBytes(view.free_disk)} free for models`;
  return (
    `This computer has ${formatBytes(view.total_memory)} of memory${free}. ` +
    "Recommended: the largest model that needs at most 60% of it."
  );
}

/** How an installed model got here. */
export function installedSource(model: InstalledModelView): string {
  return model.downloaded ? "downloaded" : "added from disk";
}

/** The question before Remove: what happens to the file. */
export function removeQuestion(model: InstalledModelView): string {
  const file = model.downloaded
    ? `Its file (${formatBytes(model.bytes)}) is deleted.`
    : `Its file stays where it is (${model.path}).`;
  const chat = model.in_use ? " The bundled model answers again." : "";
  return `Remove ${model.name}? ${file}${chat}`;
}

/** The view with a download's update applied; a download that ended is no longer under way. */
export function withDownload(view: ModelsView, update: DownloadUpdate): ModelsView {
  return { ...view, download: update.state === "downloading" ? update : null };
}

/** Which on-device model answers questions, as the Settings screen offers the choice. */
export const LOCAL_ANSWERS: readonly { value: LocalAnswers; label: string }[] = [
  { value: "strong", label: "The answering model, every question (best answers)" },
  { value: "tiers", label: "The fast model for simple questions, the answering model for the rest" },
  { value: "fast", label: "The fast model, every question (quickest, least accurate)" },
];
