#!/usr/bin/env bash
# Times one RNN training step in geoplast (`cargo bench --bench rnn_step`) and in PyTorch
# (`bench/rnn_torch.py`: torch.nn.RNN + Linear, the same loss, clipping and EG update), 2 threads
# each, ROUNDS interleaved rounds; prints the median over rounds, the range and the ratio.
# Creates a throwaway venv with torch (VENV=… reuses one); CI never runs this. Run it on a quiet
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/interleave.sh
interleave rnn_step bench/rnn_torch.py
table rnn_a_colei_h256_b128_t28_step_ms rnn_b_h256_b64_t350_step_ms rnn_c_h64_b16_t100_step_ms rnn_b_peak_rss_mb
# The GEMMs alone of geoplast's (b) step (the issue's 1.25× bound).
echo "rnn_b_gemms_ms (geoplast): $(med "$g_all" rnn_b_gemms_ms), range $(range "$g_all" rnn_b_gemms_ms)"
