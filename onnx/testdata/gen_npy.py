#!/usr/bin/python3
# Generates the reference fixtures in this folder with numpy and torch (not
# with this package): .npy files of every boundary dtype, and float16 /
# bfloat16 rounding references. Run: /usr/bin/python3 onnx/testdata/gen_npy.py
import os
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
def save(name, a):
    np.save(os.path.join(here, name), a)

# .npy dtype fixtures: values are simple formulas the Go test recomputes.
save("npy_f4.npy", (np.arange(6, dtype="<f4") * 0.5 - 1).reshape(2, 3))
save("npy_f8_be.npy", (np.arange(4, dtype=">f8") / 3).reshape(4))
save("npy_f2.npy", (np.arange(5, dtype="<f2") * 0.25))
save("npy_i8.npy", np.arange(-3, 3, dtype="<i8").reshape(3, 2))
save("npy_i4_scalar.npy", np.array(-7, dtype="<i4"))
save("npy_u1.npy", np.arange(250, 256, dtype="u1"))
save("npy_b1.npy", np.array([[True, False], [False, True]]))
save("npy_empty.npy", np.zeros((0, 3), dtype="<f4"))

# Rounding references: float32 inputs and their float16 / bfloat16 bits.
rng = np.random.default_rng(7)
x = np.concatenate([
    np.array([0, -0.0, 1, -1, 65504, 65519, 65520, 1e6, -1e6, 2**-24, 2**-25, 3 * 2**-26, 2**-14,
              np.inf, -np.inf, 0.1, 1 / 3, 1 + 2**-11, 1 + 3 * 2**-11, 6e-8, 5.96e-8], dtype=np.float32),
    rng.standard_normal(2000).astype(np.float32) * np.float32(10) ** rng.integers(-9, 6, 2000).astype(np.float32),
]).astype(np.float32)
save("round_f32.npy", x)
save("round_f16_bits.npy", x.astype(np.float16).view(np.uint16))
save("round_bf16_bits.npy", torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16))
