package gemm

// 32 FP registers and fused multiply-adds: see kernelGeneric.
const genMR, genNR = 4, 4
