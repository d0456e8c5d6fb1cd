"""Regenerates the Imaging test fixtures in this folder (needs Pillow and NumPy).

    python Tests/ImagingTests/Fixtures/make_fixtures.py

The decoding fixtures hold patterns that ImagingTests recomputes (see `pattern` below and
`Patterns` in FixtureSupport.swift); the PNGs are written by the small encoder here so that every
colour type and bit depth is covered. The JPEGs come with Pillow's decoding of them, and the resize
cases with Pillow's output, listed in resize-cases.txt.
"""

import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 13, 9


def pattern(x, y):
    """The RGB pattern of the decoding fixtures (mirrored in Swift)."""
    return ((x * 19 + y * 7) % 256, (x * 5 + y * 31 + 40) % 256, (x * x + y * 3) % 256)


def gray(x, y):
    return (x * 19 + y * 23) % 256


def alpha(x, y):
    return (x * y * 11 + 3 * x) % 256


def write_png(path, width, height, colour_type, bit_depth, rows, palette=None, trns=None):
    """A minimal PNG encoder: filter type 0 on every row."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    out += chunk(b"IEND", b"")
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(out)


def be16(v):
    return [(v >> 8) & 255, v & 255]


def decoding_fixtures():
    write_png("gray.png", W, H, 0, 8, [[gray(x, y) for x in range(W)] for y in range(H)])
    write_png("gray16.png", W, H, 0, 16, [[b for x in range(W) for b in be16(gray(x, y) * 257)] for y in range(H)])
    write_png("gray-alpha.png", W, H, 4, 8,
              [[v for x in range(W) for v in (gray(x, y), alpha(x, y))] for y in range(H)])
    write_png("rgb.png", W, H, 2, 8, [[v for x in range(W) for v in pattern(x, y)] for y in range(H)])
    write_png("rgb16.png", W, H, 2, 16,
              [[b for x in range(W) for v in pattern(x, y) for b in be16(v * 257)] for y in range(H)])
    write_png("rgba.png", W, H, 6, 8,
              [[v for x in range(W) for v in pattern(x, y) + (alpha(x, y),)] for y in range(H)])
    palette = [((i * 37) % 256, (i * 91 + 7) % 256, (255 - i * 13) % 256) for i in range(16)]
    write_png("palette.png", W, H, 3, 8, [[(x + 2 * y) % 16 for x in range(W)] for y in range(H)],
              palette=palette, trns=[255, 0, 128])

    # JPEGs: a smooth photo-like picture, 4:2:0 colour and grey; expected = Pillow's decoding.
    yy, xx = np.mgrid[0:32, 0:48].astype(np.float64)
    photo = np.stack([
        128 + 100 * np.sin(xx / 7.0) * np.cos(yy / 5.0),
        128 + 90 * np.cos((xx + yy) / 9.0),
        64 + 3 * xx + 2 * yy,
    ], axis=-1).clip(0, 255).astype(np.uint8)
    Image.fromarray(photo, "RGB").save(os.path.join(HERE, "photo.jpg"), quality=90, subsampling=2)
    Image.fromarray(photo[:, :, 0], "L").save(os.path.join(HERE, "gray.jpg"), quality=90)
    Image.fromarray(photo[:8, :8], "RGB").convert("CMYK").save(os.path.join(HERE, "cmyk.jpg"), quality=90)
    for name in ("photo.jpg", "gray.jpg"):
        with Image.open(os.path.join(HERE, name)) as im:
            decoded = np.asarray(im.convert("RGB"), dtype=np.uint8)
        with open(os.path.join(HERE, name + ".rgb"), "wb") as f:
            f.write(decoded.tobytes())


def resize_fixtures():
    rng = np.random.default_rng(20240611)
    sw, sh = 67, 49
    yy, xx = np.mgrid[0:sh, 0:sw]
    source = np.zeros((sh, sw, 3), dtype=np.int32)
    source[..., 0] = (xx * 255) // (sw - 1)                      # horizontal ramp
    source[..., 1] = np.where((xx // 6 + yy // 5) % 2 == 0, 235, 20)  # hard-edged checkerboard
    source[..., 2] = rng.integers(0, 256, size=(sh, sw))          # noise
    source[20:30, 25:40, :] = [250, 5, 128]                      # a block with sharp edges
    source = source.astype(np.uint8)
    Image.fromarray(source, "RGB").save(os.path.join(HERE, "resize-source.png"))

    side = int(np.floor(0.875 * min(sw, sh) + 0.5))
    centre = ((sw - side) // 2, (sh - side) // 2, side, side)
    full = (0, 0, sw, sh)
    geometries = [
        ("down", full, (23, 17)),
        ("strong-down", full, (9, 7)),
        ("up", full, (83, 61)),
        ("mixed", full, (30, 90)),
        ("width-only", full, (40, 49)),
        ("height-only", full, (67, 20)),
        ("crop-down", centre, (29, 29)),
        ("crop-up", centre, (71, 71)),
        ("crop-only", (5, 7, 31, 22), (31, 22)),
        ("offcentre-crop", (11, 3, 50, 40), (17, 33)),
        # Height shrinks by more than twice as many pixels as width: Pillow 13 filters vertically first.
        ("vertical-first", full, (60, 12)),
        ("vertical-first-crop", (2, 1, 40, 47), (50, 9)),
    ]
    import PIL
    lines = [f"# Pillow {PIL.__version__}: im.crop(box).resize(size, filter)",
             "# file filter crop_x crop_y crop_w crop_h out_w out_h"]
    source_image = Image.fromarray(source, "RGB")
    for filt_name, filt in (("bicubic", Image.Resampling.BICUBIC), ("bilinear", Image.Resampling.BILINEAR)):
        for name, (cx, cy, cw, ch), (ow, oh) in geometries:
            out = source_image.crop((cx, cy, cx + cw, cy + ch)).resize((ow, oh), filt)
            file = f"resize-{filt_name}-{name}.png"
            out.save(os.path.join(HERE, file))
            lines.append(f"{file} {filt_name} {cx} {cy} {cw} {ch} {ow} {oh}")
    with open(os.path.join(HERE, "resize-cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    decoding_fixtures()
    resize_fixtures()
