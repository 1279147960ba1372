package math32

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ordered maps float32 bits onto a line where adjacent floats differ by one
// and -0 and +0 coincide, so ulp distances are differences.
func ordered(x float32) int64 {
	b := int64(math.Float32bits(x))
	if b&(1<<31) != 0 {
		return -(b &^ (1 << 31))
	}
	return b
}

// ulpDiff returns how many float32 steps separate got from want: 0 when both
// are NaN, a huge number when only one is.
func ulpDiff(got, want float32) int64 {
	gn, wn := got != got, want != want
	if gn || wn {
		if gn && wn {
			return 0
		}
		return math.MaxInt32
	}
	d := ordered(got) - ordered(want)
	if d < 0 {
		d = -d
	}
	return d
}

// fn describes one function under test. ref is the float64 round trip the
// package replaces; maxUlp is the bound documented in doc.go.
type fn struct {
	name   string
	scalar func(float32) float32
	slice  func(dst, src []float32)
	ref    func(float32) float32
	maxUlp int64 // documented bound
}

var fns = []fn{
	{"Exp", Exp, ExpSlice, func(x float32) float32 { return float32(math.Exp(float64(x))) }, 1},
	{"Log", Log, LogSlice, func(x float32) float32 { return float32(math.Log(float64(x))) }, 1},
	{"Tanh", Tanh, TanhSlice, func(x float32) float32 { return float32(math.Tanh(float64(x))) }, 2},
	{"Sigmoid", Sigmoid, SigmoidSlice, func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }, 2},
	{"GeluErf", GeluErf, GeluErfSlice, geluRef, 2},
}

// geluRef is x·Φ(x) in float64 through math.Erfc, rounded once.
func geluRef(x float32) float32 {
	v := float64(x)
	return float32(v * 0.5 * math.Erfc(-v/math.Sqrt2))
}

// impl is one way of evaluating a function over a slice.
type impl struct {
	name string
	run  func(f fn, dst, src []float32)
}

// impls lists the scalar code plus every kernel this CPU can run, each
// forced through the dispatch switches.
func impls() []impl {
	out := []impl{{"scalar", func(f fn, dst, src []float32) {
		for i, x := range src {
			dst[i] = f.scalar(x)
		}
	}}}
	force := func(name string, a512, a2, neon bool) impl {
		return impl{name, func(f fn, dst, src []float32) {
			s512, s2, sn := useAVX512, useAVX2, useNEON
			useAVX512, useAVX2, useNEON = a512, a2, neon
			defer func() { useAVX512, useAVX2, useNEON = s512, s2, sn }()
			f.slice(dst, src)
		}}
	}
	out = append(out, force("generic", false, false, false))
	if useAVX2 {
		out = append(out, force("avx2", false, true, false))
	}
	if useAVX512 {
		out = append(out, force("avx512", true, false, false))
	}
	if useNEON {
		out = append(out, force("neon", false, false, true))
	}
	return out
}

// worst tracks the largest error seen.
type worst struct {
	ulp  int64
	x    float32
	got  float32
	want float32
}

func (w *worst) add(x, got, want float32) {
	if d := ulpDiff(got, want); d > w.ulp {
		*w = worst{d, x, got, want}
	}
}

func (w worst) String() string {
	return fmt.Sprintf("max %d ulp at x=%g (%#x): got %g want %g", w.ulp, w.x, math.Float32bits(w.x), w.got, w.want)
}

// sweep checks every implementation over the inputs produced by gen, in
// chunks, against the float64 reference, and returns the worst error per
// implementation.
func sweep(t *testing.T, f fn, gen func(yield func(float32) bool)) map[string]worst {
	const chunk = 1 << 16
	src := make([]float32, 0, chunk)
	want := make([]float32, chunk)
	got := make([]float32, chunk)
	// The scalar functions are what the generic loop calls, so the sweep
	// covers them through "generic" and skips the duplicate.
	ims := slices.DeleteFunc(impls(), func(im impl) bool { return im.name == "scalar" })
	res := map[string]worst{}
	flush := func() {
		for i, x := range src {
			want[i] = f.ref(x)
		}
		for _, im := range ims {
			w := res[im.name]
			im.run(f, got[:len(src)], src)
			for i, x := range src {
				w.add(x, got[i], want[i])
			}
			res[im.name] = w
		}
		src = src[:0]
	}
	for x := range gen {
		src = append(src, x)
		if len(src) == chunk {
			flush()
		}
	}
	flush()
	return res
}

