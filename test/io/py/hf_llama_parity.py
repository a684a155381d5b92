# transformers as the reference for steer's Llama and reward models.
#   make SPEC DIR : a random LlamaForCausalLM from SPEC's config (norm weights perturbed too), saved
#                   to DIR/lm; a LlamaForSequenceClassification on the same trunk with a random
#                   score head, saved to DIR/rm; DIR/logits.f32 [B, T, V] and DIR/scores.f32 [B, N]
#                   for SPEC's rows, right-padded with pad_token_id under an attention mask.
#   score SPEC DIR: load DIR (a steer-saved reward model) with AutoModelForSequenceClassification and
#                   print its scores for SPEC's rows as JSON (plus what it loaded).
import json, sys
import torch
from transformers import AutoModelForSequenceClassification, LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

mode, spec_path, d = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(spec_path))
rows, pad = spec['rows'], spec['pad']
T = max(len(r) for r in rows)
ids = torch.tensor([r + [pad] * (T - len(r)) for r in rows])
mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])

if mode == 'make':
    torch.manual_seed(spec['seed'])
    cfg = LlamaConfig(**spec['config'], pad_token_id=pad, initializer_range=0.1)
    lm = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in lm.named_parameters():
            if 'norm' in n:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    lm.save_pretrained(f'{d}/lm')
    with torch.no_grad():
        lm(input_ids=ids, attention_mask=mask).logits.float().numpy().tofile(f'{d}/logits.f32')
    cfg_rm = LlamaConfig(**spec['config'], pad_token_id=pad, num_labels=spec['labels'])
    rm = LlamaForSequenceClassification(cfg_rm).eval()
    missing = rm.model.load_state_dict(lm.model.state_dict())
    with torch.no_grad():
        rm.score.weight.copy_(0.5 * torch.randn_like(rm.score.weight))
        rm.save_pretrained(f'{d}/rm')
        rm(input_ids=ids, attention_mask=mask).logits.float().numpy().tofile(f'{d}/scores.f32')
elif mode == 'score':
    m = AutoModelForSequenceClassification.from_pretrained(d, dtype=torch.float32).eval()
    with torch.no_grad():
        s = m(input_ids=ids, attention_mask=mask).logits.float()
    print(json.dumps({'class': type(m).__name__, 'num_labels': m.config.num_labels, 'id2label': m.config.id2label, 'pad_token_id': m.config.pad_token_id, 'scores': s.tolist()}))
