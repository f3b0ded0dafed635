import { describe, expect, it, vi } from "vitest";
import type { PageImage, PageRequest } from "./bindings";
import {
  DEFAULT_WIDTH,
  PageCache,
  PageView,
  highlightScrollTop,
  isPdfCitation,
  pageAlt,
  pageLabel,
  pageRequest,
  requestWidth,
} from "./pageView.svelte";

function image(page: number, over: Partial<PageImage> = {}): PageImage {
  return {
    data_url: `data:image/png;base64,page${page}`,
    width: 800,
    height: 1035,
    highlights: [{ left: 80, top: 400, right: 700, bottom: 430 }],
    page_count: 5,
    ...over,
  };
}

/** A draw function whose answers the test gives, in any order. */
function deferred() {
  const calls: { request: PageRequest; resolve: (i: PageImage) => void; reject: (e: unknown) => void }[] = [];
  const draw = vi.fn(
    (request: PageRequest) =>
      new Promise<PageImage>((resolve, reject) => {
        calls.push({ request, resolve, reject });
      }),
  );
  return { draw, calls };
}

const citation = { doc_path: "/docs/report.pdf", page: 3, text: "The lens was made in 1870." };

describe("which citations get a drawn page", () => {
  it("takes a paged citation of a PDF, whatever the case of its extension", () => {
    expect(isPdfCitation({ doc_path: "/docs/report.pdf", page: 3 })).toBe(true);
    expect(isPdfCitation({ doc_path: "C:\\Docs\\Report.PDF", page: 1 })).toBe(true);
    expect(isPdfCitation({ doc_path: "/docs/a.Pdf", page: 12 })).toBe(true);
  });

  it("leaves out other formats, and a PDF citation without a page", () => {
    expect(isPdfCitation({ doc_path: "/docs/lighthouse.md", page: null })).toBe(false);
    expect(isPdfCitation({ doc_path: "/docs/notes.docx", page: 2 })).toBe(false);
    expect(isPdfCitation({ doc_path: "/docs/report.pdf", page: null })).toBe(false);
    expect(isPdfCitation({ doc_path: "/docs/report.pdf", page: 0 })).toBe(false);
    expect(isPdfCitation({ doc_path: "/docs/report.pdf.txt", page: 2 })).toBe(false);
    expect(isPdfCitation({ doc_path: "/docs/pdf", page: 2 })).toBe(false);
  });
});

describe("the width to draw at", () => {
  it("is the panel's CSS width in device pixels, rounded", () => {
    expect(requestWidth(308, 2)).toBe(616);
    expect(requestWidth(480, 1.25)).toBe(600);
    expect(requestWidth(487.3, 1.5)).toBe(731);
    expect(requestWidth(600, 1)).toBe(600);
  });

  it("takes a ratio of 1 when the device's is unknown", () => {
    expect(requestWidth(600, undefined)).toBe(600);
    expect(requestWidth(600, 0)).toBe(600);
    expect(requestWidth(600, Number.NaN)).toBe(600);
  });

  it("falls back to the default when the panel's width is unknown", () => {
    expect(requestWidth(0, 2)).toBe(DEFAULT_WIDTH);
    expect(requestWidth(undefined, 2)).toBe(DEFAULT_WIDTH);
    expect(requestWidth(null, 1)).toBe(DEFAULT_WIDTH);
    expect(requestWidth(Number.POSITIVE_INFINITY, 1)).toBe(DEFAULT_WIDTH);
    expect(DEFAULT_WIDTH).toBe(800);
  });

  it("stays within the widths the backend draws at", () => {
    expect(requestWidth(100, 1)).toBe(400);
    expect(requestWidth(2000, 3)).toBe(2400);
  });

  it("goes into the request with the document, page and passage", () => {
    expect(pageRequest("/docs/report.pdf", 3, "The lens", 616)).toEqual({
      doc_path: "/docs/report.pdf",
      page: 3,
      passage: "The lens",
      width: 616,
    });
  });
});

describe("words", () => {
  it("says which page of which file the image is, and whether the cited lines are marked", () => {
    expect(pageAlt("report.pdf", 3, true)).toBe("Page 3 of report.pdf, the cited lines highlighted");
    expect(pageAlt("report.pdf", 4, false)).toBe("Page 4 of report.pdf");
  });

  it("counts the pages once it knows how many there are", () => {
    expect(pageLabel(3, 12)).toBe("Page 3 of 12");
    expect(pageLabel(3, null)).toBe("Page 3");
  });
});

