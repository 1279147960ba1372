#!/usr/bin/python3
"""Fixtures for onnx's training tests (onnx/train_test.go).

Exports a small CNN and a small MLP with torch.onnx.export in a form that
keeps every parameter an initializer under its state_dict name
(TrainingMode.TRAINING, no constant folding), then computes in PyTorch a
loss for a fixed input and the gradient of every parameter, and saves them
as .npy files in onnx/testdata/train/:

  cnn.onnx                 conv+bn+relu+maxpool, grouped dilated conv+sigmoid,
                           avgpool, flatten, linear (opset 15)
  cnn_x.npy, cnn_labels.npy     input [2,3,8,8] and class labels [2] (int64)
  cnn_{train,eval}_loss.npy     F.cross_entropy(model(x), labels), mean
  cnn_{train,eval}_grad_<name>.npy   d loss / d parameter, per state_dict name
  cnn_train_running_{mean,var}.npy   bn1's running statistics after the
                                     train-mode forward (momentum 0.1)
  mlp.onnx                 3-D input: Linear (MatMul+Add), LayerNorm, GELU,
                           residual Add, Tanh, Linear, Softmax (opset 17)
  mlp_x.npy, mlp_target.npy     input [2,3,5], target [2,3,4]
  mlp_loss.npy, mlp_grad_<name>.npy  loss = sum((model(x) - target)^2)
  ops.onnx                 a transformer-shaped block on token ids: Gather
                           (embedding), shape arithmetic (Shape, Gather, Concat,
                           Reshape), Transpose, batched MatMul, Softmax, Split,
                           Slice, Concat, Unsqueeze/Squeeze, ReduceMean, Pow,
                           Sqrt, Pad, LogSoftmax, LeakyRelu, Gemm (opset 13)
  ops_ids.npy, ops_target.npy, ops_loss.npy, ops_grad_<name>.npy
                           loss = sum((model(ids) - target)^2)
  misc_<case>.onnx         one op each (also Clip, HardSwish, HardSigmoid, Where,
                           Expand, ReduceL2, Max), attribute forms exporters rarely write
                           (Gemm transA/alpha/beta, Conv auto_pad SAME_UPPER and
                           asymmetric pads, AveragePool ceil_mode and
                           count_include_pad=0, opset-11 Softmax over a matrix);
                           y = op(x * p) with p a parameter, loss =
                           sum((y - target)^2), against the same function
                           written in PyTorch: misc_<case>_{x,target,loss,grad_p}.npy
  gpt.onnx                 a GPT-style block: token and position embeddings,
                           decomposed LayerNorm (opset 13), causal mask from a
                           float buffer through masked_fill (Where), tanh GELU,
                           weight-tied head; gpt_{ids,target,loss}.npy,
                           gpt_grad_<name>.npy; loss = F.cross_entropy
  nobackward.onnx          y = CumSum(MatMul(x, w), 1): CumSum has no backward
  nobackward_input.onnx    y = MatMul(CumSum(x, 1), w): only x's gradient needs it
  constweights.onnx        y = x·W + s with W and s Constant nodes (paddle2onnx style)

Run with Debian's torch (python3-torch, 1.13) and python3-onnx:
  /usr/bin/python3 bench/onnx_train_export.py [outdir]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "onnx", "testdata", "train")
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


def save(name, a):
    np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(a))


def export(m, x, name, opset):
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(m, x, path, training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, input_names=["x"], output_names=["y"],
                      opset_version=opset)
    import onnx
    g = onnx.load(path).graph
    inits = {i.name for i in g.initializer}
    params = {k for k, _ in m.named_parameters()}
    missing = params - inits
    assert not missing, "parameters not kept as initializers: %s" % sorted(missing)
    print(name, "ops:", sorted({n.op_type for n in g.node}))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2)
        self.avg = nn.AvgPool2d(2)
        self.fc = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.avg(torch.sigmoid(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.ln = nn.LayerNorm(8)
        self.fc2 = nn.Linear(8, 8)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        h = self.fc1(x)
        h = h + F.gelu(self.fc2(self.ln(h)))
        return torch.softmax(self.head(torch.tanh(h)), dim=-1)


# CNN: gradients in training mode (batch statistics) and evaluation mode.
cnn = CNN()
with torch.no_grad():  # non-trivial running statistics for eval mode
    cnn.bn1.running_mean.uniform_(-0.2, 0.2)
    cnn.bn1.running_var.uniform_(0.5, 1.5)
x = torch.randn(2, 3, 8, 8)
labels = torch.tensor([1, 3])
cnn.train()
export(cnn, x, "cnn", 15)
save("cnn_x", x.numpy())
save("cnn_labels", labels.numpy())
state0 = {k: v.clone() for k, v in cnn.state_dict().items()}
for mode in ["train", "eval"]:
    cnn.load_state_dict(state0)
    cnn.train(mode == "train")
    cnn.zero_grad()
    loss = F.cross_entropy(cnn(x), labels)
    loss.backward()
    save("cnn_%s_loss" % mode, np.array(loss.item(), dtype=np.float32))
    for k, p in cnn.named_parameters():
        save("cnn_%s_grad_%s" % (mode, k), p.grad.numpy())
    if mode == "train":
        save("cnn_train_running_mean", cnn.bn1.running_mean.numpy())
        save("cnn_train_running_var", cnn.bn1.running_var.numpy())

# MLP: 3-D input, so Linear exports as MatMul + Add.
mlp = MLP()
x = torch.randn(2, 3, 5)
target = torch.rand(2, 3, 4)
export(mlp, x, "mlp", 17)
save("mlp_x", x.numpy())
save("mlp_target", target.numpy())
mlp.zero_grad()
loss = ((mlp(x) - target) ** 2).sum()
loss.backward()
save("mlp_loss", np.array(loss.item(), dtype=np.float32))
for k, p in mlp.named_parameters():
    save("mlp_grad_" + k, p.grad.numpy())


class Ops(nn.Module):
    """A small attention block written with the ops exporters emit."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 8)
        self.qkv = nn.Linear(8, 24)
        self.scale = nn.Parameter(torch.tensor(0.7))
        self.out = nn.Linear(3 * 8, 3)

    def forward(self, ids):
        b, t = ids.shape
        h = self.emb(ids)                                   # Gather
        q, k, v = self.qkv(h).split(8, dim=-1)              # MatMul, Split
        q = q.reshape(b, t, 2, 4).transpose(1, 2)           # Shape arithmetic, Transpose
        k = k.reshape(b, t, 2, 4).transpose(1, 2)
        v = v.reshape(b, t, 2, 4).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, 8)
        y = y - y.mean(dim=-1, keepdim=True)
        y = y / torch.sqrt((y ** 2).mean(dim=-1, keepdim=True) + 1e-5)
        y = torch.cat([y[:, :, 2:6], F.pad(y[:, :, :2], (1, 1))], dim=-1)  # Slice, Pad, Concat
        y = F.leaky_relu(y, 0.1).unsqueeze(1).squeeze(1)
        pooled = y[:, :3, :].reshape(b, -1)                 # Slice, Reshape
        return F.log_softmax(self.out(pooled), dim=-1)


