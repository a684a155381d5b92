# Summary of an ONNX Runtime profile (JSON from compile's `profile` option, e.g. bench/checkpoints/step_lab.ts
# --profile): the runs' wall times, then over the runs after the first SKIP (the warm-up) the kernel
# time per op type (per run, share, node count) and the top (op, input shapes -> output shapes) groups.
#   python3 bench/checkpoints/profile_summary.py PROFILE.json [SKIP=1] [TOP=40]
import json, sys, collections
ev = json.load(open(sys.argv[1]))
nodes = [e for e in ev if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time')]
runs = [e for e in ev if e.get('cat') == 'Session' and e['name'] == 'model_run']
print('runs (ms):', [round(r['dur']/1000) for r in runs])
skip = int(sys.argv[2]) if len(sys.argv) > 2 else 1
# only nodes inside timed runs (after the first `skip`)
starts = [(r['ts'], r['ts'] + r['dur']) for r in runs[skip:]]
nr = len(starts)
sel = [e for e in nodes if any(s <= e['ts'] <= t for s, t in starts)]
tot = sum(e['dur'] for e in sel) / nr
print(f'kernel total per run {tot/1000:.0f} ms, nodes per run {len(sel)//nr}')
by = collections.Counter(); cnt = collections.Counter()
for e in sel:
    by[e['args']['op_name']] += e['dur']; cnt[e['args']['op_name']] += 1
for op, d in by.most_common(25):
    print(f'{op:28s} {d/nr/1000:8.1f} ms {100*d/nr/tot:5.1f}%  n={cnt[op]//nr}')
# top nodes grouped by (op, shapes)
grp = collections.Counter(); gc = collections.Counter()
for e in sel:
    ins = ' '.join('x'.join(map(str, list(d.values())[0])) for d in e['args'].get('input_type_shape', []))
    outs = ' '.join('x'.join(map(str, list(d.values())[0])) for d in e['args'].get('output_type_shape', []))
    k = (e['args']['op_name'], ins + ' -> ' + outs)
    grp[k] += e['dur']; gc[k] += 1
print('--- top (op, shapes)')
for (op, sh), d in grp.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 40):
    print(f'{d/nr/1000:8.1f} ms n={gc[(op, sh)]//nr:4d} {op:22s} {sh}')
