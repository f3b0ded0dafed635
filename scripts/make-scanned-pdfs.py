#!/usr/bin/env python3
"""Writes scanned-looking PDFs of known text, for measuring OCR: each page is text drawn at a given
resolution, turned by a small skew, with noise, saved as an image-only PDF (no text layer), beside
the text it shows (`<name>.txt`).

Usage: make-scanned-pdfs.py OUT_DIR [--pages N] [--dpi 300] [--skew 1.5] [--noise 12] [--seed 1]

The text comes from the Markdown of tests/corpus (headings and paragraphs, in file order), so the
pages read like documents rather than word salad. Needs Pillow and a TrueType font (DejaVu Serif on
Debian: fonts-dejavu-core).
"""
import argparse
import random
import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]


def paragraphs():
    for md in sorted((ROOT / "tests" / "corpus").rglob("*.md")):
        for block in md.read_text(encoding="utf-8").split("\n\n"):
            text = re.sub(r"[#*_`>\[\]()]", "", block).strip()
            text = re.sub(r"\s+", " ", text)
            if len(text) > 40 and text.isascii():
                yield text


def wrap(draw, text, font, width):
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def page(text_source, dpi, skew, noise, rng):
    w, h = int(8.5 * dpi), int(11 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(rng.choice(FONTS), int(11 / 72 * dpi))
    margin, y, line_h = dpi, dpi, int(16 / 72 * dpi)
    shown = []
    while True:
        para = next(text_source)
        lines = wrap(draw, para, font, w - 2 * margin)
        if y + line_h * (len(lines) + 1) > h - dpi:
            break
        for line in lines:
            draw.text((margin, y), line, font=font, fill=0)
            y += line_h
        y += line_h // 2
        shown.append(" ".join(lines))
    img = img.rotate(rng.uniform(-skew, skew), resample=Image.BICUBIC, fillcolor=255)
    if noise:
        speckle = Image.effect_noise((w, h), noise)
        img = Image.blend(img, speckle, 0.25).filter(ImageFilter.GaussianBlur(0.6))
    return img, "\n\n".join(shown)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--skew", type=float, default=1.5, help="largest turn, in degrees")
    parser.add_argument("--noise", type=float, default=12.0, help="Gaussian noise sigma")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    source = paragraphs()
    for i in range(1, args.pages + 1):
        img, text = page(source, args.dpi, args.skew, args.noise, rng)
        name = f"scan-{i:02}"
        img.save(args.out / f"{name}.pdf", resolution=args.dpi)
        (args.out / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
        print(f"{name}.pdf: {len(text)} characters")


if __name__ == "__main__":
    main()
