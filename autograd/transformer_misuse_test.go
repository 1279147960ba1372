package autograd

import (
	"errors"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/tensor"
)

// TestTransformerMisuse checks that the transformer ops refuse shapes that
// do not fit with a panic wrapping ErrShape that names the op, before they
// record anything on the tape.
func TestTransformerMisuse(t *testing.T) {
	v := func(shape ...int) *Var[float64] { return NewVar(tensor.New[float64](shape...), false) }
	for _, tc := range []struct {
		name, op string
		f        func(tp *Tape[float64])
	}{
		{"bmm rank differs", "BatchedMatMul", func(tp *Tape[float64]) { tp.BatchedMatMul(v(2, 3, 4), v(4, 5), gemm.NoTrans, gemm.NoTrans) }},
		{"bmm batch differs", "BatchedMatMul", func(tp *Tape[float64]) { tp.BatchedMatMul(v(2, 3, 4), v(3, 4, 5), gemm.NoTrans, gemm.NoTrans) }},
		{"bmm inner differs", "BatchedMatMul", func(tp *Tape[float64]) { tp.BatchedMatMul(v(2, 3, 4), v(2, 5, 6), gemm.NoTrans, gemm.NoTrans) }},
		{"bmm inner differs transposed", "BatchedMatMul", func(tp *Tape[float64]) { tp.BatchedMatMul(v(2, 3, 4), v(2, 4, 5), gemm.Trans, gemm.NoTrans) }},
		{"layernorm scalar", "LayerNorm", func(tp *Tape[float64]) { tp.LayerNorm(v(), nil, nil, 1e-5) }},
		{"layernorm weight", "LayerNorm", func(tp *Tape[float64]) { tp.LayerNorm(v(2, 4), v(3), v(4), 1e-5) }},
		{"layernorm bias", "LayerNorm", func(tp *Tape[float64]) { tp.LayerNorm(v(2, 4), v(4), v(5), 1e-5) }},
		{"softmax not square", "CausalSoftmax", func(tp *Tape[float64]) { tp.CausalSoftmax(v(2, 3, 4), 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := NewTape[float64]()
			defer func() {
				p := recover()
				err, ok := p.(error)
				if !ok || !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), tc.op) {
					t.Fatalf("panic %v, want an ErrShape naming %s", p, tc.op)
				}
				if tp.Len() != 0 {
					t.Fatalf("%d nodes recorded before the panic", tp.Len())
				}
			}()
			tc.f(tp)
		})
	}
}
