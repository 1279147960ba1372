// Package gemm is adjoint's matrix multiplication: row-major BLAS-style
// SGEMM and DGEMM,
//
//	C = alpha·op(A)·op(B) + beta·C,
//
// with op(X) = X or Xᵀ, built the way Goto's BLAS and BLIS are: operands
// packed into cache-sized panels, and a register-blocked microkernel in
// AVX-512 or AVX2+FMA assembly on amd64 (a portable Go kernel elsewhere, or
// when forced), spread over goroutines with package parallel.
//
// Sgemv and Dgemv are the matrix-vector products, y = alpha·op(A)·x +
// beta·y, with the same layout, rules and panics. A matrix-vector product
// reads each element of A once, so it is bound by how fast A streams from
// memory, not by arithmetic: the kernels (AVX2+FMA on amd64, used by the
// avx2 and avx512 levels; portable Go elsewhere) read four rows of A at a
// time in whole vectors, and a large product is split over the elements of
// y, each summed by one goroutine in a fixed order, so the result is the
// same for any thread count. Sgemm and Dgemm hand them their products with
// m == 1 or n == 1 whose vector operands are contiguous (a token's row
// times a weight matrix in decoding), which the blocked path would compute
// mostly in tile padding.
//
// PackB packs a B that many products share (a network's weights) into the
// driver's panels once; GemmPacked multiplies by it without packing B
// again, with Gemm's result bit for bit. GemmPackedEpilogue also hands
// each finished strip of C to a caller's function (a bias, an activation,
// a residual) on the goroutine that computed it.
//
// # Layout
//
// Matrices are row-major: element (i, j) of a matrix stored with leading
// dimension ld is s[i*ld+j], so ld is the distance between the starts of two
// rows and must be at least the number of columns (and at least 1). The
// transposes apply to the stored matrices: with tA == NoTrans, A is stored
// m×k (lda >= k); with tA == Trans it is stored k×m (lda >= m) and used
// transposed. Likewise B is stored k×n (ldb >= n) or n×k (ldb >= k). C is
// m×n with ldc >= n. A slice must be long enough to hold the last element
// used, (rows−1)·ld + cols; elements between rows are never read or written.
//
// # Kernels
//
// The best kernel the CPU supports is chosen at start-up: "avx512" (AVX-512F),
// "avx2" (AVX2 and FMA) or "generic" on amd64; "neon" on arm64 (Advanced
// SIMD is mandatory there, so it is always the default); "generic" (pure Go)
// on every other architecture or with the purego build tag. The environment
// variable ADJOINT_KERNEL=generic|avx2|avx512|neon forces one at start-up
// (for every package of the module with assembly: generic turns all of it
// off, packing's included), and SetKernel at run time; Kernel names the one
// in use and Kernels lists those available.
//
// The AVX-512 family has, besides its 8×48 (float32) and 8×24 (float64)
// tile, narrower and shorter variants for the last partial column and row
// panels (NR 32, 16 or 16, 8; MR 4, 2), so edge tiles cost in proportion to
// their size, and variants that read B in place for short products, where
// packing B would cost more than it saves: full-width ones with rows ldb
// apart (a stored B, unless its rows start a multiple of 4 KB apart, which
// all fall in one set of the L1 cache), and ones that load each k step's
// row address from a table of row offsets (one scalar load per 24 FMAs),
// through which the implicit GEMM of a stride-1 convolution reads its patch
// rows straight from KW shifted copies of the image (internal/igemm). The
// AVX2 family likewise has a 6×16 (6×8) variant that reads a stored B in
// place, so that on two threads the goroutines need not wait for a shared
// packed panel. Each family's tiles, variants and cut-offs are declared
// together in one table (kernels.go); the figures behind the cut-offs, and
// the commands that measure them, are in docs/gemm-tuning.md. The choice
// depends only on the kernel, the shape and the leading dimension. Packing
// transposes 8-row blocks in vector registers where AVX is available.
//
// # arm64
//
// The NEON kernels keep their tile in 24 of the 32 128-bit vector registers
// (V8–V31) and take each A value by element (FMLA Vd.4s, Vn.4s, Vm.s[i]), so
// B is loaded once per k step and no register or instruction goes to
// broadcasts. Per k step:
//
//	kernel        tile   loads (bytes)            FMLAs  flops
//	float32 neon  8×12   3 B + 2 A vectors (80)   24     192
//	float64 neon  6×8    4 B + 3 A vectors (112)  24      96
//
// Both issue 2 load instructions (LD1 of 2–4 registers, post-increment) and
// 24 FMLAs, so each step is FMA-bound on current Neoverse and Apple cores,
// and its 24 independent chains are at least the FMA latency × FMA pipes
// (8 or 16) those cores need to keep every pipe busy; the C tile's load,
// alpha scaling and store add 48 vector operations per call, 0.5% at
// k = KC = 384. The expected speed per core, on paper (qemu-aarch64 tests
// correctness only), and the benchmarks that measure it on an arm64
// machine are in docs/gemm-tuning.md. cpuid reports no cache sizes on arm64, so the
// blocking uses the safe defaults (32 KiB L1, 256 KiB L2, 4 MiB L3). Partial
// tiles go through a scratch tile, as with the AVX2 kernels.
//
// Different kernels round differently (the assembly fuses multiply-adds), so
// results can differ between kernels in the last bits, never between runs or
// thread counts with the same kernel.
//
// # Panics
//
// Sgemm and Dgemm (and Sgemv and Dgemv likewise, for their arguments)
// panic, before writing anything, on programmer errors: a
// Transpose other than NoTrans and Trans (ErrTranspose), a negative m, n or k
// (ErrShape), a leading dimension too small (ErrLeadingDim), a slice too
// short for its dimensions (ErrShort), or C overlapping A or B (ErrOverlap).
// The panic value is an error that wraps one of these sentinels, so
// errors.Is matches it, and whose message names the function, the argument
// and the values, e.g. "gemm: Sgemm: lda 3 < k 4".
//
// # Aliasing
//
// The elements of c that are written must not share memory with the
// elements of a or b that are read; this is checked (by address range) and
// panics with ErrOverlap. A and B may alias each other freely (for example
// A·Aᵀ with the same slice), since both are only read.
//
// # Threads
//
// A product of at least 2·128³ flops (the kernel table's parMinFlops) is
// split over up to P = parallel.Threads() goroutines (the caller's included) with one hand-off
// to the pool per call. The goroutines of the team walk the blocks of the
// loop nest in the same order (column panels of NC, and within each, depth
// blocks of at most KC), and each block has two phases:
//
//   - B: the KC×NC panel of op(B) is packed in min(P, micro-panels) shares,
//     claimed from a shared counter; a goroutine that runs out of shares
//     waits until the panel is complete.
//   - Compute: the panel's C (m rows × NC columns, cut into MR×NR tiles) is
//     divided into a tm×tn grid of rectangles, tm·tn <= P, chosen to
//     minimise the largest rectangle in tiles with ties going to more row
//     runs. Row tiles are split into tm runs and column tiles into tn runs
//     whose lengths differ by at most one, so every tile belongs to exactly
//     one rectangle and the rectangles balance within one tile row and one
//     tile column. Each rectangle is a task, claimed from a shared counter;
//     its goroutine packs the rectangle's rows of A (MC at a time) and runs
//     the kernels over its columns of the shared panel.
//
// When the row tiles divide well among P (the MLP's 256-row products have
// 32 row tiles: 2×1 at P = 2, 16×1 at P = 16) the grid is P×1: each
// goroutine packs only its own rows of A and reads all of B, which is packed
// once between them: the ic loop of BLIS. With few row tiles for P (a
// 32-row product at P = 16 has four) each row run gets several column runs,
// i.e. each goroutine its own slice of N: BLIS's jr loop. The k loop is
// never split.
//
// The B panel is double-buffered: block s packs into buffer s mod 2 after
// the tasks of block s−2 (the last readers of that buffer) are done, so a
// single wait per block does the work of the two barriers of a textbook
// parallel GEMM, and packing the next panel overlaps computing the last
// tasks of the current one. A task of a later depth block waits for the
// same rectangle of the block before it, so C accumulates in depth order.
// Every wait is for work already claimed by a running goroutine, so a call
// cannot deadlock whatever joins it: if the pool is busy (nested or
// concurrent calls), the caller claims and does everything itself. A wait
// polls for up to 50 µs and then sleeps until the work it waits for is
// done, so that a waiting goroutine gives its CPU to the one it waits for
// when the two share a core (polling, two threads were slower than one with
// another process running: docs/gemm-tuning.md).
//
// The grid, the shares and the order of operations on every C element
// depend only on the shape and P, and each element is computed by the same
// kernel calls in the same order for any P, so results are bitwise
// identical for every thread count (tested at P = 1, 2, 3, 4, 8 and 16 for
// every kernel). Pack buffers, per-call state and the pool's jobs are kept
// on free lists that survive garbage collections, so a warm call, serial
// or parallel, allocates nothing.
//
// # Concurrency
//
// Sgemm and Dgemm may be called from any number of goroutines at once, as
// long as no two calls write overlapping parts of C. A large product is split
// over up to parallel.Threads() goroutines (see # Threads), over the rows
// and columns of C only, never over k, so the result is bitwise identical
// for any thread count.
package gemm
