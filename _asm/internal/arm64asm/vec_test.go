package arm64asm

import "testing"

// TestVecOp checks the vector encodings against words assembled by GNU as
// 2.40 (aarch64-linux-gnu-as, objdump -d), and the text beside each WORD
// against the syntax it was given.
func TestVecOp(t *testing.T) {
	cases := []struct {
		op      VecOp
		double  bool
		d, n, m int
		word    uint32
		gnu     string
	}{
		{FADD, false, 0, 1, 2, 0x4e22d420, "fadd v0.4s, v1.4s, v2.4s"},
		{FADD, true, 31, 17, 5, 0x4e65d63f, "fadd v31.2d, v17.2d, v5.2d"},
		{FSUB, false, 3, 4, 29, 0x4ebdd483, "fsub v3.4s, v4.4s, v29.4s"},
		{FSUB, true, 3, 4, 29, 0x4efdd483, "fsub v3.2d, v4.2d, v29.2d"},
		{FMUL, false, 8, 9, 10, 0x6e2add28, "fmul v8.4s, v9.4s, v10.4s"},
		{FMUL, true, 8, 9, 10, 0x6e6add28, "fmul v8.2d, v9.2d, v10.2d"},
		{FDIV, false, 1, 2, 3, 0x6e23fc41, "fdiv v1.4s, v2.4s, v3.4s"},
		{FDIV, true, 30, 2, 3, 0x6e63fc5e, "fdiv v30.2d, v2.2d, v3.2d"},
		{FMAX, false, 1, 2, 3, 0x4e23f441, "fmax v1.4s, v2.4s, v3.4s"},
		{FMAX, true, 1, 2, 3, 0x4e63f441, "fmax v1.2d, v2.2d, v3.2d"},
		{FMIN, false, 1, 2, 3, 0x4ea3f441, "fmin v1.4s, v2.4s, v3.4s"},
		{FMIN, true, 1, 2, 3, 0x4ee3f441, "fmin v1.2d, v2.2d, v3.2d"},
		{FCMGT, false, 5, 6, 7, 0x6ea7e4c5, "fcmgt v5.4s, v6.4s, v7.4s"},
		{FCMGT, true, 5, 6, 7, 0x6ee7e4c5, "fcmgt v5.2d, v6.2d, v7.2d"},
		{FCMGE, false, 5, 6, 7, 0x6e27e4c5, "fcmge v5.4s, v6.4s, v7.4s"},
		{FCMGE, true, 5, 6, 7, 0x6e67e4c5, "fcmge v5.2d, v6.2d, v7.2d"},
		{FSQRT, false, 11, 12, 0, 0x6ea1f98b, "fsqrt v11.4s, v12.4s"},
		{FSQRT, true, 11, 12, 0, 0x6ee1f98b, "fsqrt v11.2d, v12.2d"},
		{FNEG, false, 11, 12, 0, 0x6ea0f98b, "fneg v11.4s, v12.4s"},
		{FNEG, true, 11, 12, 0, 0x6ee0f98b, "fneg v11.2d, v12.2d"},
		{FCMGTZ, false, 13, 14, 0, 0x4ea0c9cd, "fcmgt v13.4s, v14.4s, #0.0"},
		{FCMGTZ, true, 13, 14, 0, 0x4ee0c9cd, "fcmgt v13.2d, v14.2d, #0.0"},
		{CMLTZ, false, 15, 16, 0, 0x4ea0aa0f, "cmlt v15.4s, v16.4s, #0"},
		{CMLTZ, true, 15, 16, 0, 0x4ee0aa0f, "cmlt v15.2d, v16.2d, #0"},
		{CMGTZ, false, 1, 2, 0, 0x4ea08841, "cmgt v1.4s, v2.4s, #0"},
		{CMGTZ, true, 1, 2, 0, 0x4ee08841, "cmgt v1.2d, v2.2d, #0"},
		{CMGEZ, false, 3, 4, 0, 0x6ea08883, "cmge v3.4s, v4.4s, #0"},
		{CMGEZ, true, 3, 4, 0, 0x6ee08883, "cmge v3.2d, v4.2d, #0"},
		{FCMEQZ, false, 3, 4, 0, 0x4ea0d883, "fcmeq v3.4s, v4.4s, #0.0"},
		{FCMEQZ, true, 3, 4, 0, 0x4ee0d883, "fcmeq v3.2d, v4.2d, #0.0"},
		{SCVTF, false, 1, 2, 0, 0x4e21d841, "scvtf v1.4s, v2.4s"},
		{SCVTF, true, 1, 2, 0, 0x4e61d841, "scvtf v1.2d, v2.2d"},
		{FRINTN, false, 17, 18, 0, 0x4e218a51, "frintn v17.4s, v18.4s"},
		{FRINTN, true, 17, 18, 0, 0x4e618a51, "frintn v17.2d, v18.2d"},
		{FCVTZS, false, 19, 20, 0, 0x4ea1ba93, "fcvtzs v19.4s, v20.4s"},
		{FCVTZS, true, 19, 20, 0, 0x4ee1ba93, "fcvtzs v19.2d, v20.2d"},
	}
	for _, c := range cases {
		if got := c.op.Enc(c.double, c.d, c.n, c.m); got != c.word {
			t.Errorf("%s: got %#08x, want %#08x", c.gnu, got, c.word)
		}
		if got := c.op.Text(c.double, c.d, c.n, c.m); got != c.gnu {
			t.Errorf("text %q, want %q", got, c.gnu)
		}
	}
}

func TestVecOpRange(t *testing.T) {
	for _, r := range [][3]int{{32, 0, 0}, {0, -1, 0}, {0, 0, 40}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Enc%v did not panic", r)
				}
			}()
			FADD.Enc(false, r[0], r[1], r[2])
		}()
	}
}

// TestSSHR checks the shift encoding against GNU as 2.40 words.
func TestSSHR(t *testing.T) {
	cases := []struct {
		double      bool
		d, n, shift int
		word        uint32
		gnu         string
	}{
		{false, 5, 6, 1, 0x4f3f04c5, "sshr v5.4s, v6.4s, #1"},
		{true, 5, 6, 1, 0x4f7f04c5, "sshr v5.2d, v6.2d, #1"},
		{false, 31, 0, 31, 0x4f21041f, "sshr v31.4s, v0.4s, #31"},
	}
	for _, c := range cases {
		if got := SSHR(c.double, c.d, c.n, c.shift); got != c.word {
			t.Errorf("%s: got %#08x, want %#08x", c.gnu, got, c.word)
		}
		if got := SSHRText(c.double, c.d, c.n, c.shift); got != c.gnu {
			t.Errorf("text %q, want %q", got, c.gnu)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SSHR shift 0 did not panic")
		}
	}()
	SSHR(false, 0, 0, 0)
}
