# The new-user trial of LoRA policies (test/cli/lora_trial.test.ts), transformers + peft side.
#   make OUT VOCAB : a random small LlamaForCausalLM (GQA, tied embeddings, EOS likely) saved by transformers in
#                    bfloat16 in several shards (model.safetensors.index.json), as a user's checkpoint.
#   check SPEC     : logits [B, T, V] of SPEC.model (the merged policy steer wrote) in transformers and of
#                    SPEC.base + SPEC.adapter in peft, for SPEC's right-padded rows, to SPEC.out_model /
#                    SPEC.out_peft (float32); prints the adapter's r and target modules.
import json, sys
import torch
from transformers import LlamaConfig, LlamaForCausalLM

mode = sys.argv[1]
if mode == 'make':
    out, vocab = sys.argv[2], int(sys.argv[3])
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=256, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0, initializer_range=0.2)
    m = LlamaForCausalLM(cfg)
    with torch.no_grad():  # every embedding leans along axis 0 and EOS's most: sampled answers end (P(eos) ≈ 0.14 a token)
        m.model.embed_tokens.weight[:, 0] += 1.0
        m.model.embed_tokens.weight[2, 0] += 2.0
    m = m.to(torch.bfloat16)
    m.save_pretrained(out, max_shard_size='40KB')
    print(json.dumps({'dtype': str(m.dtype)}))
elif mode == 'check':
    from peft import PeftModel
    spec = json.load(open(sys.argv[2]))
    rows, pad = spec['rows'], spec['pad']
    T = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad] * (T - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])
    with torch.no_grad():
        merged = LlamaForCausalLM.from_pretrained(spec['model'], dtype=torch.float32).eval()
        merged(input_ids=ids, attention_mask=mask).logits.numpy().tofile(spec['out_model'])
        p = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(spec['base'], dtype=torch.float32), spec['adapter']).eval()
        p(input_ids=ids, attention_mask=mask).logits.numpy().tofile(spec['out_peft'])
    c = p.peft_config['default']
    print(json.dumps({'r': c.r, 'targets': sorted(c.target_modules)}))