describe("scrolling to the first highlight", () => {
  const box = { left: 0, top: 400, right: 100, bottom: 430 };

  it("brings a highlight below the panel's fold a third of the way down", () => {
    // Image 100px down the panel's content, drawn at half size: the highlight is at 300..315.
    expect(highlightScrollTop(box, 100, 0.5, 0, 200)).toBe(233);
  });

  it("leaves the panel where it is when the highlight is already in view", () => {
    expect(highlightScrollTop(box, 100, 0.5, 0, 600)).toBe(0);
    expect(highlightScrollTop(box, 100, 0.5, 250, 100)).toBe(250);
  });

  it("scrolls up to a highlight above the view, never above the top", () => {
    expect(highlightScrollTop({ ...box, top: 10, bottom: 20 }, 100, 0.5, 500, 300)).toBe(5);
    expect(highlightScrollTop({ ...box, top: 0, bottom: 20 }, 0, 1, 500, 300)).toBe(0);
  });

  it("does nothing before the image has a size", () => {
    expect(highlightScrollTop(box, 100, 0, 40, 200)).toBe(40);
    expect(highlightScrollTop(box, 100, 0.5, 40, 0)).toBe(40);
  });
});

describe("the cache of drawn pages", () => {
  const r = (page: number, width = 616, passage = "p") => pageRequest("/d/a.pdf", page, passage, width);

  it("finds a page by document, page, width and passage", () => {
    const cache = new PageCache();
    cache.set(r(1), image(1));
    expect(cache.get(r(1))).toEqual(image(1));
    expect(cache.get(r(1, 800))).toBeUndefined();
    expect(cache.get(r(2))).toBeUndefined();
    // Another passage of the same page is highlighted elsewhere.
    expect(cache.get(r(1, 616, "q"))).toBeUndefined();
    expect(cache.get({ ...r(1), doc_path: "/d/b.pdf" })).toBeUndefined();
  });

  it("drops the page used longest ago when full", () => {
    const cache = new PageCache(2);
    cache.set(r(1), image(1));
    cache.set(r(2), image(2));
    cache.get(r(1));
    cache.set(r(3), image(3));
    expect(cache.length).toBe(2);
    expect(cache.get(r(2))).toBeUndefined();
    expect(cache.get(r(1))).toEqual(image(1));
    expect(cache.get(r(3))).toEqual(image(3));
    cache.clear();
    expect(cache.length).toBe(0);
  });
});

