package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adjoint-go/adjoint/parallel"
	"github.com/stretchr/testify/require"
)

// levels lists the elementwise kernel levels this CPU and build can run.
func levels() []int {
	var l []int
	for lv := levelGeneric; lv <= ewLevel; lv++ {
		l = append(l, lv)
	}
	return l
}

// Every kernel level gives the generic loop's bits for every length and
// misalignment, writes nothing outside d, and works in place.
func testKernelLevels[T elem](t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	saved := ewLevel
	defer func() { ewLevel = saved }()
	for _, lv := range levels() {
		for _, op := range []opcode{opAdd, opSub, opMul, opDiv} {
			t.Run(fmt.Sprintf("level=%d/op=%d", lv, op), func(t *testing.T) {
				for n := 0; n < 300; n += 1 + n/16 {
					for off := range 3 {
						guard := T(math.NaN())
						buf := func() []T {
							s := make([]T, n+off+4)
							for i := range s {
								s[i] = T(rng.NormFloat64())
							}
							return s
						}
						a, b := buf(), buf()
						d := make([]T, n+off+4)
						for i := range d {
							d[i] = guard
						}
						want := make([]T, n)
						ewLevel = levelGeneric
						binVV(op, 0, want, a[off:off+n], b[off:off+n])
						ewLevel = lv
						binVV(op, 0, d[off:off+n], a[off:off+n], b[off:off+n])
						require.Equal(t, bitsOf(want), bitsOf(d[off:off+n]), "n=%d off=%d", n, off)
						for i, v := range d {
							if i < off || i >= off+n {
								require.True(t, v != v, "write outside d at %d", i)
							}
						}
						// Scalar forms.
						sc := T(rng.NormFloat64())
						for form := range 2 {
							for i := range d {
								d[i] = guard
							}
							ewLevel = levelGeneric
							if form == 0 {
								binVS(op, want, a[off:off+n], sc)
							} else {
								binSV(op, want, sc, b[off:off+n])
							}
							ewLevel = lv
							if form == 0 {
								binVS(op, d[off:off+n], a[off:off+n], sc)
							} else {
								binSV(op, d[off:off+n], sc, b[off:off+n])
							}
							require.Equal(t, bitsOf(want), bitsOf(d[off:off+n]), "form=%d n=%d off=%d", form, n, off)
							for i, v := range d {
								if i < off || i >= off+n {
									require.True(t, v != v, "write outside d at %d", i)
								}
							}
						}
						// In place: d is a.
						ewLevel = levelGeneric
						binVV(op, 0, want, a[off:off+n], b[off:off+n])
						ewLevel = lv
						binVV(op, 0, a[off:off+n], a[off:off+n], b[off:off+n])
						require.Equal(t, bitsOf(want), bitsOf(a[off:off+n]))
					}
				}
			})
		}
	}
}

func bitsOf[T Float](s []T) []uint64 {
	o := make([]uint64, len(s))
	for i, v := range s {
		o[i] = math.Float64bits(float64(v))
	}
	return o
}

func TestKernelLevels(t *testing.T) {
	bothTypes(t, testKernelLevels[float32], testKernelLevels[float64])
}

// BenchmarkAddLevels compares the elementwise kernel levels on float32 add,
// in cache (8K elements) and from memory (16M, 64 MiB per array), one
// thread, through the public API.
func BenchmarkAddLevels(b *testing.B) {
	saved := ewLevel
	defer func() { ewLevel = saved }()
	for _, n := range []int{1 << 13, 1 << 24} {
		x, y, d := Full[float32](1, n), Full[float32](2, n), New[float32](n)
		for _, lv := range levels() {
			b.Run(fmt.Sprintf("size=%d/level=%s", n, levelName(lv)), func(b *testing.B) {
				defer parallel.SetThreads(parallel.SetThreads(1))
				ewLevel = lv
				b.SetBytes(int64(12 * n))
				for b.Loop() {
					d.Add(x, y)
				}
			})
		}
	}
}

// FuzzKernels checks the assembly levels against the generic loops on
// random lengths, offsets, operations and values (go test -fuzz
// FuzzKernels ./tensor).
func FuzzKernels(f *testing.F) {
	f.Add(uint16(100), uint8(1), uint8(0), uint64(1), false)
	f.Add(uint16(64), uint8(0), uint8(3), uint64(2), true)
	f.Fuzz(func(t *testing.T, n16 uint16, off8, op8 uint8, seed uint64, double bool) {
		n, off, op := int(n16%2048), int(off8%8), opcode(op8%4)
		rng := rand.New(rand.NewPCG(seed, 7))
		if double {
			fuzzLevels[float64](t, rng, n, off, op)
		} else {
			fuzzLevels[float32](t, rng, n, off, op)
		}
	})
}

func fuzzLevels[T elem](t *testing.T, rng *rand.Rand, n, off int, op opcode) {
	saved := ewLevel
	defer func() { ewLevel = saved }()
	vals := func() []T {
		s := make([]T, n+off)
		for i := range s {
			switch rng.IntN(20) {
			case 0:
				s[i] = T(math.Inf(1 - 2*rng.IntN(2)))
			case 1:
				s[i] = T(math.NaN())
			case 2:
				s[i] = 0
			default:
				s[i] = T(rng.NormFloat64() * math.Exp2(float64(rng.IntN(40)-20)))
			}
		}
		return s[off:]
	}
	a, b := vals(), vals()
	s := T(rng.NormFloat64())
	want := [3][]T{make([]T, n), make([]T, n), make([]T, n)}
	lvls := levels() // before ewLevel is lowered: levels() reads it
	ewLevel = levelGeneric
	binVV(op, 0, want[0], a, b)
	binVS(op, want[1], a, s)
	binSV(op, want[2], s, b)
	for _, lv := range lvls {
		ewLevel = lv
		got := [3][]T{make([]T, n), make([]T, n), make([]T, n)}
		binVV(op, 0, got[0], a, b)
		binVS(op, got[1], a, s)
		binSV(op, got[2], s, b)
		for k := range got {
			require.Equal(t, bitsOf(want[k]), bitsOf(got[k]), "level %d form %d", lv, k)
		}
	}
}