ops = Ops()
ids = torch.tensor([[1, 4, 2, 9, 0], [3, 3, 10, 5, 7]])
target = torch.rand(2, 3)
path = os.path.join(out, "ops.onnx")
torch.onnx.export(ops, ids, path, training=torch.onnx.TrainingMode.TRAINING,
                  do_constant_folding=False, input_names=["ids"], output_names=["y"],
                  opset_version=13, dynamic_axes={"ids": {0: "batch", 1: "seq"}})
import onnx
print("ops ops:", sorted({n.op_type for n in onnx.load(path).graph.node}))
save("ops_ids", ids.numpy())
save("ops_target", target.numpy())
ops.zero_grad()
loss = ((ops(ids) - target) ** 2).sum()
loss.backward()
save("ops_loss", np.array(loss.item(), dtype=np.float32))
for k, p in ops.named_parameters():
    save("ops_grad_" + k, p.grad.numpy())

# A graph with an op that has no backward on a parameter's path.
from onnx import TensorProto, helper, numpy_helper
w = numpy_helper.from_array(np.random.RandomState(0).randn(3, 4).astype(np.float32), "w")
axis = numpy_helper.from_array(np.array(1, dtype=np.int64), "axis")
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
     helper.make_node("CumSum", ["h", "axis"], ["y"], name="running_total")],
    "nobackward",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
    [w, axis])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
