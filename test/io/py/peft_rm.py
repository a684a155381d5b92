# A steer LoRA reward-model run as transformers and peft see it.
#   SPEC: {"base": LM dir, "model": merged RM dir, "adapter": PEFT adapter dir, "rows": [[ids]], "pad": id}
# Prints the scores of (a) the merged LlamaForSequenceClassification and (b) the base loaded as
# LlamaForSequenceClassification + the adapter through PeftModel.from_pretrained (its score head
# restored from modules_to_save), for the rows right-padded with pad.
import json, sys
import torch
from transformers import AutoModelForSequenceClassification, LlamaForSequenceClassification
from peft import PeftModel

spec = json.load(open(sys.argv[1]))
rows, pad = spec['rows'], spec['pad']
T = max(len(r) for r in rows)
ids = torch.tensor([r + [pad] * (T - len(r)) for r in rows])
mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])
merged = AutoModelForSequenceClassification.from_pretrained(spec['model'], dtype=torch.float32).eval()
base = LlamaForSequenceClassification.from_pretrained(spec['base'], num_labels=1, pad_token_id=pad, dtype=torch.float32)
peft = PeftModel.from_pretrained(base, spec['adapter']).eval()
with torch.no_grad():
    a = merged(input_ids=ids, attention_mask=mask).logits[:, 0].tolist()
    b = peft(input_ids=ids, attention_mask=mask).logits[:, 0].tolist()
print(json.dumps({'merged': a, 'peft': b, 'merged_class': type(merged).__name__}))
