package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fuzzCase turns fuzzer bytes into a product: shapes up to a few tiles and a
// little past KC, leading-dimension padding, alpha and beta from
// {0, 1, -1, 0.5, 2.5}, and the transposes.
func fuzzCase(m, n, k, pad, ab, tr uint8) gemmCase {
	vals := []float64{0, 1, -1, 0.5, 2.5}
	tc := gemmCase{
		m: int(m)%130 + 1, n: int(n)%150 + 1, k: int(k)%300 + 1,
		ldPad: int(pad) % 5,
		alpha: vals[int(ab)%len(vals)], beta: vals[int(ab)/len(vals)%len(vals)],
		tA: NoTrans, tB: NoTrans,
	}
	if tr&1 != 0 {
		tc.tA = Trans
	}
	if tr&2 != 0 {
		tc.tB = Trans
	}
	tc.cNaN = tc.beta == 0
	return tc
}

func fuzzSeeds(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), uint8(1), uint8(0), uint64(1))
	f.Add(uint8(7), uint8(47), uint8(9), uint8(1), uint8(6), uint8(1), uint64(2))
	f.Add(uint8(9), uint8(49), uint8(129), uint8(2), uint8(8), uint8(2), uint64(3))
	f.Add(uint8(17), uint8(25), uint8(65), uint8(3), uint8(13), uint8(3), uint64(4))
	f.Add(uint8(64), uint8(64), uint8(64), uint8(0), uint8(5), uint8(0), uint64(5))
	f.Add(uint8(100), uint8(130), uint8(255), uint8(4), uint8(24), uint8(1), uint64(6))
}

// FuzzSgemm compares every assembly kernel this CPU runs with the generic Go
// kernel on the same random product, element by element within twice the
// dot-product error bound, and checks neither writes outside C.
func FuzzSgemm(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, m, n, k, pad, ab, tr uint8, seed uint64) {
		fuzzKernels[float32](t, fuzzCase(m, n, k, pad, ab, tr), seed)
	})
}

// FuzzDgemm is FuzzSgemm for float64.
func FuzzDgemm(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, m, n, k, pad, ab, tr uint8, seed uint64) {
		fuzzKernels[float64](t, fuzzCase(m, n, k, pad, ab, tr), seed)
	})
}

func fuzzKernels[T float](t *testing.T, tc gemmCase, seed uint64) {
	ks := Kernels()
	if len(ks) < 2 {
		t.Skip("no assembly kernel on this CPU/build")
	}
	prev := Kernel()
	defer func() { _ = SetKernel(prev) }()
	o := makeOperands[T](rand.New(rand.NewPCG(seed, 11)), tc)
	c0 := o.c.clone()
	results := make([][]T, len(ks))
	for i, name := range ks {
		if err := SetKernel(name); err != nil {
			t.Fatal(err)
		}
		c := append([]T(nil), c0...)
		o.run(tc, c[guardPad:guardPad+len(o.c.s)])
		for idx := range c {
			if !o.c.inside(idx) && bitsOf(c[idx]) != bitsOf(c0[idx]) {
				t.Fatalf("%v impl=%s: write outside C at buffer index %d", tc, name, idx)
			}
		}
		results[i] = c
	}
	u := unitRoundoff[T]()
	gen := results[0] // "generic" is always first
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var sa float64
			for p := range tc.k {
				sa += math.Abs(float64(opAt(o.a, tc.tA, i, p)) * float64(opAt(o.b, tc.tB, p, j)))
			}
			idx := guardPad + i*o.ldc + j
			mag := math.Abs(tc.alpha) * sa
			if tc.beta != 0 {
				mag += math.Abs(tc.beta * float64(c0[idx]))
			}
			bound := 2 * float64(tc.k+3) * u * mag
			for r, name := range ks[1:] {
				got, want := float64(results[r+1][idx]), float64(gen[idx])
				if !(math.Abs(got-want) <= bound) {
					t.Fatalf("%v: C(%d,%d) impl=%s %v, generic %v (bound %v)", tc, i, j, name, got, want, bound)
				}
			}
		}
	}
}
