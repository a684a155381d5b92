# peft as the reference for steer's LoRA: the PEFT layout both ways and the adapted forward pass.
#   make SPEC DIR  : a random tiny LlamaForCausalLM (DIR/base) and a peft LoRA adapter on it with
#                    random A and B (DIR/peft_adapter); DIR/peft_logits.f32 [B, T, V] of the adapted
#                    model for SPEC's rows (right-padded, attention mask), dropout off (eval).
#   logits SPEC DIR ADAPTER OUT : the base + ADAPTER loaded with PeftModel.from_pretrained; logits to OUT.
import json, sys
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, PeftModel, get_peft_model

mode, spec_path, d = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(spec_path))
rows, pad = spec['rows'], spec['pad']
T = max(len(r) for r in rows)
ids = torch.tensor([r + [pad] * (T - len(r)) for r in rows])
mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])

if mode == 'make':
    torch.manual_seed(spec['seed'])
    base = LlamaForCausalLM(LlamaConfig(**spec['config'], initializer_range=0.1)).eval()
    base.save_pretrained(f'{d}/base')
    lora = LoraConfig(r=spec['rank'], lora_alpha=spec['alpha'], lora_dropout=0.1, target_modules=spec['targets'], task_type='CAUSAL_LM')
    m = get_peft_model(base, lora).eval()
    with torch.no_grad():
        for n, p in m.named_parameters():
            if 'lora_B' in n:
                p.copy_(0.2 * torch.randn_like(p))
        m.save_pretrained(f'{d}/peft_adapter')
        m(input_ids=ids, attention_mask=mask).logits.float().numpy().tofile(f'{d}/peft_logits.f32')
elif mode == 'logits':
    adapter, out = sys.argv[4], sys.argv[5]
    base = LlamaForCausalLM.from_pretrained(f'{d}/base', dtype=torch.float32)
    m = PeftModel.from_pretrained(base, adapter).eval()
    with torch.no_grad():
        m(input_ids=ids, attention_mask=mask).logits.float().numpy().tofile(out)
    print(json.dumps({'r': m.peft_config['default'].r, 'targets': sorted(m.peft_config['default'].target_modules)}))
