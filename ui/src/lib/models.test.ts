import { describe, expect, it } from "vitest";
import type { CatalogModelView, DownloadUpdate, InstalledModelView, ModelsView } from "./bindings";
import {
  catalogBadges,
  downloadBlocked,
  downloadFraction,
  downloadLabel,
  downloadLine,
  downloadOutcome,
  formatBytes,
  formatEta,
  installedSource,
  machineLine,
  removeQuestion,
  withDownload,
} from "./models";

const qwen: CatalogModelView = {
  id: "qwen3-4b",
  name: "Qwen3 4B",
  parameters: "4B",
  repo: "unsloth/Qwen3-4B-GGUF",
  bytes: 2_497_281_312,
  ram_bytes: 3_638_132_000,
  licence: "Apache-2.0",
  good_at: "Reasoning",
  fits: true,
  recommended: true,
  installed: false,
  partial_bytes: 0,
};

const view: ModelsView = {
  total_memory: 16e9,
  free_disk: 50e9,
  endpoint: "https://huggingface.co",
  catalog: [qwen],
  installed: [],
  download: null,
};

const running: DownloadUpdate = {
  id: "qwen3-4b",
  state: "downloading",
  done: 312e6,
  total: 1.1e9,
  bytes_per_second: 12.3e6,
  eta_secs: 65,
  error: null,
};

const local: InstalledModelView = {
  name: "mine",
  path: "/home/me/mine.gguf",
  source: "local",
  downloaded: false,
  bytes: 2e9,
  architecture: "llama",
  in_use: true,
  present: true,
};

describe("sizes and times", () => {
  it("reads bytes in decimal units, as Hugging Face shows them", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(806_058_240)).toBe("806 MB");
    expect(formatBytes(1_117_320_736)).toBe("1.1 GB");
  });

  it("says the time left as a person would", () => {
    expect(formatEta(40.4)).toBe("40 s");
    expect(formatEta(65)).toBe("1 min 05 s");
    expect(formatEta(4320)).toBe("1 h 12 min");
  });
});

describe("a download's progress", () => {
  it("shows bytes, rate and time left while it runs", () => {
    expect(downloadLine(running)).toBe("312 MB of 1.1 GB · 12.3 MB/s · 1 min 05 s left");
    expect(downloadFraction(running)).toBeCloseTo(0.2836, 3);
    expect(downloadLine({ ...running, done: 0, bytes_per_second: 0, eta_secs: null })).toBe(
      "0 B of 1.1 GB · starting…",
    );
    expect(downloadFraction({ ...running, total: 0 })).toBe(0);
  });

  it("says how it ended: done, kept for a resume, or why it failed", () => {
    expect(downloadOutcome(running, "Qwen3 4B")).toBeNull();
    expect(downloadOutcome({ ...running, state: "done" }, "Qwen3 4B")?.failed).toBe(false);
    expect(downloadOutcome({ ...running, state: "cancelled" }, "Qwen3 4B")?.text).toContain("312 MB kept");
    const failed = downloadOutcome(
      { ...running, state: "failed", error: { code: "no_space", message: "not enough free space" } },
      "Qwen3 4B",
    );
    expect(failed).toEqual({ text: "Qwen3 4B could not be downloaded: not enough free space", failed: true });
  });

  it("is under way only while it downloads", () => {
    expect(withDownload(view, running).download).toEqual(running);
    expect(withDownload(view, { ...running, state: "done" }).download).toBeNull();
  });
});

describe("catalog entries", () => {
  it("are marked recommended, installed, part-downloaded or too large", () => {
    expect(catalogBadges(qwen)).toEqual(["Recommended"]);
    expect(catalogBadges({ ...qwen, recommended: false, installed: true })).toEqual(["Installed"]);
    expect(catalogBadges({ ...qwen, recommended: false, partial_bytes: qwen.bytes / 4 })).toEqual(["25% downloaded"]);
    expect(catalogBadges({ ...qwen, recommended: false, fits: false })).toEqual(["Needs more memory"]);
  });

  it("offer Download, or Resume over a part", () => {
    expect(downloadLabel(qwen)).toBe("Download");
    expect(downloadLabel({ ...qwen, partial_bytes: 10 })).toBe("Resume");
  });

  it("cannot be downloaded twice at once, nor onto a full disk", () => {
    expect(downloadBlocked(qwen, view)).toBeNull();
    expect(downloadBlocked({ ...qwen, installed: true }, view)).toBe("already installed");
    expect(downloadBlocked(qwen, { ...view, download: running })).toBe("qwen3-4b is downloading");
    expect(downloadBlocked(qwen, { ...view, free_disk: 1e9 })).toBe("needs 2.5 GB free; 1.0 GB are");
    // A part already on disk counts.
    expect(downloadBlocked({ ...qwen, partial_bytes: 2e9 }, { ...view, free_disk: 1e9 })).toBeNull();
    expect(downloadBlocked(qwen, { ...view, free_disk: null })).toBeNull();
  });

  it("are introduced by the machine they are judged for", () => {
    expect(machineLine(view)).toBe(
      "This computer has 16.0 GB of memory, 50.0 GB free for models. " +
        "Recommended: the largest model that needs at most 60% of it.",
    );
  });
});

describe("installed models", () => {
  it("say where they came from and what removing them does to the file", () => {
    expect(installedSource(local)).toBe("added from disk");
    expect(removeQuestion(local)).toBe(
      "Remove mine? Its file stays where it is (/home/me/mine.gguf). The bundled model answers again.",
    );
    const pulled = { ...local, name: "qwen3-4b", downloaded: true, in_use: false };
    expect(installedSource(pulled)).toBe("downloaded");
    expect(removeQuestion(pulled)).toBe("Remove qwen3-4b? Its file (2.0 GB) is deleted.");
  });
});
