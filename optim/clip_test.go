package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// clipParams makes leaves of the given sizes with random gradients set
// directly (scaled by scale); a size of -1 is an empty parameter left
// without a gradient.
func clipParams[T tensor.Float](t testing.TB, seed uint64, scale float64, sizes ...int) []*autograd.Var[T] {
	rng := rand.New(rand.NewPCG(seed, 7))
	tp := autograd.NewTape[T]()
	var ps, withGrad []*autograd.Var[T]
	var grads [][]T
	for _, n := range sizes {
		p := autograd.NewVar(tensor.New[T](max(n, 0)), true)
		ps = append(ps, p)
		if n < 0 {
			continue
		}
		g := make([]T, n)
		for i := range g {
			g[i] = T(scale * rng.NormFloat64())
		}
		withGrad = append(withGrad, p)
		grads = append(grads, g)
	}
	setGrads(t, tp, withGrad, grads...)
	return ps
}

func gradsOf[T tensor.Float](ps []*autograd.Var[T]) [][]T {
	var out [][]T
	for _, p := range ps {
		if g := p.Grad(); g != nil {
			out = append(out, append([]T(nil), g.Data()...))
		} else {
			out = append(out, nil)
		}
	}
	return out
}

// TestClipGradNorm compares with the definition computed naively here: one
// float64 accumulator, then every gradient times maxNorm/(total+1e-6) when
// that is below 1.
func TestClipGradNorm(t *testing.T) {
	t.Run("float32", func(t *testing.T) { clipNaive[float32](t, 1e-6) })
	t.Run("float64", func(t *testing.T) { clipNaive[float64](t, 1e-13) })
}

func clipNaive[T tensor.Float](t *testing.T, tol float64) {
	sizes := []int{7, -1, 3*chunk + 5, 1, 0, 13}
	for _, c := range []struct {
		name           string
		scale, maxNorm float64
		clips          bool
	}{
		{"clipped", 1, 10, true},
		{"not clipped", 1e-3, 1, false},
		{"max 0 zeroes", 1, 0, true},
		{"max Inf", 1e3, math.Inf(1), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := clipParams[T](t, 3, c.scale, sizes...)
			before := gradsOf(ps)
			var ref float64
			for _, g := range before {
				for _, x := range g {
					ref += float64(x) * float64(x)
				}
			}
			ref = math.Sqrt(ref)
			total := ClipGradNorm(ps, c.maxNorm)
			assert.InDelta(t, ref, total, tol*ref, "total")
			coef := c.maxNorm / (ref + 1e-6)
			assert.Equal(t, c.clips, coef < 1)
			after := gradsOf(ps)
			require.Nil(t, after[1], "a parameter without gradient stays so")
			// Plain comparisons: 10⁵ testify calls are slow under qemu.
			for k, g := range before {
				for i, x := range g {
					if !c.clips {
						if x != after[k][i] {
							t.Fatalf("param %d elem %d: %v changed to %v without clipping", k, i, x, after[k][i])
						}
						continue
					}
					if want := float64(x) * coef; math.Abs(float64(after[k][i])-want) > tol*math.Abs(want) {
						t.Fatalf("param %d elem %d: %v, want %v", k, i, after[k][i], want)
					}
				}
			}
			if c.clips && c.maxNorm > 0 {
				again := ClipGradNorm(ps, math.Inf(1))
				// The 1e-6 leaves the norm just under maxNorm.
				assert.InDelta(t, c.maxNorm*ref/(ref+1e-6), again, 10*tol*c.maxNorm, "norm after clipping")
			}
		})
	}
}

// TestClipGradNormPyTorch: one parameter set against
// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13). Script:
//
//	import torch
//	ps = [torch.zeros(2, 3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)]
//	ps[0].grad = torch.tensor([[1.0, -0.5, 0.25], [2.0, 0.0, -1.0]], dtype=torch.float64)
//	ps[1].grad = torch.tensor([0.5, 1.0, -0.75], dtype=torch.float64)
//	print(repr(float(torch.nn.utils.clip_grad_norm_(ps, 1.5))), [p.grad.flatten().tolist() for p in ps])
func TestClipGradNormPyTorch(t *testing.T) {
	a := autograd.NewVar(tensor.New[float64](2, 3), true)
	b := autograd.NewVar(tensor.New[float64](3), true)
	tp := autograd.NewTape[float64]()
	setGrads(t, tp, []*autograd.Var[float64]{a, b}, []float64{1, -0.5, 0.25, 2, 0, -1}, []float64{0.5, 1, -0.75})
	total := ClipGradNorm([]*autograd.Var[float64]{a, b}, 1.5)
	assert.InDelta(t, 2.850438562747845, total, 1e-15)
	want := []float64{0.5262346269688978, -0.2631173134844489, 0.13155865674222444, 1.0524692539377956, 0.0, -0.5262346269688978,
		0.2631173134844489, 0.5262346269688978, -0.39467597022667333}
	got := append(append([]float64(nil), a.Grad().Data()...), b.Grad().Data()...)
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-15, "%d", i)
	}
}