m.ir_version = 8
with open(os.path.join(out, "nobackward.onnx"), "wb") as f:
    f.write(m.SerializeToString())

# The same op on an input's path only: y = MatMul(CumSum(x, 1), w).
g = helper.make_graph(
    [helper.make_node("CumSum", ["x", "axis"], ["h"], name="running_total"),
     helper.make_node("MatMul", ["h", "w"], ["y"], name="mm")],
    "inputpath",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
    [w, axis])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
m.ir_version = 8
with open(os.path.join(out, "nobackward_input.onnx"), "wb") as f:
    f.write(m.SerializeToString())


# Single-op graphs against the same function written in PyTorch.
def misc(name, op_nodes, xshape, pshape, torch_fn, opset=13, extra=()):
    rs = np.random.RandomState(len(name))
    xv = rs.randn(*xshape).astype(np.float32)
    pv = rs.randn(*pshape).astype(np.float32)
    inits = [numpy_helper.from_array(pv, "p")] + [numpy_helper.from_array(v, k) for k, v in extra]
    nodes = [helper.make_node("Mul", ["x", "p"], ["xp"], name="scale")] + op_nodes
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(xshape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    mdl = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    mdl.ir_version = 7
    with open(os.path.join(out, "misc_%s.onnx" % name), "wb") as f:
        f.write(mdl.SerializeToString())
    x = torch.tensor(xv)
    p = torch.tensor(pv, requires_grad=True)
    ex = {k: torch.tensor(v, requires_grad=True) for k, v in extra if v.dtype == np.float32}
    y = torch_fn(x * p, **ex)
    target = torch.tensor(rs.rand(*y.shape).astype(np.float32))
    loss = ((y - target) ** 2).sum()
    loss.backward()
    save("misc_%s_x" % name, xv)
    save("misc_%s_target" % name, target.numpy())
    save("misc_%s_loss" % name, np.array(loss.item(), dtype=np.float32))
    save("misc_%s_grad_p" % name, p.grad.numpy())
    for k, v in ex.items():
        save("misc_%s_grad_%s" % (name, k), v.grad.numpy())


rs = np.random.RandomState(7)
misc("gemm", [helper.make_node("Gemm", ["xp", "w", "c"], ["y"], transA=1, transB=1, alpha=0.5, beta=2.0)],
     (4, 3), (4, 3), lambda a, w, c: 0.5 * a.T @ w.T + 2 * c,
     extra=[("w", rs.randn(5, 4).astype(np.float32)), ("c", rs.randn(1, 5).astype(np.float32))])
misc("conv_same", [helper.make_node("Conv", ["xp", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2],
                                    kernel_shape=[3, 3])],
     (1, 2, 6, 6), (1, 2, 6, 6), lambda a, w: F.conv2d(F.pad(a, (0, 1, 0, 1)), w, stride=2),
     extra=[("w", rs.randn(3, 2, 3, 3).astype(np.float32))])
misc("conv_asym", [helper.make_node("Conv", ["xp", "w", "b"], ["y"], pads=[1, 0, 2, 1], kernel_shape=[2, 3])],
     (2, 2, 4, 5), (1, 2, 1, 1), lambda a, w, b: F.conv2d(F.pad(a, (0, 1, 1, 2)), w, b),
     extra=[("w", rs.randn(3, 2, 2, 3).astype(np.float32)), ("b", rs.randn(3).astype(np.float32))])
misc("avgpool", [helper.make_node("AveragePool", ["xp"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=0)],
     (1, 2, 6, 6), (1, 2, 6, 6),
     lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False))
misc("maxpool", [helper.make_node("MaxPool", ["xp"], ["y"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)],
     (1, 2, 5, 5), (1, 2, 5, 5), lambda a: F.max_pool2d(a, 2, 2, ceil_mode=True))
misc("softmax11", [helper.make_node("Softmax", ["xp"], ["y"], axis=1)],
     (2, 3, 4), (2, 3, 4), lambda a: torch.softmax(a.reshape(2, 12), 1).reshape(2, 3, 4), opset=11)
misc("reduce", [helper.make_node("ReduceSum", ["xp", "axes"], ["s"], keepdims=0),
                helper.make_node("Unsqueeze", ["s", "axes"], ["u"]),
                helper.make_node("GlobalAveragePool", ["u"], ["y"])],
     (2, 3, 4, 5), (1, 3, 1, 5), lambda a: a.sum(1).unsqueeze(1).mean((2, 3), keepdim=True),
     extra=[("axes", np.array([1], dtype=np.int64))])

misc("relu6", [helper.make_node("Clip", ["xp"], ["y"], min=0.0, max=6.0)], (3, 4), (3, 4),
     lambda a: torch.clamp(a, 0.0, 6.0), opset=6)
misc("hardswish", [helper.make_node("HardSwish", ["xp"], ["y"])], (3, 8), (3, 8), F.hardswish, opset=14)
misc("hardsigmoid", [helper.make_node("HardSigmoid", ["xp"], ["y"], alpha=1 / 6, beta=0.5)], (3, 8), (3, 8),
     F.hardsigmoid)
misc("where", [helper.make_node("Where", ["cond", "xp", "w"], ["y"])], (3, 4), (3, 4),
     lambda a, w: torch.where(torch.tensor([True, False, True, False]), a, w),
     extra=[("w", rs.randn(4).astype(np.float32)), ("cond", np.array([True, False, True, False]))])
misc("expand", [helper.make_node("Expand", ["xp", "shape"], ["y"])], (3, 1), (3, 1),
     lambda a: a.expand(2, 3, 4), extra=[("shape", np.array([2, 1, 4], dtype=np.int64))])


class GPT(nn.Module):
    def __init__(self, vocab=13, t=6, c=8, heads=2):
        super().__init__()
        self.heads = heads
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Parameter(torch.randn(t, c) * 0.1)
        self.ln1 = nn.LayerNorm(c)
        self.attn = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)
        self.ln2 = nn.LayerNorm(c)
        self.fc = nn.Linear(c, 2 * c)
        self.fc2 = nn.Linear(2 * c, c)
        self.register_buffer("mask", torch.tril(torch.ones(t, t)))

    def forward(self, ids):
        b, t = ids.shape
        c = self.wpe.shape[1]
        x = self.wte(ids) + self.wpe[:t]
        q, k, v = self.attn(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // self.heads))
        att = att.masked_fill(self.mask[:t, :t] == 0, float("-inf"))
        y = (torch.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))
        return x @ self.wte.weight.t()                       # tied head


import math
gpt = GPT()
ids = torch.tensor([[1, 5, 2, 12, 0, 7], [3, 3, 9, 4, 11, 6]])
target = torch.tensor([[5, 2, 12, 0, 7, 1], [3, 9, 4, 11, 6, 8]])
path = os.path.join(out, "gpt.onnx")
torch.onnx.export(gpt, ids, path, training=torch.onnx.TrainingMode.TRAINING,
                  do_constant_folding=False, input_names=["ids"], output_names=["logits"],
                  opset_version=13)
print("gpt ops:", sorted({n.op_type for n in onnx.load(path).graph.node}))
print("gpt initializers:", [i.name for i in onnx.load(path).graph.initializer])
save("gpt_ids", ids.numpy())
save("gpt_target", target.numpy())
gpt.zero_grad()
loss = F.cross_entropy(gpt(ids).reshape(-1, 13), target.reshape(-1))
loss.backward()
save("gpt_loss", np.array(loss.item(), dtype=np.float32))
for k, p in gpt.named_parameters():
    save("gpt_grad_" + k, p.grad.numpy())
misc("reducel2", [helper.make_node("ReduceL2", ["xp"], ["y"], axes=[1], keepdims=1)], (3, 4, 2), (3, 4, 2),
     lambda a: torch.linalg.vector_norm(a, dim=1, keepdim=True))
misc("max", [helper.make_node("Max", ["xp", "w"], ["y"])], (3, 4), (3, 4),
     lambda a, w: torch.maximum(a, w), extra=[("w", rs.randn(4).astype(np.float32))])

# Weights in Constant nodes, as paddle2onnx writes them: y = x·W + s.
wc = helper.make_node("Constant", [], ["W"], value=numpy_helper.from_array(
    np.random.RandomState(1).randn(3, 4).astype(np.float32)))
sc = helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(np.array(0.5, dtype=np.float32)))
g = helper.make_graph(
    [wc, sc, helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Add", ["h", "s"], ["y"])],
    "constweights",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
with open(os.path.join(out, "constweights.onnx"), "wb") as f:
    f.write(m.SerializeToString())
