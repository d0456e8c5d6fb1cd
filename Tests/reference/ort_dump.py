#!/usr/bin/env python3
"""ort_dump.py MODEL INPUT.npy OUTDIR [NAMES.txt]

Runs onnxruntime on MODEL with INPUT.npy fed to its (single) graph input and
every node output exposed as a graph output (with NAMES.txt, one name a line:
only those), then writes each value to
OUTDIR/<name>.npy (float32, C order; every character of the name outside
A-Za-z0-9._- replaced by _) and OUTDIR/index.json mapping each original name to
its file name. Graph optimizations are disabled so that every node's value is
the one the model itself defines.
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

from preprocessing import sanitize


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        sys.exit(2)
    model_path, input_path, out_dir = sys.argv[1:4]
    wanted = None
    if len(sys.argv) == 5:
        with open(sys.argv[4], encoding="utf-8") as f:
            wanted = {line.rstrip("\n") for line in f if line.strip()}

    model = onnx.load(model_path)
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise SystemExit(f"{model_path}: expected one graph input, found {len(inputs)}")

    existing = {o.name for o in graph.output}
    names = []
    for node in graph.node:
        for name in node.output:
            if name and name not in names and (wanted is None or name in wanted):
                names.append(name)
                if name not in existing:
                    graph.output.append(onnx.ValueInfoProto(name=name))
    for o in graph.output:
        if o.name not in names and (wanted is None or o.name in wanted):
            names.append(o.name)

    x = np.load(input_path, allow_pickle=False).astype(np.float32, copy=False)

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), opts,
                                   providers=["CPUExecutionProvider"])
    values = session.run(names, {inputs[0].name: x})

    os.makedirs(out_dir, exist_ok=True)
    index = {}
    used = {}
    for name, value in zip(names, values):
        stem = sanitize(name)
        if stem in used and used[stem] != name:
            raise SystemExit(f"names {used[stem]!r} and {name!r} both map to {stem}.npy")
        used[stem] = name
        file_name = stem + ".npy"
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        with open(os.path.join(out_dir, file_name), "wb") as f:
            np.lib.format.write_array(f, arr, version=(1, 0), allow_pickle=False)
        index[name] = file_name
    with open(os.path.join(out_dir, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
