# PyTorch + peft peer of bench/checkpoints/lora_policy.ts: one REINFORCE update step (forward of B
# rows, token-mean policy-gradient loss on the response tokens, backward, clipping, AdamW) with a
# LoRA adapter on a random SmolLM2-135M-shaped LlamaForCausalLM; the same batch formula as steer's.
#   python lora_policy_peer.py SPEC_JSON  → one JSON line {step_ms: [...], max_rss_mb, masked_tokens}
import json, sys, time, resource
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, get_peft_model

spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec['threads'])
torch.manual_seed(0)
c = spec['config']
cfg = LlamaConfig(vocab_size=c['vocab'], hidden_size=c['hidden'], intermediate_size=c['intermediate'], num_hidden_layers=c['layers'], num_attention_heads=c['heads'], num_key_value_heads=c['kv_heads'], rope_theta=c.get('rope_theta', 10000.0), tie_word_embeddings=True, pad_token_id=0, attn_implementation='sdpa')
model = get_peft_model(LlamaForCausalLM(cfg), LoraConfig(r=spec['rank'], lora_alpha=spec['alpha'], lora_dropout=0.0, target_modules=spec['targets'], task_type='CAUSAL_LM'))
trainable = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
B, T, V, P = spec['batch'], spec['T'], c['vocab'], spec['prompt']
ids = torch.tensor([[1 + (r * 7919 + t * 104729) % (V - 1) for t in range(T)] for r in range(B)])
targets = ids[:, 1:]
mask = torch.zeros(B, T - 1)
mask[:, P - 1:] = 1  # targets at positions ≥ P − 1 are the response tokens (T − P per row)
adv = torch.tensor([1.0 if r % 2 == 0 else -1.0 for r in range(B)])
times = []
for i in range(spec['warmup'] + spec['steps']):
    t0 = time.perf_counter()
    logits = model(input_ids=ids, attention_mask=torch.ones(B, T, dtype=torch.long)).logits
    logp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    loss = -(logp * adv[:, None] * mask).sum() / mask.sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
    opt.step()
    if i >= spec['warmup']:
        times.append((time.perf_counter() - t0) * 1000)
import re
show = torch.__config__.show()
blas = re.findall(r'(?:BLAS_INFO|LAPACK_INFO|USE_MKLDNN)=[^,]+', show) + [l.strip(' -') for l in show.split('\n') if 'MKL-DNN' in l or 'oneDNN' in l]
print(json.dumps({'step_ms': times, 'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'masked_tokens': int(mask.sum().item()), 'blas': blas}))