// TestAccuracyWholeRange compares every 97th float32 bit pattern (all signs,
// exponents, subnormals, infinities and NaNs among them) with the float64
// reference, for the scalar code and every vector kernel. With -short (the
// emulated CI runs, where the full sweep took minutes) it takes every
// 1009th: still 4.3 million inputs per function, spread the same way.
func TestAccuracyWholeRange(t *testing.T) {
	step := uint64(97)
	if testing.Short() {
		step = 1009
	}
	for _, f := range fns {
		t.Run(f.name, func(t *testing.T) {
			res := sweep(t, f, func(yield func(float32) bool) {
				for b := uint64(0); b < 1<<32; b += step {
					if !yield(math.Float32frombits(uint32(b))) {
						return
					}
				}
			})
			for name, w := range res {
				t.Logf("%s/%s: %v", f.name, name, w)
				assert.LessOrEqual(t, w.ulp, f.maxUlp, "%s/%s: %v", f.name, name, w)
			}
		})
	}
}

// critical lists inputs around which every consecutive float32 is tested:
// branch points, the ends of the reduced ranges, the overflow and underflow
// thresholds, the normal/subnormal boundary of the result.
var critical = map[string][]float32{
	"Exp": {0, 0.34657359, -0.34657359, 1, -1, 88.72283, 88.0, -87.33654, -87.0,
		-103.27893, -103.97208, -104, 89, 20, -20, 1e-7, -1e-7},
	"Log": {1, 0.70710677, 1.4142135, 2, 0.5, 1.1754944e-38, 1.4e-45, 1e-40,
		3.4028235e38, 1e-3, 1e3, 0.9, 1.1},
	"Tanh": {0, 0.625, -0.625, 0.55, 0.3466, 1, -1, 4, 8.66, 9.01, -9.01, 9.25, -9.25, 1e-4, -1e-4, 1e-20},
	"Sigmoid": {0, 1, -1, 15, 16.63, 17.33, -17.33, -87.33, -88.72, -100, -103.28,
		-103.97, -104, 88.72},
	// GELU: Φ's switch at 0, t's fit interval ends (z = 10, x = ±14.14),
	// the float32 underflow of x·Φ(x) (about -14.1) and -708's clamp.
	"GeluErf": {0, 1, -1, 0.5, -0.5, 3, -3, -5, -8, -10, -13, -14.142136, 14.142136, -14.2, -20, -37.6, 6, 1e-30, -1e-30},
}

// TestAccuracyCritical tests the 2^15 floats either side of each critical
// point.
func TestAccuracyCritical(t *testing.T) {
	const span = 1 << 15
	for _, f := range fns {
		t.Run(f.name, func(t *testing.T) {
			res := sweep(t, f, func(yield func(float32) bool) {
				for _, c := range critical[f.name] {
					base := ordered(c)
					for d := int64(-span); d <= span; d++ {
						o := base + d
						var x float32
						if o < 0 {
							x = math.Float32frombits(uint32(-o) | 1<<31)
						} else {
							x = math.Float32frombits(uint32(o))
						}
						if !yield(x) {
							return
						}
					}
				}
			})
			for name, w := range res {
				t.Logf("%s/%s: %v", f.name, name, w)
				assert.LessOrEqual(t, w.ulp, f.maxUlp, "%s/%s: %v", f.name, name, w)
			}
		})
	}
}

// TestSpecialValues checks the IEEE special cases bit for bit, including the
// sign of zero results, for the scalar code and each kernel.
func TestSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	negZero := math.Float32frombits(1 << 31)
	maxF := float32(math.MaxFloat32)
	minSub := math.Float32frombits(1)
	type tc struct {
		x, want float32
	}
	cases := map[string][]tc{
		"Exp": {{0, 1}, {negZero, 1}, {inf, inf}, {-inf, 0}, {nan, nan},
			{100, inf}, {88.8, inf}, {maxF, inf}, {-maxF, 0}, {-110, 0},
			// Subnormal results, correctly rounded by the reference.
			{-100, float32(math.Exp(-100))}, {-103.5, float32(math.Exp(-103.5))},
			{-88, float32(math.Exp(-88))}},
		"Log": {{1, 0}, {0, -inf}, {negZero, -inf}, {-1, nan}, {-inf, nan}, {-minSub, nan},
			{inf, inf}, {nan, nan}, {minSub, float32(math.Log(float64(minSub)))},
			{maxF, float32(math.Log(float64(maxF)))}},
		"Tanh": {{0, 0}, {negZero, negZero}, {inf, 1}, {-inf, -1}, {nan, nan}, {20, 1}, {-20, -1},
			{maxF, 1}, {-maxF, -1}, {minSub, minSub}, {-minSub, -minSub}},
		"Sigmoid": {{0, 0.5}, {negZero, 0.5}, {inf, 1}, {-inf, 0}, {nan, nan}, {20, 1},
			{maxF, 1}, {-maxF, 0}, {-200, 0}, {-100, float32(1 / (1 + math.Exp(100)))}},
		"GeluErf": {{0, 0}, {negZero, negZero}, {inf, inf}, {-inf, nan}, {nan, nan}, {20, 20},
			{maxF, maxF}, {-maxF, negZero}, {-40, negZero}, {minSub, 0}, {2, geluRef(2)}, {-2, geluRef(-2)}},
	}
	for _, f := range fns {
		for _, im := range impls() {
			t.Run(f.name+"/"+im.name, func(t *testing.T) {
				cs := cases[f.name]
				src := make([]float32, len(cs))
				for i, c := range cs {
					src[i] = c.x
				}
				got := make([]float32, len(cs))
				im.run(f, got, src)
				for i, c := range cs {
					if c.want != c.want {
						assert.True(t, got[i] != got[i], "%s(%g) = %g, want NaN", f.name, c.x, got[i])
						continue
					}
					assert.Equal(t, math.Float32bits(c.want), math.Float32bits(got[i]),
						"%s(%g) = %g, want %g", f.name, c.x, got[i], c.want)
				}
			})
		}
	}
}

