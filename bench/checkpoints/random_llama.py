# A random Llama checkpoint as a user would bring one: saved by transformers (save_pretrained) in
# bfloat16, sharded, with steer's char tokenizer copied in by the caller. Default shape: SmolLM2-135M
# (hidden 576, 30 layers, 9/3 heads, intermediate 1536, tied) with the char tokenizer's vocabulary.
#   .venv/bin/python bench/checkpoints/random_llama.py OUT [--vocab 84] [--max-shard-size 100MB] [--layers 30]
# Every embedding leans along one axis and EOS's most, so sampled answers end (as a trained model's do).
import argparse, json
import torch
from transformers import LlamaConfig, LlamaForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument('out')
ap.add_argument('--vocab', type=int, default=84)
ap.add_argument('--hidden', type=int, default=576)
ap.add_argument('--layers', type=int, default=30)
ap.add_argument('--heads', type=int, default=9)
ap.add_argument('--kv-heads', type=int, default=3)
ap.add_argument('--intermediate', type=int, default=1536)
ap.add_argument('--max-shard-size', default='100MB')
ap.add_argument('--eos-bias', type=float, default=2.0)
a = ap.parse_args()
torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate, num_hidden_layers=a.layers, num_attention_heads=a.heads,
                  num_key_value_heads=a.kv_heads, max_position_embeddings=8192, rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0)
m = LlamaForCausalLM(cfg)
with torch.no_grad():
    m.model.embed_tokens.weight[:, 0] += 1.0
    m.model.embed_tokens.weight[2, 0] += a.eos_bias
m.to(torch.bfloat16).save_pretrained(a.out, max_shard_size=a.max_shard_size)
print(json.dumps({'parameters': sum(p.numel() for p in m.parameters()), 'out': a.out}))
