#!/usr/bin/env python3
"""skimage_photos.py OUTDIR [--check MODEL]

Copies the colour photos that scikit-image ships in its installed data
directory (no network) and that show an ImageNet-like object into OUTDIR, and
prints one JSON list on stdout: for each photo its file name, the ImageNet-1k
class indices that count as a correct top-1 answer, and what it shows:

  [{"file": "chelsea.png", "classes": [281, 282, 283, 284, 285], "content": "..."}, ...]

A photo missing from the installed scikit-image is left out of the list.

With --check MODEL, each photo is also preprocessed per MODEL's sidecar and
classified with onnxruntime; the tool fails if a top-1 is not in its set.

The bundled files that are left out, and why:
  astronaut.png          a person in a spacesuit: ImageNet-1k has no class for it
                         (onnxruntime guesses football helmet, bobsled, go-kart)
  hubble_deep_field.jpg  galaxies in deep space: no ImageNet object
  ihc.png                a microscope slide (immunohistochemistry): no ImageNet object
  retina.jpg             a fundus photograph of an eye: no ImageNet object
  color.png, logo.png    synthetic colour graphics, not photos
  no_time_for_that_tiny.gif  a 14x25 animated GIF, too small to classify
  camera.png, horse.png, coins.png, moon.png, brick.png, grass.png, gravel.png,
  cell.png, clock_motion.png, microaneurysms.png, page.png, text.png, phantom.png,
  chessboard_*.png, multipage*.tif
                         greyscale (or binary, or synthetic) images, not colour photos
"""

import argparse
import json
import os
import shutil
import sys

# file -> (acceptable ImageNet-1k top-1 classes, content)
PHOTOS = {
    "chelsea.png": (
        [281, 282, 283, 284, 285],
        "a tabby cat's head (tabby, tiger cat, Persian, Siamese, Egyptian cat)"),
    "coffee.png": (
        [967, 968, 504],
        "a cup of coffee on a saucer (espresso, cup, coffee mug)"),
    "rocket.jpg": (
        [657, 744, 812],
        "a rocket on its launch pad (missile, projectile, space shuttle)"),
    "motorcycle_left.png": (
        [665, 670],
        "a motorcycle, left image of a stereo pair (moped, motor scooter)"),
    "motorcycle_right.png": (
        [665, 670],
        "a motorcycle, right image of a stereo pair (moped, motor scooter)"),
}


def skimage_data_dir():
    import skimage
    return os.path.join(os.path.dirname(skimage.__file__), "data")


def check(model, out_dir, entries):
    import numpy as np
    import onnxruntime as ort
    from preprocessing import load_labels, load_spec, preprocess

    spec = load_spec(model)
    labels = load_labels(model, spec)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    failed = 0
    for e in entries:
        out = session.run(None, {name: preprocess(os.path.join(out_dir, e["file"]), spec)})[0][0]
        top = [int(i) for i in np.argsort(-out)[:5]]
        ok = top[0] in e["classes"]
        failed += not ok
        shown = ", ".join(f"{i} {labels[i]} {out[i]:.3f}" for i in top)
        print(f"{'ok  ' if ok else 'FAIL'} {e['file']}: {shown}", file=sys.stderr)
    if failed:
        raise SystemExit(f"{failed} photo(s) classified outside their expected classes")


def main():
    ap = argparse.ArgumentParser(usage=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--check", metavar="MODEL")
    args = ap.parse_args()

    data = skimage_data_dir()
    os.makedirs(args.outdir, exist_ok=True)
    entries = []
    for file_name, (classes, content) in PHOTOS.items():
        src = os.path.join(data, file_name)
        if not os.path.isfile(src):
            continue
        shutil.copyfile(src, os.path.join(args.outdir, file_name))
        entries.append({"file": file_name, "classes": classes, "content": content})
    if not entries:
        raise SystemExit(f"{data}: none of the expected photos is present")
    if args.check:
        check(args.check, args.outdir, entries)
    print(json.dumps(entries))


if __name__ == "__main__":
    main()
