#!/usr/bin/python3
"""Reference implementations of Hugging Face architectures, and the fixtures
that package hf tests against.

Run with Debian's python3-torch (the `transformers` package is not needed):

    /usr/bin/python3 bench/hf_reference.py hf/testdata

The models below are written from the Hugging Face `transformers`
architecture definitions (modeling_bert.py, modeling_gpt2.py,
modeling_llama.py, modeling_qwen2.py) and sentence-transformers' Pooling and
Normalize modules: the same parameter names, layouts and arithmetic, in plain
PyTorch. Each tiny model gets random weights, saved as a Hugging Face model
folder (config.json, model.safetensors or shards with
model.safetensors.index.json, generation_config.json), and the outputs of
fixed inputs are saved beside it:

    expected.safetensors  float32 outputs (hidden states, embeddings, logits)
    expected.json         input ids, masks, greedy tokens from a KV-cache loop

The safetensors writer is here (JSON header + raw little-endian bytes,
{"format": "pt"} metadata) because the safetensors package is not installed.
"""

import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)

DTYPES = {torch.float32: ("F32", 4), torch.float16: ("F16", 2),
          torch.bfloat16: ("BF16", 2), torch.int64: ("I64", 8)}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: the upper halves of the float32 bits.
        u = t.float().view(torch.int32).numpy().astype("<i4")
        return ((u >> 16) & 0xFFFF).astype("<u2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> torch tensor) as a safetensors file."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name]
        dt, size = DTYPES[t.dtype]
        b = tensor_bytes(t)
        assert len(b) == t.numel() * size
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = metadata or {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def write_json(path, obj, indent=2):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, sort_keys=True)
        f.write("\n")


def randomize(params, gen, std):
    """Draws every parameter: weights N(0, std²), norms 1 + N(0, 0.1²),
    biases N(0, 0.1²), so every term shows in the outputs."""
    out = {}
    for name, shape in params.items():
        if name.endswith("bias"):
            out[name] = 0.1 * torch.randn(shape, generator=gen)
        elif "ln_" in name or name.endswith("norm.weight") or name.endswith("LayerNorm.weight"):
            out[name] = 1 + 0.1 * torch.randn(shape, generator=gen)
        else:
            out[name] = std * torch.randn(shape, generator=gen)
    return out


# ---------------------------------------------------------------- BERT

