//go:build !amd64 || !gc || purego

package gemm

// Without assembly, packing is the Go loop only.
var packAsm = false

func transpose8[T float32 | float64](d, src []T, ld, w, kb int) int { return 0 }

func transpose6[T float32 | float64](d, src []T, ld, w, kb int) int { return 0 }
