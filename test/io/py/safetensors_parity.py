# Parity of steer's safetensors IO with the reference (safetensors + torch).
#   write DIR     : DIR/torch/{f32,f16,bf16}.safetensors made by torch (values and bits), and a
#                   sharded bf16 tiny Llama saved by transformers (DIR/hf, max_shard_size 40KB)
#                   plus DIR/hf_f32.safetensors: the same weights widened to float32 by torch.
#   check DIR     : read what steer wrote (DIR/steer/*.safetensors, DIR/steer_model) with
#                   safetensors/transformers; print JSON facts the test compares.
import json, sys, os
import torch
from safetensors.torch import save_file, load_file

mode, d = sys.argv[1], sys.argv[2]
if mode == 'write':
    os.makedirs(f'{d}/torch', exist_ok=True)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 7, generator=g) * torch.logspace(-6, 4, 7)
    special = torch.tensor([0.0, -0.0, float('inf'), float('-inf'), 65504.0, 1e-8, 3.0e38, -1.5])
    for name, dt in [('f32', torch.float32), ('f16', torch.float16), ('bf16', torch.bfloat16)]:
        save_file({'x': x.to(dt), 'special': special.to(dt), 'empty': torch.zeros(0, 4, dtype=dt)}, f'{d}/torch/{name}.safetensors', metadata={'format': 'pt'})
        # torch's widening of the stored values: what steer must read
        save_file({'x': x.to(dt).float(), 'special': special.to(dt).float()}, f'{d}/torch/{name}.widened.safetensors')
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(1)
    cfg = LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False, max_position_embeddings=64)
    m = LlamaForCausalLM(cfg).to(torch.bfloat16)
    m.save_pretrained(f'{d}/hf', max_shard_size='40KB')
    save_file({k: v.float().contiguous() for k, v in m.state_dict().items()}, f'{d}/hf_f32.safetensors')
elif mode == 'check':
    out = {}
    for name in ['f32', 'f16', 'bf16']:
        t = load_file(f'{d}/steer/{name}.safetensors')
        ref = load_file(f'{d}/torch/{name}.safetensors')
        out[name] = {
            'dtype': str(t['x'].dtype),
            # bit-exact: compare raw bits
            'bits_equal': all(torch.equal(t[k].view(torch.int16) if t[k].element_size() == 2 else t[k].view(torch.int32), ref[k].view(torch.int16) if ref[k].element_size() == 2 else ref[k].view(torch.int32)) for k in ['x', 'special']),
            'empty_shape': list(t['empty'].shape),
        }
    from transformers import LlamaForCausalLM
    m = LlamaForCausalLM.from_pretrained(f'{d}/steer_model', dtype=torch.bfloat16)
    ref = LlamaForCausalLM.from_pretrained(f'{d}/hf', dtype=torch.bfloat16)
    sd, rsd = m.state_dict(), ref.state_dict()
    out['model_equal'] = sorted(sd) == sorted(rsd) and all(torch.equal(sd[k].view(torch.int16), rsd[k].view(torch.int16)) for k in sd)
    out['index_files'] = sorted(set(json.load(open(f'{d}/steer_model/model.safetensors.index.json'))['weight_map'].values()))
    print(json.dumps(out))
