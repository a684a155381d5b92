#!/usr/bin/env python3
"""An independent PyTorch Llama for steer's parity fixtures and generation benchmark.

Written from the papers and the original code's conventions, sharing nothing with steer:
it parses llama2.c checkpoints and safetensors files itself, and runs
  * llama2.c checkpoints in their ORIGINAL Meta layout (RoPE on interleaved pairs (2j, 2j+1),
    as llama2.c model.py apply_rotary_emb does) — so it also checks steer's q/k permutation;
  * Hugging Face directories (config.json + model.safetensors) in the HF layout
    (rotate_half pairs (j, j + hd/2)), with Llama 3.1 RoPE scaling.
Run with Debian's PyTorch: /usr/bin/python3 bench/peers/llama_torch.py <command> ...

Commands
  logits   --model M [--ids 1,2,3] --out F      float32 logits [T, V] of one sequence (+ F.json)
  tiny-hf  --out DIR [--seed S]                  a random tiny HF Llama (GQA, untied, llama3 rope, BF16)
  random-hf --out DIR --preset 15m [--seed S]    a random ~15M-parameter HF Llama (F32)
  bench    --model M (--prompts F | --batch B --prompt-len P) --new-tokens N [--threads 2]
           greedy generation with a KV cache; prints one JSON line with tokens/s and the tokens
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch


# ---- loading ---------------------------------------------------------------------------------

def load_llama2c(path):
    """llama2.c legacy checkpoint: 7 int32 header then float32 weights in run.c's order."""
    with open(path, "rb") as f:
        raw = f.read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("7i", raw, 0)
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // n_heads
    data = np.frombuffer(raw, dtype=np.float32, offset=28)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        t = torch.from_numpy(data[pos:pos + n].copy()).reshape(*shape)
        pos += n
        return t

    w = {"tok": take(vocab, dim)}
    w["attn_norm"] = take(n_layers, dim)
    w["wq"] = take(n_layers, n_heads * hd, dim)
    w["wk"] = take(n_layers, n_kv * hd, dim)
    w["wv"] = take(n_layers, n_kv * hd, dim)
    w["wo"] = take(n_layers, dim, n_heads * hd)
    w["ffn_norm"] = take(n_layers, dim)
    w["w1"] = take(n_layers, hidden, dim)
    w["w2"] = take(n_layers, dim, hidden)
    w["w3"] = take(n_layers, hidden, dim)
    w["norm"] = take(dim)
    take(seq_len * hd // 2)  # freq_cis_real (unused: recomputed)
    take(seq_len * hd // 2)  # freq_cis_imag
    w["out"] = w["tok"] if shared else take(vocab, dim)
    assert pos == data.size, f"{path}: {data.size - pos} floats left over"
    cfg = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab,
               head_dim=hd, eps=1e-5, theta=10000.0, rope_scaling=None, rope_layout="interleaved",
               max_len=seq_len)
    return cfg, w


SAFE_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (None, 2)}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        buf = raw[base + a:base + b]
        if e["dtype"] == "BF16":
            u16 = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=SAFE_DTYPES[e["dtype"]][0]).astype(np.float32)
        out[name] = torch.from_numpy(arr.copy()).reshape(e["shape"])
    return out


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, pos = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if dtype == "BF16":
            b = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            b = t.to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_hf(dirpath):
    c = json.load(open(os.path.join(dirpath, "config.json")))
    t = read_safetensors(os.path.join(dirpath, "model.safetensors"))
    L = c["num_hidden_layers"]
    n_heads = c["num_attention_heads"]
    hd = c.get("head_dim") or c["hidden_size"] // n_heads
    lay = lambda i, s: t[f"model.layers.{i}.{s}.weight"]
    w = {
        "tok": t["model.embed_tokens.weight"],
        "attn_norm": torch.stack([lay(i, "input_layernorm") for i in range(L)]),
        "wq": torch.stack([lay(i, "self_attn.q_proj") for i in range(L)]),
        "wk": torch.stack([lay(i, "self_attn.k_proj") for i in range(L)]),
        "wv": torch.stack([lay(i, "self_attn.v_proj") for i in range(L)]),
        "wo": torch.stack([lay(i, "self_attn.o_proj") for i in range(L)]),
        "ffn_norm": torch.stack([lay(i, "post_attention_layernorm") for i in range(L)]),
        "w1": torch.stack([lay(i, "mlp.gate_proj") for i in range(L)]),
        "w2": torch.stack([lay(i, "mlp.down_proj") for i in range(L)]),
        "w3": torch.stack([lay(i, "mlp.up_proj") for i in range(L)]),
        "norm": t["model.norm.weight"],
    }
    w["out"] = w["tok"] if c.get("tie_word_embeddings", False) else t["lm_head.weight"]
    cfg = dict(dim=c["hidden_size"], hidden=c["intermediate_size"], n_layers=L, n_heads=n_heads,
               n_kv=c.get("num_key_value_heads") or n_heads, vocab=c["vocab_size"], head_dim=hd,
               eps=c.get("rms_norm_eps", 1e-6), theta=c.get("rope_theta", 10000.0),
               rope_scaling=c.get("rope_scaling"), rope_layout="half",
               max_len=c.get("max_position_embeddings", 2048))
    return cfg, w


