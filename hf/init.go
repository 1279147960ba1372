package hf

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// Validate reports a Config that cannot make a model: a size below 1, heads
// that do not divide the width, an unknown family. ParseConfig's results
// always validate; hand-made configs (tests, benchmarks) are checked by the
// constructors.
func (c *Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"VocabSize", c.VocabSize}, {"HiddenSize", c.HiddenSize}, {"NumHiddenLayers", c.NumHiddenLayers},
		{"NumAttentionHeads", c.NumAttentionHeads}, {"NumKeyValueHeads", c.NumKeyValueHeads}, {"HeadDim", c.HeadDim},
		{"IntermediateSize", c.IntermediateSize}, {"MaxPositions", c.MaxPositions}} {
		if f.v < 1 {
			return fmt.Errorf("%s %d < 1", f.name, f.v)
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("NumKeyValueHeads %d does not divide NumAttentionHeads %d", c.NumKeyValueHeads, c.NumAttentionHeads)
	}
	if !(c.NormEps > 0) {
		return fmt.Errorf("NormEps %v is not positive", c.NormEps)
	}
	switch c.Family {
	case FamilyBert:
		if c.TypeVocabSize < 1 || c.HeadDim*c.NumAttentionHeads != c.HiddenSize {
			return fmt.Errorf("BERT needs TypeVocabSize >= 1 and HeadDim·NumAttentionHeads = HiddenSize")
		}
	case FamilyGPT2:
		if c.HeadDim*c.NumAttentionHeads != c.HiddenSize || c.NumKeyValueHeads != c.NumAttentionHeads {
			return fmt.Errorf("GPT-2 needs HeadDim·NumAttentionHeads = HiddenSize and no grouped-query attention")
		}
	case FamilyLlama:
		if c.HeadDim%2 != 0 || !(c.RopeTheta > 0) {
			return fmt.Errorf("Llama needs an even HeadDim and RopeTheta > 0")
		}
	default:
		return fmt.Errorf("unknown Family %v", c.Family)
	}
	return nil
}

// NewBertModel returns a BertModel (with a pooler) initialised as
// transformers' _init_weights does: Linear and embedding weights from
// N(0, std²), biases 0, LayerNorm weights 1. It panics if c does not
// validate, is not BERT's, or rng is nil.
func NewBertModel[T tensor.Float](c *Config, rng *rand.Rand, std float64) *BertModel[T] {
	mustValid("NewBertModel", c, FamilyBert, rng)
	m := newBert[T](c, true)
	initParams[T](m, rng, std)
	return m
}

// NewCausalLM returns a GPT2LMHeadModel or LlamaForCausalLM, by c's
// family, initialised as NewBertModel. It panics as NewBertModel does.
func NewCausalLM[T tensor.Float](c *Config, rng *rand.Rand, std float64) CausalLM[T] {
	var m CausalLM[T]
	switch c.Family {
	case FamilyGPT2:
		mustValid("NewCausalLM", c, FamilyGPT2, rng)
		m = newGPT2[T](c)
	default:
		mustValid("NewCausalLM", c, FamilyLlama, rng)
		m = newLlama[T](c)
	}
	initParams[T](m, rng, std)
	return m
}

func mustValid(op string, c *Config, f Family, rng *rand.Rand) {
	if err := c.Validate(); err != nil {
		panic(fmt.Sprintf("hf: %s: %v", op, err))
	}
	if c.Family != f {
		panic(fmt.Sprintf("hf: %s: family %v (want %v)", op, c.Family, f))
	}
	if rng == nil {
		panic(fmt.Sprintf("hf: %s: nil rng", op))
	}
}

// initParams draws weights from N(0, std²) and leaves biases 0 and norm
// weights 1 (as constructed).
func initParams[T tensor.Float](m nn.Module[T], rng *rand.Rand, std float64) {
	for _, p := range nn.NamedParameters(m) {
		if strings.HasSuffix(p.Name, "bias") || len(p.Var.Shape()) < 2 {
			continue
		}
		d := p.Var.Value().Data()
		for i := range d {
			d[i] = T(rng.NormFloat64() * std)
		}
	}
}
