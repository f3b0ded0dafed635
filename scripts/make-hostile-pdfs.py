#!/usr/bin/env python3
"""Writes the hostile PDFs of BENCHMARKS.md "Hostile files" into a folder, with one good file.

    python3 scripts/make-hostile-pdfs.py DIR [INFLATED_MB]

self-drawing-form.pdf: a form XObject that draws itself (783 bytes); flate-bomb.pdf: one content
stream that inflates to INFLATED_MB (default 2048) megabytes of spaces (about 2 MB on disk);
good.md: a file that must be indexed whatever happens to the others. The same constructions as
crates/cairn-cli/tests/hostile.rs.
"""
import os
import sys
import zlib


def pdf(objects):
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def stream(entries, data):
    return entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def page(resources, contents):
    return (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources " + resources
            + b" /Contents " + contents + b" >>")


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
ONE_PAGE = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def main():
    folder = sys.argv[1]
    inflated_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
    os.makedirs(folder, exist_ok=True)
    form = pdf([
        CATALOG, ONE_PAGE,
        page(b"<< /XObject << /Fm0 4 0 R >> /Font << /F1 5 0 R >> >>", b"6 0 R"),
        stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] "
               b"/Resources << /XObject << /Fm0 4 0 R >> >>", b"/Fm0 Do"),
        FONT,
        stream(b"<<", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET /Fm0 Do"),
    ])
    with open(os.path.join(folder, "self-drawing-form.pdf"), "wb") as f:
        f.write(form)
    z = zlib.compressobj(9)
    block = b" " * (1 << 20)
    data = b"".join(z.compress(block) for _ in range(inflated_mb)) + z.flush()
    bomb = pdf([CATALOG, ONE_PAGE, page(b"<< /Font << /F1 5 0 R >> >>", b"4 0 R"),
                stream(b"<< /Filter /FlateDecode", data), FONT])
    with open(os.path.join(folder, "flate-bomb.pdf"), "wb") as f:
        f.write(bomb)
    with open(os.path.join(folder, "good.md"), "w") as f:
        f.write("# Notes\n\nThe lighthouse keeper wrote in the log every day at dawn.\n")
    print(f"{folder}: self-drawing-form.pdf {len(form)} bytes, flate-bomb.pdf {len(bomb)} bytes")


if __name__ == "__main__":
    main()
