import { describe, expect, it } from "vitest";
import type { CitationView } from "./bindings";
import { renderMarkdown } from "./markdown";

const cite = (n: number, path: string): CitationView => ({
  n,
  doc_path: path,
  page: n === 2 ? 4 : null,
  heading: "",
  text: "…",
  score: null,
  cited_by: "model",
});

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

describe("renderMarkdown", () => {
  it("turns [n] citations of known passages into chips naming their document", () => {
    const el = dom(renderMarkdown("Made in **1870** [1], rebuilt [2] and [3].", [cite(1, "/d/a.md"), cite(2, "/d/b.pdf")]));
    const chips = [...el.querySelectorAll<HTMLElement>("[data-testid=citation-chip]")];
    expect(chips.map((c) => c.dataset.n)).toEqual(["1", "2"]);
    expect(chips[0].dataset.docPath).toBe("/d/a.md");
    expect(chips[1].title).toBe("b.pdf, page 4");
    expect(el.textContent).toContain("[3]");
    expect(el.querySelector("strong")?.textContent).toBe("1870");
  });

  it("leaves [n] inside code alone", () => {
    const el = dom(renderMarkdown("Use `arr[1]` here [1].", [cite(1, "/d/a.md")]));
    expect(el.querySelector("code")?.textContent).toBe("arr[1]");
    expect(el.querySelectorAll("[data-testid=citation-chip]").length).toBe(1);
  });

  it("never lets model output run script, load images or navigate", () => {
    const html = renderMarkdown(
      'Hi <script>alert(1)</script> <img src=x onerror=alert(2)> ![pic](http://evil/x.png) [site](http://evil/) <a href="http://evil">x</a>',
      [],
    );
    const el = dom(html);
    expect(el.querySelector("script")).toBeNull();
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("a")).toBeNull();
    const attributes = [...el.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name));
    expect(attributes.filter((a) => a.startsWith("on") || a === "href" || a === "src")).toEqual([]);
    expect(el.textContent).toContain("site");
  });

  it("renders lists and paragraphs", () => {
    const el = dom(renderMarkdown("1. first [1]\n2. second\n\nDone.", [cite(1, "/d/a.md")]));
    expect(el.querySelectorAll("li").length).toBe(2);
    expect(el.querySelectorAll("p").length).toBe(1);
  });
});
