//go:build amd64 && gc && !purego

package gemm

import (
	"unsafe"

	"github.com/adjoint-go/adjoint/internal/dispatch"
)

// Transposing copies for packing (generated into gemm_amd64.s and
// gemm_amd64_stubs.go by /_asm/gemm/amd64).
// For n chunks of 8 (float32) or 4 (float64) columns of 8 rows, row r
// starting at src + r·ld elements, each writes column p of the 8 rows, in
// row order, to dst + p·w elements: the packed micro-panel layout. They need
// AVX only; all 8 rows must hold the n·8 (n·4) columns, and dst must hold
// (n·8−1)·w + 8 ((n·4−1)·w + 8) elements.

// packAsm enables the assembly transposes (a variable so that tests and the
// tuning harness can compare with the Go loop). They are registered with
// internal/dispatch as the AVX2 level of "gemm/pack" (the CPUs with AVX2 and
// FMA all have AVX), so ADJOINT_KERNEL=generic turns them off too.
var packAsm bool

func init() {
	dispatch.Register("gemm/pack",
		func() dispatch.Level {
			if packAsm {
				return dispatch.AVX2
			}
			return dispatch.Generic
		},
		func(l dispatch.Level) { packAsm = l == dispatch.AVX2 },
		dispatch.AVX2)
}

// transpose8 packs the leading columns of 8 rows of src (row r at
// src[r*ld:], kb columns, all checked by the caller) into d[p*w + r] with
// the assembly, and returns how many columns it did (a multiple of 8 or 4;
// 0 without the assembly); the caller does the rest.
func transpose8[T float32 | float64](d, src []T, ld, w, kb int) int {
	if !packAsm {
		return 0
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		n := kb / 8
		if n > 0 {
			transpose8x8PS((*float32)(unsafe.Pointer(&src[0])), ld, (*float32)(unsafe.Pointer(&d[0])), w, n)
		}
		return 8 * n
	}
	n := kb / 4
	if n > 0 {
		transpose8x4PD((*float64)(unsafe.Pointer(&src[0])), ld, (*float64)(unsafe.Pointer(&d[0])), w, n)
	}
	return 4 * n
}

// transpose6 is transpose8 for 6 rows (the AVX2 tile's MR), float32 only:
// each 6×8 block goes through the 8×8 transpose with two zero rows, and
// only the 6 values of each column are written.
func transpose6[T float32 | float64](d, src []T, ld, w, kb int) int {
	var z T
	if !packAsm || unsafe.Sizeof(z) != 4 {
		return 0
	}
	n := kb / 8
	if n > 0 {
		transpose6x8PS((*float32)(unsafe.Pointer(&src[0])), ld, (*float32)(unsafe.Pointer(&d[0])), w, n)
	}
	return 8 * n
}
