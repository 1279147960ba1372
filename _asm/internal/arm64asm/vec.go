package arm64asm

import "fmt"

// Vector instructions Go's assembler lacks (it has integer VADD, VSUB, VAND,
// VFMLA and loads/stores, but no floating-point add, subtract, multiply,
// divide, compare or square root on vectors). Each is given by its word for
// the .4s arrangement with Q = 1; the .2d form sets sz, bit 22, in every
// one of them. From the Arm Architecture Reference Manual (A-profile),
// "Advanced SIMD three same" (Rm at 20..16) and "two-register
// miscellaneous" (no Rm); vec_test.go checks them against GNU as.
type VecOp struct {
	Name string // GNU mnemonic
	Word uint32 // .4s encoding with all registers 0
	Two  bool   // two-register form (no Rm)
	Zero bool   // compares against #0.0 or #0 (printed as a third operand)
}

var (
	FADD  = VecOp{Name: "fadd", Word: 0x4e20d400}
	FSUB  = VecOp{Name: "fsub", Word: 0x4ea0d400}
	FMUL  = VecOp{Name: "fmul", Word: 0x6e20dc00}
	FDIV  = VecOp{Name: "fdiv", Word: 0x6e20fc00}
	FMAX  = VecOp{Name: "fmax", Word: 0x4e20f400}
	FMIN  = VecOp{Name: "fmin", Word: 0x4ea0f400}
	FCMGT = VecOp{Name: "fcmgt", Word: 0x6ea0e400}
	FCMGE = VecOp{Name: "fcmge", Word: 0x6e20e400}
	FSQRT = VecOp{Name: "fsqrt", Word: 0x6ea1f800, Two: true}
	FNEG  = VecOp{Name: "fneg", Word: 0x6ea0f800, Two: true}
	// FCMGTZ is FCMGT against #0.0: all ones where Vn > 0 (false for NaN).
	FCMGTZ = VecOp{Name: "fcmgt", Word: 0x4ea0c800, Two: true, Zero: true}
	// CMLTZ is the signed integer CMLT against #0: all ones where the sign
	// bit of the lane is set.
	CMLTZ = VecOp{Name: "cmlt", Word: 0x4ea0a800, Two: true, Zero: true}
	// CMGTZ and CMGEZ are the signed integer compares with #0: all ones
	// where the lane, as a signed integer, is > 0 (>= 0).
	CMGTZ = VecOp{Name: "cmgt", Word: 0x4ea08800, Two: true, Zero: true}
	CMGEZ = VecOp{Name: "cmge", Word: 0x6ea08800, Two: true, Zero: true}
	// FCMEQZ is FCMEQ against #0.0: all ones where Vn is ±0.
	FCMEQZ = VecOp{Name: "fcmeq", Word: 0x4ea0d800, Two: true, Zero: true}
	// SCVTF converts signed integers to floating point of the same width.
	SCVTF = VecOp{Name: "scvtf", Word: 0x4e21d800, Two: true}
	// FRINTN rounds to the nearest integral value, ties to even.
	FRINTN = VecOp{Name: "frintn", Word: 0x4e218800, Two: true}
	// FCVTZS converts to signed integers of the same width, rounding toward
	// zero.
	FCVTZS = VecOp{Name: "fcvtzs", Word: 0x4ea1b800, Two: true}
)

// Enc encodes "op Vd.T, Vn.T[, Vm.T]" with T = 4s (double false) or 2d. m
// is ignored by two-register forms. It panics on a register out of range.
func (o VecOp) Enc(double bool, d, n, m int) uint32 {
	for _, r := range []int{d, n, m} {
		if r < 0 || r > 31 {
			panic(fmt.Sprintf("VecOp.Enc: %s register V%d out of range", o.Name, r))
		}
	}
	w := o.Word
	if double {
		w |= 1 << 22
	}
	if !o.Two {
		w |= uint32(m) << 16
	}
	return w | uint32(n)<<5 | uint32(d)
}

// Text is the GNU syntax of the same instruction.
func (o VecOp) Text(double bool, d, n, m int) string {
	t := "4s"
	if double {
		t = "2d"
	}
	s := fmt.Sprintf("%s v%d.%s, v%d.%s", o.Name, d, t, n, t)
	switch {
	case o.Zero && o.Name[0] == 'c' && o.Name[1] == 'm': // integer compares
		s += ", #0"
	case o.Zero:
		s += ", #0.0"
	case !o.Two:
		s += fmt.Sprintf(", v%d.%s", m, t)
	}
	return s
}

// V emits a VecOp as a WORD with its GNU syntax beside it.
func (f *File) V(o VecOp, double bool, d, n, m int) {
	f.F("WORD $0x%08x // %s", o.Enc(double, d, n, m), o.Text(double, d, n, m))
}

// SSHR encodes "sshr Vd.T, Vn.T, #shift", the arithmetic right shift of
// each lane ("Advanced SIMD shift by immediate", immh:immb = 2·esize −
// shift). It panics on a register or shift out of range.
func SSHR(double bool, d, n, shift int) uint32 {
	es := 32
	if double {
		es = 64
	}
	if d < 0 || d > 31 || n < 0 || n > 31 || shift < 1 || shift > es {
		panic(fmt.Sprintf("SSHR: v%d, v%d, #%d out of range", d, n, shift))
	}
	return 0x4f000400 | uint32(2*es-shift)<<16 | uint32(n)<<5 | uint32(d)
}

// SSHRText is the GNU syntax of the same instruction.
func SSHRText(double bool, d, n, shift int) string {
	t := "4s"
	if double {
		t = "2d"
	}
	return fmt.Sprintf("sshr v%d.%s, v%d.%s, #%d", d, t, n, t, shift)
}

// Sshr emits SSHR as a WORD with its GNU syntax beside it.
func (f *File) Sshr(double bool, d, n, shift int) {
	f.F("WORD $0x%08x // %s", SSHR(double, d, n, shift), SSHRText(double, d, n, shift))
}
