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
val() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}'; }
for k in mlp_784_500_500_10_b128_eg_step_ms dann_784_500_500_10_b128_eg_step_ms eg_update_10M_ms copy_10M_ms; do
  a=$(val "$g" $k); b=$(val "$t" $k)
  printf '%-45s %12s %12s %8.2f\n' "$k" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
echo "$g" | grep fraction
# GEMM: geoplast against the best GEMM callable here (PyTorch's and numpy's BLAS).
ga=$(val "$g" gemm_1024_gflops); gt=$(val "$t" gemm_1024_gflops_torch); gn=$(val "$t" gemm_1024_gflops_numpy)
best=$(echo "if ($gt > $gn) $gt else $gn" | bc -l)
printf 'gemm_1024_gflops geoplast %s, torch %s, numpy %s; fraction of best %.2f\n' "$ga" "$gt" "$gn" "$(echo "$ga / $best" | bc -l)"
