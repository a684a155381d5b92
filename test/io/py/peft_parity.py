# peft as the reference for steer's LoRA: the PEFT layout both ways and the adapted forward pass.
#   make SPEC DIR  : a random tiny LlamaForCausalLM (DIR/base) and a peft LoRA adapter on it with
#                    random A and B (DIR/peft_adapter); DIR/peft_logits.f32 [B, T, V] of the adapted
#                    model for SPEC's rows (right-padded, attention mask), dropout off (eval).
#   logits SPEC DIR ADAPTER OUT : the base + ADAPTER loaded with PeftModel.from_pretrained; logits to OUT.
#   dropout SPEC DIR ADAPTER MASKS : the base + ADAPTER (trainable), each adapted module's lora_dropout
#                    replaced by x ⊙ mask with MASKS' tensor `lora_dropout/<module>` (steer's draw);
#                    the token-mean policy-gradient loss −Σ_b A_b Σ_t m_bt log π(y_bt) / Σ m of SPEC's
#                    feeds, backward; prints {loss, grad_norm} (global norm of every lora_A / lora_B gradient).
import json, sys
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, PeftModel, get_peft_model

mode, spec_path, d = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(spec_path))
if mode == 'dropout':
    from safetensors.torch import load_file
    adapter, masks = sys.argv[4], load_file(sys.argv[5])
    torch.manual_seed(0)
    base = LlamaForCausalLM.from_pretrained(f'{d}/base', dtype=torch.float32)
    m = PeftModel.from_pretrained(base, adapter, is_trainable=True).train()

    class MaskMul(torch.nn.Module):
        def __init__(self, mask):
            super().__init__()
            self.mask = mask

        def forward(self, x):
            return x * self.mask

    for name, mask in masks.items():
        module = m.base_model.model.get_submodule(name[len('lora_dropout/'):])
        module.lora_dropout['default'] = MaskMul(mask)
    f = spec['feeds']
    B, T = len(f['advantages']), len(f['ids']) // len(f['advantages'])
    ids, pos = torch.tensor(f['ids']).view(B, T), torch.tensor(f['positions']).view(B, T)
    att, tgt = torch.tensor(f['attention']).view(B, T), torch.tensor(f['targets']).view(B, T)
    lm, adv = torch.tensor(f['loss_mask']).view(B, T), torch.tensor(f['advantages'])
    logits = m(input_ids=ids, attention_mask=att.long(), position_ids=pos).logits
    logp = torch.log_softmax(logits.float(), -1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
    loss = -(logp * adv[:, None] * lm).sum() / lm.sum().clamp(min=1)
    loss.backward()
    grads = [p.grad for n, p in m.named_parameters() if 'lora_' in n]
    print(json.dumps({'loss': loss.item(), 'grad_norm': torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item(), 'masked': len(masks)}))
    sys.exit(0)
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
