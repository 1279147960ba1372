package gemm

// Register tile of the generic Go kernel, by architecture (genMR and genNR in
// kernel_generic_tile_*.go): the same for float32 and float64.
const (
	mrGenS, nrGenS = genMR, genNR
	mrGenD, nrGenD = genMR, genNR
)

// kernelGeneric is the portable microkernel with the same contract as the
// assembly ones: k >= 1, a holds k groups of MR values of op(A), b k groups
// of NR values of op(B), c starts at C(0,0) with row stride ldc, and
// C = alpha·A·B + beta·C, C not read when beta == 0.
//
// How big a tile Go keeps in registers depends on the target:
//
//   - amd64 has 15 allocatable XMM registers and destructive SSE
//     arithmetic: each product needs a register until it is added. A 4×2
//     tile (8 accumulators, 2 B values, one A value and one product at a
//     time) fits; unrolled 4 k steps, most products are added as soon as
//     they are formed (see kernel_generic_tiles.go). Every unrolled tile
//     from 2×2 to 3×3 runs at about the scalar multiply and add
//     throughput, so the tile barely matters there once the add latency
//     is covered; 2×4 without unrolling spills (docs/gemm-tuning.md).
//   - arm64 has 32 FP registers and the compiler fuses x*y + z into one
//     FMADD, so no product needs a register: a 4×4 tile (16 accumulators,
//     4 + 4 operands) fits with room to spare and issues 16 independent
//     FMADD chains, enough for 4-cycle latency on 4 pipes.
//   - 386 has 8 XMM registers: the 2×2 tile, unrolled.
func kernelGeneric[T float32 | float64](k int, a, b, c []T, ldc int, alpha, beta T) {
	switch {
	case genMR == 4 && genNR == 4:
		kernelGeneric4x4(k, a, b, c, ldc, alpha, beta)
	case genMR == 4 && genNR == 2:
		kernelGeneric4x2(k, a, b, c, ldc, alpha, beta)
	default:
		kernelGeneric2x2(k, a, b, c, ldc, alpha, beta)
	}
}
