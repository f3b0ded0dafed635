"""Draws Cairn's icon (three stacked stones on a dusk-blue rounded square) as PNGs, stdlib only.

Run: python3 icons/make_icons.py. The desktop build derives .ico/.icns from icon.png with `cargo tauri icon`.
"""
import struct
import zlib
from pathlib import Path

STONES = [  # centre x, centre y, half-width, half-height (unit square), colour
    (0.50, 0.74, 0.30, 0.10, (214, 204, 186)),
    (0.50, 0.55, 0.22, 0.085, (190, 178, 158)),
    (0.50, 0.39, 0.15, 0.07, (168, 154, 134)),
    (0.50, 0.27, 0.08, 0.05, (146, 132, 114)),
]
BACKGROUND = (38, 52, 84)


def pixel(x, y):
    # Rounded square mask with radius 0.2.
    r = 0.2
    dx = max(r - x, 0, x - (1 - r))
    dy = max(r - y, 0, y - (1 - r))
    if dx * dx + dy * dy > r * r:
        return (0, 0, 0, 0)
    for cx, cy, hw, hh, colour in STONES:
        if ((x - cx) / hw) ** 2 + ((y - cy) / hh) ** 2 <= 1.0:
            shade = 1.0 - 0.25 * max(0.0, (y - cy) / hh)
            return tuple(int(c * shade) for c in colour) + (255,)
    return BACKGROUND + (255,)


def png(size, path):
    samples = 3  # 3x3 supersampling for smooth edges
    rows = []
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            acc = [0, 0, 0, 0]
            for sj in range(samples):
                for si in range(samples):
                    p = pixel((i + (si + 0.5) / samples) / size, (j + (sj + 0.5) / samples) / size)
                    for k in range(4):
                        acc[k] += p[k]
            row.extend(v // (samples * samples) for v in acc)
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)


here = Path(__file__).parent
for size, name in [(32, "32x32.png"), (128, "128x128.png"), (256, "128x128@2x.png"), (512, "icon.png")]:
    png(size, here / name)
print("icons written")
