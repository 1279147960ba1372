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

// setGrads makes each parameter's gradient equal to the given values by
// running Backward on sum(p ⊙ c), whose gradient with respect to p is c.
// Gradients are zeroed first.
func setGrads[T tensor.Float](t testing.TB, tp *autograd.Tape[T], params []*autograd.Var[T], grads ...[]T) {
	t.Helper()
	for i, p := range params {
		p.ZeroGrad()
		tp.Reset()
		c := tp.Const(tensor.FromSlice(append([]T(nil), grads[i]...), p.Shape()...))
		require.NoError(t, tp.Backward(tp.Sum(tp.Mul(p, c))))
	}
}

func vec(xs ...float64) *autograd.Var[float64] {
	return autograd.NewVar(tensor.FromSlice(append([]float64(nil), xs...), len(xs)), true)
}

// TestSGDByHand: p = 1, lr 0.1, momentum 0.9, gradient 0.5 twice.
// Plain momentum: v₁ = 0.5, p₁ = 1 − 0.05 = 0.95; v₂ = 0.45 + 0.5 = 0.95,
// p₂ = 0.95 − 0.095 = 0.855. Nesterov: p₁ = 1 − 0.1·(0.5 + 0.45) = 0.905;
// v₂ = 0.95, p₂ = 0.905 − 0.1·(0.5 + 0.855) = 0.7695.
func TestSGDByHand(t *testing.T) {
	for _, tc := range []struct {
		nesterov bool
		p1, p2   float64
	}{{false, 0.95, 0.855}, {true, 0.905, 0.7695}} {
		p := vec(1)
		tp := autograd.NewTape[float64]()
		o := NewSGD([]*autograd.Var[float64]{p}, SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: tc.nesterov})
		setGrads(t, tp, o.Params(), []float64{0.5})
		o.Step()
		assert.InDelta(t, tc.p1, p.Value().At(0), 1e-15)
		setGrads(t, tp, o.Params(), []float64{0.5})
		o.Step()
		assert.InDelta(t, tc.p2, p.Value().At(0), 1e-15)
		assert.Equal(t, 2, o.Steps())
	}
}

// TestSGDFormulas follows PyTorch's SGD with momentum and weight decay for
// two steps on a vector, written out scalar by scalar.
func TestSGDFormulas(t *testing.T) {
	p0 := []float64{1, -2, 0.5, 0}
	g1 := []float64{0.1, 0.2, -0.3, 0}
	g2 := []float64{-0.4, 0.5, 0.6, 1}
	const lr, mu, wd = 0.05, 0.8, 0.01
	for _, nesterov := range []bool{false, true} {
		p := vec(p0...)
		tp := autograd.NewTape[float64]()
		o := NewSGD([]*autograd.Var[float64]{p}, SGDConfig{LR: lr, Momentum: mu, WeightDecay: wd, Nesterov: nesterov})
		setGrads(t, tp, o.Params(), g1)
		o.Step()
		setGrads(t, tp, o.Params(), g2)
		o.Step()
		for i := range p0 {
			d1 := g1[i] + wd*p0[i]
			v1 := d1
			step1 := v1
			if nesterov {
				step1 = d1 + mu*v1
			}
			p1 := p0[i] - lr*step1
			d2 := g2[i] + wd*p1
			v2 := mu*v1 + d2
			step2 := v2
			if nesterov {
				step2 = d2 + mu*v2
			}
			p2 := p1 - lr*step2
			assert.InDelta(t, p2, p.Value().At(i), 1e-15, "nesterov=%v i=%d", nesterov, i)
		}
	}
}

