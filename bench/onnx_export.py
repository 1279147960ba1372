#!/usr/bin/python3
"""Exports the ONNX models that package onnx's tests and benchmarks run, with seeded inputs.

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision, python3-numpy):

    onnx_export.py tiny OUTDIR      small test models at opsets 13 and 17 (committed under
                                    onnx/testdata/models by bench/onnx_fixtures.sh)
    onnx_export.py anchors OUTDIR   ResNet-18, MobileNetV2 and the MiniLM-L6-shaped encoder at
                                    opset 14, exported by the shared anchors script
                                    (shared/anchors/export_models.py; its path from $ADJOINT_ANCHORS
                                    or --anchors), so that our figures and the issue's compare
                                    the same work; it also prints PyTorch's latency.
    onnx_export.py inputs OUTDIR [NAME...]
                                    seeded inputs for the anchor models and the two real models
                                    (openWakeWord's embedding model, PaddleOCR's direction
                                    classifier): those named, or those whose NAME.onnx is in OUTDIR.

For a model OUTDIR/NAME.onnx, each input is written as OUTDIR/NAME.in.INPUT.npy (INPUT the graph
input's name with characters outside [A-Za-z0-9_.-] replaced by '_'); bench/onnx_ref.js then writes
ONNX Runtime's outputs as OUTDIR/NAME.out.OUTPUT.npy. Inputs are drawn from numpy's seeded
generator, so the files are the same on every run.
"""
import argparse, os, re, subprocess, sys

import numpy as np


def safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def save_inputs(out, model, feeds):
    for name, arr in feeds.items():
        np.save(os.path.join(out, f"{model}.in.{safe(name)}.npy"), arr, allow_pickle=False)


# ---------------------------------------------------------------- tiny test models

