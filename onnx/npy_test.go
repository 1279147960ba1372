package onnx

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fixtures come from numpy (testdata/gen_npy.py).
func TestReadNPYFixtures(t *testing.T) {
	cases := []struct {
		file  string
		dt    DataType
		shape []int
		want  func(i int) float64
	}{
		{"npy_f4.npy", Float, []int{2, 3}, func(i int) float64 { return float64(i)*0.5 - 1 }},
		{"npy_f8_be.npy", Double, []int{4}, func(i int) float64 { return float64(i) / 3 }},
		{"npy_f2.npy", Float16, []int{5}, func(i int) float64 { return float64(i) * 0.25 }},
		{"npy_i8.npy", Int64, []int{3, 2}, func(i int) float64 { return float64(i - 3) }},
		{"npy_i4_scalar.npy", Int32, []int{}, func(i int) float64 { return -7 }},
		{"npy_u1.npy", Uint8, []int{6}, func(i int) float64 { return float64(250 + i) }},
		{"npy_b1.npy", Bool, []int{2, 2}, func(i int) float64 { return float64(1 - min(i%3, 1)) }},
		{"npy_empty.npy", Float, []int{0, 3}, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", c.file))
			require.NoError(t, err)
			x, err := ReadNPY(b)
			require.NoError(t, err)
			require.Equal(t, c.dt, x.DType)
			require.Equal(t, c.shape, x.Shape)
			for i := range x.Size() {
				require.Equal(t, c.want(i), x.Float64At(i), "element %d", i)
			}
			// Round trip through WriteNPY.
			var buf bytes.Buffer
			require.NoError(t, WriteNPY(&buf, x))
			y, err := ReadNPY(buf.Bytes())
			require.NoError(t, err)
			require.Equal(t, x.String(), y.String())
		})
	}
}

func TestReadNPYRejects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "npy_f4.npy"))
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"empty":      nil,
		"magic":      []byte("NUMPY\x01\x00\x00\x00"),
		"truncated":  good[:len(good)-1],
		"extra":      append(append([]byte{}, good...), 0),
		"headerlen":  append(append([]byte{}, good[:8]...), 0xff, 0xff),
		"hugeshape":  bytes.Replace(good, []byte("(2, 3)"), []byte("(99999999999, 99999999999)"), 1),
		"negshape":   bytes.Replace(good, []byte("(2, 3)"), []byte("(-2, -3)"), 1),
		"unknowntyp": bytes.Replace(good, []byte("<f4"), []byte("<c8"), 1),
	} {
		_, err := ReadNPY(b)
		require.Error(t, err, name)
		require.True(t, errors.Is(err, ErrNPY), "%s: %v", name, err)
	}
}

// Float16/bfloat16 rounding against numpy's float16 and torch's bfloat16.
func TestHalfRoundingMatchesNumpyAndTorch(t *testing.T) {
	load := func(name string) *Tensor {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		x, err := ReadNPY(b)
		require.NoError(t, err)
		return x
	}
	x, f16, bf16 := load("round_f32.npy"), load("round_f16_bits.npy"), load("round_bf16_bits.npy")
	for i, v := range x.F32 {
		require.Equal(t, uint16(f16.I64[i]), Float32ToFloat16(v), "float16(%g)", v)
		require.Equal(t, uint16(bf16.I64[i]), Float32ToBFloat16(v), "bfloat16(%g)", v)
	}
	// Every half value converts to float32 exactly and back unchanged.
	for h := 0; h < 1<<16; h++ {
		f := Float16ToFloat32(uint16(h))
		if math.IsNaN(float64(f)) {
			continue
		}
		require.Equal(t, uint16(h), Float32ToFloat16(f), "half %#04x", h)
		require.Equal(t, uint16(h), Float32ToBFloat16(BFloat16ToFloat32(uint16(h))), "bfloat16 %#04x", h)
	}
}