// TestClipGradNormNonFinite: as PyTorch with error_if_nonfinite=False, an
// infinite gradient gives an infinite total and zeroes the finite
// gradients (the infinite one becomes NaN); a NaN gradient makes all NaN.
func TestClipGradNormNonFinite(t *testing.T) {
	p := vec(0, 0, 0)
	tp := autograd.NewTape[float64]()
	setGrads(t, tp, []*autograd.Var[float64]{p}, []float64{1, math.Inf(-1), -2})
	assert.True(t, math.IsInf(ClipGradNorm([]*autograd.Var[float64]{p}, 1), 1))
	g := p.Grad().Data()
	assert.Equal(t, []float64{0, 0}, []float64{g[0], math.Abs(g[2])})
	assert.True(t, math.IsNaN(g[1]))
	setGrads(t, tp, []*autograd.Var[float64]{p}, []float64{1, math.NaN(), -2})
	assert.True(t, math.IsNaN(ClipGradNorm([]*autograd.Var[float64]{p}, 1)))
	for _, x := range p.Grad().Data() {
		assert.True(t, math.IsNaN(x))
	}
}

func TestClipGradNormPanics(t *testing.T) {
	ps := []*autograd.Var[float32]{autograd.NewVar(tensor.New[float32](2), true)}
	for name, f := range map[string]func(){
		"NaN max":      func() { ClipGradNorm(ps, math.NaN()) },
		"negative max": func() { ClipGradNorm(ps, -1) },
		"nil param":    func() { ClipGradNorm([]*autograd.Var[float32]{nil}, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok)
				assert.ErrorIs(t, err, ErrConfig)
				assert.Contains(t, err.Error(), "ClipGradNorm")
			}()
			f()
		})
	}
}

// TestClipGradNormNoAllocsAndThreads: no allocation, and the same bits
// with one thread and two.
func TestClipGradNormNoAllocsAndThreads(t *testing.T) {
	var results [][][]float32
	var totals []float64
	for _, threads := range []int{1, 2} {
		prev := parallel.SetThreads(threads)
		ps := clipParams[float32](t, 5, 1, 3*chunk+3, 17, -1)
		totals = append(totals, ClipGradNorm(ps, 0.5))
		results = append(results, gradsOf(ps))
		allocs := testing.AllocsPerRun(20, func() { ClipGradNorm(ps, 0.5) })
		assert.Zero(t, allocs, "threads=%d", threads)
		parallel.SetThreads(prev)
	}
	require.Equal(t, math.Float64bits(totals[0]), math.Float64bits(totals[1]))
	require.Equal(t, results[0], results[1])
}

// BenchmarkClipGradNorm: the default chargpt model's gradient size (about
// 0.8M float32 elements in three tensors). op=norm never clips (the sum of
// squares only); op=clip clips every call and then restores the gradients
// with a copy (counted), so the values stay the same from call to call.
func BenchmarkClipGradNorm(b *testing.B) {
	n := 800_000
	if testing.Short() {
		n = 10_000
	}
	ps := clipParams[float32](b, 1, 1, n/2, n/4, n/4)
	saved := gradsOf(ps)
	b.Run("op=norm", func(b *testing.B) {
		b.SetBytes(int64(4 * n))
		for b.Loop() {
			ClipGradNorm(ps, math.Inf(1))
		}
	})
	b.Run("op=clip", func(b *testing.B) {
		b.SetBytes(int64(4 * n))
		for b.Loop() {
			ClipGradNorm(ps, 1e-3)
			for k, p := range ps {
				copy(p.Grad().Data(), saved[k])
			}
		}
	})
}
