package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/gemm"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

type fn = func(tp *Tape[float64], in []*Var[float64]) *Var[float64]

func checkCase(t *testing.T, f fn, inputs ...*tensor.Dense[float64]) {
	t.Helper()
	require.NoError(t, CheckGrad(f, inputs, CheckOptions{}))
}

func TestGradBatchedMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, batch := range [][]int{{1}, {3}, {2, 2}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				m, k, n := 3, 4, 2
				sa := append(append([]int(nil), batch...), m, k)
				if ta {
					sa = append(append([]int(nil), batch...), k, m)
				}
				sb := append(append([]int(nil), batch...), k, n)
				if tb {
					sb = append(append([]int(nil), batch...), n, k)
				}
				t.Run(fmt.Sprintf("batch=%v/tA=%v/tB=%v", batch, ta, tb), func(t *testing.T) {
					checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
						return weigh(tp, tp.BatchedMatMul(in[0], in[1], transFlag(ta), transFlag(tb)))
					}, randT(r, -1, 1, sa...), randT(r, -1, 1, sb...))
				})
			}
		}
	}
	t.Run("same operand twice", func(t *testing.T) { // x·xᵀ: two paths into one leaf
		checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.BatchedMatMul(in[0], in[0], gemm.NoTrans, gemm.Trans))
		}, randT(r, -1, 1, 2, 3, 4))
	})
}

// TestBatchedMatMulForward checks the values against explicit loops.
func TestBatchedMatMulForward(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b := randT(r, -1, 1, 2, 3, 5, 4), randT(r, -1, 1, 2, 3, 6, 4) // a·bᵀ
	tp := NewTape[float64]()
	z := tp.BatchedMatMul(NewVar(a, false), NewVar(b, false), gemm.NoTrans, gemm.Trans).Value()
	require.Equal(t, []int{2, 3, 5, 6}, z.Shape())
	for i := range 2 {
		for h := range 3 {
			for p := range 5 {
				for q := range 6 {
					var s float64
					for c := range 4 {
						s += a.At(i, h, p, c) * b.At(i, h, q, c)
					}
					require.InDelta(t, s, z.At(i, h, p, q), 1e-12)
				}
			}
		}
	}
}

func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := randT(r, -1, 1, 2, 3, 4, 5)
	tp := NewTape[float64]()
	y := tp.Permute(NewVar(x, false), 2, 0, 3, 1).Value()
	require.Equal(t, []int{4, 2, 5, 3}, y.Shape())
	for a := range 2 {
		for b := range 3 {
			for c := range 4 {
				for d := range 5 {
					require.Equal(t, x.At(a, b, c, d), y.At(c, a, d, b))
				}
			}
		}
	}
	for _, perm := range [][]int{{0}, {1, 0}, {0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {2, 0, 3, 1}, {4, 3, 2, 1, 0}} {
		shape := []int{2, 3, 4, 1, 3}[:len(perm)]
		t.Run(fmt.Sprint(perm), func(t *testing.T) {
			checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				// Used twice, so backward both overwrites and accumulates.
				p := tp.Permute(in[0], perm...)
				return tp.Add(weigh(tp, p), weigh(tp, tp.Square(p)))
			}, randT(r, -1, 1, shape...))
		})
	}
	require.Panics(t, func() { tp.Permute(NewVar(x, false), 0, 1, 1, 2) })
	require.Panics(t, func() { tp.Permute(NewVar(x, false), 0, 1, 2) })
}

