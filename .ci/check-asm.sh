#!/bin/sh
# check-asm.sh: vet and test the one generator module, _asm/ (avo for amd64,
# our own writer and encoder for arm64, a command per package and
# architecture), rerun every //go:generate line in the main module (each runs
# one of those commands) and fail if any generated file, assembly or Go
# prototypes, differs from what is committed, so the assembly can never drift
# from its generator. Nobody edits a generated file by hand.
#
# Needs only the Go toolchain and the module proxy: _asm/go.mod and go.sum
# pin avo. Works on any host architecture.
set -eu
cd "$(dirname "$0")/.."

(cd _asm && go mod tidy -diff && go vet ./... && test -z "$(gofmt -l .)" && go test ./...) || {
	echo "check-asm: _asm fails go mod tidy -diff, go vet, gofmt or its tests" >&2
	exit 1
}

snapshot() { git diff; git status --porcelain --untracked-files=all; }
before=$(snapshot)
found=0
for f in $(git ls-files '*.go' | grep -v '^_asm/' | xargs grep -l '^//go:generate '); do
	dir=$(dirname "$f")
	found=$((found + 1))
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
