#!/usr/bin/python3
"""Recomputes, with PyTorch, the reference values that some Go tests keep
inline (small enough to read in the test), and checks that each one is
written in its test file, so that those literals stay PyTorch's:

  optim/clip_test.go     TestClipGradNormPyTorch (clip_grad_norm_)
  optim/groups_test.go   TestAdamWGroupsPyTorch (AdamW with two parameter
                         groups and clip_grad_norm_, float64 and float32)
  tensor/stable_test.go  TestLargeLogitsRows (log_softmax, softmax,
                         logsumexp of large logits)
  autograd/stable_test.go the stable64/stable32 cases (cross_entropy,
                         log_softmax, softmax and their gradients)

    /usr/bin/python3 bench/torch/inline_refs.py        # check (exit 1 on a miss)
    /usr/bin/python3 bench/torch/inline_refs.py print  # print the values

Floats are Python's repr, the shortest round-trip decimal, as Go writes
them; float32 results are widened to float64 by .tolist(), as the tests
record them. The inputs below are copied from the tests.
"""
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def clip():
    ps = [torch.zeros(2, 3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)]
    ps[0].grad = torch.tensor([[1.0, -0.5, 0.25], [2.0, 0.0, -1.0]], dtype=torch.float64)
    ps[1].grad = torch.tensor([0.5, 1.0, -0.75], dtype=torch.float64)
    total = float(torch.nn.utils.clip_grad_norm_(ps, 1.5))
    return [total] + [v for p in ps for v in p.grad.flatten().tolist()]


P0 = {"w": [[0.3, -1.2, 2.0], [0.0, 0.5, -0.7]], "b": [0.1, -0.2, 0.05],
      "e": [[1.0, -1.0], [0.25, 0.5], [-2.0, 0.0], [0.3, 0.3]]}
GRADS = [
    {"w": [1.0, -0.5, 0.25, 2.0, 0.0, -1.0], "b": [0.5, 1.0, -0.75], "e": [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8]},
    {"w": [0.1, -0.05, 0.025, 0.2, 0.0, -0.1], "b": [0.05, 0.1, -0.075], "e": [0.01, 0.2, -0.03, 0.04, 0.05, -0.06, 0.07, 0.08]},
    {"w": [-1.0, 0.5, 0.0, 0.0, 1.5, 0.5], "b": [0.0, -0.3, 0.2], "e": [0.2, 0.1, 0.3, -0.4, -0.5, 0.6, 0.0, 0.9]},
]


def groups(dt):
    P = {k: torch.tensor(v, dtype=dt, requires_grad=True) for k, v in P0.items()}
    opt = torch.optim.AdamW([{"params": [P["w"], P["e"]], "weight_decay": 0.1},
                             {"params": [P["b"]], "weight_decay": 0.0}],
                            lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.5)
    totals = []
    for g in GRADS:
        for k in P:
            P[k].grad = torch.tensor(g[k], dtype=dt).reshape(P[k].shape)
        totals.append(float(torch.nn.utils.clip_grad_norm_([P["w"], P["b"], P["e"]], max_norm=1.0)))
        opt.step()
    return totals + [v for k in ("w", "b", "e") for v in P[k].detach().flatten().tolist()]


def rows(dt, zs):
    out = []
    for z in zs:
        z = torch.tensor([z], dtype=dt)
        out += torch.log_softmax(z, 1).flatten().tolist() + torch.softmax(z, 1).flatten().tolist()
        out.append(torch.logsumexp(z, 1).item())
    return out


def stable(dt, zs):
    out = []
    for z in zs:
        x = torch.tensor([z], dtype=dt, requires_grad=True)
        loss = F.cross_entropy(x, torch.tensor([1]))
        loss.backward()
        out += [loss.item()] + x.grad.flatten().tolist()
        out += torch.log_softmax(x, 1).flatten().tolist() + torch.softmax(x, 1).flatten().tolist()
        x.grad = None
        torch.log_softmax(x, 1)[0, 1].backward()
        out += x.grad.flatten().tolist()
    return out


def cases():
    big = [[1e8, 1e8], [1e8, 1e8 - 1]]
    return [
        ("optim/clip_test.go", "clip_grad_norm_", clip()),
        ("optim/groups_test.go", "AdamW groups float64", groups(torch.float64)),
        ("optim/groups_test.go", "AdamW groups float32", groups(torch.float32)),
        ("tensor/stable_test.go", "large logits float64", rows(torch.float64, big)),
        ("tensor/stable_test.go", "large logits float32", rows(torch.float32, [[1e8, 1e8]])),
        ("autograd/stable_test.go", "stable float64", stable(torch.float64, big)),
        ("autograd/stable_test.go", "stable float32", stable(torch.float32, [[1e8, 1e8]])),
    ]


def main():
    if sys.argv[1:] == ["print"]:
        for path, what, vals in cases():
            print(path, what, [repr(v) for v in vals])
        return
    if sys.argv[1:]:
        sys.exit(__doc__)
    bad = 0
    for path, what, vals in cases():
        with open(path) as f:
            text = f.read()
        missing = [repr(v) for v in vals if repr(v) not in text]
        print(f"{path}: {what}: {len(vals) - len(missing)}/{len(vals)} PyTorch values found")
        if missing:
            print("  missing:", missing)
            bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
