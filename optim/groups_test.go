package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

// The PyTorch 1.13 reference for TestAdamWGroupsPyTorch, printed by
// (torch.set_num_threads(1); dt is torch.float64, then torch.float32):
//
//	p0 = {"w": [[0.3, -1.2, 2.0], [0.0, 0.5, -0.7]], "b": [0.1, -0.2, 0.05],
//	      "e": [[1.0, -1.0], [0.25, 0.5], [-2.0, 0.0], [0.3, 0.3]]}
//	grads = groupGrads below, one dict per step
//	P = {k: torch.tensor(v, dtype=dt, requires_grad=True) for k, v in p0.items()}
//	opt = torch.optim.AdamW([{"params": [P["w"], P["e"]], "weight_decay": 0.1},
//	                         {"params": [P["b"]], "weight_decay": 0.0}],
//	                        lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.5)
//	for g in grads:
//	    for k in P: P[k].grad = torch.tensor(g[k], dtype=dt)
//	    totals.append(float(torch.nn.utils.clip_grad_norm_([P["w"], P["b"], P["e"]], max_norm=1.0)))
//	    opt.step()
//	print(totals, {k: P[k].flatten().tolist() for k in P})
//
// The default weight_decay=0.5 is overridden by both groups, as our
// AdamConfig.WeightDecay is ignored.
var (
	groupP0 = map[string][]float64{"w": {0.3, -1.2, 2.0, 0.0, 0.5, -0.7}, "b": {0.1, -0.2, 0.05},
		"e": {1.0, -1.0, 0.25, 0.5, -2.0, 0.0, 0.3, 0.3}}
	groupGrads = []map[string][]float64{ // global norms about 3.2 (clipped), 0.38 (not), 2.4 (clipped)
		{"w": {1.0, -0.5, 0.25, 2.0, 0.0, -1.0}, "b": {0.5, 1.0, -0.75}, "e": {0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8}},
		{"w": {0.1, -0.05, 0.025, 0.2, 0.0, -0.1}, "b": {0.05, 0.1, -0.075}, "e": {0.01, 0.2, -0.03, 0.04, 0.05, -0.06, 0.07, 0.08}},
		{"w": {-1.0, 0.5, 0.0, 0.0, 1.5, 0.5}, "b": {0.0, -0.3, 0.2}, "e": {0.2, 0.1, 0.3, -0.4, -0.5, 0.6, 0.0, 0.9}},
	}
	torchTotals64 = []float64{3.188259713385972, 0.37583240945932267, 2.3664319132398464}
	torchFinal64  = map[string][]float64{
		"w": {0.2814039826789595, -1.178706682439399, 1.9686632671649975, -0.02534273449360038, 0.492142098172314, -0.6770965626421376},
		"b": {0.0746286159784345, -0.2226108516029853, 0.07292608355824869},
		"e": {0.9700220639288832, -1.0242263289417108, 0.26694766523001456, 0.480804583469619, -2.0117029143606007, 0.017696916580747343, 0.27375816617704807, 0.2714285976020025},
	}
	torchTotals32 = []float64{3.1882596015930176, 0.3758324384689331, 2.366431951522827}
	torchFinal32  = map[string][]float64{
		"w": {0.2814040184020996, -1.1787067651748657, 1.9686633348464966, -0.025342736393213272, 0.4921421408653259, -0.6770966053009033},
		"b": {0.07462861388921738, -0.22261084616184235, 0.07292608916759491},
		"e": {0.9700220823287964, -1.024226427078247, 0.2669476568698883, 0.48080459237098694, -2.0117030143737793, 0.017696917057037354, 0.273758202791214, 0.271428644657135},
	}
)

func TestAdamWGroupsPyTorch(t *testing.T) {
	t.Run("float64", func(t *testing.T) { groupsPyTorch[float64](t, torchTotals64, torchFinal64, 1e-14, 1e-13) })
	// float32: PyTorch rounds its norm and update in its own order; agree
	// to a few float32 ulps.
	t.Run("float32", func(t *testing.T) { groupsPyTorch[float32](t, torchTotals32, torchFinal32, 1e-6, 1e-6) })
}

func groupsPyTorch[T tensor.Float](t *testing.T, totals []float64, final map[string][]float64, totTol, pTol float64) {
	shapes := map[string][]int{"w": {2, 3}, "b": {3}, "e": {4, 2}}
	P := map[string]*autograd.Var[T]{}
	for k, v := range groupP0 {
		d := make([]T, len(v))
		for i, x := range v {
			d[i] = T(x)
		}
		P[k] = autograd.NewVar(tensor.FromSlice(d, shapes[k]...), true)
	}
	o := NewAdamWGroups([]Group[T]{
		{Params: []*autograd.Var[T]{P["w"], P["e"]}, WeightDecay: 0.1},
		{Params: []*autograd.Var[T]{P["b"]}},
	}, AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.5})
	order := []*autograd.Var[T]{P["w"], P["b"], P["e"]}
	tp := autograd.NewTape[T]()
	for s, g := range groupGrads {
		gs := make([][]T, 3)
		for i, k := range []string{"w", "b", "e"} {
			for _, x := range g[k] {
				gs[i] = append(gs[i], T(x))
			}
		}
		setGrads(t, tp, order, gs...)
		total := ClipGradNorm(order, 1.0)
		assert.InDelta(t, totals[s], total, totTol*totals[s], "step %d total", s)
		o.Step()
	}
	for k, want := range final {
		for i, w := range want {
			assert.InDelta(t, w, float64(P[k].Value().Data()[i]), pTol*math.Max(1, math.Abs(w)), "%s[%d]", k, i)
		}
	}
}

