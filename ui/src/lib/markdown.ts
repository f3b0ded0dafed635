// Answers are Markdown written by a model: rendered with marked, with `[n]` citations as buttons,
// links and images defused (the window never navigates or fetches), raw HTML shown as text, and the
// result sanitised by DOMPurify as a second line of defence.

import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";
import type { CitationView } from "./bindings";
import { splitPath } from "./files";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The citations of the answer being rendered (marked renders synchronously). */
let citations: Map<number, CitationView> = new Map();

type CitationToken = { type: "citation"; raw: string; n: number };

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  extensions: [
    {
      name: "citation",
      level: "inline",
      start(src: string) {
        const i = src.search(/\[\d{1,3}\]/);
        return i < 0 ? undefined : i;
      },
      tokenizer(src: string): CitationToken | undefined {
        const m = /^\[(\d{1,3})\](?!\()/.exec(src);
        return m ? { type: "citation", raw: m[0], n: Number(m[1]) } : undefined;
      },
      renderer(token) {
        const n = (token as unknown as CitationToken).n;
        const c = citations.get(n);
        if (!c) return escapeHtml(`[${n}]`);
        const where = splitPath(c.doc_path).name + (c.page ? `, page ${c.page}` : "");
        return (
          `<button type="button" class="chip" data-testid="citation-chip" data-n="${n}" ` +
          `data-doc-path="${escapeHtml(c.doc_path)}" title="${escapeHtml(where)}">${n}</button>`
        );
      },
    },
  ],
  renderer: {
    link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, token: Tokens.Link) {
      return `<span class="link" title="${escapeHtml(token.href)}">${this.parser.parseInline(token.tokens)}</span>`;
    },
    image(token: Tokens.Image) {
      return escapeHtml(token.text);
    },
    html(token: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(token.text);
    },
  },
});

const PURIFY = {
  ALLOWED_TAGS: [
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr", "span", "button",
  ],
  ALLOWED_ATTR: ["class", "title", "type", "data-n", "data-doc-path", "data-testid", "align", "start"],
};

/** Safe HTML for an answer, its `[n]` citations (those in `cited`) as chips. */
export function renderMarkdown(text: string, cited: CitationView[]): string {
  citations = new Map(cited.map((c) => [c.n, c]));
  try {
    const html = marked.parse(text) as string;
    return DOMPurify.sanitize(html, PURIFY) as string;
  } finally {
    citations = new Map();
  }
}
