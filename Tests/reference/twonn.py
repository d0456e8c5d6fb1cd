"""The intrinsic dimension (TwoNN) and PCA-90 of a point set, computed independently with NumPy.

    twonn.py make OUT.npy --d D --ambient A --n N [--seed S] [--repeat R]
        writes N points of a curved D-dimensional manifold in A dimensions (a random smooth
        embedding of the unit cube: sin/cos features mixed linearly), the first R rows repeated
    twonn.py measure X.npy
        prints {"id": d, "n": distinct points, "pca90": k, "duplicates": r}

TwoNN (Facco et al. 2017): exact distances in float64 among distinct rows; mu = r2 / r1 per point;
sorted, F_i = i / N; the largest 10% of the ratios left out; least squares through the origin of
-log(1 - F) against log(mu). PCA-90: the fewest principal components (SVD of the centred distinct
rows) whose variances reach 90% of the total.
"""
import json
import sys

import numpy as np


def make(out, d, ambient, n, seed, repeat):
    rng = np.random.default_rng(seed)
    u = rng.random((n, d))
    freqs = rng.normal(size=(d, 3 * ambient))
    features = np.concatenate([u, np.sin(u @ freqs[:, :ambient]), np.cos(u @ freqs[:, ambient:2 * ambient])], axis=1)
    mix = rng.normal(size=(features.shape[1], ambient)) / np.sqrt(features.shape[1])
    x = (features @ mix).astype(np.float32)
    if repeat:
        x = np.concatenate([x, x[:repeat]], axis=0)
    np.save(out, x)


def measure(path):
    x = np.load(path).astype(np.float64)
    distinct = np.unique(x, axis=0)
    n = distinct.shape[0]
    sq = (distinct * distinct).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * distinct @ distinct.T, 0)
    np.fill_diagonal(d2, np.inf)
    nearest = np.argsort(d2, axis=1)[:, :3]
    # Exact distances of the three candidates, so cancellation never picks the wrong neighbour.
    exact = np.stack([((distinct - distinct[nearest[:, k]]) ** 2).sum(axis=1) for k in range(3)], axis=1)
    exact.sort(axis=1)
    mu = np.sort(np.sqrt(exact[:, 1] / exact[:, 0]))
    kept = max(int(np.floor(n * 0.9)), 2)
    kept = min(kept, n - 1)
    xs = np.log(mu[:kept])
    ys = -np.log(1 - np.arange(1, kept + 1) / n)
    dim = float((xs * ys).sum() / (xs * xs).sum())
    centred = distinct - distinct.mean(axis=0)
    var = np.linalg.svd(centred, compute_uv=False) ** 2
    share = np.cumsum(var) / var.sum()
    pca90 = int(np.searchsorted(share, 0.9 - 1e-12) + 1)
    print(json.dumps({"id": dim, "n": n, "pca90": pca90, "duplicates": x.shape[0] - n}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        args = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        make(sys.argv[2], int(args["--d"]), int(args["--ambient"]), int(args["--n"]), int(args.get("--seed", 0)),
             int(args.get("--repeat", 0)))
    elif sys.argv[1] == "measure":
        measure(sys.argv[2])
    else:
        sys.exit("usage: twonn.py make OUT.npy --d D --ambient A --n N [--seed S] [--repeat R] | measure X.npy")
