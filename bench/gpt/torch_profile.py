"""Where PyTorch spends a reference-GPT training step: the model of ../shared/bench/gpt_torch_peer.py
(same init, data, Adam), steps run under torch.profiler; prints milliseconds per step in matrix
products (mm, bmm, addmm, matmul kernels) and in everything else, and the top operators by self CPU time.
The counterpart of bench/gpt/profile.ts (steer's per-node ONNX Runtime profile).
Usage: OMP_WAIT_POLICY=PASSIVE python bench/gpt/torch_profile.py DIR [steps] [threads]"""
import sys, json, math, numpy as np, torch, torch.nn.functional as Fn
from torch.profiler import profile, ProfilerActivity
d = sys.argv[1]; steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4; nt = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(nt)
V, D, L, H, FF, T, B = 8192, 256, 4, 4, 1024, 128, 8; dh = D // H
raw = open(f'{d}/init.safetensors', 'rb').read(); n = int.from_bytes(raw[:8], 'little'); hdr = json.loads(raw[8:8 + n])
P = {k: torch.nn.Parameter(torch.from_numpy(np.frombuffer(raw, '<f4', (v['data_offsets'][1] - v['data_offsets'][0]) // 4, 8 + n + v['data_offsets'][0]).reshape(v['shape']).copy())) for k, v in hdr.items()}
dat = np.fromfile(f'{d}/data.bin', '<i4'); ids = torch.from_numpy(dat[:B * T].astype(np.int64)); tgt = torch.from_numpy(dat[B * T:].astype(np.int64))
mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
def rms(x, g): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g
def loss_fn():
    x = (P['wte'][ids].view(B, T, D) + P['wpe']).view(B * T, D)
    for l in range(L):
        qkv = (rms(x, P[f'h{l}.ln1']) @ P[f'h{l}.wqkv']).view(B, T, 3 * H, dh).transpose(1, 2)
        q, k, v = [t.reshape(B * H, T, dh) for t in qkv.split(H, 1)]
        att = ((q @ k.transpose(1, 2)) / math.sqrt(dh)).masked_fill(mask, -1e9).softmax(-1)
        x = x + (att @ v).view(B, H, T, dh).transpose(1, 2).reshape(B * T, D) @ P[f'h{l}.wo']
        x = x + Fn.gelu(rms(x, P[f'h{l}.ln2']) @ P[f'h{l}.w1'], approximate='tanh') @ P[f'h{l}.w2']
    return Fn.cross_entropy(rms(x, P['lnf']) @ P['lm_head'], tgt)
opt = torch.optim.Adam(P.values(), lr=1e-3, eps=1e-8)
def step():
    opt.zero_grad(set_to_none=True); loss = loss_fn(); loss.backward(); opt.step()
for _ in range(2): step()  # warm-up
with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(steps): step()
ev = prof.key_averages()
mm_names = {'aten::mm', 'aten::bmm', 'aten::addmm', 'aten::_mkldnn_matmul', 'aten::baddbmm'}
total = sum(e.self_cpu_time_total for e in ev if not e.key.startswith('ProfilerStep')) / steps / 1000
mm = sum(e.self_cpu_time_total for e in ev if e.key in mm_names) / steps / 1000
print(f'torch {torch.__version__}: self CPU per step {total:.1f} ms; matrix products {mm:.1f} ms; everything else {total - mm:.1f} ms')
for e in sorted(ev, key=lambda e: -e.self_cpu_time_total)[:15]:
    print(f'{e.self_cpu_time_total / steps / 1000:8.2f} ms {e.key} ×{e.count // steps}')