func TestGradEmbedding(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	t.Run("repeated indices", func(t *testing.T) {
		checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.Embedding(in[0], []int{1, 3, 1, 0, 1, 3}))
		}, randT(r, -1, 1, 5, 3))
	})
	t.Run("tied weights", func(t *testing.T) {
		// GPT's weight tying: the table embeds the tokens and is also the
		// output matrix (logits = h·Wᵀ), two paths into one leaf.
		checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			w := in[0]
			h := tp.Tanh(tp.Embedding(w, []int{2, 0, 2, 4}))
			logits := tp.MatMulT(h, w, gemm.NoTrans, gemm.Trans)
			return tp.CrossEntropy(logits, []int{1, 2, 2, 0})
		}, randT(r, -1, 1, 5, 3))
	})
	t.Run("values", func(t *testing.T) {
		w := randT(r, -1, 1, 4, 2)
		tp := NewTape[float64]()
		e := tp.Embedding(NewVar(w, false), []int{3, 3, 0}).Value()
		require.Equal(t, []float64{w.At(3, 0), w.At(3, 1), w.At(3, 0), w.At(3, 1), w.At(0, 0), w.At(0, 1)}, e.Data())
		require.Panics(t, func() { tp.Embedding(NewVar(w, false), []int{4}) })
		require.Panics(t, func() { tp.Embedding(NewVar(w, false), []int{-1}) })
	})
}

func TestGradLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randT(r, -2, 2, 2, 3, 5)
	// Constant rows: variance 0, normalised row 0, adjoint finite.
	for j := range 5 {
		x.Set(0.7, 0, 1, j)
		x.Set(-3, 1, 2, j)
	}
	w, b := randT(r, 0.5, 1.5, 5), randT(r, -1, 1, 5)
	for _, eps := range []float64{1e-5, 0.1} {
		t.Run(fmt.Sprintf("affine/eps=%g", eps), func(t *testing.T) {
			checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				return weigh(tp, tp.LayerNorm(in[0], in[1], in[2], eps))
			}, x, w, b)
		})
	}
	t.Run("no affine", func(t *testing.T) {
		checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
			return weigh(tp, tp.LayerNorm(in[0], nil, nil, 1e-5))
		}, x)
	})
	t.Run("values", func(t *testing.T) {
		tp := NewTape[float64]()
		y := tp.LayerNorm(NewVar(x, false), NewVar(w, false), NewVar(b, false), 1e-5).Value()
		for a := range 2 {
			for c := range 3 {
				var mean, vr float64
				for j := range 5 {
					mean += x.At(a, c, j) / 5
				}
				for j := range 5 {
					vr += (x.At(a, c, j) - mean) * (x.At(a, c, j) - mean) / 5
				}
				for j := range 5 {
					want := (x.At(a, c, j)-mean)/math.Sqrt(vr+1e-5)*w.At(j) + b.At(j)
					require.InDelta(t, want, y.At(a, c, j), 1e-12)
				}
			}
		}
	})
}

func TestGradCausalSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, shape := range [][]int{{1, 1}, {1, 1, 1}, {4, 4}, {2, 3, 5, 5}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				return weigh(tp, tp.CausalSoftmax(in[0], 0.37))
			}, randT(r, -3, 3, shape...))
		})
	}
	t.Run("masked", func(t *testing.T) {
		// −Inf (or NaN) above the diagonal, as an additive mask would
		// leave there, is never read: outputs finite, adjoints exactly 0.
		s := randT(r, -3, 3, 2, 4, 4)
		for b := range 2 {
			for i := range 4 {
				for j := i + 1; j < 4; j++ {
					s.Set(math.Inf(-1), b, i, j)
					if j == 3 {
						s.Set(math.NaN(), b, i, j)
					}
				}
			}
		}
		x := NewVar(s, true)
		tp := NewTape[float64]()
		tp.Anomaly(true)
		p := tp.CausalSoftmax(x, 1)
		require.NoError(t, tp.Err())
		require.NoError(t, tp.Backward(weigh(tp, tp.Square(p))))
		g := x.Grad()
		for b := range 2 {
			for i := range 4 {
				var sum float64
				for j := range 4 {
					if j > i {
						require.Equal(t, 0.0, p.Value().At(b, i, j))
						require.Equal(t, 0.0, g.At(b, i, j))
						require.False(t, math.Signbit(g.At(b, i, j)))
					} else {
						require.False(t, math.IsNaN(g.At(b, i, j)))
					}
					sum += p.Value().At(b, i, j)
				}
				require.InDelta(t, 1, sum, 1e-12)
			}
		}
	})
}

