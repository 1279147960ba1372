package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree is a user module with a list of children (one nil), a parameter
// shared with a child (weight tying), and a nil child.
type tree struct {
	Mode
	Blocks []*Linear[float32]
	Out    *Linear[float32]
	Extra  *Linear[float32] // nil: skipped
}

func (m *tree) Members(ms *Members[float32]) {
	List(ms, "blocks", m.Blocks)
	ms.Module("out", m.Out)
	ms.Module("extra", m.Extra)
	ms.Param("tied", m.Out.Weight)
}

func TestModuleWalks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := &tree{
		Blocks: []*Linear[float32]{NewLinear[float32](rng, 2, 2, KaimingUniform), nil, NewLinear[float32](rng, 2, 2, KaimingUniform)},
		Out:    NewLinear[float32](rng, 2, 3, KaimingUniform),
	}
	m.Blocks[2].Bias = nil
	var names []string
	for _, nm := range NamedModules[float32](m) {
		names = append(names, nm.Name)
	}
	assert.Equal(t, []string{"", "blocks.0", "blocks.2", "out"}, names)
	names = nil
	for _, p := range NamedParameters[float32](m) {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"blocks.0.weight", "blocks.0.bias", "blocks.2.weight", "out.weight", "out.bias"}, names, "the tied weight once, under its first name")
	sd := StateDict[float32](m)
	assert.Len(t, sd, 6, "the tied weight under both names, as PyTorch's state_dict")
	assert.Same(t, sd["out.weight"], sd["tied"])
	assert.Equal(t, 2*2+2+2*2+2*3+3, NumParameters[float32](m))

	require.True(t, m.Training())
	Train[float32](m, false)
	assert.False(t, m.Training(), "the root's own mode switches too")
	Train[float32](m, true)
	assert.True(t, m.Training())
}

// TestTiedWeightOneName: a file that keeps one name of a tied weight
// (safetensors' save_model, Hugging Face's GPT-2 without lm_head.weight)
// loads strictly.
func TestTiedWeightOneName(t *testing.T) {
	g := NewGPT[float32](rand.New(rand.NewPCG(1, 1)), GPTConfig{VocabSize: 16, BlockSize: 8, Layers: 1, Heads: 2, Embd: 8})
	sd := State[float32]{}
	for k, v := range StateDict[float32](g) {
		sd[k] = v.Clone()
	}
	sd["transformer.wte.weight"].Data()[3] = 7
	delete(sd, "lm_head.weight")
	rep, err := LoadStateDict[float32](g, sd, true)
	require.NoError(t, err)
	assert.Empty(t, rep.Missing)
	assert.Equal(t, float32(7), g.WTE.Weight.Value().Data()[3])
}
