package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckLoss(t *testing.T) {
	require.NoError(t, CheckLoss("val loss", 2.5))
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := CheckLoss("val loss", v)
		require.ErrorIs(t, err, ErrDiverged)
		require.Contains(t, err.Error(), "val loss")
	}
}

// TestSampleNaNLogits is issue 23 item 8: with NaN logits (a model of
// NaNs) Sample returned token 0 every time, so chargpt sampled NUL bytes
// and exited 0. It must panic wrapping ErrDiverged, at any temperature.
func TestSampleNaNLogits(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 2)), GPTConfig{VocabSize: 5, BlockSize: 4, Layers: 1, Heads: 1, Embd: 2, Hidden: 2})
	gen := NewGenerator(g)
	gen.Feed(1)
	require.Less(t, gen.Sample(rand.New(rand.NewPCG(1, 1)), 1), 5) // finite: fine
	for _, temp := range []float64{0, 0.8} {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
			logits := gen.Feed()
			for i := range logits {
				logits[i] = bad
			}
			func() {
				defer func() {
					err, _ := recover().(error)
					require.True(t, errors.Is(err, ErrDiverged), "temperature %v, logits %v: panic %v", temp, bad, err)
					require.Contains(t, err.Error(), "Generator.Sample")
				}()
				gen.Sample(rand.New(rand.NewPCG(1, 1)), temp)
			}()
		}
	}
}