// TestTransformerOpsNoAllocs: the ops a GPT step records stop allocating
// once the tape is warm.
func TestTransformerOpsNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := rand.New(rand.NewPCG(1, 1))
	toF32 := func(d *tensor.Dense[float64]) *tensor.Dense[float32] {
		o := tensor.New[float32](d.Shape()...)
		for i, v := range d.Data() {
			o.Data()[i] = float32(v)
		}
		return o
	}
	wte := NewVar(toF32(randT(r, -1, 1, 10, 8)), true)
	lnw, lnb := NewVar(toF32(randT(r, -1, 1, 8)), true), NewVar(toF32(randT(r, -1, 1, 8)), true)
	idx := []int{1, 2, 3, 1, 4, 5}
	tp := NewTape[float32]()
	step := func() {
		tp.Reset()
		x := tp.Embedding(wte, idx)                            // [6, 8]
		h := tp.LayerNorm(x, lnw, lnb, 1e-5)                   // [6, 8]
		q := tp.Permute(tp.Reshape(h, 2, 3, 2, 4), 0, 2, 1, 3) // [2, 2, 3, 4]
		s := tp.BatchedMatMul(q, q, gemm.NoTrans, gemm.Trans)  // [2, 2, 3, 3]
		p := tp.CausalSoftmax(s, 0.5)
		o := tp.BatchedMatMul(p, q, gemm.NoTrans, gemm.NoTrans)           // [2, 2, 3, 4]
		y := tp.Reshape(tp.Permute(o, 0, 2, 1, 3), 6, 8)                  // [6, 8]
		logits := tp.MatMulT(y, wte, gemm.NoTrans, gemm.Trans)            // [6, 10]
		if err := tp.Backward(tp.CrossEntropy(logits, idx)); err != nil { // tied
			panic(err)
		}
	}
	step()
	step()
	require.Zero(t, testing.AllocsPerRun(10, step))
	require.Zero(t, testing.AllocsPerRun(2, func() { runtime.GC(); step() }), "after a GC")
}

// composedAttention is CausalAttention written with the general ops:
// permute the heads out of qkv, two batched products around the masked
// softmax, permute back.
func composedAttention(tp *Tape[float64], qkv *Var[float64], b, t, h int) *Var[float64] {
	c := qkv.Shape()[1] / 3
	d := c / h
	x := tp.Permute(tp.Reshape(qkv, b, t, 3, h, d), 2, 0, 3, 1, 4) // [3, B, H, T, d]
	q := tp.Reshape(tp.Slice(x, 0, 0, 1), b*h, t, d)
	k := tp.Reshape(tp.Slice(x, 0, 1, 2), b*h, t, d)
	v := tp.Reshape(tp.Slice(x, 0, 2, 3), b*h, t, d)
	p := tp.CausalSoftmax(tp.BatchedMatMul(q, k, gemm.NoTrans, gemm.Trans), 1/math.Sqrt(float64(d)))
	y := tp.BatchedMatMul(p, v, gemm.NoTrans, gemm.NoTrans)
	return tp.Reshape(tp.Permute(tp.Reshape(y, b, h, t, d), 0, 2, 1, 3), b*t, c)
}

func TestCausalAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct{ b, t, h, d int }{{1, 1, 1, 2}, {1, 4, 1, 3}, {2, 3, 2, 2}, {3, 5, 3, 2}, {2, 1, 2, 3}} {
		t.Run(fmt.Sprintf("B=%d/T=%d/H=%d/d=%d", tc.b, tc.t, tc.h, tc.d), func(t *testing.T) {
			x := randT(r, -2, 2, tc.b*tc.t, 3*tc.h*tc.d)
			tp := NewTape[float64]()
			got := tp.CausalAttention(NewVar(x, false), tc.b, tc.t, tc.h).Value()
			want := composedAttention(tp, NewVar(x, false), tc.b, tc.t, tc.h).Value()
			require.Equal(t, want.Shape(), got.Shape())
			require.InDeltaSlice(t, want.Data(), got.Data(), 1e-12)
			checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				// qkv used twice: the adjoint both overwrites and adds.
				y := tp.CausalAttention(in[0], tc.b, tc.t, tc.h)
				return tp.Add(weigh(tp, y), weigh(tp, tp.Sum(tp.Square(in[0]))))
			}, x)
			checkCase(t, func(tp *Tape[float64], in []*Var[float64]) *Var[float64] {
				return weigh(tp, composedAttention(tp, in[0], tc.b, tc.t, tc.h))
			}, x)
		})
	}
	tp := NewTape[float64]()
	require.Panics(t, func() { tp.CausalAttention(NewVar(randT(r, 0, 1, 6, 12), false), 2, 4, 2) })
	require.Panics(t, func() { tp.CausalAttention(NewVar(randT(r, 0, 1, 6, 12), false), 2, 3, 5) })
}

// TestTransformerOpsThreads: LayerNorm and CausalAttention, forward and
// backward, give the same bits at one, two and three threads.
func TestTransformerOpsThreads(t *testing.T) {
	defer parallel.SetThreads(parallel.Threads())
	r := rand.New(rand.NewPCG(41, 42))
	const bs, ts = 25, 16 // 400 rows of 96: LayerNorm splits too
	qkv := tensor.New[float32](bs*ts, 3*32)
	for i := range qkv.Data() {
		qkv.Data()[i] = float32(r.Float64()*2 - 1)
	}
	w, b := tensor.New[float32](96), tensor.New[float32](96)
	for i := range w.Data() {
		w.Data()[i], b.Data()[i] = float32(r.Float64()+0.5), float32(r.Float64()-0.5)
	}
	run := func() [][]float32 {
		x, wv, bv := NewVar(qkv.Clone(), true), NewVar(w.Clone(), true), NewVar(b.Clone(), true)
		tp := NewTape[float32]()
		h := tp.LayerNorm(x, wv, bv, 1e-5)
		y := tp.CausalAttention(h, bs, ts, 4)
		z := tp.Mul(y, y)
		if err := tp.Backward(tp.Sum(z)); err != nil {
			panic(err)
		}
		return [][]float32{y.Value().Clone().Data(), x.Grad().Data(), wv.Grad().Data(), bv.Grad().Data()}
	}
	parallel.SetThreads(1)
	want := run()
	for _, th := range []int{2, 3} {
		parallel.SetThreads(th)
		require.Equal(t, want, run(), "threads=%d", th)
	}
}

// transFlag is gemm.Trans for true, gemm.NoTrans for false.
func transFlag(t bool) gemm.Transpose {
	if t {
		return gemm.Trans
	}
	return gemm.NoTrans
}

// A transpose flag is gemm.NoTrans or gemm.Trans; anything else panics
// before any work, naming the op.
func TestTransposeFlagMisuse(t *testing.T) {
	tp := NewTape[float64]()
	m := NewVar(tensor.New[float64](2, 2), false)
	b := NewVar(tensor.New[float64](1, 2, 2), false)
	for name, f := range map[string]func(){
		"MatMulT":         func() { tp.MatMulT(m, m, gemm.NoTrans, 'X') },
		"BatchedMatMul":   func() { tp.BatchedMatMul(b, b, 0, gemm.Trans) },
		"BroadcastMatMul": func() { tp.BroadcastMatMul(b, m, 't', gemm.NoTrans) },
	} {
		func() {
			defer func() {
				e, ok := recover().(*Error)
				require.True(t, ok, name)
				require.ErrorIs(t, e, ErrMisuse)
				require.Contains(t, e.Error(), name)
			}()
			f()
		}()
	}
	require.Equal(t, 0, tp.Len())
}
