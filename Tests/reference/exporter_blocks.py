#!/usr/bin/env python3
"""exporter_blocks.py OUTDIR

Writes small ONNX graphs in the shapes that exporters emit, with seeded random weights, and an
input for each: OUTDIR/<block>.onnx and OUTDIR/<block>.npy (float32 NCHW). Run ort_dump.py on each
for onnxruntime's value of every node. Blocks:

  se_hardsigmoid   MobileNetV3's squeeze-excite: Conv, HardSwish, GlobalAveragePool, 1x1 Convs,
                   Relu, HardSigmoid gate, Mul, residual Add (opset 14)
  convnext         a ConvNeXt block: depthwise 7x7 Conv, the channels-first LayerNorm as exported
                   (ReduceMean with axes as an attribute, Sub, Pow, Sqrt, Div, affine), 1x1 Conv, Gelu as exported
                   (Div, Erf, Add, Mul, Mul), 1x1 Conv, layer scale, residual Add; then
                   LayerNormalization over axis 1 and over the last axis (opset 17)
  assorted         Sub, Div, Max, Min, Sum of three, PRelu, Elu, Selu, Gelu, Softplus, InstanceNormalization,
                   Pad reflect and edge (pads as inputs), ReduceMean with axes as an input,
                   ReduceMax, ReduceSum, Gemm with transA on a column, LogSoftmax, MatMul
                   over the rows of a 4-D map, the Gelu op (opset 20)
  resize           Resize nearest (scales, asymmetric, floor) and linear (sizes, half_pixel;
                   scales, align_corners) after a Conv and Relu, then a grouped ConvTranspose with
                   stride, pads and output_padding (opset 13)
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20240611)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def conv_weight(name, out, cin, k):
    bound = (3.0 / (cin * k * k)) ** 0.5
    return const(name, rng.uniform(-bound, bound, (out, cin, k, k)))


def model(name, nodes, inits, shape, outputs, opset):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="exporter_blocks")
    m.ir_version = 8
    onnx.shape_inference.infer_shapes(m, strict_mode=True)  # fails on an ill-formed node
    return m


def se_hardsigmoid():
    c = 16
    inits = [conv_weight("w1", c, c, 3), const("b1", rng.uniform(-0.2, 0.2, c)),
             conv_weight("wr", 4, c, 1), const("br", rng.uniform(-0.2, 0.2, 4)),
             conv_weight("we", c, 4, 1), const("be", rng.uniform(-0.2, 0.2, c)),
             conv_weight("wp", c, c, 1)]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("HardSwish", ["conv"], ["act"]),
        helper.make_node("GlobalAveragePool", ["act"], ["squeeze"]),
        helper.make_node("Conv", ["squeeze", "wr", "br"], ["reduce"]),
        helper.make_node("Relu", ["reduce"], ["reduce_relu"]),
        helper.make_node("Conv", ["reduce_relu", "we", "be"], ["expand"]),
        helper.make_node("HardSigmoid", ["expand"], ["gate"], alpha=1.0 / 6, beta=0.5),
        helper.make_node("Mul", ["act", "gate"], ["excited"]),
        helper.make_node("Conv", ["excited", "wp"], ["project"]),
        helper.make_node("Add", ["project", "x"], ["out"]),
    ]
    return model("se_hardsigmoid", nodes, inits, [1, c, 9, 7], ["out"], 14)


def convnext():
    c, h, w = 8, 11, 9
    inits = [conv_weight("wd", c, 1, 7), const("bd", rng.uniform(-0.2, 0.2, c)),
             const("two", 2.0), const("eps", 1e-6),
             const("lnw", rng.uniform(0.5, 1.5, (c, 1, 1))), const("lnb", rng.uniform(-0.2, 0.2, (c, 1, 1))),
             conv_weight("w1", 4 * c, c, 1), const("b1", rng.uniform(-0.2, 0.2, 4 * c)),
             const("sqrt2", 2.0 ** 0.5), const("one", 1.0), const("half", 0.5),
             conv_weight("w2", c, 4 * c, 1), const("b2", rng.uniform(-0.2, 0.2, c)),
             const("gamma", rng.uniform(0.1, 1.0, (c, 1, 1))),
             const("ln1s", rng.uniform(0.5, 1.5, (c, h, w))), const("ln1b", rng.uniform(-0.2, 0.2, (c, h, w))),
             const("ln3s", rng.uniform(0.5, 1.5, w)), const("ln3b", rng.uniform(-0.2, 0.2, w))]
    nodes = [
        helper.make_node("Conv", ["x", "wd", "bd"], ["dw"], pads=[3, 3, 3, 3], group=c),
        helper.make_node("ReduceMean", ["dw"], ["u"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["dw", "u"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["d2"]),
        helper.make_node("ReduceMean", ["d2"], ["s"], axes=[1], keepdims=1),
        helper.make_node("Add", ["s", "eps"], ["se"]),
        helper.make_node("Sqrt", ["se"], ["sd"]),
        helper.make_node("Div", ["d", "sd"], ["normed"]),
        helper.make_node("Mul", ["normed", "lnw"], ["scaled"]),
        helper.make_node("Add", ["scaled", "lnb"], ["ln"]),
        helper.make_node("Conv", ["ln", "w1", "b1"], ["pw1"]),
        helper.make_node("Div", ["pw1", "sqrt2"], ["g_div"]),
        helper.make_node("Erf", ["g_div"], ["g_erf"]),
        helper.make_node("Add", ["g_erf", "one"], ["g_add"]),
        helper.make_node("Mul", ["pw1", "g_add"], ["g_mul"]),
        helper.make_node("Mul", ["g_mul", "half"], ["gelu"]),
        helper.make_node("Conv", ["gelu", "w2", "b2"], ["pw2"]),
        helper.make_node("Mul", ["pw2", "gamma"], ["layer_scale"]),
        helper.make_node("Add", ["layer_scale", "x"], ["block"]),
        helper.make_node("LayerNormalization", ["block", "ln1s", "ln1b"], ["ln_axis1"], axis=1, epsilon=1e-5),
        helper.make_node("LayerNormalization", ["ln_axis1", "ln3s", "ln3b"], ["ln_last"], axis=-1, epsilon=1e-5),
    ]
    return model("convnext", nodes, inits, [1, c, h, w], ["ln_last"], 17)


def assorted():
    c = 6
    inits = [const("k", rng.uniform(0.5, 2.0, (c, 1, 1))), const("slope", rng.uniform(-0.5, 0.5, (c, 1, 1))),
             const("isc", rng.uniform(0.5, 1.5, c)), const("ib", rng.uniform(-0.3, 0.3, c)),
             ints("pads_r", [0, 0, 2, 1, 0, 0, 1, 3]), ints("pads_e", [0, 0, 1, 0, 0, 0, 2, 2]),
             ints("axes23", [2, 3]), ints("axes1", [1]), conv_weight("w", c, c, 3),
             ints("column", [c, 1]), const("fc", rng.uniform(-0.5, 0.5, (c, 5))), const("fcb", rng.uniform(-0.2, 0.2, 5)),
             const("rows", rng.uniform(-0.5, 0.5, (11, 4)))]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Sub", ["conv", "k"], ["sub"]),
        helper.make_node("Div", ["sub", "k"], ["div"]),
        helper.make_node("Max", ["div", "conv"], ["max"]),
        helper.make_node("Min", ["max", "x"], ["min"]),
        helper.make_node("Sum", ["min", "div", "x"], ["sum"]),
        helper.make_node("PRelu", ["sum", "slope"], ["prelu"]),
        helper.make_node("Elu", ["prelu"], ["elu"], alpha=0.7),
        helper.make_node("Selu", ["elu"], ["selu"]),
        helper.make_node("Gelu", ["selu"], ["gelu"]),
        helper.make_node("Softplus", ["gelu"], ["softplus"]),
        helper.make_node("InstanceNormalization", ["softplus", "isc", "ib"], ["inorm"]),
        helper.make_node("Pad", ["inorm", "pads_r"], ["reflect"], mode="reflect"),
        helper.make_node("Pad", ["reflect", "pads_e"], ["edge"], mode="edge"),
        helper.make_node("ReduceMean", ["edge", "axes23"], ["mean"], keepdims=1),
        helper.make_node("Mul", ["edge", "mean"], ["scaled"]),
        helper.make_node("ReduceMax", ["scaled", "axes1"], ["cmax"], keepdims=1),
        helper.make_node("Sub", ["scaled", "cmax"], ["centred"]),
        helper.make_node("ReduceSum", ["centred", "axes23"], ["total"], keepdims=0),
        helper.make_node("Reshape", ["total", "column"], ["total_column"]),
        helper.make_node("Gemm", ["total_column", "fc", "fcb"], ["logits"], transA=1),
        helper.make_node("LogSoftmax", ["logits"], ["logp"], axis=1),
        helper.make_node("MatMul", ["centred", "rows"], ["row_matmul"]),
    ]
    return model("assorted", nodes, inits, [1, c, 7, 5], ["logp", "row_matmul"], 20)


def resize():
    c = 4
    inits = [conv_weight("w1", c, c, 3), const("b1", rng.uniform(-0.2, 0.2, c)),
             const("scales2", [1, 1, 2, 2]), ints("sizes", [1, c, 11, 17]), conv_weight("w2", c, c, 3),
             conv_weight("wt", c, c // 2, 4), const("bt", rng.uniform(-0.2, 0.2, c))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("Resize", ["relu", "", "scales2"], ["up_nearest"], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("Resize", ["up_nearest", "", "", "sizes"], ["up_linear"], mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("Resize", ["relu", "", "scales2"], ["up_corners"], mode="linear",
                         coordinate_transformation_mode="align_corners"),
        helper.make_node("Conv", ["up_corners", "w2"], ["conv2"], pads=[1, 1, 1, 1]),
        helper.make_node("ConvTranspose", ["conv2", "wt", "bt"], ["deconv"], strides=[2, 2], pads=[1, 1, 1, 1],
                         group=2, output_padding=[1, 0]),
    ]
    return model("resize", nodes, inits, [1, c, 5, 7], ["up_linear", "deconv"], 13)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (se_hardsigmoid, convnext, assorted, resize):
        m = make()
        name = m.graph.name
        onnx.save(m, os.path.join(out, name + ".onnx"))
        shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
        x = rng.normal(0, 1, shape).astype(np.float32)
        with open(os.path.join(out, name + ".npy"), "wb") as f:
            np.lib.format.write_array(f, x, version=(1, 0), allow_pickle=False)
        print(name)


if __name__ == "__main__":
    main()
