# Shared by bench/compare_torch.sh and bench/compare_rnn.sh (sourced from the repository root):
# the throwaway torch venv, interleaved rounds of a geoplast bench and its PyTorch script, and
# the table of medians over rounds with their ranges and ratios. CI never runs these.

venv=${VENV:-bench/.venv}
rounds=${ROUNDS:-5}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q torch numpy; }

# interleave BENCH SCRIPT: ROUNDS rounds of `cargo bench --bench BENCH` then `python SCRIPT`, 2
# threads each; their `name: value` lines collect in $g_all and $t_all.
interleave() {
  cargo bench --bench "$1" --no-run -q 2>/dev/null
  g_all=""; t_all=""
  for _ in $(seq "$rounds"); do
    g_all+=$(GEOPLAST_THREADS=2 cargo bench --bench "$1" 2>/dev/null | grep -E '^[A-Za-z0-9_]+: ')$'\n'
    t_all+=$("$venv/bin/python" "$2" 2>/dev/null)$'\n'
  done
  echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null), $rounds interleaved rounds"
}

# The median over rounds of one measure, and its range.
med() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
range() { echo "$1" | awk -F': ' -v k="$2" '$1==k{print $2}' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }

# table KEY…: one row per measure, geoplast against PyTorch (the speedup is PyTorch / geoplast).
table() {
  printf '%-40s %10s %16s %10s %16s %8s\n' measure geoplast range pytorch range speedup
  for k in "$@"; do
    a=$(med "$g_all" "$k"); b=$(med "$t_all" "$k")
    printf '%-40s %10s %16s %10s %16s %8.2f\n' "$k" "$a" "$(range "$g_all" "$k")" "$b" "$(range "$t_all" "$k")" "$(echo "$b / $a" | bc -l)"
  done
}
