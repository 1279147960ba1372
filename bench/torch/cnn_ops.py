#!/usr/bin/python3
"""PyTorch reference values for autograd's TestCNNOpsAgainstTorch (issue 20):
Conv2d (stride, padding, dilation, groups), MaxPool2d with tied maxima,
AvgPool2d and BatchNorm2d over several training and evaluation steps.

Every case is computed in float64: the forward value and the gradients of
sum(y * r) for the case's upstream adjoint r, so each backward is checked
with a non-uniform seed. The case inputs (drawn by the Go test from a seeded
RNG) come in as JSON; the outputs are PyTorch's, never ours.

Record the committed fixture (Debian's python3-torch):

    go test ./autograd -run '^TestCNNOpsAgainstTorch$' -torch.cases=/tmp/cnn_cases.json
    /usr/bin/python3 bench/torch/cnn_ops.py record /tmp/cnn_cases.json autograd/testdata/torch_cnn.json.gz

The fixture holds the cases and PyTorch's results, so go test needs no
Python. The test also runs this script live (mode "eval": cases JSON on
stdin, results JSON on stdout) where /usr/bin/python3 imports torch.

JSON floats are Python's repr and Go's shortest round-trip decimals, so the
inputs reach PyTorch bit for bit.
"""
import gzip
import json
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def t(v, shape, grad=False):
    return torch.tensor(v, dtype=torch.float64).reshape(shape).requires_grad_(grad)


def flat(x):
    return x.detach().reshape(-1).tolist()


def run(c):
    k = c["kind"]
    if k == "conv":
        x = t(c["x"], c["xs"], True)
        w = t(c["w"], c["ws"], True)
        b = t(c["b"], [c["ws"][0]], True)
        y = F.conv2d(x, w, b, stride=c["stride"], padding=c["pad"], dilation=c["dil"], groups=c["groups"])
        (y * t(c["r"], list(y.shape))).sum().backward()
        return {"y": flat(y), "ys": list(y.shape), "gx": flat(x.grad), "gw": flat(w.grad), "gb": flat(b.grad)}
    if k in ("max", "avg"):
        x = t(c["x"], c["xs"], True)
        if k == "max":
            y = F.max_pool2d(x, c["kernel"], stride=c["stride"], padding=c["pad"], dilation=c["dil"])
        else:
            y = F.avg_pool2d(x, c["kernel"], stride=c["stride"], padding=c["pad"], count_include_pad=True)
        (y * t(c["r"], list(y.shape))).sum().backward()
        return {"y": flat(y), "ys": list(y.shape), "gx": flat(x.grad)}
    if k == "bn":
        ch = c["xs"][1]
        rm = torch.zeros(ch, dtype=torch.float64)
        rv = torch.ones(ch, dtype=torch.float64)
        g = t(c["gamma"], [ch], True)
        be = t(c["beta"], [ch], True)
        steps = []
        for s in c["steps"]:
            x = t(s["x"], c["xs"], True)
            g.grad = None
            be.grad = None
            y = F.batch_norm(x, rm, rv, g, be, training=s["train"], momentum=0.1, eps=1e-5)
            (y * t(s["r"], c["xs"])).sum().backward()
            steps.append({"y": flat(y), "gx": flat(x.grad), "gg": flat(g.grad), "gb": flat(be.grad),
                          "rm": rm.tolist(), "rv": rv.tolist()})
        return {"steps": steps}
    raise ValueError("unknown kind %r" % k)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "eval":
        json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)
    elif len(sys.argv) == 4 and sys.argv[1] == "record":
        with open(sys.argv[2]) as f:
            cases = json.load(f)
        out = {"torch": torch.__version__, "cases": cases, "results": [run(c) for c in cases]}
        # No name, mtime 0: the same cases give the same bytes.
        with open(sys.argv[3], "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f:
            f.write(json.dumps(out, separators=(",", ":")).encode())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
