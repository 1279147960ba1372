package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// TestKernelLevelsOffsets compares every assembly level with the generic Go
// kernels, bit for bit, over every length 0..200 (every tail of every
// block) at misaligned starts 0..3, on values that mix ±0, ±Inf, ±NaN and
// subnormals (fill), with the elements around each slice left untouched.
func TestKernelLevelsOffsets(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testKernelLevelsOffsets[float32](t) })
	t.Run("float64", func(t *testing.T) { testKernelLevelsOffsets[float64](t) })
}

func testKernelLevelsOffsets[T tensor.Float](t *testing.T) {
	defer func(l int) { asmLevel = l }(asmLevel)
	r := rand.New(rand.NewPCG(11, 12))
	for n := range 201 {
		for off := range 4 {
			x, g, h, d0 := fill[T](r, off+n+2), fill[T](r, off+n+2), fill[T](r, off+n+2), fill[T](r, off+n+2)
			var want [4][]uint64
			for _, l := range levels() {
				asmLevel = l
				fwd := append([]T(nil), d0...)
				reluFwd(fwd[off:off+n], x[off:off+n])
				bwd := append([]T(nil), d0...)
				reluBwd(false, bwd[off:off+n], g[off:off+n], h[off:off+n])
				acc := append([]T(nil), d0...)
				reluBwd(true, acc[off:off+n], g[off:off+n], h[off:off+n])
				add := append([]T(nil), d0...)
				addAcc(add[off:off+n], g[off:off+n])
				got := [4][]uint64{bitsOf(fwd), bitsOf(bwd), bitsOf(acc), bitsOf(add)}
				if l == levelGeneric {
					want = got
					for k := range got {
						require.Equal(t, bitsOf(d0[:off]), got[k][:off], "guard before")
						require.Equal(t, bitsOf(d0[off+n:]), got[k][off+n:], "guard after")
					}
					continue
				}
				for k, name := range []string{"reluFwd", "reluBwd", "reluBwdAcc", "addAcc"} {
					w, g := want[k], got[k]
					if k >= 2 {
						// d + g with both NaN: which payload and sign survive is
						// the order of the addition's operands, which Go leaves
						// to the compiler (the race detector's build commutes it).
						w, g = canonNaN[T](w), canonNaN[T](g)
					}
					require.Equal(t, w, g, fmt.Sprintf("%s n=%d off=%d level=%s", name, n, off, levelName(l)))
				}
			}
		}
	}
}

// TestExpectKernel checks the level dispatch chose: CI runs the arm64 tests
// with ADJOINT_EXPECT_KERNEL=neon.
func TestExpectKernel(t *testing.T) {
	if os.Getenv("ADJOINT_EXPECT_KERNEL") != "neon" {
		t.Skip("ADJOINT_EXPECT_KERNEL is not neon")
	}
	require.Equal(t, "neon", levelName(asmLevel))
}

// canonNaN returns bits with every NaN replaced by one quiet NaN.
func canonNaN[T tensor.Float](bits []uint64) []uint64 {
	out := append([]uint64(nil), bits...)
	for i, b := range out {
		if is32[T]() {
			if f := math.Float32frombits(uint32(b)); f != f {
				out[i] = 0x7fc00000
			}
		} else if f := math.Float64frombits(b); f != f {
			out[i] = 0x7ff8000000000000
		}
	}
	return out
}
