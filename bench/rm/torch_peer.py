#!/usr/bin/env python3
"""PyTorch peer of steer's reward-model training step (bench/rm_speed.ts).

The same model, data, batch and optimizer as steer's step graph, in eager PyTorch with autograd:
  Llama trunk (HF layout: rotate_half RoPE, GQA, RMSNorm, SwiGLU), padded batch [R, T] with an
  attention mask (right padding; position ids = cumsum(mask) - 1), reward head on the final hidden
  state of each row's last real token, Bradley-Terry loss mean(-log sigmoid(r_c - r_r)) over the
  B pairs (rows i and B + i), clip_grad_norm_(1.0), torch.optim.AdamW (wd 0, eps 1e-8).
Reads the directory bench/rm_speed.ts writes: a steer reward model (config.json, model.safetensors,
reward_head.safetensors) and batch.json + ids.i32 / mask.f32 / last.i32.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/rm/torch_peer.py DIR [--steps 12] [--threads 2]
Prints one JSON line: losses (first 5), ms_median (steps 3..N), tokens_per_s (padded), peak_rss_mb.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "peers"))
from llama_torch import read_safetensors  # noqa: E402  (the repo's independent safetensors reader)


class RewardLlama(torch.nn.Module):
    def __init__(self, cfg, t, head):
        super().__init__()
        self.c = cfg
        L = cfg["num_hidden_layers"]
        P = lambda x: torch.nn.Parameter(x.clone())
        lay = lambda i, s: t[f"model.layers.{i}.{s}.weight"]
        self.tok = P(t["model.embed_tokens.weight"])
        self.names = ["input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                      "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
        self.layers = torch.nn.ParameterList([P(lay(i, n)) for i in range(L) for n in self.names])
        self.norm = P(t["model.norm.weight"])
        self.hw = P(head["score.weight"])
        self.hb = P(head["score.bias"])
        H = cfg["num_attention_heads"]
        self.hd = cfg.get("head_dim") or cfg["hidden_size"] // H
        self.inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd))

    def rms(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["rms_norm_eps"]))

    def forward(self, ids, mask, last):
        c = self.c
        R, T = ids.shape
        H, KV, hd = c["num_attention_heads"], c["num_key_value_heads"], self.hd
        pos = (mask.cumsum(-1) - 1).clamp(min=0)  # [R, T]
        ang = pos.to(torch.float64)[..., None] * self.inv  # [R, T, hd/2]
        cos, sin = torch.cos(ang).float()[:, None], torch.sin(ang).float()[:, None]  # [R, 1, T, hd/2]

        def rope(x):
            h = hd // 2
            x1, x2 = x[..., :h], x[..., h:]
            return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

        causal = torch.full((T, T), float("-inf")).triu(1)
        bias = causal[None, None] + ((1 - mask) * -1e9)[:, None, None, :]  # [R, 1, T, T]
        x = self.tok[ids]
        n = len(self.names)
        for l in range(c["num_hidden_layers"]):
            an, wq, wk, wv, wo, fn, w1, w3, w2 = self.layers[l * n:(l + 1) * n]
            h = self.rms(x, an)
            q = rope((h @ wq.T).view(R, T, H, hd).transpose(1, 2)) / math.sqrt(hd)
            k = rope((h @ wk.T).view(R, T, KV, hd).transpose(1, 2)).repeat_interleave(H // KV, dim=1)
            v = (h @ wv.T).view(R, T, KV, hd).transpose(1, 2).repeat_interleave(H // KV, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
            x = x + (att @ v).transpose(1, 2).reshape(R, T, H * hd) @ wo.T
            h = self.rms(x, fn)
            x = x + (torch.nn.functional.silu(h @ w1.T) * (h @ w3.T)) @ w2.T
        x = self.rms(x, self.norm)
        hl = x[torch.arange(R), last]  # [R, D]
        return hl @ self.hw.T + self.hb  # [R, N]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    d = a.dir
    cfg = json.load(open(os.path.join(d, "model", "config.json")))
    meta = json.load(open(os.path.join(d, "batch.json")))
    t = read_safetensors(os.path.join(d, "model", "model.safetensors"))
    head = read_safetensors(os.path.join(d, "model", "reward_head.safetensors"))
    R, T, B = meta["rows"], meta["T"], meta["pairs"]
    ids = torch.from_numpy(np.fromfile(os.path.join(d, "ids.i32"), dtype="<i4").astype(np.int64)).view(R, T)
    mask = torch.from_numpy(np.fromfile(os.path.join(d, "mask.f32"), dtype="<f4")).view(R, T)
    last = torch.from_numpy(np.fromfile(os.path.join(d, "last.i32"), dtype="<i4").astype(np.int64))
    w = torch.tensor(meta["rewardWeights"], dtype=torch.float32)
    m = RewardLlama(cfg, t, head)
    opt = torch.optim.AdamW(m.parameters(), lr=meta["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    losses, times = [], []
    for s in range(a.steps):
        t0 = time.perf_counter()
        r = m(ids, mask, last) @ w  # [R]
        loss = -torch.nn.functional.logsigmoid(r[:B] - r[B:]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), meta["maxGradNorm"])
        opt.step()
        times.append((time.perf_counter() - t0) * 1000)
        losses.append(loss.item())
    steady = sorted(times[2:])
    ms = steady[len(steady) // 2]
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": a.threads, "losses": losses[:5],
                      "ms_median": ms, "tokens_per_s": R * T / (ms / 1000),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
