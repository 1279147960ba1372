package onnx

import (
	"fmt"
	"math"
)

// Spectral ops: DFT, STFT and MelWeightMatrix, by their definitions
// (O(n²) transforms in float64: audio front ends call them on short
// frames; a model that needs long transforms would want an FFT here).

func init() {
	Register("", "DFT", 17, Latest, newDFT)
	Register("", "STFT", 17, Latest, func(n *Node) (Kernel, error) {
		return &stftKernel{onesided: n.Int("onesided", 1) != 0}, n.Err()
	})
	Register("", "MelWeightMatrix", 17, Latest, func(n *Node) (Kernel, error) {
		dt := DataType(n.Int("output_datatype", int64(Float)))
		if _, ok := floatKind(dt); !ok {
			return nil, n.Errorf("output_datatype %v: %w", dt, ErrUnsupported)
		}
		return KernelFunc(func(in, out []*Tensor) error { return melWeights(dt, in, out) }), n.Err()
	})
}

type dftKernel struct {
	axis              int
	axisInput         bool // opset 20: axis is input 2
	inverse, onesided bool
}

func newDFT(n *Node) (Kernel, error) {
	k := &dftKernel{axis: int(n.Int("axis", 1)), inverse: n.Int("inverse", 0) != 0, onesided: n.Int("onesided", 0) != 0}
	if n.Opset >= 20 {
		k.axisInput, k.axis = true, -2
	}
	if k.inverse && k.onesided {
		return nil, n.Errorf("inverse with onesided: %w", ErrUnsupported)
	}
	return k, n.Err()
}

// dft1 transforms the complex sequence (re, im) of length n (input values
// past len(re) are zero; those beyond length are dropped) into bins
// outputs.
func dft1(re, im []float64, length, bins int, inverse bool, ore, oim []float64) {
	sign := -1.0
	if inverse {
		sign = 1
	}
	for kk := range bins {
		var sr, si float64
		for t := range min(len(re), length) {
			ang := sign * 2 * math.Pi * float64(kk) * float64(t) / float64(length)
			c, s := math.Cos(ang), math.Sin(ang)
			sr += re[t]*c - im[t]*s
			si += re[t]*s + im[t]*c
		}
		if inverse {
			sr /= float64(length)
			si /= float64(length)
		}
		ore[kk], oim[kk] = sr, si
	}
}

func (k *dftKernel) Run(in, out []*Tensor) error {
	x := in[0]
	if _, ok := floatKind(x.DType); !ok {
		return fmt.Errorf("DFT: element type %v: %w", x.DType, ErrUnsupported)
	}
	r := x.Rank()
	if r < 2 || (x.Shape[r-1] != 1 && x.Shape[r-1] != 2) {
		return fmt.Errorf("DFT: input shape %v: last dimension must be 1 (real) or 2 (complex)", x.Shape)
	}
	ax := k.axis
	if k.axisInput {
		if a := Input(in, 2); a != nil && a.Size() == 1 {
			ax = int(a.Int64At(0))
		}
	}
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax >= r-1 {
		return fmt.Errorf("DFT: axis %d out of range for shape %v", k.axis, x.Shape)
	}
	n := x.Shape[ax]
	length := n
	if l := Input(in, 1); l != nil && l.Size() == 1 {
		length = int(l.Int64At(0))
		if length < 1 || length > 1<<20 {
			return fmt.Errorf("DFT: dft_length %d out of range", length)
		}
	}
	bins := length
	if k.onesided {
		bins = length/2 + 1
	}
	complexIn := x.Shape[r-1] == 2
	shape := append([]int(nil), x.Shape...)
	shape[ax], shape[r-1] = bins, 2
	out[0].Reset(x.DType, shape)
	outer, inner := numel(x.Shape[:ax]), numel(x.Shape[ax+1:r-1])
	re, im := make([]float64, n), make([]float64, n)
	ore, oim := make([]float64, bins), make([]float64, bins)
	ch := x.Shape[r-1]
	for o := range outer {
		for i := range inner {
			for t := range n {
				j := ((o*n+t)*inner + i) * ch
				re[t] = x.Float64At(j)
				im[t] = 0
				if complexIn {
					im[t] = x.Float64At(j + 1)
				}
			}
			dft1(re, im, length, bins, k.inverse, ore, oim)
			for b := range bins {
				j := ((o*bins+b)*inner + i) * 2
				setFloatAt(out[0], j, ore[b])
				setFloatAt(out[0], j+1, oim[b])
			}
		}
	}
	return nil
}

func setFloatAt(t *Tensor, i int, v float64) {
	if t.DType.Storage() == StoreF32 {
		t.F32[i] = float32(v)
	} else {
		t.F64[i] = v
	}
}

