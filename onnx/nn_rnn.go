package onnx

import (
	"fmt"
	"math"
	"strings"

	"github.com/adjoint-go/adjoint/internal/mathx"
)

// Recurrent layers: RNN, GRU and LSTM (forward, reverse, bidirectional;
// sequence_lens; initial states; LSTM peepholes; clip; layout 0 and 1;
// the activation functions ONNX lists). The input projections of all
// time steps are one GEMM, X·Wᵀ for the whole sequence; each step then
// adds one GEMM with the recurrent weights, H·Rᵀ (transpose flags, no
// copies of W or R).

func init() {
	Register("", "RNN", 7, Latest, func(n *Node) (Kernel, error) { return newRNN(n, rnnPlain) })
	Register("", "GRU", 7, Latest, func(n *Node) (Kernel, error) { return newRNN(n, rnnGRU) })
	Register("", "LSTM", 7, Latest, func(n *Node) (Kernel, error) { return newRNN(n, rnnLSTM) })
}

const (
	rnnPlain = iota
	rnnGRU
	rnnLSTM
)

var rnnGates = [...]int{1, 3, 4}
var rnnNames = [...]string{"RNN", "GRU", "LSTM"}

type rnnKernel struct {
	kind        int
	hidden      int
	dirs        int
	reverse     bool // direction "reverse" (one direction)
	clip        float64
	layout      int
	linearReset bool
	acts        []func(float64) float64 // per direction: f, g (, h)
}

// rnnActivation returns the named activation with its alpha and beta.
func rnnActivation(name string, alpha, beta float64, hasA, hasB bool) (func(float64) float64, error) {
	def := func(v float64, has bool, d float64) float64 {
		if has {
			return v
		}
		return d
	}
	switch strings.ToLower(name) {
	case "sigmoid":
		return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, nil
	case "tanh":
		return math.Tanh, nil
	case "relu":
		return func(x float64) float64 { return math.Max(x, 0) }, nil
	case "affine":
		a, b := def(alpha, hasA, 1), def(beta, hasB, 0)
		return func(x float64) float64 { return a*x + b }, nil
	case "leakyrelu":
		a := def(alpha, hasA, 0.01)
		return func(x float64) float64 {
			if x < 0 {
				return a * x
			}
			return x
		}, nil
	case "thresholdedrelu":
		a := def(alpha, hasA, 1)
		return func(x float64) float64 {
			if x > a {
				return x
			}
			return 0
		}, nil
	case "scaledtanh":
		a, b := def(alpha, hasA, 1), def(beta, hasB, 1)
		return func(x float64) float64 { return a * math.Tanh(b*x) }, nil
	case "hardsigmoid":
		a, b := def(alpha, hasA, 0.2), def(beta, hasB, 0.5)
		return func(x float64) float64 { return mathx.HardSigmoid(x, a, b) }, nil
	case "elu":
		a := def(alpha, hasA, 1)
		return func(x float64) float64 {
			if x < 0 {
				return a * (math.Exp(x) - 1)
			}
			return x
		}, nil
	case "softsign":
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }, nil
	case "softplus":
		return func(x float64) float64 { return math.Log1p(math.Exp(x)) }, nil
	}
	return nil, fmt.Errorf("activation %q: %w", name, ErrUnsupported)
}

func newRNN(n *Node, kind int) (Kernel, error) {
	k := &rnnKernel{kind: kind, hidden: int(n.Int("hidden_size", 0)), clip: float64(n.Float("clip", 0)),
		layout: int(n.Int("layout", 0)), linearReset: n.Int("linear_before_reset", 0) != 0}
	if k.hidden < 1 {
		return nil, n.Errorf("hidden_size %d < 1", k.hidden)
	}
	if kind == rnnLSTM && n.Int("input_forget", 0) != 0 {
		return nil, n.Errorf("input_forget: %w", ErrUnsupported)
	}
	switch d := n.String("direction", "forward"); d {
	case "forward":
		k.dirs = 1
	case "reverse":
		k.dirs, k.reverse = 1, true
	case "bidirectional":
		k.dirs = 2
	default:
		return nil, n.Errorf("direction %q: %w", d, ErrUnsupported)
	}
	defaults := [][]string{{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}}[kind]
	names := n.Strings("activations", nil)
	if names == nil {
		for range k.dirs {
			names = append(names, defaults...)
		}
	}
	if len(names) != len(defaults)*k.dirs {
		return nil, n.Errorf("%d activations, want %d", len(names), len(defaults)*k.dirs)
	}
	alphas, betas := n.Floats("activation_alpha", nil), n.Floats("activation_beta", nil)
	for i, name := range names {
		var a, b float64
		if i < len(alphas) {
			a = float64(alphas[i])
		}
		if i < len(betas) {
			b = float64(betas[i])
		}
		f, err := rnnActivation(name, a, b, i < len(alphas), i < len(betas))
		if err != nil {
			return nil, n.Errorf("%w", err)
		}
		k.acts = append(k.acts, f)
	}
	if len(n.Inputs) < 3 {
		return nil, n.Errorf("want at least 3 inputs, have %d", len(n.Inputs))
	}
	return k, n.Err()
}

