package nn

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
)

// TestGPTLogitsSizeOverflow is issue 23 item 4: GPT.Logits(tp, nil,
// 1<<62, 4) took b·t, wrapped round to 0, for len(idx) and built 2^64
// positions (a fatal out-of-memory). It must panic with ErrArg at once.
func TestGPTLogitsSizeOverflow(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 2)), GPTConfig{VocabSize: 7, BlockSize: 4, Layers: 1, Heads: 1, Embd: 2, Hidden: 2})
	b := 1 << (bits.UintSize - 2) // 1<<62 on 64-bit: b·4 wraps to 0
	defer func() {
		err, ok := recover().(error)
		if !ok || !errors.Is(err, ErrArg) || !strings.Contains(err.Error(), "GPT.Logits: 0 tokens for b") {
			t.Fatalf("panic %v, want ErrArg naming GPT.Logits", err)
		}
	}()
	g.Logits(autograd.NewTape[float32](), nil, b, 4)
}
