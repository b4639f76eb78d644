#!/usr/bin/env bash
# Times geoplast and the equivalent PyTorch programs in one run on this machine (2 threads) and
# prints the ratios. Creates a throwaway venv with torch; CI never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-bench/.venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q torch numpy; }
g=$(GEOPLAST_THREADS=2 cargo bench --bench train_step 2>/dev/null | grep -E '^[A-Za-z0-9_]+: ')
t=$("$venv/bin/python" bench/compare_torch.py 2>/dev/null)
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
printf '%-45s %12s %12s %8s\n' measure geoplast pytorch speedup
for k in mlp_784_500_500_10_b128_eg_step_ms eg_update_10M_ms copy_10M_ms; do
  a=$(echo "$g" | awk -F': ' -v k="$k" '$1==k{print $2}')
  b=$(echo "$t" | awk -F': ' -v k="$k" '$1==k{print $2}')
  printf '%-45s %12s %12s %8.2f\n' "$k" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
echo "$g" | grep fraction
