#!/usr/bin/env python3
"""Writes the ingest bench's two folders (crates/cairn-engine/benches/cairn.rs, `ingest`) to disk,
byte for byte, so that a built `cairn` can be timed on them: OUT/markdown (1,000 generated Markdown
documents) and OUT/mixed (250 Markdown, 250 HTML, 250 plain text, 125 PDFs, 125 DOCX).

Usage: python3 scripts/make-ingest-folders.py OUT
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MASK = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return self.state >> 33

    def below(self, n):
        return self.next() % n


def vocabulary():
    words = set()
    for folder, _, files in os.walk(ROOT / "tests/corpus"):
        for name in files:
            try:
                text = (Path(folder) / name).read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            word = []
            for c in text + " ":
                if c.isalpha():
                    word.append(c)
                    continue
                w = "".join(word)
                word = []
                if len(w.encode()) > 2:
                    words.add(w.lower())
    return sorted(words)


def sentence(rng, words, length):
    s = [words[rng.below(len(words))] for _ in range(length)]
    s[0] = s[0][:1].upper() + s[0][1:]
    return " ".join(s) + "."


def markdown(rng, words, i):
    text = f"# Document {i}\n\n"
    for h in range(2 + rng.below(3)):
        text += f"## Section {h}\n\n"
        for _ in range(3 + rng.below(6)):
            text += sentence(rng, words, 8 + rng.below(18)) + " "
        text += "\n\n"
    return text


def main(out):
    words = vocabulary()
    md = out / "markdown"
    md.mkdir(parents=True, exist_ok=True)
    rng = Lcg(42)
    for i in range(1000):
        (md / f"doc{i:04}.md").write_text(markdown(rng, words, i), encoding="utf-8")
    mixed = out / "mixed"
    mixed.mkdir(parents=True, exist_ok=True)
    rng = Lcg(43)
    fixtures = ROOT / "crates/cairn-ingest/tests/fixtures"
    for i in range(250):
        text = markdown(rng, words, i)
        paragraphs = "".join(f"<p>{p.lstrip('#').strip()}</p>" for p in text.split("\n\n"))
        html = f"<!doctype html><html><head><title>Page {i}</title></head><body>{paragraphs}</body></html>"
        plain = markdown(rng, words, i).replace("#", "")
        (mixed / f"note{i:03}.md").write_text(text, encoding="utf-8")
        (mixed / f"page{i:03}.html").write_text(html, encoding="utf-8")
        (mixed / f"text{i:03}.txt").write_text(plain, encoding="utf-8")
    pdf = (fixtures / "three-pages.pdf").read_bytes()
    docx = (fixtures / "field-guide.docx").read_bytes()
    for i in range(125):
        (mixed / f"report{i:03}.pdf").write_bytes(pdf)
        (mixed / f"guide{i:03}.docx").write_bytes(docx)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