def bert_params(c):
    h, i = c["hidden_size"], c["intermediate_size"]
    p = {
        "embeddings.word_embeddings.weight": (c["vocab_size"], h),
        "embeddings.position_embeddings.weight": (c["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": (c["type_vocab_size"], h),
        "embeddings.LayerNorm.weight": (h,), "embeddings.LayerNorm.bias": (h,),
        "pooler.dense.weight": (h, h), "pooler.dense.bias": (h,),
    }
    for l in range(c["num_hidden_layers"]):
        q = f"encoder.layer.{l}."
        for n in ("query", "key", "value"):
            p[q + f"attention.self.{n}.weight"] = (h, h)
            p[q + f"attention.self.{n}.bias"] = (h,)
        p[q + "attention.output.dense.weight"] = (h, h)
        p[q + "attention.output.dense.bias"] = (h,)
        p[q + "attention.output.LayerNorm.weight"] = (h,)
        p[q + "attention.output.LayerNorm.bias"] = (h,)
        p[q + "intermediate.dense.weight"] = (i, h)
        p[q + "intermediate.dense.bias"] = (i,)
        p[q + "output.dense.weight"] = (h, i)
        p[q + "output.dense.bias"] = (h,)
        p[q + "output.LayerNorm.weight"] = (h,)
        p[q + "output.LayerNorm.bias"] = (h,)
    return p


def bert_forward(w, c, ids, mask, types):
    """BertModel.forward's last_hidden_state (eval mode: no dropout)."""
    B, T = ids.shape
    h, nh = c["hidden_size"], c["num_attention_heads"]
    d = h // nh
    eps = c["layer_norm_eps"]
    pos = torch.arange(T).unsqueeze(0)
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.token_type_embeddings.weight"][types]
         + w["embeddings.position_embeddings.weight"][pos])
    x = F.layer_norm(x, (h,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    # get_extended_attention_mask: (1 - mask) * finfo.min added to scores.
    ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for l in range(c["num_hidden_layers"]):
        q = f"encoder.layer.{l}."
        lin = lambda n, t: F.linear(t, w[q + n + ".weight"], w[q + n + ".bias"])
        heads = lambda t: t.view(B, T, nh, d).transpose(1, 2)
        Q, K, V = (heads(lin(f"attention.self.{n}", x)) for n in ("query", "key", "value"))
        s = Q @ K.transpose(-1, -2) / math.sqrt(d) + ext
        a = torch.softmax(s, dim=-1) @ V
        a = a.transpose(1, 2).reshape(B, T, h)
        x = F.layer_norm(lin("attention.output.dense", a) + x, (h,),
                         w[q + "attention.output.LayerNorm.weight"], w[q + "attention.output.LayerNorm.bias"], eps)
        f = F.gelu(lin("intermediate.dense", x))  # erf GELU ("gelu")
        x = F.layer_norm(lin("output.dense", f) + x, (h,),
                         w[q + "output.LayerNorm.weight"], w[q + "output.LayerNorm.bias"], eps)
    return x


def make_bert(out):
    c = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": 96,
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 48,
        "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
        "pad_token_id": 0, "position_embedding_type": "absolute", "use_cache": True,
        "classifier_dropout": None, "torch_dtype": "float32", "transformers_version": "4.44.0",
    }
    gen = torch.Generator().manual_seed(1)
    w = randomize(bert_params(c), gen, 0.3)
    d = os.path.join(out, "bert")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), c)
    st = dict(w)
    # Older BERT checkpoints carry the position_ids buffer (I64).
    st["embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    save_safetensors(os.path.join(d, "model.safetensors"), st)
    # sentence-transformers folder layout: mean pooling, then Normalize.
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    write_json(os.path.join(d, "1_Pooling", "config.json"), {
        "word_embedding_dimension": 32, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False})
    write_json(os.path.join(d, "sentence_bert_config.json"), {"max_seq_length": 16, "do_lower_case": False})
    write_json(os.path.join(d, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])

    ids = torch.tensor([[2, 17, 33, 45, 8, 91, 60, 3, 0, 0, 0, 0],
                        [2, 5, 77, 12, 64, 29, 30, 81, 40, 11, 50, 3]])
    mask = (torch.arange(12)[None, :] < torch.tensor([[8], [12]])).long()
    types = torch.zeros_like(ids)
    types[1, 6:] = 1
    hs = bert_forward(w, c, ids, mask, types)
    m = mask.unsqueeze(-1).float()
    mean = (hs * m).sum(1) / m.sum(1).clamp(min=1e-9)  # sentence-transformers Pooling
    cls = hs[:, 0]
    save_safetensors(os.path.join(d, "expected.safetensors"), {
        "last_hidden_state": hs.contiguous(), "mean": mean.contiguous(),
        "mean_normalized": F.normalize(mean, p=2, dim=1).contiguous(),
        "cls": cls.contiguous(), "cls_normalized": F.normalize(cls, p=2, dim=1).contiguous()})
    write_json(os.path.join(d, "expected.json"), {
        "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "token_type_ids": types.tolist()},
        indent=None)


# ---------------------------------------------------------------- decoders

def greedy(step, prompt, n):
    """Greedy decoding with a KV cache: step(tokens, cache, pos) returns the
    logits of every token fed and updates cache."""
    cache = {}
    logits = step(torch.tensor(prompt), cache, 0)
    toks, margins = [], []
    pos = len(prompt)
    for _ in range(n):
        last = logits[-1]
        top = torch.topk(last, 2).values
        margins.append(float(top[0] - top[1]))
        t = int(torch.argmax(last))
        toks.append(t)
        logits = step(torch.tensor([t]), cache, pos)
        pos += 1
    return toks, min(margins)


def gpt2_params(c):
    e, v = c["n_embd"], c["vocab_size"]
    p = {"transformer.wte.weight": (v, e), "transformer.wpe.weight": (c["n_positions"], e),
         "transformer.ln_f.weight": (e,), "transformer.ln_f.bias": (e,)}
    for l in range(c["n_layer"]):
        q = f"transformer.h.{l}."
        p[q + "ln_1.weight"] = (e,)
        p[q + "ln_1.bias"] = (e,)
        p[q + "attn.c_attn.weight"] = (e, 3 * e)  # Conv1D: [in, out]
        p[q + "attn.c_attn.bias"] = (3 * e,)
        p[q + "attn.c_proj.weight"] = (e, e)
        p[q + "attn.c_proj.bias"] = (e,)
        p[q + "ln_2.weight"] = (e,)
        p[q + "ln_2.bias"] = (e,)
        p[q + "mlp.c_fc.weight"] = (e, 4 * e)
        p[q + "mlp.c_fc.bias"] = (4 * e,)
        p[q + "mlp.c_proj.weight"] = (4 * e, e)
        p[q + "mlp.c_proj.bias"] = (e,)
    return p


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_step(w, c):
    e, nh = c["n_embd"], c["n_head"]
    d = e // nh
    eps = c["layer_norm_epsilon"]

    def step(tokens, cache, p0):
        T = tokens.shape[0]
        x = w["transformer.wte.weight"][tokens] + w["transformer.wpe.weight"][torch.arange(p0, p0 + T)]
        for l in range(c["n_layer"]):
            q = f"transformer.h.{l}."
            conv = lambda n, t: t @ w[q + n + ".weight"] + w[q + n + ".bias"]  # Conv1D
            h = F.layer_norm(x, (e,), w[q + "ln_1.weight"], w[q + "ln_1.bias"], eps)
            Q, K, V = conv("attn.c_attn", h).split(e, dim=1)
            Q, K, V = (t.view(T, nh, d).transpose(0, 1) for t in (Q, K, V))
            if l in cache:
                K = torch.cat([cache[l][0], K], dim=1)
                V = torch.cat([cache[l][1], V], dim=1)
            cache[l] = (K, V)
            s = Q @ K.transpose(-1, -2) / math.sqrt(d)
            n = K.shape[1]
            causal = torch.arange(n)[None, :] <= (torch.arange(T)[:, None] + p0)
            s = torch.where(causal, s, torch.tensor(torch.finfo(s.dtype).min))
            a = (torch.softmax(s, -1) @ V).transpose(0, 1).reshape(T, e)
            x = x + conv("attn.c_proj", a)
            h = F.layer_norm(x, (e,), w[q + "ln_2.weight"], w[q + "ln_2.bias"], eps)
            x = x + conv("mlp.c_proj", gelu_new(conv("mlp.c_fc", h)))
        x = F.layer_norm(x, (e,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
        return x @ w["transformer.wte.weight"].T  # lm_head tied to wte
    return step


def make_gpt2(out):
    c = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 80,
        "n_positions": 64, "n_ctx": 64, "n_embd": 32, "n_layer": 2, "n_head": 4,
        "n_inner": None, "activation_function": "gelu_new", "resid_pdrop": 0.1,
        "embd_pdrop": 0.1, "attn_pdrop": 0.1, "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02, "scale_attn_weights": True, "use_cache": True,
        "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
        "summary_type": "cls_index", "summary_use_proj": True, "summary_activation": None,
        "summary_proj_to_labels": True, "summary_first_dropout": 0.1,
        "bos_token_id": 79, "eos_token_id": 79, "torch_dtype": "float16",
        "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    }
    gen = torch.Generator().manual_seed(2)
    w = randomize(gpt2_params(c), gen, 0.3)
    # Stored as F16: the reference computes in float32 with the rounded weights.
    w = {k: v.half().float() for k, v in w.items()}
    d = os.path.join(out, "gpt2")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), c)
    write_json(os.path.join(d, "generation_config.json"),
               {"bos_token_id": 79, "eos_token_id": 79, "transformers_version": "4.44.0"})
    st = {k[len("transformer."):]: v.half() for k, v in w.items()}  # the hub's gpt2 keys: no prefix
    for l in range(c["n_layer"]):  # the causal-mask buffer old checkpoints carry
        st[f"h.{l}.attn.bias"] = torch.tril(torch.ones(64, 64)).view(1, 1, 64, 64).half()
    save_safetensors(os.path.join(d, "model.safetensors"), st)
    decoder_fixture(d, gpt2_step(w, c), c["vocab_size"], seed=12)


def llama_params(c):
    e, v, i = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    d = c.get("head_dim") or e // nh
    bias = c.get("attention_bias", False) or c["model_type"] == "qwen2"
    p = {"model.embed_tokens.weight": (v, e), "model.norm.weight": (e,)}
    if not c["tie_word_embeddings"]:
        p["lm_head.weight"] = (v, e)
    for l in range(c["num_hidden_layers"]):
        q = f"model.layers.{l}."
        p[q + "input_layernorm.weight"] = (e,)
        p[q + "post_attention_layernorm.weight"] = (e,)
        p[q + "self_attn.q_proj.weight"] = (nh * d, e)
        p[q + "self_attn.k_proj.weight"] = (nkv * d, e)
        p[q + "self_attn.v_proj.weight"] = (nkv * d, e)
        p[q + "self_attn.o_proj.weight"] = (e, nh * d)
        if bias:
            p[q + "self_attn.q_proj.bias"] = (nh * d,)
            p[q + "self_attn.k_proj.bias"] = (nkv * d,)
            p[q + "self_attn.v_proj.bias"] = (nkv * d,)
        p[q + "mlp.gate_proj.weight"] = (i, e)
        p[q + "mlp.up_proj.weight"] = (i, e)
        p[q + "mlp.down_proj.weight"] = (e, i)
    return p


def rope_inv_freq(c, d):
    """LlamaRotaryEmbedding's inv_freq: default, or rope_type llama3."""
    base = c.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    rs = c.get("rope_scaling")
    if rs is None:
        return inv
    assert rs["rope_type"] == "llama3"
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    lo_wl, hi_wl = old / lo, old / hi
    wl = 2 * math.pi / inv
    inv_l = torch.where(wl > lo_wl, inv / factor, inv)
    smooth = (old / wl - lo) / (hi - lo)
    smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
    medium = ~(wl < hi_wl) * ~(wl > lo_wl)
    return torch.where(medium, smoothed, inv_l)


def rms_norm(x, wt, eps):
    v = x.pow(2).mean(-1, keepdim=True)
    return wt * (x * torch.rsqrt(v + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def llama_step(w, c):
    e, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    d = c.get("head_dim") or e // nh
    eps = c["rms_norm_eps"]
    inv = rope_inv_freq(c, d)
    head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]

    def step(tokens, cache, p0):
        T = tokens.shape[0]
        x = w["model.embed_tokens.weight"][tokens]
        pos = torch.arange(p0, p0 + T).float()
        fr = torch.outer(pos, inv)
        emb = torch.cat((fr, fr), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        for l in range(c["num_hidden_layers"]):
            q = f"model.layers.{l}."
            lin = lambda n, t: F.linear(t, w[q + n + ".weight"], w.get(q + n + ".bias"))
            h = rms_norm(x, w[q + "input_layernorm.weight"], eps)
            Q = lin("self_attn.q_proj", h).view(T, nh, d).transpose(0, 1)
            K = lin("self_attn.k_proj", h).view(T, nkv, d).transpose(0, 1)
            V = lin("self_attn.v_proj", h).view(T, nkv, d).transpose(0, 1)
            Q = Q * cos + rotate_half(Q) * sin
            K = K * cos + rotate_half(K) * sin
            if l in cache:
                K = torch.cat([cache[l][0], K], dim=1)
                V = torch.cat([cache[l][1], V], dim=1)
            cache[l] = (K, V)
            rep = nh // nkv  # repeat_kv
            Kr, Vr = K.repeat_interleave(rep, dim=0), V.repeat_interleave(rep, dim=0)
            s = Q @ Kr.transpose(-1, -2) / math.sqrt(d)
            n = K.shape[1]
            causal = torch.arange(n)[None, :] <= (torch.arange(T)[:, None] + p0)
            s = torch.where(causal, s, torch.tensor(torch.finfo(s.dtype).min))
            a = (torch.softmax(s, -1) @ Vr).transpose(0, 1).reshape(T, nh * d)
            x = x + lin("self_attn.o_proj", a)
            h = rms_norm(x, w[q + "post_attention_layernorm.weight"], eps)
            x = x + lin("mlp.down_proj", F.silu(lin("mlp.gate_proj", h)) * lin("mlp.up_proj", h))
        x = rms_norm(x, w["model.norm.weight"], eps)
        return F.linear(x, head)  # lm_head (or the tied embeddings)
    return step


def decoder_fixture(d, step, vocab, seed, n_new=32):
    gen = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, vocab, (9,), generator=gen).tolist()
    logits = step(torch.tensor(prompt), {}, 0)
    toks, margin = greedy(step, prompt, n_new)
    # Logits of the whole sequence in one pass (full recomputation).
    full = step(torch.tensor(prompt + toks), {}, 0)
    save_safetensors(os.path.join(d, "expected.safetensors"),
                     {"prompt_logits": logits.contiguous(), "full_logits": full.contiguous()})
    write_json(os.path.join(d, "expected.json"),
               {"prompt": prompt, "greedy": toks, "min_top2_margin": margin}, indent=None)


def make_llama(out):
    c = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
        "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
        "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0, "attention_bias": False, "attention_dropout": 0.0,
        "mlp_bias": False, "pretraining_tp": 1, "tie_word_embeddings": False,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
        "bos_token_id": 1, "eos_token_id": [2, 3], "initializer_range": 0.02,
        "use_cache": True, "torch_dtype": "float32", "transformers_version": "4.44.0",
    }
    gen = torch.Generator().manual_seed(7)
    w = randomize(llama_params(c), gen, 0.25)
    d = os.path.join(out, "llama")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), c)
    write_json(os.path.join(d, "generation_config.json"), {
        "bos_token_id": 1, "eos_token_id": [2, 3], "do_sample": True, "temperature": 0.6,
        "top_p": 0.9, "transformers_version": "4.44.0"})
    # Two shards and an index, as the hub splits large checkpoints.
    names = sorted(w)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    wm = {}
    total = 0
    for i, part in enumerate(shards):
        fn = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_safetensors(os.path.join(d, fn), {k: w[k] for k in part})
        for k in part:
            wm[k] = fn
            total += w[k].numel() * 4
    write_json(os.path.join(d, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": wm})
    decoder_fixture(d, llama_step(w, c), c["vocab_size"], seed=13)


# SmolLM-135M's config.json as the hub ships it (HuggingFaceTB/SmolLM-135M:
# LlamaForCausalLM, 30 layers, width 576, 9 query and 3 key/value heads of 64,
# SwiGLU 1536, vocabulary 49152, head tied to the embeddings, rope_theta 1e4,
# 2048 positions, bos = eos = 0). SmolLM2-135M differs in rope_theta (1e5) and
# max_position_embeddings (8192) only.
SMOLLM_135M = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 49152,
    "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
    "num_attention_heads": 9, "num_key_value_heads": 3, "hidden_act": "silu",
    "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0,
    "mlp_bias": False, "pretraining_tp": 1, "tie_word_embeddings": True,
    "bos_token_id": 0, "eos_token_id": 0, "initializer_range": 0.02, "use_cache": True,
    "torch_dtype": "float32", "transformers_version": "4.40.1",
}


def make_smollm(d, c, seed, std, n_new, dtype=torch.float32):
    """A SmolLM-shaped Llama folder with random weights (N(0, std²), norms
    1 + N(0, 0.1²)), stored as dtype (the reference computes in float32
    with the stored values), and its greedy fixture: n_new tokens from a
    9-token prompt."""
    gen = torch.Generator().manual_seed(seed)
    w = randomize(llama_params(c), gen, std)
    w = {k: v.to(dtype).float() for k, v in w.items()}
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), c)
    write_json(os.path.join(d, "generation_config.json"),
               {"bos_token_id": c["bos_token_id"], "eos_token_id": c["eos_token_id"],
                "transformers_version": c["transformers_version"]})
    save_safetensors(os.path.join(d, "model.safetensors"), {k: v.to(dtype) for k, v in w.items()})
    step = llama_step(w, c)
    decoder_fixture(d, step, c["vocab_size"], seed=seed + 10, n_new=n_new)
    return step


