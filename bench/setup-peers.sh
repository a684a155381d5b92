#!/usr/bin/env bash
# The PyTorch peers of bench/ : Debian's torch under /usr/bin/python3.
# libopenblas0-pthread matters: without it Debian's torch falls back to the reference BLAS
# (~1 GFLOP/s) and every ratio against it is meaningless.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3-torch python3-numpy libopenblas0-pthread >/dev/null
/usr/bin/python3 -c "import torch; print('torch', torch.__version__, 'threads', torch.get_num_threads())"
