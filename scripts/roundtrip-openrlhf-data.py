#!/usr/bin/env python3
"""Read a `steer export openrlhf rm` job's data with OpenRLHF 0.11.2's own reader (no GPU needed).

  .venv/bin/pip download openrlhf==0.11.2 --no-deps -d /tmp/orl && cd /tmp/orl && unzip -q openrlhf-*.whl
  cd /tmp/orl/openrlhf-0.11.2.data/purelib && python /path/to/steer/scripts/roundtrip-openrlhf-data.py JOB_DIR
"""
# Round-trip steer's exported OpenRLHF files through OpenRLHF 0.11.2's own preprocess_data functions
# (no GPU; the package's __init__ pulls deepspeed/math deps, so the modules are loaded from their files).
import importlib.util, json, sys, types
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path); m = importlib.util.module_from_spec(spec); sys.modules[name] = m; spec.loader.exec_module(m); return m
for pkg in ('openrlhf', 'openrlhf.utils', 'openrlhf.datasets'):
    sys.modules[pkg] = types.ModuleType(pkg)
load('openrlhf.utils.utils', 'openrlhf/utils/utils.py')
load('openrlhf.datasets.utils', 'openrlhf/datasets/utils.py')
rd = load('openrlhf.datasets.reward_dataset', 'openrlhf/datasets/reward_dataset.py')
job = sys.argv[1]
rows = [json.loads(l) for l in open(job + '/data/train.jsonl')]
for r in rows:
    p, c, rj, m = rd.preprocess_data(r, None, None, 'chosen', 'rejected', None)
    assert c == r['chosen'] and rj == r['rejected'] and m == r.get('margin', 0), (c, r)
print(f'openrlhf reward_dataset.preprocess_data read {len(rows)} rows as exported; margins {sorted(set(rd.preprocess_data(r, None, None, "chosen", "rejected", None)[3] for r in rows))}')
