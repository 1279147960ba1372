package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// Conv2dConfig configures NewConv2d. In, Out and Kernel are required; the
// other fields' zero values are PyTorch's defaults (stride 1, no padding,
// dilation 1, one group, a bias) and KaimingUniform initialisation.
type Conv2dConfig struct {
	In, Out  int    // input and output channels
	Kernel   [2]int // KH, KW
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
	Groups   int  // must divide In and Out; In for a depthwise convolution
	NoBias   bool // omit the bias
	// Init draws the weights, with fan_in = In/Groups·KH·KW and fan_out =
	// Out/Groups·KH·KW. The zero value is KaimingUniform, U(±√(6/fan_in)),
	// He's rule for ReLU networks and this package's default; PyTorch's
	// default (kaiming_uniform with a = √5) is the narrower U(±1/√fan_in)
	// and also draws the bias from it, where this package starts the bias
	// at zero as Linear does.
	Init Init
}

// Conv2d is a 2-D convolution layer over NCHW input (autograd's Conv2d):
// W has shape [Out, In/Groups, KH, KW] and B [Out], PyTorch's layout and
// names ("weight", "bias"), so weights move between the two unchanged.
type Conv2d[T tensor.Float] struct {
	Cfg          Conv2dConfig
	Weight, Bias *autograd.Var[T] // B is nil with NoBias
}

// NewConv2d returns a layer with weights drawn from rng by cfg.Init and
// zero bias. It panics (wrapping ErrArg) if a channel count or kernel size
// is below 1, a stride, padding, dilation or group count is negative,
// Groups does not divide In and Out, or rng is nil.
func NewConv2d[T tensor.Float](rng *rand.Rand, cfg Conv2dConfig) *Conv2d[T] {
	g := max(cfg.Groups, 1)
	bad := func(a [2]int, lo int) bool { return a[0] < lo || a[1] < lo }
	switch {
	case cfg.In < 1 || cfg.Out < 1:
		panic(fmt.Errorf("%w: NewConv2d: In %d, Out %d (both must be >= 1)", ErrArg, cfg.In, cfg.Out))
	case bad(cfg.Kernel, 1):
		panic(fmt.Errorf("%w: NewConv2d: Kernel %v (both must be >= 1)", ErrArg, cfg.Kernel))
	case bad(cfg.Stride, 0) || bad(cfg.Padding, 0) || bad(cfg.Dilation, 0) || cfg.Groups < 0:
		panic(fmt.Errorf("%w: NewConv2d: Stride %v, Padding %v, Dilation %v, Groups %d (none may be negative)",
			ErrArg, cfg.Stride, cfg.Padding, cfg.Dilation, cfg.Groups))
	case cfg.In%g != 0 || cfg.Out%g != 0:
		panic(fmt.Errorf("%w: NewConv2d: Groups %d does not divide In %d and Out %d", ErrArg, g, cfg.In, cfg.Out))
	case rng == nil:
		panic(fmt.Errorf("%w: NewConv2d: nil rng", ErrArg))
	}
	kk := cfg.Kernel[0] * cfg.Kernel[1]
	w := tensor.New[T](cfg.Out, cfg.In/g, cfg.Kernel[0], cfg.Kernel[1])
	Initialize(rng, w, cfg.Init, cfg.In/g*kk, cfg.Out/g*kk)
	l := &Conv2d[T]{Cfg: cfg, Weight: autograd.NewVar(w, true)}
	if !cfg.NoBias {
		l.Bias = autograd.NewVar(tensor.New[T](cfg.Out), true)
	}
	return l
}

// Forward records the convolution of x ([N, In, H, W]) on tp.
func (l *Conv2d[T]) Forward(tp *autograd.Tape[T], x *autograd.Var[T]) *autograd.Var[T] {
	c := &l.Cfg
	return tp.Conv2d(x, l.Weight, l.Bias, autograd.Conv2dOptions{Stride: c.Stride, Padding: c.Padding, Dilation: c.Dilation, Groups: c.Groups})
}

// Members names "weight" and, with a bias, "bias".
func (l *Conv2d[T]) Members(m *Members[T]) {
	m.Param("weight", l.Weight)
	m.Param("bias", l.Bias)
}
