#!/usr/bin/python3
"""PyTorch's side of bench/hf_test.go: the same shapes, random weights, the
reference implementations of bench/hf_reference.py (written from
transformers' modeling files, eval mode, no autograd).

    /usr/bin/python3 bench/hf_bench.py [--only bert|smollm] [--torch-threads N] [--mv] [threads ...]

Prints, per thread count, MiniLM-L6-shaped BERT latency (128 tokens, batch
1: ms per forward, best of the runs) and SmolLM-135M-shaped greedy decoding
with a KV cache (tokens/s over 32 tokens after an 8-token prompt), each also
per second of the process's CPU time (less inflated on a loaded machine). Run it
alternated with

    go test -run '^$' -bench 'BertMiniLM|SmolLM' -benchtime=5x ./bench

and unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for it (bench/hf_compare.sh
does both for the decoder). Debian's torch multiplies a single row through
OpenBLAS's sgemv, which has its own threads: run it with
OPENBLAS_NUM_THREADS=1 and with OPENBLAS_NUM_THREADS=t at torch's one thread,
and quote the better; the smollm line names both settings and the weight
bytes read per token. F.linear (transformers' nn.Linear) of a single row
goes through addmm, which in this build calls sgemm, several times slower
than sgemv for one row; --mv sends one-row products through torch.mv
instead (a faster PyTorch than transformers runs, for a stricter
comparison), marked mv=1.
"""

import os
import sys
import time
import types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as R  # noqa: E402

torch.set_grad_enabled(False)


def bert(threads, runs=10):
    c = {"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
         "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2,
         "layer_norm_eps": 1e-12}
    gen = torch.Generator().manual_seed(1)
    w = R.randomize(R.bert_params(c), gen, 0.02)
    ids = torch.randint(0, c["vocab_size"], (1, 128), generator=gen)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    torch.set_num_threads(threads)
    R.bert_forward(w, c, ids, mask, types)
    best, cpu = float("inf"), float("inf")
    for _ in range(runs):
        t, c0 = time.perf_counter(), time.process_time()
        hs = R.bert_forward(w, c, ids, mask, types)
        (hs * mask.unsqueeze(-1)).sum(1) / mask.sum()
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c0)
    return best * 1e3, cpu * 1e3


def linear_mv(x, w, b=None):
    """F.linear, with one row as torch.mv."""
    if x.dim() == 2 and x.shape[0] == 1:
        y = torch.mv(w, x[0]).unsqueeze(0)
        return y if b is None else y + b
    return F.linear(x, w, b)


def smollm(threads, runs=3, n=32, torch_threads=None):
    c = {"model_type": "llama", "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
         "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
         "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "tie_word_embeddings": True}
    gen = torch.Generator().manual_seed(1)
    w = R.randomize(R.llama_params(c), gen, 0.02)
    step = R.llama_step(w, c)
    torch.set_num_threads(torch_threads or threads)
    prompt = list(range(1, 9))
    nbytes = 4 * sum(v.numel() for v in w.values())
    best, cpu = 0.0, 0.0
    for _ in range(runs):
        cache = {}
        logits = step(torch.tensor(prompt), cache, 0)
        pos = len(prompt)
        t, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            tok = int(torch.argmax(logits[-1]))
            logits = step(torch.tensor([tok]), cache, pos)
            pos += 1
        best = max(best, n / (time.perf_counter() - t))
        cpu = max(cpu, n / (time.process_time() - c0))
    return best, cpu, nbytes


if __name__ == "__main__":
    args = sys.argv[1:]
    only, torch_threads = None, None
    mv = False
    while args[:1] in (["--only"], ["--torch-threads"], ["--mv"]):
        if args[0] == "--mv":
            mv, args = True, args[1:]
            # hf_reference's models call F.linear through its module's F.
            R.F = types.SimpleNamespace(**{k: getattr(F, k) for k in dir(F) if not k.startswith("__")})
            R.F.linear = linear_mv
            continue
        if args[0] == "--only":
            only = args[1]
        else:
            torch_threads = int(args[1])
        args = args[2:]
    threads = [int(a) for a in args] or [1, 2]
    print(f"torch {torch.__version__}")
    for t in threads:
        if only in (None, "bert"):
            ms, cpu = bert(t)
            print(f"threads={t} bert_minilm_128 {ms:.2f} ms/op (best) {cpu:.2f} cpu-ms/op (best)")
        if only in (None, "smollm"):
            tps, cpu, nbytes = smollm(t, torch_threads=torch_threads)
            ob = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
            print(f"threads={t} smollm_decode {tps:.2f} tokens/s (best) {cpu:.2f} cpu-tokens/s (best) "
                  f"{tps * nbytes / 1e9:.2f} weight-GB/s torch_threads={torch.get_num_threads()} "
                  f"openblas_threads={ob} mv={int(mv)}")