def load(model):
    return load_hf(model) if os.path.isdir(model) else load_llama2c(model)


# ---- the model -------------------------------------------------------------------------------

def inv_freq(cfg):
    hd = cfg["head_dim"]
    inv = 1.0 / (cfg["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    s = cfg["rope_scaling"]
    if s and (s.get("rope_type") or s.get("type")) == "llama3":
        old = s["original_max_position_embeddings"]
        lo, hi, factor = s["low_freq_factor"], s["high_freq_factor"], s["factor"]
        wl = 2 * math.pi / inv
        scaled = torch.where(wl > old / lo, inv / factor, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wl >= old / hi) & (wl <= old / lo)
        inv = torch.where(medium, smoothed, scaled)
    return inv


class Llama:
    """Eager PyTorch Llama with a preallocated KV cache: cache[l] is [B, KV, maxT, hd]."""

    def __init__(self, cfg, w):
        self.c, self.w = cfg, w
        self.inv = inv_freq(cfg)

    def rope(self, x, pos):
        # x: [B, heads, T, hd]; pos: [T] absolute positions
        ang = pos.to(torch.float64)[:, None] * self.inv[None, :]  # [T, hd/2]
        cos, sin = torch.cos(ang).float(), torch.sin(ang).float()
        if self.c["rope_layout"] == "half":
            h = x.shape[-1] // 2
            x1, x2 = x[..., :h], x[..., h:]
            return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
        xr = x.reshape(*x.shape[:-1], -1, 2)  # interleaved pairs (2j, 2j+1)
        a, b = xr[..., 0], xr[..., 1]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)

    def rmsnorm(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["eps"]))

    def new_cache(self, batch, max_len):
        c = self.c
        shape = (c["n_layers"], batch, c["n_kv"], max_len, c["head_dim"])
        return torch.zeros(shape), torch.zeros(shape)

    def forward(self, ids, start, cache):
        """ids: [B, T] at positions start..start+T-1; writes the cache, returns logits [B, T, V]."""
        c, w = self.c, self.w
        B, T = ids.shape
        H, KV, hd = c["n_heads"], c["n_kv"], c["head_dim"]
        kc, vc = cache
        pos = torch.arange(start, start + T)
        x = w["tok"][ids]  # [B, T, D]
        end = start + T
        mask = torch.full((T, end), float("-inf")).triu(start + 1)  # key j visible to query i iff j <= start+i
        for l in range(c["n_layers"]):
            h = self.rmsnorm(x, w["attn_norm"][l])
            q = (h @ w["wq"][l].T).view(B, T, H, hd).transpose(1, 2)
            k = (h @ w["wk"][l].T).view(B, T, KV, hd).transpose(1, 2)
            v = (h @ w["wv"][l].T).view(B, T, KV, hd).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            kc[l, :, :, start:end] = k
            vc[l, :, :, start:end] = v
            keys = kc[l, :, :, :end].repeat_interleave(H // KV, dim=1)  # [B, H, end, hd]
            vals = vc[l, :, :, :end].repeat_interleave(H // KV, dim=1)
            att = torch.softmax(q @ keys.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1)
            o = (att @ vals).transpose(1, 2).reshape(B, T, H * hd)
            x = x + o @ w["wo"][l].T
            h = self.rmsnorm(x, w["ffn_norm"][l])
            x = x + (torch.nn.functional.silu(h @ w["w1"][l].T) * (h @ w["w3"][l].T)) @ w["w2"][l].T
        return self.rmsnorm(x, w["norm"]) @ w["out"].T


# ---- commands --------------------------------------------------------------------------------

def cmd_logits(a):
    cfg, w = load(a.model)
    ids = [int(s) for s in a.ids.split(",")]
    m = Llama(cfg, w)
    with torch.no_grad():
        logits = m.forward(torch.tensor([ids]), 0, m.new_cache(1, len(ids)))[0]
    logits.numpy().astype("<f4").tofile(a.out)
    meta = {"ids": ids, "shape": list(logits.shape), "dtype": "float32 little-endian, row-major [T, V]",
            "model": os.path.basename(os.path.normpath(a.model)),
            "produced_by": "bench/peers/llama_torch.py logits (PyTorch %s)" % torch.__version__}
    json.dump(meta, open(a.out + ".json", "w"), indent=1)
    print(f"wrote {a.out} {list(logits.shape)}")


def random_hf(out, cfg_json, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    c = cfg_json
    D, F, V, L = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or D // H
    r = lambda *s: torch.randn(*s, generator=g) * 0.02 * 2.5
    t = {"model.embed_tokens.weight": r(V, D), "model.norm.weight": 1 + 0.1 * torch.randn(D, generator=g)}
    for i in range(L):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(D, generator=g)
        t[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(D, generator=g)
        t[p + "self_attn.q_proj.weight"] = r(H * hd, D)
        t[p + "self_attn.k_proj.weight"] = r(KV * hd, D)
        t[p + "self_attn.v_proj.weight"] = r(KV * hd, D)
        t[p + "self_attn.o_proj.weight"] = r(D, H * hd)
        t[p + "mlp.gate_proj.weight"] = r(F, D)
        t[p + "mlp.up_proj.weight"] = r(F, D)
        t[p + "mlp.down_proj.weight"] = r(D, F)
    if not c.get("tie_word_embeddings", False):
        t["lm_head.weight"] = r(V, D)
    os.makedirs(out, exist_ok=True)
    json.dump(c, open(os.path.join(out, "config.json"), "w"), indent=1)
    write_safetensors(os.path.join(out, "model.safetensors"), t, dtype)
    print(f"wrote {out}: {sum(x.numel() for x in t.values())} parameters ({dtype})")


def cmd_tiny_hf(a):
    # GQA (4 query heads over 2 KV heads), head_dim 16 != hidden/heads, untied head, llama3 scaling
    # with a small original context so that all three frequency bands occur.
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 64,
           "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
           "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "max_position_embeddings": 128,
           "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                            "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
           "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
           "hidden_act": "silu", "torch_dtype": "bfloat16"}
    random_hf(a.out, cfg, a.seed, "BF16")


PRESETS = {
    # ~15M parameters: the llama2.c "stories15M" shape (dim 288, 6 layers, 6 heads, vocab 32000).
    "15m": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
            "hidden_size": 288, "intermediate_size": 768, "num_hidden_layers": 6,
            "num_attention_heads": 6, "num_key_value_heads": 6, "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "max_position_embeddings": 256, "tie_word_embeddings": True,
            "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"},
}


def cmd_random_hf(a):
    random_hf(a.out, dict(PRESETS[a.preset]), a.seed, "F32")


def cmd_bench(a):
    torch.set_num_threads(a.threads)
    cfg, w = load(a.model)
    m = Llama(cfg, w)
    if a.prompts:
        prompt = torch.tensor(json.load(open(a.prompts)))  # [B, P] token ids, one length
        a.batch, a.prompt_len = prompt.shape
    else:
        g = torch.Generator().manual_seed(0)
        prompt = torch.randint(3, cfg["vocab"], (a.batch, a.prompt_len), generator=g)
    max_len = a.prompt_len + a.new_tokens

    def run():
        cache = m.new_cache(a.batch, max_len)
        logits = m.forward(prompt, 0, cache)[:, -1]
        out = []
        for i in range(a.new_tokens):
            nxt = logits.argmax(-1)  # greedy
            out.append(nxt)
            if i + 1 < a.new_tokens:
                logits = m.forward(nxt[:, None], a.prompt_len + i, cache)[:, -1]
        return torch.stack(out, 1)

    with torch.no_grad():
        run()  # warm-up
        times, cpu = [], []
        for _ in range(a.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            toks = run()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    best = min(times)
    print(json.dumps({"peer": "pytorch-eager-kvcache", "torch": torch.__version__, "threads": a.threads,
                      "batch": a.batch, "prompt_len": a.prompt_len, "new_tokens": a.new_tokens,
                      "seconds": best, "cpu_seconds": min(cpu), "tokens_per_s": a.batch * a.new_tokens / best,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "tokens": toks.tolist()}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("logits"); s.add_argument("--model", required=True); s.add_argument("--ids", required=True); s.add_argument("--out", required=True); s.set_defaults(f=cmd_logits)
    s = sub.add_parser("tiny-hf"); s.add_argument("--out", required=True); s.add_argument("--seed", type=int, default=0); s.set_defaults(f=cmd_tiny_hf)
    s = sub.add_parser("random-hf"); s.add_argument("--out", required=True); s.add_argument("--preset", default="15m", choices=sorted(PRESETS)); s.add_argument("--seed", type=int, default=0); s.set_defaults(f=cmd_random_hf)
    s = sub.add_parser("bench"); s.add_argument("--model", required=True); s.add_argument("--batch", type=int, default=1); s.add_argument("--prompt-len", type=int, default=8); s.add_argument("--new-tokens", type=int, default=128); s.add_argument("--threads", type=int, default=2); s.add_argument("--repeats", type=int, default=3); s.add_argument("--prompts", help="JSON [B][P] prompt ids (overrides --batch/--prompt-len)"); s.set_defaults(f=cmd_bench)
    a = p.parse_args()
    torch.set_num_threads(getattr(a, "threads", 2))
    a.f(a)


if __name__ == "__main__":
    main()
