// Package arm64asm is the arm64 assembly writer of the generators: avo has
// no arm64 back end, so the arm64 commands print Go assembler text through
// File, and emit the instructions Go's assembler lacks as WORD directives
// whose encodings come from this file, unit-tested against GNU as.
package arm64asm

import "fmt"

// Encodings of the arm64 instructions Go's assembler lacks, from the Arm
// Architecture Reference Manual (A-profile), "Advanced SIMD vector x indexed
// element": FMLA (by element) and FMUL (by element), vector forms,
//
//	31 30 29 28..23  22 21 20 19..16 15..12 11 10 9..5 4..0
//	 0  Q  0 011111  sz  L  M  Rm    opcode  H  0  Rn   Rd
//
// with Q = 1 (128-bit vectors), sz = 0 for .4s (element index H:L, 0..3) and
// 1 for .2d (index H, L = 0), M:Rm the element's register (V0..V31), and
// opcode 0001 for FMLA, 1001 for FMUL. enc_test.go checks them against words
// from GNU as.

const (
	OpFMLA = 0b0001
	OpFMUL = 0b1001
)

// ByElem encodes "op Vd.T, Vn.T, Vm.Ts[idx]" with T = 4s (double false) or
// 2d (double true). It panics on a register or index out of range.
func ByElem(op uint32, double bool, d, n, m, idx int) uint32 {
	for _, r := range []int{d, n, m} {
		if r < 0 || r > 31 {
			panic(fmt.Sprintf("ByElem: register V%d out of range", r))
		}
	}
	w := uint32(0x4F800000) // Q = 1, bits 28..23 = 011111
	var h, l uint32
	if double {
		if idx < 0 || idx > 1 {
			panic(fmt.Sprintf("ByElem: .d index %d out of range", idx))
		}
		w |= 1 << 22
		h = uint32(idx)
	} else {
		if idx < 0 || idx > 3 {
			panic(fmt.Sprintf("ByElem: .s index %d out of range", idx))
		}
		h, l = uint32(idx>>1), uint32(idx&1)
	}
	w |= l << 21
	w |= uint32(m) << 16 // M:Rm, five bits at 20..16
	w |= op << 12
	w |= h << 11
	w |= uint32(n) << 5
	w |= uint32(d)
	return w
}

// ByElemText is the GNU syntax of the same instruction, for the comment
// beside each WORD (gemm's tests decode every word and compare it).
func ByElemText(op uint32, double bool, d, n, m, idx int) string {
	name := map[uint32]string{OpFMLA: "fmla", OpFMUL: "fmul"}[op]
	t, ts := "4s", "s"
	if double {
		t, ts = "2d", "d"
	}
	return fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s[%d]", name, d, t, n, t, m, ts, idx)
}
