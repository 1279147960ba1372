#!/bin/sh
# Alternates adjoint's BenchmarkONNX and ONNX Runtime (bench/onnx_ort_bench.js) on the same
# models, inputs and thread counts, ROUNDS times (default 3), printing each line as it comes:
#
#   ADJOINT_ONNX_MODELS=DIR NODE_PATH=.../node_modules bench/onnx_compare.sh [ROUNDS]
#
# Quote best-of-rounds with the spread; on a loaded machine compare the cpu-ms figures (CPU time
# per run, all threads) rather than wall time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${ADJOINT_ONNX_MODELS:?set ADJOINT_ONNX_MODELS (bench/onnx_fixtures.sh big DIR)}
rounds=${1:-3}
cd "$here/.."
bin=$(mktemp /tmp/adjoint_onnxbench.XXXXXX)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./bench
models="resnet18 mobilenet_v2 minilm_l6 embedding_model ch_ppocr_mobile_v2.0_cls_infer"
dims() {
	case $1 in
	embedding_model) echo "=1,76,32,1" ;;
	ch_ppocr_mobile_v2.0_cls_infer) echo "=1,3,48,192" ;;
	*) echo "" ;;
	esac
}
for r in $(seq "$rounds"); do
	for t in 1 2; do
		for m in $models; do
			[ -f "$dir/$m.onnx" ] || continue
			env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" -test.run '^$' \
				-test.bench "ONNX/model=$m/threads=$t\$" -test.benchtime 15x | grep '^Benchmark' || true
			env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE node "$here/onnx_ort_bench.js" "$t" "$dir/$m.onnx$(dims "$m")"
		done
	done
done
