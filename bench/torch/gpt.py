#!/usr/bin/python3
"""PyTorch reference for BenchmarkGPTStep and cmd/chargpt (issue 12).

The same model as nn.GPT with chargpt's defaults, written as nanoGPT's
model.py writes it (pre-norm blocks, fused c_attn, causal softmax, GELU in
its tanh form, tied lm_head, biases, no dropout), float32 on the CPU.

  step:  time one training step (forward, cross-entropy, backward,
         clip_grad_norm 1.0, AdamW betas 0.9/0.99, weight decay 0.1 on
         dim >= 2 only, zero_grad) on a
         fixed random batch, as BenchmarkGPTStep does; prints ms/step.
  train: chargpt's run: every non-test .go file under GOROOT/src outside
         testdata, sorted by path, concatenated, 90% train; random batches;
         clip_grad_norm 1.0; validation loss = mean over 20 random batches.

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, e.g.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/torch/gpt.py step --threads 1
"""
import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attn(nn.Module):
    def __init__(s, c, h):
        super().__init__()
        s.h = h
        s.c_attn = nn.Linear(c, 3 * c)
        s.c_proj = nn.Linear(c, c)

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(x).split(C, dim=2)
        q = q.view(B, T, s.h, C // s.h).transpose(1, 2)
        k = k.view(B, T, s.h, C // s.h).transpose(1, 2)
        v = v.view(B, T, s.h, C // s.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return s.c_proj(y)


class Block(nn.Module):
    def __init__(s, c, h, hidden):
        super().__init__()
        s.ln_1 = nn.LayerNorm(c)
        s.attn = Attn(c, h)
        s.ln_2 = nn.LayerNorm(c)
        s.c_fc = nn.Linear(c, hidden)
        s.c_proj = nn.Linear(hidden, c)

    def forward(s, x):
        x = x + s.attn(s.ln_1(x))
        return x + s.c_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, vocab=256, block=64, layers=4, heads=4, embd=128, hidden=512):
        super().__init__()
        s.wte = nn.Embedding(vocab, embd)
        s.wpe = nn.Embedding(block, embd)
        s.h = nn.ModuleList([Block(embd, heads, hidden) for _ in range(layers)])
        s.ln_f = nn.LayerNorm(embd)
        s.lm_head = nn.Linear(embd, vocab, bias=False)
        s.lm_head.weight = s.wte.weight  # tied
        for n, p in s.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * layers) if n.endswith("c_proj.weight") else 0.02
                torch.nn.init.normal_(p, 0.0, std)
            elif n.endswith("bias"):
                torch.nn.init.zeros_(p)

    def forward(s, idx, targets):
        B, T = idx.shape
        x = s.wte(idx) + s.wpe(torch.arange(T))
        for b in s.h:
            x = b(x)
        logits = s.lm_head(s.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def optimizer(model, lr, wd):
    ps = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in ps if p.dim() >= 2]
    rest = [p for p in ps if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.99), eps=1e-8, foreach=False)


def step_bench(a):
    torch.manual_seed(1)
    model = GPT()
    opt = optimizer(model, 1e-3, 0.1)
    idx = torch.randint(0, 256, (12, 64))
    tgt = torch.randint(0, 256, (12, 64))

    def step():
        loss = model(idx, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(3):
        step()
    times = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        times.append((time.perf_counter() - t0) / a.steps * 1e3)
    times.sort()
    print(f"torch threads={a.threads}: ms/step best {times[0]:.1f} median {times[len(times)//2]:.1f} worst {times[-1]:.1f} ({a.rounds}x{a.steps} steps)")


def corpus(goroot):
    src = os.path.join(goroot, "src")
    files = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d != "testdata"]
        for f in filenames:
            p = os.path.join(dirpath, f)
            if f.endswith(".go") and not f.endswith("_test.go") and os.path.isfile(p) and not os.path.islink(p):
                files.append(os.path.relpath(p, src).replace(os.sep, "/"))
    files.sort()
    data = b"".join(open(os.path.join(src, f), "rb").read() for f in files)
    n = len(data) * 9 // 10
    return len(files), np.frombuffer(data[:n], dtype=np.uint8), np.frombuffer(data[n:], dtype=np.uint8)


def train(a):
    goroot = a.goroot or subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
    nfiles, tr, va = corpus(goroot)
    print(f"data: {nfiles} Go files, {len(tr) + len(va)} bytes: {len(tr)} train, {len(va)} validation")
    torch.manual_seed(a.seed)
    model = GPT()
    opt = optimizer(model, 1e-3, 0.1)
    gen = torch.Generator().manual_seed(a.seed)
    T, B = 64, 12

    def batch(d):
        ix = torch.randint(len(d) - T, (B,), generator=gen)
        x = torch.stack([torch.from_numpy(d[i:i + T].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(d[i + 1:i + 1 + T].astype(np.int64)) for i in ix])
        return x, y

    @torch.no_grad()
    def estimate(d):
        return sum(model(*batch(d)).item() for _ in range(20)) / 20

    t0 = time.perf_counter()
    train_t = 0.0
    for it in range(a.iters):
        if it % 250 == 0:
            print(f"iter {it}: train loss {estimate(tr):.4f}, val loss {estimate(va):.4f} ({time.perf_counter() - t0:.1f}s)", flush=True)
        ts = time.perf_counter()
        x, y = batch(tr)
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        train_t += time.perf_counter() - ts
    v = estimate(va)
    print(f"iter {a.iters}: train loss {estimate(tr):.4f}, val loss {v:.4f}")
    print(f"trained {a.iters} iterations in {train_t:.1f}s ({1e3 * train_t / max(a.iters, 1):.1f} ms/iter; {time.perf_counter() - t0:.1f}s with evaluation): val loss {v:.4f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["step", "train"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--goroot", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    step_bench(a) if a.mode == "step" else train(a)


if __name__ == "__main__":
    main()