func (k *rnnKernel) Run(in, out []*Tensor) error {
	op := rnnNames[k.kind]
	x, w, r := in[0], in[1], in[2]
	b, seqLens, h0 := Input(in, 3), Input(in, 4), Input(in, 5)
	var c0, p *Tensor
	if k.kind == rnnLSTM {
		c0, p = Input(in, 6), Input(in, 7)
	}
	f32, ok := floatKind(x.DType)
	if !ok {
		return fmt.Errorf("%s: element type %v: %w", op, x.DType, ErrUnsupported)
	}
	if x.Rank() != 3 {
		return fmt.Errorf("%s: X shape %v is not 3-D", op, x.Shape)
	}
	seq, batch, inSize := x.Shape[0], x.Shape[1], x.Shape[2]
	if k.layout == 1 {
		seq, batch = batch, seq
	}
	G, H, D := rnnGates[k.kind], k.hidden, k.dirs
	check := func(t *Tensor, name string, shape ...int) error {
		if t != nil && (!eqInts(t.Shape, shape) || t.DType != x.DType) {
			return fmt.Errorf("%s: %s shape %v %v, want %v %v", op, name, t.DType, t.Shape, x.DType, shape)
		}
		return nil
	}
	hs := []int{D, batch, H}
	if k.layout == 1 {
		hs = []int{batch, D, H}
	}
	for _, e := range []error{check(w, "W", D, G*H, inSize), check(r, "R", D, G*H, H), check(b, "B", D, 2*G*H),
		check(h0, "initial_h", hs...), check(c0, "initial_c", hs...), check(p, "P", D, 3*H)} {
		if e != nil {
			return e
		}
	}
	lens := make([]int, batch)
	for i := range lens {
		lens[i] = seq
	}
	if seqLens != nil {
		if seqLens.Size() != batch || seqLens.DType.Storage() != StoreI64 {
			return fmt.Errorf("%s: sequence_lens shape %v, want [%d]", op, seqLens.Shape, batch)
		}
		for i, v := range seqLens.I64 {
			if v < 0 || v > int64(seq) {
				return fmt.Errorf("%s: sequence_lens[%d] = %d out of [0, %d]", op, i, v, seq)
			}
			lens[i] = int(v)
		}
	}
	// Everything in float64 here: the sequences are short next to the GEMMs
	// of a CNN, and the recurrences accumulate.
	get := func(t *Tensor) []float64 {
		if t == nil {
			return nil
		}
		v := make([]float64, t.Size())
		for i := range v {
			v[i] = t.Float64At(i)
		}
		return v
	}
	xs, ws, rs, bs, ps := get(x), get(w), get(r), get(b), get(p)
	if k.layout == 1 {
		xs = swap01(xs, batch, seq, inSize)
	}
	hInit, cInit := get(h0), get(c0)
	if k.layout == 1 {
		hInit = swap01(hInit, batch, D, H)
		cInit = swap01(cInit, batch, D, H)
	}
	y := make([]float64, seq*D*batch*H) // [seq, dir, batch, hidden]
	yh := make([]float64, D*batch*H)
	yc := make([]float64, D*batch*H)
	for d := range D {
		rev := k.reverse || d == 1
		acts := k.acts[d*len(k.acts)/D : (d+1)*len(k.acts)/D]
		wd := ws[d*G*H*inSize : (d+1)*G*H*inSize]
		rd := rs[d*G*H*H : (d+1)*G*H*H]
		var wb, rb, pd []float64
		if bs != nil {
			wb, rb = bs[d*2*G*H:d*2*G*H+G*H], bs[d*2*G*H+G*H:(d+1)*2*G*H]
		}
		if ps != nil {
			pd = ps[d*3*H : (d+1)*3*H]
		}
		// X·Wᵀ for every step at once: [seq·batch, G·H].
		xw := make([]float64, seq*batch*G*H)
		gemmT(false, true, seq*batch, G*H, inSize, 1, xs, inSize, wd, inSize, 0, xw, G*H)
		hcur := make([]float64, batch*H)
		ccur := make([]float64, batch*H)
		if hInit != nil {
			copy(hcur, hInit[d*batch*H:(d+1)*batch*H])
		}
		if cInit != nil {
			copy(ccur, cInit[d*batch*H:(d+1)*batch*H])
		}
		hr := make([]float64, batch*G*H)
		for s := range seq {
			t := s
			if rev {
				t = seq - 1 - s
			}
			gemmT(false, true, batch, G*H, H, 1, hcur, H, rd, H, 0, hr, G*H)
			for bi := range batch {
				if t >= lens[bi] {
					continue // past this sequence's end: state frozen, Y zero
				}
				xg := xw[(t*batch+bi)*G*H : (t*batch+bi+1)*G*H]
				hg := hr[bi*G*H : (bi+1)*G*H]
				hb := hcur[bi*H : (bi+1)*H]
				cb := ccur[bi*H : (bi+1)*H]
				pre := func(g, j int) float64 {
					v := xg[g*H+j] + hg[g*H+j]
					if wb != nil {
						v += wb[g*H+j] + rb[g*H+j]
					}
					return v
				}
				clip := func(v float64) float64 {
					if k.clip > 0 {
						return math.Min(math.Max(v, -k.clip), k.clip)
					}
					return v
				}
				switch k.kind {
				case rnnPlain:
					for j := range H {
						hb[j] = acts[0](clip(pre(0, j)))
					}
				case rnnLSTM:
					for j := range H {
						var pi, po, pf float64
						if pd != nil {
							pi, po, pf = pd[j], pd[H+j], pd[2*H+j]
						}
						i := acts[0](clip(pre(0, j) + pi*cb[j]))
						f := acts[0](clip(pre(2, j) + pf*cb[j]))
						c := acts[1](clip(pre(3, j)))
						cb[j] = f*cb[j] + i*c
						o := acts[0](clip(pre(1, j) + po*cb[j]))
						hb[j] = o * acts[2](cb[j])
					}
				case rnnGRU:
					z := make([]float64, H)
					rr := make([]float64, H)
					for j := range H {
						z[j] = acts[0](clip(pre(0, j)))
						rr[j] = acts[0](clip(pre(1, j)))
					}
					hn := make([]float64, H)
					for j := range H {
						var v float64
						if k.linearReset {
							rec := hg[2*H+j]
							if rb != nil {
								rec += rb[2*H+j]
							}
							v = xg[2*H+j] + rr[j]*rec
							if wb != nil {
								v += wb[2*H+j]
							}
						} else {
							rec := 0.0
							rh := rd[(2*H+j)*H : (2*H+j+1)*H]
							for q := range H {
								rec += rr[q] * hb[q] * rh[q]
							}
							v = xg[2*H+j] + rec
							if wb != nil {
								v += wb[2*H+j] + rb[2*H+j]
							}
						}
						hn[j] = acts[1](clip(v))
					}
					for j := range H {
						hb[j] = (1-z[j])*hn[j] + z[j]*hb[j]
					}
				}
				copy(y[((t*D+d)*batch+bi)*H:], hb)
			}
		}
		copy(yh[d*batch*H:], hcur)
		copy(yc[d*batch*H:], ccur)
	}
	results := [][]float64{y, yh, yc}
	shapes := [][]int{{seq, D, batch, H}, {D, batch, H}, {D, batch, H}}
	if k.layout == 1 {
		results[0] = swap01(transposeSeqDir(y, seq, D, batch, H), seq, batch, D*H)
		shapes[0] = []int{batch, seq, D, H}
		results[1], results[2] = swap01(yh, D, batch, H), swap01(yc, D, batch, H)
		shapes[1], shapes[2] = []int{batch, D, H}, []int{batch, D, H}
	}
	for i, o := range out {
		if i > 2 || (i == 2 && k.kind != rnnLSTM) {
			break
		}
		o.Reset(x.DType, shapes[i])
		for j, v := range results[i] {
			if f32 {
				o.F32[j] = float32(v)
			} else {
				o.F64[j] = v
			}
		}
	}
	return nil
}

// swap01 returns a [b, a, c] copy of v laid out [a, b, c].
func swap01(v []float64, a, b, c int) []float64 {
	if v == nil {
		return nil
	}
	o := make([]float64, len(v))
	for i := range a {
		for j := range b {
			copy(o[(j*a+i)*c:(j*a+i+1)*c], v[(i*b+j)*c:(i*b+j+1)*c])
		}
	}
	return o
}

// transposeSeqDir turns y [seq, dir, batch, hidden] into [seq, batch, dir, hidden].
func transposeSeqDir(y []float64, seq, d, batch, h int) []float64 {
	o := make([]float64, len(y))
	for s := range seq {
		copy(o[s*d*batch*h:], swap01(y[s*d*batch*h:(s+1)*d*batch*h], d, batch, h))
	}
	return o
}
