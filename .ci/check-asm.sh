#!/bin/sh
# check-asm.sh: regenerate gemm/gemm_amd64.s from the avo generator in
# gemm/_asm and fail if the committed file differs, so the assembly can never
# drift from its generator (nobody edits the .s by hand).
#
# Needs only the Go toolchain and the module proxy: the generator's own
# go.mod/go.sum pin avo. Runs the exact //go:generate line of
# gemm/kernel_amd64.go, from gemm/, on any host architecture.
set -eu
cd "$(dirname "$0")/.."

gen=$(sed -n 's|^//go:generate ||p' gemm/kernel_amd64.go)
[ -n "$gen" ] || { echo "check-asm: no //go:generate line in gemm/kernel_amd64.go" >&2; exit 1; }

(cd gemm/_asm && go vet ./... && test -z "$(gofmt -l .)") || {
	echo "check-asm: gemm/_asm fails go vet or gofmt" >&2
	exit 1
}
(cd gemm && eval "$gen")

if ! git diff --exit-code -- gemm/gemm_amd64.s; then
	echo "check-asm: gemm/gemm_amd64.s is out of date; run go generate ./gemm and commit it" >&2
	exit 1
fi
echo "check-asm: gemm/gemm_amd64.s is up to date"