// TestAdamByHand: p = 1, lr 0.1, β₁ 0.9, β₂ 0.999, ε 1e-8.
// Step 1, g = 0.5: m = 0.05, v = 0.00025, m̂ = 0.05/0.1 = 0.5,
// v̂ = 0.00025/0.001 = 0.25, p = 1 − 0.1·0.5/(0.5 + 1e-8).
// Step 2, g = −0.25: m = 0.045 − 0.025 = 0.02,
// v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225,
// m̂ = 0.02/(1 − 0.81) = 0.02/0.19, v̂ = 0.00031225/(1 − 0.998001).
func TestAdamByHand(t *testing.T) {
	p := vec(1)
	tp := autograd.NewTape[float64]()
	o := NewAdam([]*autograd.Var[float64]{p}, AdamConfig{LR: 0.1})
	setGrads(t, tp, o.Params(), []float64{0.5})
	o.Step()
	p1 := 1 - 0.1*0.5/(0.5+1e-8)
	assert.InDelta(t, p1, p.Value().At(0), 1e-15)
	setGrads(t, tp, o.Params(), []float64{-0.25})
	o.Step()
	mhat := 0.02 / 0.19
	vhat := 0.00031225 / 0.001999
	p2 := p1 - 0.1*mhat/(math.Sqrt(vhat)+1e-8)
	assert.InDelta(t, p2, p.Value().At(0), 1e-13)
	// Without bias correction the second step would be 0.1·0.02/(√0.00031225)
	// ≈ 0.113; with it ≈ 0.0266: make sure the test tells them apart.
	assert.InDelta(t, 0.0266, p1-p.Value().At(0), 1e-3)
}

// TestAdamFormulas runs Adam (L2) and AdamW (decoupled) for three steps on
// a vector against the formulas written out in float64.
func TestAdamFormulas(t *testing.T) {
	p0 := []float64{0.3, -1.2, 2, 0}
	gs := [][]float64{{0.1, -0.2, 0.3, 0}, {-1, 0.5, 0.25, 2}, {0.01, 0.02, -3, -1}}
	const lr, b1, b2, eps, wd = 0.01, 0.8, 0.99, 1e-6, 0.1
	for _, decoupled := range []bool{false, true} {
		p := vec(p0...)
		tp := autograd.NewTape[float64]()
		cfg := AdamConfig{LR: lr, Beta1: b1, Beta2: b2, Eps: eps, WeightDecay: wd}
		var o *Adam[float64]
		if decoupled {
			o = NewAdamW([]*autograd.Var[float64]{p}, cfg)
		} else {
			o = NewAdam([]*autograd.Var[float64]{p}, cfg)
		}
		for _, g := range gs {
			setGrads(t, tp, o.Params(), g)
			o.Step()
		}
		for i := range p0 {
			x, m, v := p0[i], 0.0, 0.0
			for s, g := range gs {
				gi := g[i]
				if decoupled {
					x *= 1 - lr*wd
				} else {
					gi += wd * x
				}
				m = b1*m + (1-b1)*gi
				v = b2*v + (1-b2)*gi*gi
				mhat := m / (1 - math.Pow(b1, float64(s+1)))
				vhat := v / (1 - math.Pow(b2, float64(s+1)))
				x -= lr * mhat / (math.Sqrt(vhat) + eps)
			}
			assert.InDelta(t, x, p.Value().At(i), 1e-14, "decoupled=%v i=%d", decoupled, i)
		}
	}
}

// TestLargeParamsParallel updates parameters spanning many chunks with two
// threads and compares with the same update computed serially, element by
// element, in the test; float32 and float64.
func TestLargeParamsParallel(t *testing.T) {
	t.Run("float32", func(t *testing.T) { largeParams[float32](t) })
	t.Run("float64", func(t *testing.T) { largeParams[float64](t) })
}

func largeParams[T tensor.Float](t *testing.T) {
	defer parallel.SetThreads(parallel.SetThreads(2))
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{3*chunk + 17, 5, chunk}
	var params []*autograd.Var[T]
	var grads, ref [][]T
	for _, n := range sizes {
		v, g := make([]T, n), make([]T, n)
		for i := range v {
			v[i], g[i] = T(rng.NormFloat64()), T(rng.NormFloat64())
		}
		params = append(params, autograd.NewVar(tensor.FromSlice(append([]T(nil), v...), n), true))
		grads = append(grads, g)
		ref = append(ref, v)
	}
	tp := autograd.NewTape[T]()
	o := NewAdam(params, AdamConfig{LR: 0.01, WeightDecay: 0.01})
	setGrads(t, tp, params, grads...)
	o.Step()
	// Step 1 with zero moments, in T arithmetic as the optimiser does it.
	// (Variables, not constants: Go folds 1-0.9 exactly, the optimiser
	// computes it in float64.)
	b1, b2 := 0.9, 0.999
	nb1, nb2 := T(1-b1), T(1-b2)
	c1, c2 := T(1/(1-b1)), T(1/(1-b2))
	for k := range ref {
		for i, x := range ref[k] {
			g := grads[k][i] + T(T(0.01)*x) // T(...): no fused multiply-add (arm64, s390x)
			m := nb1 * g
			v := nb2 * g * g
			ref[k][i] = x - T(0.01)*(m*c1)/(T(math.Sqrt(float64(v*c2)))+T(1e-8))
		}
	}
	for k := range ref {
		require.Equal(t, ref[k], params[k].Value().Data(), "param %d", k)
	}
}

