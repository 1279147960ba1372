package gemm

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// decodeByElem decodes an Advanced SIMD "vector x indexed element" FMLA or
// FMUL word (128-bit vectors) into GNU syntax, or reports why it is not one.
// It reads the fields back out of the word as the Arm ARM lays them out; the
// generator's encoder builds them the other way (/_asm/internal/arm64asm/enc.go) and
// is tested against GNU as, so the two meet only in the manual.
func decodeByElem(w uint32) (string, error) {
	if w>>31 != 0 || w>>30&1 != 1 || w>>29&1 != 0 || w>>23&0x3f != 0x1f || w>>10&1 != 0 {
		return "", fmt.Errorf("%#08x is not a 128-bit FP by-element instruction", w)
	}
	sz, l, m := w>>22&1, w>>21&1, w>>16&0x1f
	op, h, n, d := w>>12&0xf, w>>11&1, w>>5&0x1f, w&0x1f
	var name string
	switch op {
	case 0b0001:
		name = "fmla"
	case 0b1001:
		name = "fmul"
	default:
		return "", fmt.Errorf("%#08x: opcode %04b is neither FMLA nor FMUL", w, op)
	}
	t, ts, idx := "4s", "s", h<<1|l
	if sz == 1 {
		if l != 0 {
			return "", fmt.Errorf("%#08x: .2d with L = 1 is unallocated", w)
		}
		t, ts, idx = "2d", "d", h
	}
	return fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s[%d]", name, d, t, n, t, m, ts, idx), nil
}

func TestDecodeByElem(t *testing.T) {
	// Words from GNU as 2.40 (aarch64-linux-gnu-as), the first from the issue.
	for w, want := range map[uint32]string{
		0x4f821020: "fmla v0.4s, v1.4s, v2.s[0]",
		0x4fa4185f: "fmla v31.4s, v2.4s, v4.s[3]",
		0x4f931bd1: "fmla v17.4s, v30.4s, v19.s[2]",
		0x4fd91a34: "fmla v20.2d, v17.2d, v25.d[1]",
		0x4fa09bff: "fmul v31.4s, v31.4s, v0.s[3]",
		0x4fd5999e: "fmul v30.2d, v12.2d, v21.d[1]",
	} {
		got, err := decodeByElem(w)
		if err != nil || got != want {
			t.Errorf("decode %#08x = %q, %v; want %q", w, got, err, want)
		}
	}
	for _, w := range []uint32{0x0f821020, 0x4f822020, 0x4fe41008, 0x4e821020} {
		if s, err := decodeByElem(w); err == nil {
			t.Errorf("decode %#08x = %q, want an error", w, s)
		}
	}
}

// TestArm64Words checks every WORD in the generated gemm_arm64.s against the
// instruction its comment names, and that no instruction touches the
// registers Go reserves on arm64 (R18 platform, R26 closure context, R27
// assembler temporary, R28 g, R29 frame pointer). It reads the text, so it
// runs on every architecture.
func TestArm64Words(t *testing.T) {
	f, err := os.Open("gemm_arm64.s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	word := regexp.MustCompile(`^\s*WORD\s+\$0x([0-9a-f]{8})\s*//\s*(.*)$`)
	reserved := regexp.MustCompile(`\bR(18|26|27|28|29)\b`)
	sc := bufio.NewScanner(f)
	line, words := 0, 0
	for sc.Scan() {
		line++
		text := sc.Text()
		code, _, _ := strings.Cut(text, "//")
		if reserved.MatchString(code) {
			t.Errorf("line %d uses a reserved register: %s", line, text)
		}
		if !strings.Contains(code, "WORD") {
			continue
		}
		mm := word.FindStringSubmatch(text)
		if mm == nil {
			t.Errorf("line %d: WORD without its instruction in a comment: %s", line, text)
			continue
		}
		w, _ := strconv.ParseUint(mm[1], 16, 32)
		got, err := decodeByElem(uint32(w))
		if err != nil {
			t.Errorf("line %d: %v", line, err)
		} else if got != strings.TrimSpace(mm[2]) {
			t.Errorf("line %d: word decodes to %q, comment says %q", line, got, mm[2])
		}
		words++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if words < 100 {
		t.Fatalf("only %d WORD lines in gemm_arm64.s", words)
	}
}
