#!/usr/bin/env bash
# Times geoplast and the equivalent PyTorch programs (bench/compare_torch.py, written as a
# careful PyTorch user would) on this machine with 2 threads each, interleaved: ROUNDS rounds of
# geoplast then PyTorch, each round's medians collected, and the median over rounds printed with
# the ratio. Creates a throwaway venv with torch; CI never runs this. Run it on a quiet machine:
# under load PyTorch's OpenMP threads collapse and the ratios mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/interleave.sh
interleave train_step bench/compare_torch.py
table mlp_784_500_500_10_b128_eg_step_ms dann_784_500_500_10_b128_eg_step_ms eg_update_10M_ms copy_10M_ms
echo "eg_update_fraction_of_copy_bandwidth: geoplast $(med "$g_all" eg_update_fraction_of_copy_bandwidth)," \
  "pytorch $(echo "(12 / $(med "$t_all" eg_update_10M_ms)) / (8 / $(med "$t_all" copy_10M_ms))" | bc -l | cut -c1-4)"
ga=$(med "$g_all" gemm_1024_gflops); gt=$(med "$t_all" gemm_1024_gflops_torch); gn=$(med "$t_all" gemm_1024_gflops_numpy)
best=$(echo "if ($gt > $gn) $gt else $gn" | bc -l)
printf 'gemm_1024_gflops geoplast %s, torch %s, numpy %s; fraction of best %.2f\n' "$ga" "$gt" "$gn" "$(echo "$ga / $best" | bc -l)"
