#!/bin/sh
# Alternates adjoint's BenchmarkSmolLMDecode (greedy decoding with the KV cache, SmolLM-135M's
# shape, float32, 32 tokens after an 8-token prompt) with PyTorch's (bench/hf_bench.py, the
# same shape and loop) and BenchmarkCopyBandwidth, at 1 and 2 threads, ROUNDS times (default
# 3), printing each line as it comes and then a best-of table:
#
#   bench/hf_compare.sh [ROUNDS]
#
# PyTorch runs as transformers' code does (F.linear) at 2 threads both ways:
# torch.set_num_threads(2) with OPENBLAS_NUM_THREADS=1, and one torch thread with
# OPENBLAS_NUM_THREADS=2; and, a faster PyTorch than transformers runs, with its one-row
# products through torch.mv (OpenBLAS's sgemv, OPENBLAS_NUM_THREADS=t; hf_bench.py --mv).
# The table quotes PyTorch's best and, apart, its best as transformers runs it (mv=0).
# The bandwidth ratio is weight bytes read per token times tokens/s over the copy's memory
# traffic (read + write) at the same thread count, each the best of the rounds of this run: on a
# loaded machine both are depressed by the others' traffic, unevenly, and the ratio can pass 100%.
# On a loaded machine compare the cpu-tokens/s figures too (tokens per second of CPU time).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-3}
py=${PYTHON:-/usr/bin/python3}
cd "$here/.."
bin=$(mktemp /tmp/adjoint_hfbench.XXXXXX)
log=$(mktemp /tmp/adjoint_hfcompare.XXXXXX)
trap 'rm -f "$bin" "$log"' EXIT
go test -c -o "$bin" ./bench
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
uptime | tee -a "$log"
for r in $(seq "$rounds"); do
	for t in 1 2; do
		run "$bin" -test.run '^$' -test.bench "CopyBandwidth/size=128MB/threads=$t\$" -test.benchtime 20x |
			grep '^Benchmark' | tee -a "$log" || true
		run "$bin" -test.run '^$' -test.bench "SmolLMDecode/threads=$t\$" -test.benchtime 3x |
			grep '^Benchmark' | tee -a "$log" || true
		run OPENBLAS_NUM_THREADS=1 "$py" "$here/hf_bench.py" --only smollm "$t" | grep smollm | tee -a "$log"
		if [ "$t" -gt 1 ]; then
			run OPENBLAS_NUM_THREADS="$t" "$py" "$here/hf_bench.py" --only smollm --torch-threads 1 "$t" |
				grep smollm | tee -a "$log"
		fi
		run OPENBLAS_NUM_THREADS="$t" "$py" "$here/hf_bench.py" --only smollm --torch-threads 1 --mv "$t" |
			grep smollm | tee -a "$log"
	done
done
uptime | tee -a "$log"
# Best of the rounds per thread count.
awk '
function num(s, unit,   i) { for (i = 1; i <= NF; i++) if ($(i+1) == unit) return $i + 0; return 0 }
/^BenchmarkCopyBandwidth/ { t = $1; sub(/.*threads=/, "", t); sub(/-.*/, "", t); v = num($0, "traffic-GB/s"); if (v > bw[t]) bw[t] = v }
/^BenchmarkSmolLMDecode/ { t = $1; sub(/.*threads=/, "", t); sub(/-.*/, "", t)
	v = num($0, "tokens/s"); if (v > go[t]) { go[t] = v; gogb[t] = num($0, "weight-GB/s") }
	c = num($0, "cpu-tokens/s"); if (c > gocpu[t]) gocpu[t] = c }
/smollm_decode/ { t = $1; sub(/threads=/, "", t)
	v = num($0, "tokens/s"); if (v > pt[t]) { pt[t] = v; ptgb[t] = num($0, "weight-GB/s"); how[t] = $(NF-2) " " $(NF-1) " " $NF }
	if ($NF == "mv=0" && v > tf[t]) tf[t] = v
	c = num($0, "cpu-tokens/s"); if (c > ptcpu[t]) ptcpu[t] = c }
END {
	printf "\n| threads | adjoint tok/s | PyTorch tok/s | ratio | adjoint cpu-tok/s | PyTorch cpu-tok/s | copy traffic GB/s | adjoint weight GB/s (of copy) | PyTorch weight GB/s (of copy) |\n"
	printf "|---|---|---|---|---|---|---|---|---|\n"
	for (t = 1; t <= 2; t++) if (go[t] > 0)
		printf "| %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f (%.0f%%) | %.1f (%.0f%%) |\n", t, go[t], pt[t], (pt[t] > 0 ? go[t] / pt[t] : 0),
			gocpu[t], ptcpu[t], bw[t], gogb[t], (bw[t] > 0 ? 100 * gogb[t] / bw[t] : 0), ptgb[t], (bw[t] > 0 ? 100 * ptgb[t] / bw[t] : 0)
	for (t = 1; t <= 2; t++) if (how[t] != "") printf "PyTorch best at threads=%d: %s; as transformers runs it (F.linear, mv=0): %.1f tokens/s, adjoint %.2fx\n", t, how[t], tf[t], (tf[t] > 0 ? go[t] / tf[t] : 0)
}' "$log"