def make_smollm_tiny(out):
    """SmolLM-135M's head geometry (9 query heads sharing 3 key/value
    heads) and config fields, shrunk to 3 layers, heads of 8, FFN 96 and
    256 tokens (F16 weights, so the folder stays small), 64 greedy tokens."""
    c = dict(SMOLLM_135M, vocab_size=256, hidden_size=72, intermediate_size=96,
             num_hidden_layers=3, max_position_embeddings=128, torch_dtype="float16")
    make_smollm(os.path.join(out, "smollm"), c, seed=5, std=0.25, n_new=64, dtype=torch.float16)


def make_qwen2(out):
    c = {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 112,
        "hidden_size": 32, "intermediate_size": 80, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
        "max_position_embeddings": 128, "max_window_layers": 2, "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0, "sliding_window": 128, "use_sliding_window": False,
        "tie_word_embeddings": True, "attention_dropout": 0.0, "bos_token_id": 100,
        "eos_token_id": 101, "initializer_range": 0.02, "use_cache": True,
        "torch_dtype": "bfloat16", "transformers_version": "4.44.0", "rope_scaling": None,
    }
    gen = torch.Generator().manual_seed(4)
    w = randomize(llama_params(c), gen, 0.25)
    w = {k: v.bfloat16().float() for k, v in w.items()}  # stored as BF16
    d = os.path.join(out, "qwen2")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), c)
    save_safetensors(os.path.join(d, "model.safetensors"), {k: v.bfloat16() for k, v in w.items()})
    decoder_fixture(d, llama_step(w, c), c["vocab_size"], seed=14)


