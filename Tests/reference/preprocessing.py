"""Shared helpers of the reference tools: the preprocessing that a model's
sidecar JSON describes, and the layer-name to file-name rule of `forward --dump`.

Preprocessing, step by step (what the Swift side must reproduce):
  1. decode the image and convert it to 8-bit RGB (alpha dropped, grey expanded);
  2. centre crop a square whose side is crop_fraction x the shorter side,
     rounded half up: side = floor(crop_fraction * min(W, H) + 0.5),
     left = (W - side) // 2, top = (H - side) // 2;
  3. resize it to input_size with Pillow's bicubic filter (Image.BICUBIC, which
     widens its support when shrinking, i.e. antialiases);
  4. x = (pixel - mean) / std per channel, on 0..pixel_range values;
  5. lay out as [1, 3, H, W] float32 (NCHW, C order), channels in channel_order.
"""

import json
import math
import os
import re

import numpy as np

_RESAMPLE = {"bicubic": "BICUBIC", "bilinear": "BILINEAR", "nearest": "NEAREST",
             "lanczos": "LANCZOS", "box": "BOX"}


def sidecar_path(model_path):
    base, _ = os.path.splitext(model_path)
    return base + ".json"


def load_spec(model_path):
    path = sidecar_path(model_path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise SystemExit(f"{path}: no preprocessing sidecar next to {model_path}")


def center_crop_box(width, height, fraction):
    side = int(math.floor(fraction * min(width, height) + 0.5))
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def preprocess(image_path, spec):
    from PIL import Image
    height, width = spec["input_size"]
    resample = getattr(Image, _RESAMPLE[spec.get("resize", "bicubic")])
    with Image.open(image_path) as im:
        im = im.convert("RGB")
        im = im.crop(center_crop_box(im.width, im.height, spec.get("crop_fraction", 1.0)))
        im = im.resize((width, height), resample)
        x = np.asarray(im, dtype=np.float32)
    scale = float(spec.get("pixel_range", 255)) / 255.0
    x = x * scale
    if spec.get("channel_order", "RGB").upper() == "BGR":
        x = x[:, :, ::-1]
    mean = np.asarray(spec["mean"], dtype=np.float32)
    std = np.asarray(spec["std"], dtype=np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def sanitize(name):
    """Layer name -> file stem: every character outside A-Za-z0-9._- becomes _."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def load_labels(model_path, spec):
    path = os.path.join(os.path.dirname(model_path), spec["labels"])
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]
