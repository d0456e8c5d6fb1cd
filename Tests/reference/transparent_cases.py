"""transparent_cases.py OUTDIR MODEL

Writes PNGs with transparent and partly transparent pixels whose colour channels
still hold a picture (scikit-image's chelsea photo): RGBA, grey + alpha (LA) and
a palette image with a tRNS chunk. Then classifies each the way the README's
reference pipeline does (Pillow convert("RGB"): alpha dropped, colour channels
kept as stored, no compositing; then preprocessing.preprocess) with onnxruntime,
and prints one JSON object per file: {"file", "top": [[index, prob], ...5]}.
"""

import argparse
import json
import os

import warnings

import numpy as np

# Pillow warns that palette transparency "should be converted to RGBA"; the case is on purpose.
warnings.simplefilter("ignore", UserWarning)


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def make_cases(out_dir):
    import skimage
    from PIL import Image

    photo = Image.open(os.path.join(os.path.dirname(skimage.__file__), "data", "chelsea.png")).convert("RGB")
    w, h = photo.size
    # Alpha: fully transparent on the left third, a ramp in the middle, opaque on the right:
    # compositing onto any background would change what the network sees.
    ramp = np.clip((np.arange(w) - w / 3) / (w / 3), 0, 1)
    alpha = Image.fromarray(np.tile((ramp * 255).astype(np.uint8), (h, 1)), "L")
    rgba = photo.copy()
    rgba.putalpha(alpha)
    rgba.save(os.path.join(out_dir, "rgba.png"))
    la = photo.convert("L")
    la.putalpha(alpha)
    la.save(os.path.join(out_dir, "grey-alpha.png"))
    palette = photo.quantize(colors=200)
    # Half of the palette entries transparent, the other half partly transparent.
    palette.save(os.path.join(out_dir, "palette-trns.png"),
                 transparency=bytes((0 if i % 2 else 128) for i in range(256)))
    return ["rgba.png", "grey-alpha.png", "palette-trns.png"]


def main():
    ap = argparse.ArgumentParser(usage=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("model")
    args = ap.parse_args()
    import onnxruntime as ort
    from preprocessing import load_spec, preprocess

    os.makedirs(args.outdir, exist_ok=True)
    spec = load_spec(args.model)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for file_name in make_cases(args.outdir):
        out = session.run(None, {name: preprocess(os.path.join(args.outdir, file_name), spec)})[0][0]
        prob = out if abs(float(out.sum()) - 1) < 1e-3 and out.min() >= 0 else softmax(out)
        top = [[int(i), float(prob[i])] for i in np.argsort(-prob)[:5]]
        print(json.dumps({"file": file_name, "top": top}))


if __name__ == "__main__":
    main()