describe("the page a panel shows", () => {
  it("draws the cited page with the passage and the width, and says when it is loading", async () => {
    const draw = vi.fn(async (req: PageRequest) => image(req.page));
    const view = new PageView(draw, new PageCache());
    const opening = view.open(citation, 616);
    expect(view.loading).toBe(true);
    expect(view.image).toBeNull();
    expect(view.page).toBe(3);
    await opening;
    expect(draw).toHaveBeenCalledWith({ doc_path: "/docs/report.pdf", page: 3, passage: "The lens was made in 1870.", width: 616 });
    expect(view.loading).toBe(false);
    expect(view.image?.data_url).toBe("data:image/png;base64,page3");
    expect(view.pageCount).toBe(5);
    expect(view.onCitedPage).toBe(true);
    expect(view.moved).toBe(false);
    expect(view.aspect).toBeCloseTo(800 / 1035);
  });

  it("does not draw a page again that it drew before", async () => {
    const draw = vi.fn(async (req: PageRequest) => image(req.page));
    const view = new PageView(draw, new PageCache());
    await view.open(citation, 616);
    await view.next();
    await view.prev();
    expect(draw).toHaveBeenCalledTimes(2);
    expect(view.page).toBe(3);
    expect(view.image?.data_url).toBe("data:image/png;base64,page3");
    expect(view.loading).toBe(false);

    // Another panel (the same citation opened again) finds it in the shared cache too.
    const cache = new PageCache();
    const first = new PageView(draw, cache);
    await first.open(citation, 616);
    const again = new PageView(draw, cache);
    await again.open(citation, 616);
    expect(draw).toHaveBeenCalledTimes(3);
    expect(again.image?.data_url).toBe("data:image/png;base64,page3");
    // A wider panel needs a new drawing.
    await again.open(citation, 800);
    expect(draw).toHaveBeenCalledTimes(4);
  });

  it("keeps to the newest request when an older answer arrives late", async () => {
    const { draw, calls } = deferred();
    const cache = new PageCache();
    const view = new PageView(draw, cache);
    const slow = view.open(citation, 616);
    const fast = view.open({ doc_path: "/docs/other.pdf", page: 7, text: "Tides" }, 616);
    calls[1].resolve(image(7, { page_count: 9 }));
    await fast;
    calls[0].resolve(image(3));
    await slow;
    expect(view.docPath).toBe("/docs/other.pdf");
    expect(view.page).toBe(7);
    expect(view.image?.data_url).toBe("data:image/png;base64,page7");
    expect(view.pageCount).toBe(9);
    expect(view.loading).toBe(false);
    // The late answer is still kept for when the reader comes back to it.
    expect(cache.get(pageRequest("/docs/report.pdf", 3, citation.text, 616))).toEqual(image(3));
  });

  it("ignores a late failure, and a late answer while the newer one is still drawn", async () => {
    const { draw, calls } = deferred();
    const view = new PageView(draw, new PageCache());
    const first = view.open(citation, 616);
    const second = view.show(4);
    calls[0].reject({ code: "timeout", message: "Drawing the page took too long." });
    await first;
    expect(view.error).toBeNull();
    expect(view.loading).toBe(true);
    const third = view.open(citation, 616);
    calls[1].resolve(image(4));
    await second;
    expect(view.image).toBeNull();
    expect(view.loading).toBe(true);
    calls[2].resolve(image(3));
    await third;
    expect(view.page).toBe(3);
    expect(view.image?.data_url).toBe("data:image/png;base64,page3");
  });

  it("says why a page could not be drawn, and draws it when asked again", async () => {
    const draw = vi
      .fn<(r: PageRequest) => Promise<PageImage>>()
      .mockRejectedValueOnce({ code: "no_pdf_engine", message: "PDFium is not installed." })
      .mockResolvedValueOnce(image(3));
    const view = new PageView(draw, new PageCache());
    await view.open(citation, 616);
    expect(view.error).toBe("PDFium is not installed.");
    expect(view.image).toBeNull();
    expect(view.loading).toBe(false);
    expect(view.pageCount).toBeNull();
    // A failure is not cached.
    await view.open(citation, 616);
    expect(draw).toHaveBeenCalledTimes(2);
    expect(view.error).toBeNull();
    expect(view.image?.data_url).toBe("data:image/png;base64,page3");
  });

  it("moves between pages within the document, and back to the cited one", async () => {
    const draw = vi.fn(async (req: PageRequest) =>
      image(req.page, { page_count: 4, highlights: req.page === 3 ? image(3).highlights : [] }),
    );
    const view = new PageView(draw, new PageCache());
    expect(view.canNext).toBe(false);
    await view.open(citation, 616);
    expect(view.canPrev).toBe(true);
    expect(view.canNext).toBe(true);
    await view.next();
    expect(view.page).toBe(4);
    expect(view.onCitedPage).toBe(false);
    expect(view.canNext).toBe(false);
    // No highlight off the cited page is not news.
    expect(view.moved).toBe(false);
    await view.next();
    expect(view.page).toBe(4);
    await view.back();
    expect(view.page).toBe(3);
    for (const _ of [1, 2, 3]) await view.prev();
    expect(view.page).toBe(1);
    expect(view.canPrev).toBe(false);
    expect(draw.mock.calls.map(([r]) => r.page)).toEqual([3, 4, 2, 1]);
    // The passage goes with every page: the backend highlights it only where it is.
    expect(draw.mock.calls.every(([r]) => r.passage === citation.text)).toBe(true);
  });

  it("says the passage moved when the cited page has no highlight", async () => {
    const view = new PageView(async () => image(3, { highlights: [] }), new PageCache());
    await view.open(citation, 616);
    expect(view.moved).toBe(true);
  });

  it("forgets the page count when another document opens", async () => {
    const { draw, calls } = deferred();
    const view = new PageView(draw, new PageCache());
    const first = view.open(citation, 616);
    calls[0].resolve(image(3, { page_count: 5 }));
    await first;
    void view.open({ doc_path: "/docs/other.pdf", page: 2, text: "x" }, 616);
    expect(view.pageCount).toBeNull();
    expect(view.canNext).toBe(false);
  });
});