// TestStepNoAllocs: after the first step (which makes the state buffers)
// Step and ZeroGrad allocate nothing, with one thread and with two.
func TestStepNoAllocs(t *testing.T) {
	for _, threads := range []int{1, 2} {
		prev := parallel.SetThreads(threads)
		p := autograd.NewVar(tensor.New[float32](3*chunk+5), true)
		q := autograd.NewVar(tensor.New[float32](7, 3), true)
		tp := autograd.NewTape[float32]()
		setGrads(t, tp, []*autograd.Var[float32]{p, q}, make([]float32, 3*chunk+5), make([]float32, 21))
		ps := []*autograd.Var[float32]{p, q}
		for name, o := range map[string]Optimizer{
			"sgd":      NewSGD(ps, SGDConfig{LR: 0.1}),
			"momentum": NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true}),
			"adam":     NewAdam(ps, AdamConfig{}),
			"adamw":    NewAdamW(ps, AdamConfig{Schedule: Cosine{Base: 1e-3, Total: 100}}),
		} {
			o.Step()
			allocs := testing.AllocsPerRun(20, func() {
				o.Step()
				o.ZeroGrad()
			})
			assert.Zero(t, allocs, "%s threads=%d", name, threads)
		}
		parallel.SetThreads(prev)
	}
}

func TestNilGradSkipped(t *testing.T) {
	used, unused := vec(1, 2), vec(3, 4)
	tp := autograd.NewTape[float64]()
	o := NewAdam([]*autograd.Var[float64]{used, unused}, AdamConfig{LR: 0.1})
	setGrads(t, tp, []*autograd.Var[float64]{used}, []float64{1, -1})
	require.Nil(t, unused.Grad())
	o.Step()
	assert.Equal(t, []float64{3, 4}, unused.Value().Data())
	assert.InDelta(t, 0.9, used.Value().At(0), 1e-7)
	assert.InDelta(t, 2.1, used.Value().At(1), 1e-7)
}

func TestSchedules(t *testing.T) {
	s := StepDecay{Base: 1, Every: 10, Gamma: 0.5}
	assert.Equal(t, []float64{1, 1, 0.5, 0.5, 0.25}, []float64{s.LR(0), s.LR(9), s.LR(10), s.LR(19), s.LR(20)})

	c := Cosine{Base: 1, Min: 0.1, Warmup: 4, Total: 14}
	assert.InDelta(t, 0.25, c.LR(0), 1e-15) // warm-up: (step+1)/Warmup
	assert.InDelta(t, 1.0, c.LR(4), 1e-15)  // top of the cosine
	assert.InDelta(t, 0.55, c.LR(9), 1e-15) // half way: (1 + 0.1)/2
	assert.InDelta(t, 0.1, c.LR(14), 1e-15)
	assert.InDelta(t, 0.1, c.LR(100), 1e-15)

	// The optimiser follows its schedule: lr at step k is Schedule.LR(k).
	p := vec(0)
	tp := autograd.NewTape[float64]()
	o := NewSGD([]*autograd.Var[float64]{p}, SGDConfig{Schedule: StepDecay{Base: 1, Every: 1, Gamma: 0.5}})
	for range 3 {
		setGrads(t, tp, o.Params(), []float64{1})
		o.Step()
	}
	assert.InDelta(t, -(1 + 0.5 + 0.25), p.Value().At(0), 1e-15)
	assert.InDelta(t, 0.125, o.LR(), 1e-15)
}

