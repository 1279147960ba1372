package hf

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseConfig: any bytes give a config or an error wrapping ErrFormat
// or ErrUnsupported, never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, m := range []string{"bert", "gpt2", "llama", "qwen2"} {
		b, err := os.ReadFile(testdata(m + "/config.json"))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"model_type": "llama", "rope_scaling": {"rope_type": "llama3"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("config.json", b)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
	})
}

// TestCorruptWeights: random byte changes and truncations of a checkpoint
// read through the filtered path (BERT's, which holds an I64 buffer to
// skip) and of a plain one give errors or a model, never a panic.
func TestCorruptWeights(t *testing.T) {
	for _, name := range []string{"bert", "qwen2"} {
		src, err := os.ReadFile(testdata(name + "/model.safetensors"))
		require.NoError(t, err)
		dir := copyDir(t, testdata(name))
		path := filepath.Join(dir, "model.safetensors")
		rng := rand.New(rand.NewPCG(9, 9))
		hl := 8 + int(src[0]) + int(src[1])<<8
		n := 60
		if testing.Short() {
			n = 20
		}
		for i := range n {
			b := append([]byte(nil), src...)
			switch i % 3 {
			case 0: // a byte of the header
				b[rng.IntN(hl)] = byte(rng.IntN(256))
			case 1: // a byte of the length
				b[rng.IntN(8)] = byte(rng.IntN(256))
			case 2:
				b = b[:rng.IntN(len(b))]
			}
			require.NoError(t, os.WriteFile(path, b, 0o644))
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s: corruption %d panicked: %v", name, i, r)
					}
				}()
				if _, err := Load[float32](dir); err != nil {
					require.ErrorIs(t, err, ErrFormat)
				}
			}()
		}
	}
}
