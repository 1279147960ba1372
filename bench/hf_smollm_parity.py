#!/usr/bin/python3
"""Greedy parity at SmolLM-135M's full configuration (issue 22's target:
64 greedy tokens identical to PyTorch's with a KV cache, float32).

    /usr/bin/python3 bench/hf_smollm_parity.py DIR [--std S] [--seed N]
    ADJOINT_SMOLLM_DIR=DIR go test -run SmolLMParity -v ./bench

writes into DIR a Hugging Face model folder of SmolLM-135M's shape
(config.json as the hub's, model.safetensors, generation_config.json; about
540 MB, so it is not committed) with random float32 weights, and the
fixture the Go test checks:

    expected.json         prompt (9 ids), greedy (64 ids), min_top2_margin
    expected.safetensors  prompt_logits [9, 49152] (the last row is the first
                          step's logits), full_logits [73, 49152]
                          (the whole sequence recomputed in one pass)

Weights: N(0, σ²) with σ = 1/√576 (SmolLM2-135M's initializer_range; the
scale at which a layer neither shrinks nor blows up its input), RMSNorm
weights 1 + N(0, 0.1²), seed 1 unless given; no other structure. At SmolLM's
own initializer_range, 0.02, the layers barely move the residual stream and
greedy decoding falls into repeating one token (3 distinct in 64); at 1/√576
61 of the 64 differ. The script prints how many are distinct and fails if
fewer than 16 are, or if the smallest gap between the two best logits of any
step is below 1e-4 (a step decided by rounding would not be a test). It also
prints PyTorch's own disagreement between its KV-cache step logits and its
one-pass recomputation: the float32 noise floor at this depth.
The reference is bench/hf_reference.py's llama_step, written from
transformers' modeling_llama.py. The tiny committed version of the same
geometry is hf/testdata/smollm (bench/hf_reference.py's make_smollm_tiny).
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as R  # noqa: E402

torch.set_grad_enabled(False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--std", type=float, default=1 / 24)  # 1/√576
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t0 = time.time()
    step = R.make_smollm(a.dir, R.SMOLLM_135M, seed=a.seed, std=a.std, n_new=64)
    with open(os.path.join(a.dir, "expected.json")) as f:
        fx = json.load(f)
    g = fx["greedy"]
    seq = fx["prompt"] + g
    full = step(torch.tensor(seq), {}, 0)
    cache, worst = {}, 0.0
    for i, t in enumerate(seq[:-1]):
        lg = step(torch.tensor([t]), cache, i)[-1]
        worst = max(worst, float((lg - full[i]).abs().max() / full[i].abs().max()))
    print(f"PyTorch KV-cache step logits vs its one-pass recomputation: max rel error {worst:.3g}")
    distinct = len(set(g))
    print(f"{a.dir}: {len(g)} greedy tokens, {distinct} distinct, smallest top-2 logit gap "
          f"{fx['min_top2_margin']:.3g}, eos {R.SMOLLM_135M['eos_token_id']} "
          f"{'generated' if R.SMOLLM_135M['eos_token_id'] in g else 'not generated'} "
          f"({time.time() - t0:.0f} s)")
    print("greedy:", g)
    if distinct < 16 or fx["min_top2_margin"] < 1e-4:
        sys.exit("degenerate fixture: choose another --seed or --std")


if __name__ == "__main__":
    main()
