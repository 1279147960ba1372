#!/usr/bin/python3
"""PyTorch reference for BenchmarkCNNStep: cmd/mnist's CNN (conv5x5 1->32 pad 2,
ReLU, maxpool 2, conv5x5 32->64 pad 2, ReLU, maxpool 2, Linear 3136->128, ReLU,
Linear 128->10), batch 128, float32, cross-entropy, Adam 1e-3: one full training
step (forward, backward, Adam step, zero_grad), timed at the thread counts given.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/torch/cnn_step.py --threads 1 --steps 20

Prints one line per thread count: best and median ms/step over --repeats
blocks of --steps steps, and process CPU ms/step (all threads) for the best
block, comparable with BenchmarkCNNStep's ms/step and cpu-ms/step.
"""
import argparse
import os
import resource
import statistics
import time

import torch
import torch.nn as nn


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(128, 1, 28, 28)
    y = torch.randint(0, 10, (128,))
    lossf = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    for t in a.threads:
        torch.set_num_threads(t)
        for _ in range(3):
            step()
        times, cpus = [], []
        for _ in range(a.repeats):
            c0, t0 = cpu_s(), time.perf_counter()
            for _ in range(a.steps):
                step()
            times.append((time.perf_counter() - t0) / a.steps * 1e3)
            cpus.append((cpu_s() - c0) / a.steps * 1e3)
        best = min(range(len(times)), key=times.__getitem__)
        print(f"torch threads={t}: best {times[best]:.1f} ms/step, median {statistics.median(times):.1f}, "
              f"cpu {min(cpus):.1f} cpu-ms/step (best of {a.repeats} x {a.steps} steps; "
              f"torch {torch.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")


if __name__ == "__main__":
    main()
