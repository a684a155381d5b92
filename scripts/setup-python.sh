#!/usr/bin/env bash
# Creates steer's Python environment in .venv/ (ignored by git): the peers and reference
# implementations the tests and benches compare against, and what steer's exported jobs run on.
#   bash scripts/setup-python.sh          # create or update .venv from python/requirements.txt
# Idempotent: a .venv whose stamp matches the requirements file is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3
req=python/requirements.txt
nodeps=python/requirements-nodeps.txt
stamp=.venv/.steer-requirements
if [ -f "$stamp" ] && cat "$req" "$nodeps" | cmp -s - "$stamp"; then
  echo "== .venv up to date ($(.venv/bin/python --version))"
  exit 0
fi
echo "== creating .venv with $($py --version)"
"$py" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
# torch first, pinned: the CPU wheel on disk; anything later that asks for torch is satisfied by it.
.venv/bin/pip install --quiet "$(grep -E '^torch==' "$req")"
.venv/bin/pip install --quiet -r "$req"
.venv/bin/pip install --quiet --no-deps -r "$nodeps"
cat "$req" "$nodeps" > "$stamp"
echo "== .venv ready: $(.venv/bin/python -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__)')"
