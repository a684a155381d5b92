# PyTorch + peft peer of bench/checkpoints/lora.ts: one Bradley-Terry reward-model step (forward of
# 2B rows, loss, backward, AdamW) with a LoRA adapter and a trained score head on a random
# SmolLM2-135M-shaped LlamaForSequenceClassification; the same batch formula as steer's side.
#   python lora_peer.py SPEC_JSON  → one JSON line {step_ms: [...], max_rss_mb, blas}
import json, sys, time, resource
import torch
from transformers import LlamaConfig, LlamaForSequenceClassification
from peft import LoraConfig, get_peft_model

spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec['threads'])
torch.manual_seed(0)
c = spec['config']
cfg = LlamaConfig(vocab_size=c['vocab'], hidden_size=c['hidden'], intermediate_size=c['intermediate'], num_hidden_layers=c['layers'], num_attention_heads=c['heads'], num_key_value_heads=c['kv_heads'], rope_theta=c.get('rope_theta', 10000.0), tie_word_embeddings=True, num_labels=1, pad_token_id=0, attn_implementation='sdpa')
model = LlamaForSequenceClassification(cfg)
model = get_peft_model(model, LoraConfig(r=spec['rank'], lora_alpha=spec['alpha'], lora_dropout=0.0, target_modules=spec['targets'], task_type='SEQ_CLS'))
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
B, T, V = spec['batch'], spec['T'], c['vocab']
R = 2 * B
ids = torch.tensor([[1 + (r * 7919 + t * 104729) % (V - 1) for t in range(T)] for r in range(R)])
mask = torch.ones(R, T, dtype=torch.long)
times = []
for i in range(spec['warmup'] + spec['steps']):
    t0 = time.perf_counter()
    r = model(input_ids=ids, attention_mask=mask).logits[:, 0]
    loss = -torch.nn.functional.logsigmoid(r[:B] - r[B:]).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    opt.step()
    if i >= spec['warmup']:
        times.append((time.perf_counter() - t0) * 1000)
import re
show = torch.__config__.show()
blas = re.findall(r'(?:BLAS_INFO|LAPACK_INFO|USE_MKLDNN)=[^,]+', show) + [l.strip(' -') for l in show.split('\n') if 'MKL-DNN' in l or 'oneDNN' in l]
print(json.dumps({'step_ms': times, 'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'blas': blas}))