def tiny(out):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def bn(c, g):
        # Non-trivial running statistics and affine parameters, so inference BN is not identity.
        b = nn.BatchNorm2d(c)
        with torch.no_grad():
            b.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
            b.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            b.weight.copy_(torch.rand(c, generator=g) + 0.5)
            b.bias.copy_(torch.randn(c, generator=g) * 0.2)
        return b

    class CNN(nn.Module):
        """Conv+BN+Relu, MaxPool (ceil_mode), strided/dilated conv, AveragePool
        (ceil_mode, count_include_pad=False), Flatten, Gemm."""
        def __init__(s, g):
            super().__init__()
            s.c1 = nn.Conv2d(3, 8, 3, padding=1); s.b1 = bn(8, g)
            s.c2 = nn.Conv2d(8, 12, 3, stride=2, padding=2, dilation=2); s.b2 = bn(12, g)
            s.c3 = nn.Conv2d(12, 16, (3, 1), padding=(1, 0), bias=False); s.b3 = bn(16, g)
            s.fc = nn.Linear(16 * 3 * 3, 10)
        def forward(s, x):
            x = F.max_pool2d(F.relu(s.b1(s.c1(x))), 3, stride=2, ceil_mode=True)
            x = F.relu(s.b2(s.c2(x)))
            x = F.avg_pool2d(F.relu(s.b3(s.c3(x))), 3, stride=2, padding=1, ceil_mode=True,
                             count_include_pad=False)
            return s.fc(torch.flatten(x, 1))

    class MLP(nn.Module):
        def __init__(s):
            super().__init__()
            s.l1 = nn.Linear(32, 64); s.l2 = nn.Linear(64, 48); s.l3 = nn.Linear(48, 10)
        def forward(s, x):
            x = torch.tanh(s.l2(F.relu(s.l1(x))))
            return F.log_softmax(s.l3(x), dim=-1)

    class Block(nn.Module):
        """One pre-norm transformer block with multi-query attention (keys and values have one
        head, broadcast over the query heads by MatMul), a causal mask built from the input's
        shape (Trilu at opset >= 14, a Range comparison below) combined with a padding mask
        (Expand, Where), Softmax, LayerNorm (LayerNormalization at opset 17, its decomposition
        below) and erf GELU."""
        def __init__(s, opset, d=16, h=4):
            super().__init__()
            s.opset, s.h, s.hd = opset, h, d // h
            s.ln1 = nn.LayerNorm(d); s.ln2 = nn.LayerNorm(d)
            s.q = nn.Linear(d, d); s.kv = nn.Linear(d, 2 * s.hd); s.o = nn.Linear(d, d)
            s.f1 = nn.Linear(d, 4 * d); s.f2 = nn.Linear(4 * d, d)
        def forward(s, x, pad):
            B, T, D = x.shape
            y = s.ln1(x)
            q = s.q(y).view(B, T, s.h, s.hd).transpose(1, 2)        # [B,H,T,hd]
            k, v = s.kv(y).unsqueeze(1).split(s.hd, dim=-1)          # [B,1,T,hd] each
            att = q @ k.transpose(-1, -2) / s.hd ** 0.5              # broadcast batch [B,H] x [B,1]
            ones = torch.ones_like(att[0, 0])
            if s.opset >= 14:
                causal = torch.tril(ones) > 0
            else:
                i = torch.arange(ones.shape[0])
                causal = i.unsqueeze(0) <= i.unsqueeze(1)
            keep = causal.unsqueeze(0).unsqueeze(0) & (pad > 0).view(B, 1, 1, T).expand(B, s.h, T, T)
            att = torch.where(keep, att, torch.full_like(att, -1e4)).softmax(-1)
            a = (att @ v).transpose(1, 2).reshape(B, T, D)          # broadcast batch [B,H] x [B,1]
            x = x + s.o(a)
            return x + s.f2(F.gelu(s.f1(s.ln2(x))))

    def ir(cin, cout, stride, dil, exp, g):
        return nn.ModuleDict(dict(
            e=nn.Conv2d(cin, cin * exp, 1, bias=False), be=bn(cin * exp, g),
            d=nn.Conv2d(cin * exp, cin * exp, 3, stride=stride, padding=dil, dilation=dil,
                        groups=cin * exp, bias=False), bd=bn(cin * exp, g),
            p=nn.Conv2d(cin * exp, cout, 1, bias=False), bp=bn(cout, g)))

    class DW(nn.Module):
        """MobileNetV2-style inverted residual blocks: 1x1 expand, depthwise 3x3 (stride 1 and
        2, dilation 2), ReLU6 (Clip), 1x1 project, residual Add; a depthwise conv with a channel
        multiplier (groups < channels), GlobalAveragePool, Gemm."""
        def __init__(s, g):
            super().__init__()
            s.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            s.b1 = ir(8, 8, 1, 1, 3, g); s.b2 = ir(8, 12, 2, 1, 2, g); s.b3 = ir(12, 12, 1, 2, 2, g)
            s.mult = nn.Conv2d(12, 24, 5, padding=2, groups=12)
            s.fc = nn.Linear(24, 5)
        def blk(s, m, x, res):
            y = F.relu6(m["be"](m["e"](x)))
            y = F.relu6(m["bd"](m["d"](y)))
            y = m["bp"](m["p"](y))
            return x + y if res else y
        def forward(s, x):
            x = F.relu6(s.stem(x))
            x = s.blk(s.b1, x, True); x = s.blk(s.b2, x, False); x = s.blk(s.b3, x, True)
            x = F.relu(s.mult(x))
            return s.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    class Decoder(nn.Module):
        """Conv, InstanceNormalization, ConvTranspose (stride 2, output_padding, groups),
        GlobalMaxPool-style max over space, Sigmoid."""
        def __init__(s):
            super().__init__()
            s.c = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            s.n = nn.InstanceNorm2d(8, affine=True)
            s.t1 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1, groups=2)
            s.t2 = nn.ConvTranspose2d(8, 2, (2, 3), stride=(1, 2), padding=(0, 1), dilation=(2, 1))
        def forward(s, x):
            y = F.relu(s.n(s.c(x)))
            y = torch.sigmoid(s.t2(F.relu(s.t1(y))))
            return y, F.adaptive_max_pool2d(y, 1)

    class Recurrent(nn.Module):
        """A bidirectional two-layer LSTM then a GRU, batch-first (ONNX LSTM and GRU)."""
        def __init__(s):
            super().__init__()
            s.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True)
            s.gru = nn.GRU(10, 4, batch_first=True)
        def forward(s, x):
            y, _ = s.lstm(x)
            y, h = s.gru(y)
            return y, h

    rng = np.random.RandomState(21)
    for opset in (13, 17):
        g = torch.Generator().manual_seed(opset)
        torch.manual_seed(opset)
        pad = np.ones((2, 8), np.int64); pad[1, 5:] = 0
        models = {
            "tiny_cnn": (CNN(g), {"x": rng.randn(2, 3, 16, 16).astype(np.float32)}),
            "tiny_mlp": (MLP(), {"x": rng.randn(4, 32).astype(np.float32)}),
            "tiny_transformer": (Block(opset), {"x": rng.randn(2, 8, 16).astype(np.float32), "pad": pad}),
            "tiny_dwconv": (DW(g), {"x": rng.randn(1, 3, 20, 20).astype(np.float32)}),
            "tiny_decoder": (Decoder(), {"x": rng.randn(1, 3, 10, 12).astype(np.float32)}),
            # Its own generator, so that adding it left the other models' inputs unchanged.
            "tiny_rnn": (Recurrent(), {"x": np.random.RandomState(opset).randn(3, 7, 6).astype(np.float32)}),
        }
        for name, (m, feeds) in models.items():
            m.eval()
            base = f"{name}_op{opset}"
            args = tuple(torch.from_numpy(v) for v in feeds.values())
            outs = {"tiny_decoder": ["y", "ymax"], "tiny_rnn": ["y", "h"]}.get(name, ["y"])
            with torch.no_grad():
                # PRESERVE keeps BatchNormalization nodes (eval mode would fold them into the
                # convolutions at export), so our own BN folding has something to fold.
                torch.onnx.export(m, args, os.path.join(out, base + ".onnx"), opset_version=opset,
                                  input_names=list(feeds), output_names=outs,
                                  training=torch.onnx.TrainingMode.PRESERVE)
            save_inputs(out, base, feeds)
            # PyTorch's own outputs, for onnx_fixtures.sh to check ONNX Runtime's against.
            with torch.no_grad():
                ys = m(*args)
            for o, y in zip(outs, ys if isinstance(ys, tuple) else (ys,)):
                np.save(os.path.join(out, f"{base}.torch.{o}.npy"), y.numpy(), allow_pickle=False)
            print("wrote", base, flush=True)


