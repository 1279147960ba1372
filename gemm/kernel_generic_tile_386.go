package gemm

// 8 XMM registers: see kernelGeneric.
const genMR, genNR = 2, 2
