package arm64asm

import "testing"

// TestByElem checks the encoder against words assembled by GNU as 2.40
// (aarch64-linux-gnu-as, objdump -d), the first one also given by the issue.
func TestByElem(t *testing.T) {
	cases := []struct {
		op        uint32
		double    bool
		d, n, m   int
		idx       int
		word      uint32
		gnuSyntax string
	}{
		{OpFMLA, false, 0, 1, 2, 0, 0x4f821020, "fmla v0.4s, v1.4s, v2.s[0]"},
		{OpFMLA, false, 8, 0, 3, 1, 0x4fa31008, "fmla v8.4s, v0.4s, v3.s[1]"},
		{OpFMLA, false, 31, 2, 4, 3, 0x4fa4185f, "fmla v31.4s, v2.4s, v4.s[3]"},
		{OpFMLA, false, 17, 30, 19, 2, 0x4f931bd1, "fmla v17.4s, v30.4s, v19.s[2]"},
		{OpFMLA, true, 8, 0, 4, 0, 0x4fc41008, "fmla v8.2d, v0.2d, v4.d[0]"},
		{OpFMLA, true, 31, 3, 6, 1, 0x4fc6187f, "fmla v31.2d, v3.2d, v6.d[1]"},
		{OpFMLA, true, 20, 17, 25, 1, 0x4fd91a34, "fmla v20.2d, v17.2d, v25.d[1]"},
		{OpFMUL, false, 8, 8, 0, 0, 0x4f809108, "fmul v8.4s, v8.4s, v0.s[0]"},
		{OpFMUL, false, 31, 31, 0, 3, 0x4fa09bff, "fmul v31.4s, v31.4s, v0.s[3]"},
		{OpFMUL, true, 8, 8, 0, 0, 0x4fc09108, "fmul v8.2d, v8.2d, v0.d[0]"},
		{OpFMUL, true, 30, 12, 21, 1, 0x4fd5999e, "fmul v30.2d, v12.2d, v21.d[1]"},
	}
	for _, c := range cases {
		if got := ByElem(c.op, c.double, c.d, c.n, c.m, c.idx); got != c.word {
			t.Errorf("%s: got %#08x, want %#08x", c.gnuSyntax, got, c.word)
		}
		if got := ByElemText(c.op, c.double, c.d, c.n, c.m, c.idx); got != c.gnuSyntax {
			t.Errorf("text %q, want %q", got, c.gnuSyntax)
		}
	}
}

func TestByElemRange(t *testing.T) {
	bad := [][5]int{{32, 0, 0, 0, 0}, {0, 0, 0, 4, 0}, {0, 0, 0, 2, 1}, {0, -1, 0, 0, 0}}
	for _, b := range bad {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ByElem%v did not panic", b)
				}
			}()
			ByElem(OpFMLA, b[4] == 1, b[0], b[1], b[2], b[3])
		}()
	}
}