// TestAdamWGroupsMatchAdamW: a group with decay λ gives the bits of
// NewAdamW with WeightDecay λ over its parameters, and a group with decay 0
// those of NewAdam without decay (decay factor exactly 1), element by
// element, over parameters spanning several parallel chunks, at 1 and 2
// threads; Step allocates nothing once warm.
func TestAdamWGroupsMatchAdamW(t *testing.T) {
	t.Run("float32", func(t *testing.T) { groupsMatch[float32](t) })
	t.Run("float64", func(t *testing.T) { groupsMatch[float64](t) })
}

func groupsMatch[T tensor.Float](t *testing.T) {
	sizes := []int{3*chunk + 5, 17, chunk + 1, 9}
	var results [][][]T
	for _, threads := range []int{1, 2} {
		prev := parallel.SetThreads(threads)
		// The grouped optimiser over a, b (decay 0.2) and c, d (decay 0).
		ps := clipParams[T](t, 11, 1, sizes...)
		qs := clipParams[T](t, 11, 1, sizes...) // same gradients
		for i := range ps {
			v := ps[i].Value().Data()
			for j := range v {
				v[j] = T(float64(j%13)*0.1 - 0.6)
			}
			qs[i].Value().Copy(ps[i].Value())
		}
		cfg := AdamConfig{LR: 0.02, Beta2: 0.99}
		grouped := NewAdamWGroups([]Group[T]{{Params: ps[:2], WeightDecay: 0.2}, {Params: ps[2:]}}, cfg)
		cfgA := cfg
		cfgA.WeightDecay = 0.2
		refA := NewAdamW(qs[:2], cfgA)
		refB := NewAdam(qs[2:], cfg) // Adam without decay is AdamW with decay 0
		for range 3 {
			grouped.Step()
			refA.Step()
			refB.Step()
		}
		var vals [][]T
		for i := range ps {
			require.Equal(t, qs[i].Value().Data(), ps[i].Value().Data(), "threads=%d param %d", threads, i)
			vals = append(vals, append([]T(nil), ps[i].Value().Data()...))
		}
		results = append(results, vals)
		allocs := testing.AllocsPerRun(10, func() {
			grouped.Step()
			grouped.ZeroGrad()
		})
		assert.Zero(t, allocs, "threads=%d", threads)
		parallel.SetThreads(prev)
	}
	require.Equal(t, results[0], results[1], "1 and 2 threads")
}

func TestAdamWGroupsPanics(t *testing.T) {
	a := autograd.NewVar(tensor.New[float32](2), true)
	b := autograd.NewVar(tensor.New[float32](3), true)
	g := func(wd float64, ps ...*autograd.Var[float32]) Group[float32] {
		return Group[float32]{Params: ps, WeightDecay: wd}
	}
	for name, f := range map[string]func(){
		"in two groups":    func() { NewAdamWGroups([]Group[float32]{g(0.1, a, b), g(0, a)}, AdamConfig{}) },
		"twice in a group": func() { NewAdamWGroups([]Group[float32]{g(0, a, b, a)}, AdamConfig{}) },
		"negative decay":   func() { NewAdamWGroups([]Group[float32]{g(-0.1, a)}, AdamConfig{}) },
		"NaN decay":        func() { NewAdamWGroups([]Group[float32]{g(math.NaN(), a)}, AdamConfig{}) },
		"Inf in float32":   func() { NewAdamWGroups([]Group[float32]{g(1e39, a)}, AdamConfig{}) },
		"nil param":        func() { NewAdamWGroups([]Group[float32]{g(0, a), g(0, nil)}, AdamConfig{}) },
		"beta1 1":          func() { NewAdamWGroups([]Group[float32]{g(0, a)}, AdamConfig{Beta1: 1}) },
		"negative lr":      func() { NewAdamWGroups([]Group[float32]{g(0, a)}, AdamConfig{LR: -1}) },
		"shared storage": func() {
			NewAdamWGroups([]Group[float32]{g(0, a), g(0, autograd.NewVar(a.Value(), true))}, AdamConfig{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, ok := recover().(error)
				require.True(t, ok)
				assert.ErrorIs(t, err, ErrConfig)
				assert.Contains(t, err.Error(), "NewAdamWGroups")
				t.Log(err)
			}()
			f()
		})
	}
	// No groups, or empty ones, are fine: nothing to update.
	o := NewAdamWGroups([]Group[float32]{{}, g(0, a)}, AdamConfig{})
	o.Step()
	assert.Len(t, o.Params(), 1)
}
