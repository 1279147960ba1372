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
//     they are formed (see kernel_generic_tiles.go). Measured on the Zen 5
//     VM (kernel alone, k = 384, best of 30 in thread CPU time): 11.8
//     GFLOP/s in float32 and float64 against 9.4 for the former 2×2 tile
//     without unrolling; every unrolled tile from 2×2 to 3×3 lands between
//     11.3 and 11.8, the scalar multiply and add throughput, so the tile
//     barely matters there once the add latency is covered. 2×4 without
//     unrolling spills (8.4). The whole 1024³ product, one thread (best
//     of 5 in process CPU time, loaded VM): 10.3 GFLOP/s float32 and 10.0
//     float64, against 8.3 and 7.9 with the former kernel, 5.3 and 5.0 for
//     gonum built with -tags noasm, and 11.9 and 7.3 for gonum with its
//     assembly.
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
