package gemm

// Tile sizes of the arm64 NEON microkernels (gemm_arm64.s), declared on every
// platform so that the blocking tables compile everywhere. Each keeps its
// MR×NR/VL accumulators in 24 of the 32 128-bit vector registers: 8 rows × 3
// vectors of 4 float32, 6 rows × 4 vectors of 2 float64. See doc.go, "arm64".
const (
	mrSNEON, nrSNEON = 8, 12
	mrDNEON, nrDNEON = 6, 8
)
