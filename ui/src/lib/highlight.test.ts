import { describe, expect, it } from "vitest";
import { contentWords, highlight } from "./highlight";

describe("highlight", () => {
  it("marks the passage words the answer shares, ignoring case and stop words", () => {
    const words = contentWords("The Fresnel lens was made in 1870 [1].");
    expect([...words].sort()).toEqual(["1", "1870", "fresnel", "lens", "made"]);
    const segments = highlight("A fresnel LENS, installed in 1870, still turns.", words);
    expect(segments.filter((s) => s.mark).map((s) => s.text)).toEqual(["fresnel", "LENS", "1870"]);
    expect(segments.map((s) => s.text).join("")).toBe("A fresnel LENS, installed in 1870, still turns.");
  });

  it("marks nothing when nothing is shared, and keeps the text", () => {
    const segments = highlight("Nothing here.", contentWords("lighthouse"));
    expect(segments).toEqual([{ text: "Nothing here.", mark: false }]);
  });
});
