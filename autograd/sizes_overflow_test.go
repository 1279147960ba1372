package autograd

import (
	"errors"
	"math"
	"math/bits"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/tensor"
)

// TestSizeProductsOverflow is issue 23 items 4 and 13 for the ops: sizes
// that multiply or add past MaxInt used to wrap round past the checks
// (CausalAttention(qkv [0, 6], 1<<32, 1<<32, 1) took b·t = 0 for a match
// and failed later in New with a message naming New; Conv2d with dilation
// 1<<62 failed in New; MaxPool2d with it blamed padding; padding 1<<62
// printed a negative padded size). Each now panics with ErrShape naming
// the op and the overflowing setting, before recording anything.
func TestSizeProductsOverflow(t *testing.T) {
	half := 1 << (bits.UintSize / 2) // 1<<32 on 64-bit
	big := math.MaxInt/2 + 1         // 1<<62 on 64-bit
	v := func(shape ...int) *Var[float32] { return NewVar(tensor.New[float32](shape...), false) }
	for _, tc := range []struct {
		name string
		want []string
		f    func(tp *Tape[float32])
	}{
		{"attention b·t wraps", []string{"CausalAttention: qkv shape [0 6]"}, func(tp *Tape[float32]) { tp.CausalAttention(v(0, 6), half, half, 1) }},
		{"attention 3·heads wraps", []string{"CausalAttention:"}, func(tp *Tape[float32]) { tp.CausalAttention(v(2, 6), 1, 2, big) }},
		{"conv dilation", []string{"Conv2d:", "dilation", "overflows"}, func(tp *Tape[float32]) {
			tp.Conv2d(v(1, 1, 4, 4), v(1, 1, 3, 3), nil, Conv2dOptions{Dilation: [2]int{big, 1}})
		}},
		{"conv padding", []string{"Conv2d:", "padding", "overflows"}, func(tp *Tape[float32]) {
			tp.Conv2d(v(1, 1, 4, 4), v(1, 1, 3, 3), nil, Conv2dOptions{Padding: [2]int{big, 0}})
		}},
		{"maxpool dilation", []string{"MaxPool2d:", "dilation", "overflows"}, func(tp *Tape[float32]) {
			tp.MaxPool2d(v(1, 1, 4, 4), Pool2dOptions{Kernel: [2]int{3, 3}, Dilation: [2]int{big, 1}})
		}},
		{"maxpool padding", []string{"MaxPool2d:", "padding", "overflows"}, func(tp *Tape[float32]) {
			tp.MaxPool2d(v(1, 1, 4, 4), Pool2dOptions{Kernel: [2]int{3, 3}, Padding: [2]int{big, 0}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := NewTape[float32]()
			defer func() {
				p := recover()
				err, ok := p.(error)
				if !ok || !errors.Is(err, ErrShape) {
					t.Fatalf("panic %v, want an ErrShape", p)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("panic %q does not contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), " -") {
					t.Fatalf("panic %q prints a negative size", err)
				}
				if tp.Len() != 0 {
					t.Fatalf("%d nodes recorded before the panic", tp.Len())
				}
			}()
			tc.f(tp)
		})
	}
}
