#!/usr/bin/env bash
# Times geoplast and the equivalent PyTorch programs (bench/compare_torch.py, written as a
# careful PyTorch user would) on this machine with 2 threads each, interleaved: ROUNDS rounds of
# geoplast then PyTorch, each round's medians collected, and the median over rounds printed with
# the ratio. Creates a throwaway venv with torch; CI never runs this. Run it on a quiet machine:
# under load PyTorch's OpenMP threads collapse and the ratios mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-bench/.venv}
rounds=${ROUNDS:-5}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q torch numpy; }
cargo bench --bench train_step --no-run -q 2>/dev/null
g_all=""; t_all=""
for r in $(seq "$rounds"); do
  g_all+=$(GEOPLAST_THREADS=2 cargo bench --bench train_step 2>/dev/null | grep -E '^[A-Za-z0-9_]+: ')$'\n'
  t_all+=$("$venv/bin/python" bench/compare_torch.py 2>/dev/null)$'\n'
done
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null), $rounds interleaved rounds"
# The median over rounds of one measure.
med() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
range() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }
printf '%-40s %10s %14s %10s %14s %8s\n' measure geoplast range pytorch range speedup
for k in mlp_784_500_500_10_b128_eg_step_ms dann_784_500_500_10_b128_eg_step_ms eg_update_10M_ms copy_10M_ms; do
  a=$(med "$g_all" $k); b=$(med "$t_all" $k)
  printf '%-40s %10s %14s %10s %14s %8.2f\n' "$k" "$a" "$(range "$g_all" $k)" "$b" "$(range "$t_all" $k)" "$(echo "$b / $a" | bc -l)"
done
echo "eg_update_fraction_of_copy_bandwidth: geoplast $(med "$g_all" eg_update_fraction_of_copy_bandwidth)," \
  "pytorch $(echo "(12 / $(med "$t_all" eg_update_10M_ms)) / (8 / $(med "$t_all" copy_10M_ms))" | bc -l | cut -c1-4)"
ga=$(med "$g_all" gemm_1024_gflops); gt=$(med "$t_all" gemm_1024_gflops_torch); gn=$(med "$t_all" gemm_1024_gflops_numpy)
best=$(echo "if ($gt > $gn) $gt else $gn" | bc -l)
printf 'gemm_1024_gflops geoplast %s, torch %s, numpy %s; fraction of best %.2f\n' "$ga" "$gt" "$gn" "$(echo "$ga / $best" | bc -l)"
