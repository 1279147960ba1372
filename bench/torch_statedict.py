#!/usr/bin/python3
"""PyTorch state-dict fixtures for nn's checkpoint tests (issue 20).

  gen   [DIR]                  build small PyTorch models (square and
                               non-square Linear, Conv2d, BatchNorm2d with
                               trained running statistics, LayerNorm,
                               Embedding, a GPT shaped as nn.GPT with
                               nanoGPT's names), and write into DIR
                               (default nn/testdata/torch):
                                 NAME.safetensors  the state dict, as
                                                   safetensors.torch.save_file
                                                   writes it ({"format": "pt"})
                                 NAME.npz          the same, numpy.savez of
                                                   each tensor's .numpy()
                                 NAME_io.npz       x (an input) and y
                                                   (PyTorch's output, eval mode)
  check NAME STATE IO [...]    build NAME, load STATE (a .safetensors or .npz
                               written by nn.Save) with
                               load_state_dict(strict=True), run IO's x and
                               compare with IO's y; exit 1 past the tolerance.
                               Several triples may follow (one torch start).
  record DIR OUT               for every model NAME, load DIR/NAME.safetensors
                               and DIR/NAME.npz (written by nn.Save from a
                               seeded model of ours: go test ./nn -run
                               '^TestTorchLoadsOurs$' -torch.record=DIR) with
                               load_state_dict(strict=True), run
                               DIR/NAME_io.npz's x, and write OUT (JSON,
                               nn/testdata/torch/ours.json): per model the
                               state dict's names, dtypes and shapes as
                               PyTorch's model has them, each loaded tensor's
                               float64 sum (a fingerprint of our weights) and
                               PyTorch's output y. TestTorchLoadsOurs checks
                               against OUT without Python.

Run with Debian's torch: /usr/bin/python3 bench/torch_statedict.py gen
The safetensors package is used when importable; Debian ships none, so
otherwise the file is written and read here from the format's definition
(huggingface/safetensors docs: u64 header length, JSON header with
"__metadata__", tensors ordered by dtype size then name, header padded with
spaces to 8 bytes, little-endian C-order data), as save_file lays it out.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from safetensors.torch import load_file as st_load, save_file as st_save
except ImportError:
    st_load = st_save = None

DTYPES = {torch.float32: ("F32", 4), torch.float64: ("F64", 8), torch.int64: ("I64", 8),
          torch.float16: ("F16", 2), torch.bfloat16: ("BF16", 2), torch.int32: ("I32", 4),
          torch.uint8: ("U8", 1), torch.bool: ("BOOL", 1)}
BACK = {v[0]: k for k, v in DTYPES.items()}


def save_safetensors(sd, path):
    sd = {k: v.detach().clone().contiguous() for k, v in sd.items()}  # tied weights: separate copies
    if st_save is not None:
        st_save(sd, path, metadata={"format": "pt"})
        return
    names = sorted(sd, key=lambda k: (-DTYPES[sd[k].dtype][1], k))
    header, off, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for k in names:
        t = sd[k]
        b = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[k] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_safetensors(path):
    if st_load is not None:
        return st_load(path)
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for k, e in header.items():
        b, en = e["data_offsets"]
        dt = BACK[e["dtype"]]
        out[k] = torch.frombuffer(bytearray(data[b:en]), dtype=dt).reshape(e["shape"]).clone() if en > b \
            else torch.zeros(e["shape"], dtype=dt)
    return out


def load_state(path):
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: torch.from_numpy(z[k].copy()) for k in z.files}
    return load_safetensors(path)


# --- the models (each the architecture of a Go test's model) ---------------

def mlp():
    # Square and non-square Linear layers: nn.NewMLP(5, 4, 4, 3) with Tanh.
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 3))


def cnn():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 6, 3, stride=2, groups=2), nn.Flatten(), nn.Linear(6 * 2 * 2, 3))


class EmbLN(nn.Module):
    """A user's module: Embedding then LayerNorm over token ids."""

    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(10, 6)
        s.ln = nn.LayerNorm(6)

    def forward(s, ids):
        return s.ln(s.emb(ids))


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
        att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        return s.c_proj((F.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C))


class MLPBlock(nn.Module):
    def __init__(s, c, hidden):
        super().__init__()
        s.c_fc = nn.Linear(c, hidden)
        s.c_proj = nn.Linear(hidden, c)

    def forward(s, x):
        return s.c_proj(F.gelu(s.c_fc(x), approximate="tanh"))  # nn.GPT's GELU


class Block(nn.Module):
    def __init__(s, c, h, hidden):
        super().__init__()
        s.ln_1, s.attn, s.ln_2, s.mlp = nn.LayerNorm(c), Attn(c, h), nn.LayerNorm(c), MLPBlock(c, hidden)

    def forward(s, x):
        x = x + s.attn(s.ln_1(x))
        return x + s.mlp(s.ln_2(x))