func TestConfigPanics(t *testing.T) {
	ps := []*autograd.Var[float32]{autograd.NewVar(tensor.New[float32](2), true)}
	for name, f := range map[string]func(){
		"negative lr":       func() { NewSGD(ps, SGDConfig{LR: -1}) },
		"momentum 1":        func() { NewSGD(ps, SGDConfig{Momentum: 1}) },
		"nesterov alone":    func() { NewSGD(ps, SGDConfig{Nesterov: true}) },
		"negative decay":    func() { NewSGD(ps, SGDConfig{WeightDecay: -0.1}) },
		"beta2 1":           func() { NewAdam(ps, AdamConfig{Beta2: 1}) },
		"beta1 negative":    func() { NewAdamW(ps, AdamConfig{Beta1: -0.5}) },
		"nil param":         func() { NewAdam([]*autograd.Var[float32]{nil}, AdamConfig{}) },
		"SetLR negative":    func() { NewAdam(ps, AdamConfig{}).SetLR(-1) },
		"StepDecay Every 0": func() { StepDecay{Base: 1}.LR(0) },
		"Cosine Total 0":    func() { Cosine{Base: 1}.LR(0) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok)
				assert.ErrorIs(t, err, ErrConfig)
			}()
			f()
		})
	}
}

// nanSchedule is a Schedule that poisons the learning rate from step 1.
type nanSchedule struct{}

func (nanSchedule) LR(step int) float64 {
	if step == 0 {
		return 0.1
	}
	return math.NaN()
}

