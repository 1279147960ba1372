//go:build !arm64 && !386

package gemm

// 15 XMM registers on amd64 (the tile is measured there), and the default
// for every other architecture: see kernelGeneric.
const genMR, genNR = 4, 2