# ---------------------------------------------------------------- tokenizers

def added(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": True}


WORDS = ["the", "a", "is", "cat", "dog", "go", "tensor", "model", "hello", "world",
         "embed", "text", "run", "fast", "pure", "graph", "token", "on", "of", "and"]


def make_tokenizers(out):
    """Small tokenizer.json files in the tokenizers library's format, so the
    commands can be run on the fixture folders: a WordPiece (BERT's
    pipeline) of 96 tokens, and a WordLevel of 128 for the Llama model."""
    import string
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    toks = specials + list(string.ascii_lowercase) + ["##" + c for c in string.ascii_lowercase] + list(".,!?") + WORDS
    toks += ["##s", "##ing", "##ed", "##er", "##ly"]
    toks += [f"w{i}" for i in range(96 - len(toks))]
    assert len(toks) == 96
    spec = lambda t, i: {"id": t, "ids": [i], "tokens": [t]}
    bert = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(i, t) for i, t in enumerate(specials)],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": spec("[CLS]", 2), "[SEP]": spec("[SEP]", 3)}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(toks)}},
    }
    write_json(os.path.join(out, "bert", "tokenizer.json"), bert)
    lt = ["<unk>", "<s>", "</s>", "<eot>"] + WORDS + list(".,!?")
    lt += [f"w{i}" for i in range(128 - len(lt))]
    llama = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(i, t) for i, t in enumerate(lt[:4])],
        "normalizer": None, "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": spec("<s>", 1)}},
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {t: i for i, t in enumerate(lt)}, "unk_token": "<unk>"},
    }
    write_json(os.path.join(out, "llama", "tokenizer.json"), llama)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "hf/testdata"
    make_bert(out)
    make_gpt2(out)
    make_llama(out)
    make_qwen2(out)
    make_smollm_tiny(out)
    make_tokenizers(out)
