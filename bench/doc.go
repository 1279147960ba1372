// Package bench holds benchmarks comparing adjoint's kernels with naive loops, gonum and OpenBLAS.
//
// The benchmarks live in the _test.go files (go test -run '^$' -bench . ./bench);
// this package's exported code is the list of GEMM implementations and shapes
// they share with cmd/gemmbench.
//
// Sub-benchmarks are named so benchstat can split them, e.g.
//
//	BenchmarkSgemm/shape=1024x1024x1024/trans=NN/impl=avx512/threads=1
//	BenchmarkMatDenseMul/size=1024/blas=adjoint/threads=1
//
// (benchstat -col /impl). With -short, the 2048 products, gonum from 1024 up
// and the naive loops are skipped, so that
//
//	go test -short -run '^$' -bench . -benchtime=1x ./bench
//
// takes seconds; without -short the same command takes about a minute on two
// cores.
//
// OpenBLAS is linked through cgo only when built with -tags openblas (Debian:
// apt-get install libopenblas-dev). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE,
// if set in the environment, force an OpenBLAS kernel; unset them for a fair
// comparison:
//
//	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE go test -tags openblas -run '^$' -bench Sgemm ./bench
//
// BenchmarkONNX (onnx_test.go) times whole ONNX models (ResNet-18,
// MobileNetV2, a MiniLM-L6-shaped encoder, openWakeWord's speech embedding,
// PaddleOCR's direction classifier) at 1 and 2 threads, reporting ms/run,
// best-ms, median-ms and cpu-ms/run; the models live outside git in
// $ADJOINT_ONNX_MODELS (onnx_fixtures.sh big DIR exports and unpacks them;
// the benchmark skips without it). onnx_compare.sh alternates it with ONNX
// Runtime (onnx_ort_bench.js); onnx_export.py and onnx_ref.js make the
// models and the reference outputs that package onnx's tests compare with.
//
// # Concurrency
//
// An Impl's Use changes process-wide settings (the gemm kernel, the thread
// counts of package parallel, runtime.GOMAXPROCS or OpenBLAS): run one
// implementation at a time.
package bench