# ---------------------------------------------------------------- anchors and real models

def anchors(out, script):
    if not os.path.exists(script):
        sys.exit(f"onnx_export.py: anchors script {script} not found (set $ADJOINT_ANCHORS or --anchors)")
    subprocess.run([sys.executable, script, out], check=True)
    inputs(out)


def inputs(out, names=None):
    """Seeded inputs for the named models (default: each model present in out), by the shapes
    the benchmarks use."""
    shapes = {
        "resnet18": {"x": ("f", (1, 3, 224, 224))},
        "mobilenet_v2": {"x": ("f", (1, 3, 224, 224))},
        "minilm_l6": {"x": ("i", (1, 128))},
        # openWakeWord's speech embedding: 76 mel frames x 32 bins, NHWC as tf2onnx kept it.
        "embedding_model": {"input_1": ("f", (1, 76, 32, 1))},
        # PaddleOCR's text direction classifier takes 3x48x192 crops.
        "ch_ppocr_mobile_v2.0_cls_infer": {"x": ("f", (1, 3, 48, 192))},
    }
    for seed, (name, feeds) in enumerate(shapes.items()):
        rng = np.random.RandomState(140 + seed)
        want = name in names if names else os.path.exists(os.path.join(out, name + ".onnx"))
        if not want:
            continue
        arrs = {}
        for k, (kind, shp) in feeds.items():
            if kind == "i":
                arrs[k] = rng.randint(0, 30522, size=shp).astype(np.int64)
            else:
                arrs[k] = rng.randn(*shp).astype(np.float32)
        save_inputs(out, name, arrs)
        print("inputs for", name, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["tiny", "anchors", "inputs"])
    p.add_argument("out")
    p.add_argument("names", nargs="*", help="for inputs: the models to write inputs for")
    p.add_argument("--anchors", default=os.environ.get(
        "ADJOINT_ANCHORS", "/work/shared/anchors/export_models.py"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.what == "tiny":
        tiny(a.out)
    elif a.what == "anchors":
        anchors(a.out, a.anchors)
    else:
        inputs(a.out, a.names)


if __name__ == "__main__":
    main()