class GPT(nn.Module):
    """nanoGPT's module tree and names; nn.GPTConfig{VocabSize: 16,
    BlockSize: 8, Layers: 2, Heads: 2, Embd: 8, Hidden: 32}."""

    def __init__(s, vocab=16, block=8, layers=2, heads=2, embd=8, hidden=32):
        super().__init__()
        s.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, embd), wpe=nn.Embedding(block, embd),
            h=nn.ModuleList([Block(embd, heads, hidden) for _ in range(layers)]),
            ln_f=nn.LayerNorm(embd)))
        s.lm_head = nn.Linear(embd, vocab, bias=False)
        s.lm_head.weight = s.transformer.wte.weight  # tied, as nanoGPT

    def forward(s, idx):
        t = idx.shape[1]
        x = s.transformer.wte(idx) + s.transformer.wpe(torch.arange(t))
        for b in s.transformer.h:
            x = b(x)
        return s.lm_head(s.transformer.ln_f(x))


MODELS = {"mlp": mlp, "mlp_f64": mlp, "cnn": cnn, "cnn_f64": cnn, "embln": EmbLN, "gpt": GPT}


def build(name):
    m = MODELS[name]()
    if name.endswith("_f64"):
        m = m.double()
    return m


def tol(name):
    return 1e-12 if name.endswith("_f64") else 1e-5


def gen(out):
    os.makedirs(out, exist_ok=True)
    for name in MODELS:
        torch.manual_seed(sum(map(ord, name)))
        m = build(name)
        dt = torch.float64 if name.endswith("_f64") else torch.float32
        with torch.no_grad():  # make every parameter non-trivial (biases, norms)
            for p in m.parameters():
                p.add_(0.1 * torch.randn(p.shape, dtype=p.dtype))
        if name.startswith("mlp"):
            x = torch.randn(3, 2, 5, dtype=dt)  # [..., in]
        elif name.startswith("cnn"):
            x = torch.randn(2, 2, 6, 6, dtype=dt)
            m.train()
            with torch.no_grad():
                for _ in range(3):  # running statistics move, num_batches_tracked = 3
                    m(torch.randn(4, 2, 6, 6, dtype=dt) * 2 + 0.5)
        elif name == "embln":
            x = torch.randint(0, 10, (2, 3))
        else:
            x = torch.randint(0, 16, (2, 8))
        m.eval()
        with torch.no_grad():
            y = m(x)
        sd = m.state_dict()
        save_safetensors(sd, os.path.join(out, name + ".safetensors"))
        np.savez(os.path.join(out, name + ".npz"), **{k: v.detach().numpy() for k, v in sd.items()})
        np.savez(os.path.join(out, name + "_io.npz"), x=x.numpy(), y=y.numpy())
        print(name, {k: list(v.shape) for k, v in sd.items()})


def check(name, state, io):
    m = build(name)
    sd = load_state(state)
    # The file's dtypes are the model's own (BatchNorm's num_batches_tracked
    # int64), not only convertible by load_state_dict's copy_.
    bad = {k: (str(v.dtype), str(m.state_dict()[k].dtype)) for k, v in sd.items()
           if k in m.state_dict() and v.dtype != m.state_dict()[k].dtype}
    if bad:
        print(f"{name} {os.path.basename(state)}: dtypes (file, torch) differ: {bad}")
        return False
    m.load_state_dict(sd, strict=True)
    m.eval()
    with np.load(io) as z:
        x, want = torch.from_numpy(z["x"].copy()), z["y"]
    if name in ("embln", "gpt"):
        x = x.long()
    with torch.no_grad():
        got = m(x).numpy()
    got = got.reshape(want.shape)
    diff = float(np.max(np.abs(got - want))) if want.size else 0.0
    print(f"{name} {os.path.basename(state)}: strict load_state_dict ok; max |torch - ours| = {diff:.3g}")
    return diff <= tol(name)


def record(d, out):
    rec = {"torch": torch.__version__, "models": {}}
    for name in MODELS:
        ys = []
        for ext in (".safetensors", ".npz"):
            m = build(name)
            sd = load_state(os.path.join(d, name + ext))
            m.load_state_dict(sd, strict=True)
            m.eval()
            with np.load(os.path.join(d, name + "_io.npz")) as z:
                x = torch.from_numpy(z["x"].copy())
            if name in ("embln", "gpt"):
                x = x.long()
            with torch.no_grad():
                ys.append(m(x).reshape(-1).double().tolist())
        if ys[0] != ys[1]:
            sys.exit(f"{name}: the .safetensors and .npz files give different outputs")
        own = m.state_dict()
        rec["models"][name] = {
            "keys": {k: [DTYPES[v.dtype][0], list(v.shape)] for k, v in own.items()},
            "sums": {k: float(v.double().sum()) for k, v in sd.items()},
            "y": ys[0],
        }
        print(name, "strict load_state_dict ok (both files)")
    with open(out, "w") as f:  # a model a line
        f.write('{"torch": %s, "models": {\n' % json.dumps(rec["torch"]))
        f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True, separators=(",", ":")))
                           for k, v in rec["models"].items()))
        f.write("\n}}\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "gen":
        gen(sys.argv[2] if len(sys.argv) > 2 else "nn/testdata/torch")
    elif len(sys.argv) >= 5 and len(sys.argv) % 3 == 2 and sys.argv[1] == "check":
        args = sys.argv[2:]
        ok = [check(*args[i:i + 3]) for i in range(0, len(args), 3)]
        sys.exit(0 if all(ok) else 1)
    elif len(sys.argv) == 4 and sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
