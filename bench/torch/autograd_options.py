#!/usr/bin/python3
"""PyTorch reference values for autograd's PyTorch-option ops (issue 20):
exact GELU (and the tanh one), LayerNorm over several trailing dimensions,
matmul with broadcast batch dimensions, cross-entropy with ignore_index and
label_smoothing, pools with ceil_mode, average pooling with
count_include_pad=False, BatchNorm with momentum=None, Embedding with
padding_idx, and nearest and bilinear upsampling.

Every case is computed in float64: the forward value and the gradients of
sum(y * r) for a random upstream adjoint r (so each backward is checked with
a non-uniform seed). Writes autograd/testdata/torch_options.json, read by
autograd's TestTorchOptions; go test needs no Python.

    /usr/bin/python3 bench/torch/autograd_options.py

JSON floats are Python's repr, the shortest round-trip decimal, so the
inputs reach Go bit for bit. NaN is written as null.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
g = torch.Generator().manual_seed(20)


def rnd(*shape, lo=-2.0, hi=2.0):
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo)


def flat(x):
    return [None if math.isnan(v) else v for v in x.detach().reshape(-1).tolist()]


def leaf(x):
    return x.clone().requires_grad_(True)


def seeded(y):
    r = rnd(*y.shape)
    (y * r).sum().backward()
    return r


cases = []

# GELU: exact (PyTorch's default) and tanh-approximate.
for approx in ("none", "tanh"):
    x = leaf(torch.cat([torch.linspace(-7, 7, 29, dtype=torch.float64), rnd(11, lo=-3, hi=3)]))
    y = F.gelu(x, approximate=approx)
    r = seeded(y)
    cases.append({"kind": "gelu", "approximate": approx, "x": flat(x), "xs": list(x.shape),
                  "r": flat(r), "y": flat(y), "gx": flat(x.grad)})

# LayerNorm over several trailing dimensions, with and without the affine.
for xs, ns, affine in (([2, 3, 4, 5], [4, 5], True), ([2, 3, 4], [3, 4], False), ([3, 2, 2, 3], [2, 2, 3], True)):
    x = leaf(rnd(*xs))
    w = leaf(rnd(*ns)) if affine else None
    b = leaf(rnd(*ns)) if affine else None
    y = F.layer_norm(x, ns, w, b, eps=1e-5)
    r = seeded(y)
    c = {"kind": "layernorm", "x": flat(x), "xs": xs, "ns": ns, "r": flat(r), "y": flat(y), "gx": flat(x.grad)}
    if affine:
        c.update({"w": flat(w), "b": flat(b), "gw": flat(w.grad), "gb": flat(b.grad)})
    cases.append(c)

# matmul with broadcast batch dimensions (torch.matmul), operands optionally
# given transposed (the op multiplies op(a)·op(b)).
for as_, bs, ta, tb in (([2, 1, 3, 4], [3, 4, 5], False, False),
                        ([3, 4], [2, 4, 5], False, False),
                        ([2, 3, 4], [4, 5], False, False),
                        ([1, 2, 4, 3], [3, 1, 5, 4], True, True),
                        ([2, 1, 4, 3], [1, 3, 4, 2], True, False)):
    a = leaf(rnd(*as_))
    b = leaf(rnd(*bs))
    y = torch.matmul(a.transpose(-1, -2) if ta else a, b.transpose(-1, -2) if tb else b)
    r = seeded(y)
    cases.append({"kind": "matmul", "a": flat(a), "as": as_, "b": flat(b), "bs": bs, "ta": ta, "tb": tb,
                  "r": flat(r), "y": flat(y), "ys": list(y.shape), "ga": flat(a.grad), "gb": flat(b.grad)})

# cross-entropy (mean) with ignore_index and label_smoothing.
for labels, ignore, smooth in (([0, 4, -100, 2, 1, -100], -100, 0.0),
                               ([2, 2, 0, 3, 1, 4], 2, 0.1),
                               ([3, 1, 0, 4, 2, 1], -100, 0.25),
                               ([1, -100, 3, 3, 0, 2], -100, 0.1),
                               ([-100, -100, -100, -100, -100, -100], -100, 0.0)):
    z = leaf(rnd(6, 5, lo=-4, hi=4))
    t = torch.tensor(labels)
    loss = F.cross_entropy(z, t, ignore_index=ignore, label_smoothing=smooth)
    r = rnd(1)[0]
    (loss * r).backward()
    cases.append({"kind": "ce", "z": flat(z), "zs": [6, 5], "labels": labels, "ignore": ignore,
                  "smoothing": smooth, "r": [r.item()], "loss": flat(loss.reshape(1))[0], "gz": flat(z.grad)})

# Pools with ceil_mode, and average pooling with count_include_pad=False.
for k, s, p, ceil, incl, hw in ((3, 2, 0, True, True, (7, 8)), (3, 2, 1, True, True, (6, 7)),
                                (2, 2, 0, True, True, (5, 5)), (3, 2, 1, False, False, (6, 7)),
                                (3, 2, 1, True, False, (6, 7)), (2, 3, 1, True, False, (7, 5))):
    for kind in ("max", "avg"):
        if kind == "max" and not incl:
            continue
        x = leaf(rnd(1, 2, *hw))
        if kind == "max":
            y = F.max_pool2d(x, k, stride=s, padding=p, ceil_mode=ceil)
        else:
            y = F.avg_pool2d(x, k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=incl)
        r = seeded(y)
        cases.append({"kind": kind + "pool", "x": flat(x), "xs": list(x.shape), "k": k, "s": s, "p": p,
                      "ceil": ceil, "include_pad": incl, "r": flat(r), "y": flat(y), "ys": list(y.shape),
                      "gx": flat(x.grad)})

# BatchNorm2d in training with momentum=None: the running statistics are the
# cumulative average over the batches; three batches.
ch = 3
bn = torch.nn.BatchNorm2d(ch, momentum=None).double()
with torch.no_grad():
    bn.weight.copy_(rnd(ch))
    bn.bias.copy_(rnd(ch))
bn.train()
steps = []
for i in range(3):
    x = leaf(rnd(2, ch, 3, 2))
    bn.zero_grad()
    y = bn(x)
    r = seeded(y)
    steps.append({"x": flat(x), "r": flat(r), "y": flat(y), "gx": flat(x.grad), "gw": flat(bn.weight.grad),
                  "gb": flat(bn.bias.grad), "rm": flat(bn.running_mean), "rv": flat(bn.running_var),
                  "tracked": int(bn.num_batches_tracked)})
cases.append({"kind": "bn_cumulative", "xs": [2, ch, 3, 2], "w": flat(bn.weight), "b": flat(bn.bias),
              "steps": steps})

# Embedding with padding_idx: the padding row gets no gradient.
table = leaf(rnd(5, 3))
idx = [1, 0, 3, 0, 4, 1, 2]
y = F.embedding(torch.tensor(idx), table, padding_idx=0)
r = seeded(y)
cases.append({"kind": "embedding", "table": flat(table), "ts": [5, 3], "idx": idx, "pad": 0, "r": flat(r),
              "y": flat(y), "gt": flat(table.grad)})

# Upsampling to a given size: nearest, and bilinear with and without
# align_corners.
for mode, ac, hw, out in (("nearest", None, (3, 4), (7, 5)), ("nearest", None, (4, 3), (8, 6)),
                          ("bilinear", False, (3, 4), (7, 5)), ("bilinear", True, (3, 4), (7, 5)),
                          ("bilinear", False, (4, 3), (2, 6)), ("bilinear", True, (4, 3), (1, 6))):
    x = leaf(rnd(1, 2, *hw))
    y = F.interpolate(x, size=out, mode=mode, align_corners=ac)
    r = seeded(y)
    cases.append({"kind": "upsample", "mode": mode, "align_corners": bool(ac), "x": flat(x), "xs": list(x.shape),
                  "out": list(out), "r": flat(r), "y": flat(y), "gx": flat(x.grad)})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "autograd", "testdata",
                    "torch_options.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(path, len(cases), "cases")
