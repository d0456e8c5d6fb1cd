#!/usr/bin/env python3
"""make_input.py MODEL IMAGE OUT.npy

Preprocesses IMAGE as MODEL's sidecar (MODEL with .onnx replaced by .json)
describes -- centre crop, Pillow bicubic resize, (x - mean) / std -- and writes
the [1, 3, H, W] float32 tensor to OUT.npy (NumPy format 1.0, C order).
See preprocessing.py for the exact steps.
"""

import sys

import numpy as np

from preprocessing import load_spec, preprocess


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        sys.exit(2)
    model, image, out = sys.argv[1:]
    x = preprocess(image, load_spec(model))
    with open(out, "wb") as f:
        np.lib.format.write_array(f, x, version=(1, 0), allow_pickle=False)


if __name__ == "__main__":
    main()