// TestSliceLengthsAndAliasing covers every tail length, in-place use, and
// that nothing past len(src) is written.
func TestSliceLengthsAndAliasing(t *testing.T) {
	for _, f := range fns {
		for _, im := range impls() {
			t.Run(f.name+"/"+im.name, func(t *testing.T) {
				for n := 0; n <= 70; n++ {
					src := make([]float32, n)
					for i := range src {
						src[i] = float32(i)*0.37 - 9
						if f.name == "Log" {
							src[i] = float32(i)*0.37 + 0.01
						}
					}
					orig := slices.Clone(src)
					dst := make([]float32, n+3)
					guard := float32(12345)
					for i := range dst {
						dst[i] = guard
					}
					im.run(f, dst, src) // dst longer than src: only the first n written
					require.Equal(t, orig, src, "n=%d: src changed", n)
					for i := range n {
						require.LessOrEqual(t, ulpDiff(dst[i], f.ref(src[i])), f.maxUlp, "n=%d i=%d", n, i)
					}
					for i := n; i < n+3; i++ {
						require.Equal(t, guard, dst[i], "n=%d: wrote dst[%d]", n, i)
					}
					// In place gives the same bits as out of place.
					inPlace := slices.Clone(src)
					im.run(f, inPlace, inPlace)
					out := make([]float32, n)
					im.run(f, out, src)
					require.Equal(t, out, inPlace, "n=%d in place", n)
				}
			})
		}
	}
}

// TestVectorTailConsistent checks that a value gets the same result
// whether it lands in the vector body or the tail.
func TestVectorTailConsistent(t *testing.T) {
	for _, f := range fns {
		src := make([]float32, 37)
		for i := range src {
			src[i] = 1.234
		}
		dst := make([]float32, len(src))
		f.slice(dst, src)
		for i := range dst {
			require.Equal(t, dst[0], dst[i], "%s: element %d", f.name, i)
		}
	}
}

func TestShortDstPanics(t *testing.T) {
	for _, f := range fns {
		dst := []float32{7, 7}
		func() {
			defer func() {
				r := recover()
				require.NotNil(t, r, "%s: no panic", f.name)
				err, ok := r.(error)
				require.True(t, ok)
				require.True(t, errors.Is(err, ErrLength))
				require.Contains(t, err.Error(), f.name+"Slice: len(dst) 2 < len(src) 3")
			}()
			f.slice(dst, []float32{1, 2, 3})
		}()
		require.Equal(t, []float32{7, 7}, dst, "%s wrote before panicking", f.name)
	}
}

// FuzzSlice feeds arbitrary bit patterns and lengths through every
// implementation and checks each element against the float64 reference.
func FuzzSlice(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f, 1, 0, 0, 0})
	f.Add(make([]byte, 4*37))
	f.Add([]byte("\x00\x00\xb2\x42\x00\x00\xd0\xc2\x01\x02\x03\x04\xff\xff\x7f\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := make([]float32, len(data)/4)
		for i := range src {
			src[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		dst := make([]float32, len(src))
		for _, fn := range fns {
			for _, im := range impls() {
				im.run(fn, dst, src)
				for i, x := range src {
					if d := ulpDiff(dst[i], fn.ref(x)); d > fn.maxUlp {
						t.Fatalf("%s/%s(%g [%#x]) = %g, want %g (%d ulp)", fn.name, im.name, x, math.Float32bits(x), dst[i], fn.ref(x), d)
					}
				}
			}
		}
	})
}
