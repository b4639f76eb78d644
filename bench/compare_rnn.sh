#!/usr/bin/env bash
# Times one RNN training step in geoplast (`cargo bench --bench rnn_step`) and in PyTorch
# (`bench/rnn_torch.py`: torch.nn.RNN + Linear, the same loss, clipping and EG update), 2 threads
# each, ROUNDS interleaved rounds; prints the median over rounds, the range and the ratio.
# Creates a throwaway venv with torch (VENV=… reuses one); CI never runs this. Run it on a quiet
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-bench/.venv}
rounds=${ROUNDS:-5}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q torch numpy; }
cargo bench --bench rnn_step --no-run -q 2>/dev/null
g_all=""; t_all=""
for r in $(seq "$rounds"); do
  g_all+=$(GEOPLAST_THREADS=2 cargo bench --bench rnn_step 2>/dev/null | grep -E '^[A-Za-z0-9_]+: ')$'\n'
  t_all+=$("$venv/bin/python" bench/rnn_torch.py 2>/dev/null)$'\n'
done
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null), $rounds interleaved rounds"
med() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
range() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }
printf '%-32s %10s %16s %10s %16s %8s\n' measure geoplast range pytorch range speedup
for k in rnn_b_h256_b64_t350_step_ms rnn_c_h64_b16_t100_step_ms; do
  a=$(med "$g_all" $k); b=$(med "$t_all" $k)
  printf '%-32s %10s %16s %10s %16s %8.2f\n' "$k" "$a" "$(range "$g_all" $k)" "$b" "$(range "$t_all" $k)" "$(echo "$b / $a" | bc -l)"
done