type stftKernel struct{ onesided bool }

func (k *stftKernel) Run(in, out []*Tensor) error {
	x, stepT, win, lenT := in[0], in[1], Input(in, 2), Input(in, 3)
	if _, ok := floatKind(x.DType); !ok {
		return fmt.Errorf("STFT: element type %v: %w", x.DType, ErrUnsupported)
	}
	if x.Rank() != 3 || (x.Shape[2] != 1 && x.Shape[2] != 2) {
		return fmt.Errorf("STFT: signal shape %v: want [batch, length, 1 or 2]", x.Shape)
	}
	if stepT == nil || stepT.Size() != 1 {
		return fmt.Errorf("STFT: frame_step must be a scalar")
	}
	step := int(stepT.Int64At(0))
	flen := 0
	switch {
	case lenT != nil && lenT.Size() == 1:
		flen = int(lenT.Int64At(0))
	case win != nil:
		flen = win.Size()
	default:
		return fmt.Errorf("STFT: neither window nor frame_length given")
	}
	if win != nil && win.Size() != flen {
		return fmt.Errorf("STFT: window of %d values for frame_length %d", win.Size(), flen)
	}
	batch, sl, ch := x.Shape[0], x.Shape[1], x.Shape[2]
	if step < 1 || flen < 1 || flen > sl {
		return fmt.Errorf("STFT: frame_step %d, frame_length %d, signal length %d", step, flen, sl)
	}
	frames := (sl-flen)/step + 1
	bins := flen
	if k.onesided {
		bins = flen/2 + 1
	}
	out[0].Reset(x.DType, []int{batch, frames, bins, 2})
	re, im := make([]float64, flen), make([]float64, flen)
	ore, oim := make([]float64, bins), make([]float64, bins)
	for b := range batch {
		for f := range frames {
			for t := range flen {
				w := 1.0
				if win != nil {
					w = win.Float64At(t)
				}
				j := (b*sl + f*step + t) * ch
				re[t] = x.Float64At(j) * w
				im[t] = 0
				if ch == 2 {
					im[t] = x.Float64At(j+1) * w
				}
			}
			dft1(re, im, flen, bins, false, ore, oim)
			for q := range bins {
				j := ((b*frames+f)*bins + q) * 2
				setFloatAt(out[0], j, ore[q])
				setFloatAt(out[0], j+1, oim[q])
			}
		}
	}
	return nil
}

// melWeights builds the [dft_length/2 + 1, num_mel_bins] matrix of
// triangular mel filters as ONNX's reference does (bin edges in integer
// DFT bins).
func melWeights(dt DataType, in, out []*Tensor) error {
	for i, t := range in[:5] {
		if t == nil || t.Size() != 1 {
			return fmt.Errorf("MelWeightMatrix: input %d must be a scalar", i)
		}
	}
	mels, dftLen, rate := int(in[0].Int64At(0)), int(in[1].Int64At(0)), int(in[2].Int64At(0))
	lowHz, highHz := in[3].Float64At(0), in[4].Float64At(0)
	if mels < 1 || mels > 1<<16 || dftLen < 1 || dftLen > 1<<24 || rate < 1 {
		return fmt.Errorf("MelWeightMatrix: num_mel_bins %d, dft_length %d, sample_rate %d", mels, dftLen, rate)
	}
	specBins := dftLen/2 + 1
	lowMel := 2595 * math.Log10(1+lowHz/700)
	highMel := 2595 * math.Log10(1+highHz/700)
	// Divided by the number of edges, mels + 2, as ONNX's reference does.
	step := (highMel - lowMel) / float64(mels+2)
	edge := make([]int, mels+2)
	for i := range edge {
		hz := 700 * (math.Pow(10, (float64(i)*step+lowMel)/2595) - 1)
		edge[i] = int(math.Floor(float64(dftLen+1) * hz / float64(rate)))
	}
	out[0].Reset(dt, []int{specBins, mels})
	out[0].Zero()
	set := func(j, i int, v float64) {
		if j >= 0 && j < specBins {
			setFloatAt(out[0], j*mels+i, v)
		}
	}
	for i := range mels {
		lo, c, hi := edge[i], edge[i+1], edge[i+2]
		if c == lo {
			set(c, i, 1)
		} else {
			for j := lo; j <= c; j++ {
				set(j, i, float64(j-lo)/float64(c-lo))
			}
		}
		if hi > c {
			for j := c; j < hi; j++ {
				set(j, i, float64(hi-j)/float64(hi-c))
			}
		}
	}
	return nil
}
