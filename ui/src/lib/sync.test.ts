import { describe, expect, it } from "vitest";
import type { WatchedFolderView } from "./bindings";
import { folderCount, folderName, groupWatched, jobHeadline, jobKindLabel, watchStatus } from "./sync";

function folder(over: Partial<WatchedFolderView> = {}): WatchedFolderView {
  return { collection: "default", path: "/home/me/Notes", watching: true, problem: null, ...over };
}

describe("folderName", () => {
  it.each([
    ["/home/me/Notes", "Notes"],
    ["/home/me/Notes/", "Notes"],
    ["C:\\Users\\me\\Docs", "Docs"],
    ["C:\\Users\\me\\Docs\\", "Docs"],
    ["Notes", "Notes"],
    ["/", "/"],
    ["C:\\", "C:\\"],
  ])("%s reads %s", (path, name) => expect(folderName(path)).toBe(name));
});

describe("jobKindLabel", () => {
  it("says what each kind of job does", () => {
    expect(jobKindLabel("add", ["/a", "/b"])).toBe("Adding");
    expect(jobKindLabel("reindex", ["/a"])).toBe("Re-indexing");
    expect(jobKindLabel("retry", [])).toBe("Retrying failed files");
    expect(jobKindLabel("retry", ["/a/b.pdf"])).toBe("Retrying failed files");
  });

  it("names the folder a sync is for, or counts them", () => {
    expect(jobKindLabel("sync", ["/home/me/Notes"])).toBe("Syncing Notes");
    expect(jobKindLabel("sync", ["/home/me/Notes", "/srv/papers"])).toBe("Syncing 2 folders");
    expect(jobKindLabel("sync", [])).toBe("Syncing");
  });
});

describe("jobHeadline", () => {
  const job = { kind: "sync" as const, paths: ["/home/me/Notes"], collection: "work" };

  it("reads the job's kind, collection and state", () => {
    expect(jobHeadline({ ...job, state: "queued" })).toBe("Syncing Notes in work: waiting to start…");
    expect(jobHeadline({ ...job, state: "running" })).toBe("Syncing Notes in work");
    expect(jobHeadline({ ...job, state: "finished" })).toBe("Synced Notes in work");
    expect(jobHeadline({ ...job, state: "cancelled" })).toBe("Syncing Notes stopped");
    expect(jobHeadline({ ...job, state: "failed" })).toBe("Syncing Notes did not finish");
  });

  it("adds to a collection, and re-indexes or retries in one", () => {
    expect(jobHeadline({ kind: "add", paths: ["/a"], collection: "default", state: "running" })).toBe(
      "Adding to default",
    );
    expect(jobHeadline({ kind: "add", paths: ["/a"], collection: "default", state: "finished" })).toBe(
      "Added to default",
    );
    expect(jobHeadline({ kind: "reindex", paths: ["/a"], collection: "default", state: "finished" })).toBe(
      "Re-indexed in default",
    );
    expect(jobHeadline({ kind: "retry", paths: [], collection: "default", state: "running" })).toBe(
      "Retrying failed files in default",
    );
    expect(jobHeadline({ kind: "retry", paths: [], collection: "default", state: "finished" })).toBe(
      "Retried failed files in default",
    );
    expect(jobHeadline({ kind: "sync", paths: ["/a", "/b"], collection: "default", state: "finished" })).toBe(
      "Synced 2 folders in default",
    );
  });
});

describe("watchStatus", () => {
  it("reads Watching, or the problem", () => {
    expect(watchStatus(folder())).toEqual({ text: "Watching", ok: true });
    expect(watchStatus(folder({ watching: false, problem: "the folder is gone" }))).toEqual({
      text: "the folder is gone",
      ok: false,
    });
    expect(watchStatus(folder({ watching: false }))).toEqual({ text: "Not watching", ok: false });
    // A problem wins over a stale `watching`.
    expect(watchStatus(folder({ problem: "too many watches" })).ok).toBe(false);
  });
});

describe("groupWatched", () => {
  const watched = [
    folder({ collection: "work", path: "/srv/z" }),
    folder({ collection: "default", path: "/home/me/Notes" }),
    folder({ collection: "work", path: "/srv/a" }),
    folder({ collection: "default", path: "/home/me/Books" }),
  ];

  it("groups by collection, in order, folders by path", () => {
    const groups = groupWatched(watched);
    expect(groups.map((g) => g.collection)).toEqual(["default", "work"]);
    expect(groups[0].folders.map((f) => f.path)).toEqual(["/home/me/Books", "/home/me/Notes"]);
    expect(groups[1].folders.map((f) => f.path)).toEqual(["/srv/a", "/srv/z"]);
    expect(folderCount(groups)).toBe(4);
  });

  it("keeps only one collection's when asked, and leaves the list as it was", () => {
    const groups = groupWatched(watched, "work");
    expect(groups).toHaveLength(1);
    expect(groups[0].folders.map((f) => f.path)).toEqual(["/srv/a", "/srv/z"]);
    expect(groupWatched(watched, "none")).toEqual([]);
    expect(folderCount(groupWatched(watched, "none"))).toBe(0);
    expect(watched[0].path).toBe("/srv/z");
  });
});
