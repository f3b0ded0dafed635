// A cited PDF page, drawn in the passage panel with the cited lines highlighted: which citations
// get one, the width to draw at, a small cache of drawn pages, and the page shown (a newer request
// always wins over an older one still on its way). The rules are here so that they are unit-tested.

import { commands, type CitationView, type PageBox, type PageImage, type PageRequest } from "./bindings";
import { errorMessage } from "./errors";

/** The width to draw at when the panel's is not known, in device pixels. */
export const DEFAULT_WIDTH = 800;
/** The widths the backend draws at (it clamps to these too). */
export const MIN_WIDTH = 400;
export const MAX_WIDTH = 2400;
/** Drawn pages kept in memory. */
export const CACHE_SIZE = 12;

/** Whether a citation is of a page of a PDF, so that the page can be drawn. */
export function isPdfCitation(c: Pick<CitationView, "doc_path" | "page">): boolean {
  return typeof c.page === "number" && Number.isInteger(c.page) && c.page >= 1 && /\.pdf$/i.test(c.doc_path.trim());
}

/** The width to ask for: the panel's CSS width in device pixels, rounded; the default when unknown. */
export function requestWidth(cssWidth: number | null | undefined, devicePixelRatio: number | null | undefined): number {
  if (typeof cssWidth !== "number" || !Number.isFinite(cssWidth) || cssWidth <= 0) return DEFAULT_WIDTH;
  const known = typeof devicePixelRatio === "number" && Number.isFinite(devicePixelRatio) && devicePixelRatio > 0;
  const ratio = known ? devicePixelRatio : 1;
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(cssWidth * ratio)));
}

/** The request for one page of a document. */
export function pageRequest(docPath: string, page: number, passage: string, width: number): PageRequest {
  return { doc_path: docPath, page, passage, width };
}

/** The image's text alternative: which page of which file, and whether the cited lines are marked on it. */
export function pageAlt(name: string, page: number, highlighted: boolean): string {
  return highlighted ? `Page ${page} of ${name}, the cited lines highlighted` : `Page ${page} of ${name}`;
}

/** "Page 3 of 12", or "Page 3" before the number of pages is known. */
export function pageLabel(page: number, pageCount: number | null): string {
  return pageCount === null ? `Page ${page}` : `Page ${page} of ${pageCount}`;
}

/**
 * Where to scroll a panel so that a highlight is in view: unchanged when it already is, otherwise
 * with the highlight a third of the way down. `imageTop` is the image's top in the panel's
 * scrolled content, `scale` its shown width over its width in pixels.
 */
export function highlightScrollTop(
  box: PageBox,
  imageTop: number,
  scale: number,
  scrollTop: number,
  viewport: number,
): number {
  if (!(scale > 0) || !(viewport > 0)) return scrollTop;
  const top = imageTop + box.top * scale;
  const bottom = imageTop + box.bottom * scale;
  if (top >= scrollTop && bottom <= scrollTop + viewport) return scrollTop;
  return Math.max(0, Math.round(top - viewport / 3));
}

/**
 * The last few drawn pages, least recently used dropped first. A page is drawn for one passage
 * (its highlights), so the passage is part of the key with the document, page and width.
 */
export class PageCache {
  private entries = new Map<string, PageImage>();

  constructor(private size = CACHE_SIZE) {}

  private static key(r: PageRequest): string {
    return JSON.stringify([r.doc_path, r.page, r.width, r.passage]);
  }

  get(r: PageRequest): PageImage | undefined {
    const key = PageCache.key(r);
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(r: PageRequest, image: PageImage): void {
    const key = PageCache.key(r);
    this.entries.delete(key);
    this.entries.set(key, image);
    while (this.entries.size > this.size) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get length(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The pages drawn in this session, shared by every panel that opens. */
export const pageCache = new PageCache();

export type DrawPage = (request: PageRequest) => Promise<PageImage>;

/** The page a passage panel shows: the cited one when it opens, then wherever the reader goes. */
export class PageView {
  docPath = $state("");
  /** The page the citation names, the only one the passage is highlighted on. */
  citedPage = $state(1);
  /** The page shown (or being drawn). */
  page = $state(1);
  /** The drawn page; `null` while it is drawn or when it could not be. */
  image = $state<PageImage | null>(null);
  loading = $state(false);
  /** Why the page could not be drawn. */
  error = $state<string | null>(null);
  /** Pages in the document, once a page of it has been drawn. */
  pageCount = $state<number | null>(null);
  /** Width over height of the last page drawn, for the placeholder while the next one is. */
  aspect = $state(8.5 / 11);
  /** Counts the images shown, so that the markup can tell a fresh one (and scroll to it). */
  shown = $state(0);

  private passage = "";
  private width = DEFAULT_WIDTH;
  /** The newest request; an answer to an older one is dropped. */
  private latest = 0;

  constructor(
    private draw: DrawPage = (request) => commands.citedPage(request),
    private cache: PageCache = pageCache,
  ) {}

  /** Whether the page shown is the cited one. */
  get onCitedPage(): boolean {
    return this.page === this.citedPage;
  }

  /** Drawn, on the cited page, and the passage is not on it: the file changed since it was indexed. */
  get moved(): boolean {
    return this.image !== null && this.onCitedPage && this.image.highlights.length === 0;
  }

  get canPrev(): boolean {
    return this.page > 1;
  }

  get canNext(): boolean {
    return this.pageCount !== null && this.page < this.pageCount;
  }

  /** Shows a citation's page, drawn `width` device pixels wide. */
  open(citation: Pick<CitationView, "doc_path" | "page" | "text">, width: number): Promise<void> {
    const page = citation.page ?? 1;
    if (citation.doc_path !== this.docPath) this.pageCount = null;
    this.docPath = citation.doc_path;
    this.citedPage = page;
    this.passage = citation.text;
    this.width = width;
    return this.show(page);
  }

  prev(): Promise<void> {
    return this.canPrev ? this.show(this.page - 1) : Promise.resolve();
  }

  next(): Promise<void> {
    return this.canNext ? this.show(this.page + 1) : Promise.resolve();
  }

  /** Back to the cited page. */
  back(): Promise<void> {
    return this.show(this.citedPage);
  }

  /** Shows a page of the open document: from the cache, or drawn. */
  async show(page: number): Promise<void> {
    const request = pageRequest(this.docPath, page, this.passage, this.width);
    const id = ++this.latest;
    this.page = page;
    this.error = null;
    const hit = this.cache.get(request);
    if (hit) {
      this.loading = false;
      this.present(hit);
      return;
    }
    this.image = null;
    this.loading = true;
    try {
      const image = await this.draw(request);
      // Kept even when a newer request overtook it: the reader may come back to it.
      this.cache.set(request, image);
      if (id === this.latest) this.present(image);
    } catch (e) {
      if (id === this.latest) this.error = errorMessage(e);
    } finally {
      if (id === this.latest) this.loading = false;
    }
  }

  private present(image: PageImage): void {
    this.image = image;
    this.pageCount = image.page_count > 0 ? image.page_count : null;
    if (image.width > 0 && image.height > 0) this.aspect = image.width / image.height;
    this.shown++;
  }
}