// TestBadSettings covers the cases of issue 9 item 4: NaN, Inf and
// out-of-range settings used to be accepted (b < 0 || b >= 1 lets NaN
// through) and turned every parameter into NaN after one Step; a
// non-contiguous parameter panicked inside Step after earlier parameters
// had been updated; a parameter listed twice was updated twice. Each must
// panic at construction (or, for a schedule's value, at the start of
// Step), wrapping ErrConfig, naming the optimiser and the setting or
// parameter index, with no parameter changed.
func TestBadSettings(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	type f32s = []*autograd.Var[float32]
	fresh := func() f32s {
		return f32s{
			autograd.NewVar(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3), true),
			autograd.NewVar(tensor.FromSlice([]float32{7, 8}, 2), true),
		}
	}
	for _, tc := range []struct {
		name  string
		build func(ps f32s)
		want  []string // substrings of the message
	}{
		{"SGD lr NaN", func(ps f32s) { NewSGD(ps, SGDConfig{LR: nan}) }, []string{"NewSGD", "learning rate NaN"}},
		{"SGD lr Inf", func(ps f32s) { NewSGD(ps, SGDConfig{LR: inf}) }, []string{"NewSGD", "learning rate +Inf"}},
		{"SGD lr 1e39 overflows float32", func(ps f32s) { NewSGD(ps, SGDConfig{LR: 1e39}) }, []string{"NewSGD", "1e+39", "float32"}},
		{"SGD momentum NaN", func(ps f32s) { NewSGD(ps, SGDConfig{Momentum: nan}) }, []string{"NewSGD", "momentum NaN"}},
		{"SGD momentum -Inf", func(ps f32s) { NewSGD(ps, SGDConfig{Momentum: -inf}) }, []string{"NewSGD", "momentum -Inf"}},
		{"SGD weight decay NaN", func(ps f32s) { NewSGD(ps, SGDConfig{WeightDecay: nan}) }, []string{"NewSGD", "weight decay NaN"}},
		{"SGD weight decay Inf", func(ps f32s) { NewSGD(ps, SGDConfig{WeightDecay: inf}) }, []string{"NewSGD", "weight decay +Inf"}},
		{"Adam lr NaN", func(ps f32s) { NewAdam(ps, AdamConfig{LR: nan}) }, []string{"NewAdam", "learning rate NaN"}},
		{"Adam lr -1", func(ps f32s) { NewAdam(ps, AdamConfig{LR: -1}) }, []string{"NewAdam", "learning rate -1"}},
		{"Adam beta1 NaN", func(ps f32s) { NewAdam(ps, AdamConfig{Beta1: nan}) }, []string{"NewAdam", "Beta1 NaN"}},
		{"Adam beta2 NaN", func(ps f32s) { NewAdam(ps, AdamConfig{Beta2: nan}) }, []string{"NewAdam", "Beta2 NaN"}},
		{"Adam beta2 1.5", func(ps f32s) { NewAdam(ps, AdamConfig{Beta2: 1.5}) }, []string{"NewAdam", "Beta2 1.5"}},
		{"Adam eps NaN", func(ps f32s) { NewAdam(ps, AdamConfig{Eps: nan}) }, []string{"NewAdam", "Eps NaN"}},
		{"Adam eps Inf", func(ps f32s) { NewAdam(ps, AdamConfig{Eps: inf}) }, []string{"NewAdam", "Eps +Inf"}},
		{"AdamW weight decay NaN", func(ps f32s) { NewAdamW(ps, AdamConfig{WeightDecay: nan}) }, []string{"NewAdamW", "WeightDecay NaN"}},
		{"AdamW weight decay -1", func(ps f32s) { NewAdamW(ps, AdamConfig{WeightDecay: -1}) }, []string{"NewAdamW", "WeightDecay -1"}},
		{"SetLR NaN", func(ps f32s) { NewSGD(ps, SGDConfig{}).SetLR(nan) }, []string{"SetLR", "learning rate NaN"}},
		{"SetLR Inf", func(ps f32s) { NewAdam(ps, AdamConfig{}).SetLR(inf) }, []string{"SetLR", "learning rate +Inf"}},
		{"nil parameter 1", func(ps f32s) { NewSGD(f32s{ps[0], nil}, SGDConfig{}) }, []string{"NewSGD", "parameter 1 is nil"}},
		{"non-contiguous parameter 1", func(ps f32s) {
			NewAdam(f32s{ps[1], autograd.NewVar(ps[0].Value().T(), true)}, AdamConfig{})
		}, []string{"NewAdam", "parameter 1", "not contiguous"}},
		{"same parameter twice", func(ps f32s) { NewSGD(f32s{ps[0], ps[1], ps[0]}, SGDConfig{}) }, []string{"NewSGD", "parameter 2 is the same Var as parameter 0"}},
		{"two Vars over one tensor", func(ps f32s) {
			NewAdamW(f32s{ps[0], ps[1], autograd.NewVar(ps[1].Value(), true)}, AdamConfig{})
		}, []string{"NewAdamW", "parameter 2 shares storage with parameter 1"}},
		{"Vars over overlapping views", func(ps f32s) {
			v := ps[0].Value()
			NewSGD(f32s{autograd.NewVar(v.Reshape(6).Slice(0, 2, 5), true), autograd.NewVar(v.Reshape(6).Slice(0, 0, 3), true)}, SGDConfig{})
		}, []string{"NewSGD", "parameter 1 shares storage with parameter 0"}},
		{"schedule NaN at step 1", func(ps f32s) {
			o := NewSGD(ps, SGDConfig{Schedule: nanSchedule{}})
			tp := autograd.NewTape[float32]()
			setGrads(t, tp, ps, []float32{1, 1, 1, 1, 1, 1}, []float32{1, 1})
			o.Step()
			for i, p := range ps { // restore so the check below sees the originals
				copy(p.Value().Data(), fresh()[i].Value().Data())
			}
			o.Step()
		}, []string{"SGD.Step", "learning rate NaN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := fresh()
			func() {
				defer func() {
					r := recover()
					require.NotNil(t, r, "no panic")
					err, ok := r.(error)
					require.True(t, ok, "panic value %v is not an error", r)
					assert.ErrorIs(t, err, ErrConfig)
					for _, w := range tc.want {
						assert.Contains(t, err.Error(), w)
					}
				}()
				tc.build(ps)
			}()
			for i, p := range ps {
				assert.Equal(t, fresh()[i].Value().Data(), p.Value().Data(), "parameter %d was written", i)
			}
		})
	}

	// The boundary values are still accepted.
	ps := fresh()
	NewSGD(ps, SGDConfig{LR: math.MaxFloat32, Momentum: math.Nextafter(1, 0)})
	NewAdam(ps[:1], AdamConfig{Beta1: math.SmallestNonzeroFloat64})
	NewSGD([]*autograd.Var[float64]{vec(1)}, SGDConfig{LR: 1e39})
}
