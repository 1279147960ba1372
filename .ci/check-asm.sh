#!/bin/sh
# check-asm.sh: rerun every //go:generate line in the module (each drives an
# avo generator in a sibling _asm folder with its own go.mod) and fail if any
# generated file differs from what is committed, so the assembly can never
# drift from its generator. Nobody edits a generated .s by hand.
#
# Needs only the Go toolchain and the module proxy: each generator's own
# go.mod/go.sum pins avo. Works on any host architecture.
set -eu
cd "$(dirname "$0")/.."

snapshot() { git diff; git status --porcelain --untracked-files=all; }
before=$(snapshot)
found=0
for f in $(git ls-files '*.go' | xargs grep -l '^//go:generate '); do
	dir=$(dirname "$f")
	found=$((found + 1))
	for gen in $(ls -d "$dir"/_asm 2>/dev/null); do
		(cd "$gen" && go vet ./... && test -z "$(gofmt -l .)") || {
			echo "check-asm: $gen fails go vet or gofmt" >&2
			exit 1
		}
	done
	sed -n 's|^//go:generate ||p' "$f" | while IFS= read -r line; do
		echo "check-asm: $dir: $line"
		(cd "$dir" && eval "$line")
	done
done
[ "$found" -gt 0 ] || { echo "check-asm: no //go:generate lines found" >&2; exit 1; }

if [ "$(snapshot)" != "$before" ]; then
	git status --porcelain --untracked-files=all
	git diff --stat
	echo "check-asm: generated files are out of date; run go generate ./... and commit them" >&2
	exit 1
fi
echo "check-asm: $found generated file sets are up to date"
