package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/tensor"
)

// Model is a loaded model folder: one of Bert or LM is set, by the
// config's family.
type Model[T tensor.Float] struct {
	Dir        string
	Config     *Config
	Generation *GenerationConfig // generation_config.json, or nil
	Bert       *BertModel[T]     // FamilyBert
	LM         CausalLM[T]       // FamilyGPT2, FamilyLlama

	// Sentence-transformers pooling, from 1_Pooling/config.json and
	// modules.json when present: "mean" (the default) or "cls", and
	// whether a Normalize module follows.
	Pooling   string
	Normalize bool
	// MaxSeqLength is sentence_bert_config.json's max_seq_length, the
	// length sentence-transformers truncates to (0 when absent).
	MaxSeqLength int
}

// Load opens a Hugging Face model folder: config.json, then
// model.safetensors or the shards of model.safetensors.index.json (F32,
// F16, BF16 or F64 weights converted to T), generation_config.json and
// sentence-transformers' pooling files when present. Files are untrusted:
// anything missing, malformed or inconsistent (a tensor missing, unused,
// duplicated or of the wrong shape, a non-finite weight) is an error
// wrapping ErrFormat, and a model or setting not implemented one wrapping
// ErrUnsupported, both before any computation.
//
// Buffers the architectures recompute are skipped by name: BERT's
// embeddings.position_ids (I64), GPT-2's attn.bias and attn.masked_bias,
// rotary_emb.inv_freq, and a tied lm_head.weight. BERT checkpoints saved
// from a task model (bert.… names) load too, their cls.… heads skipped.
func Load[T tensor.Float](dir string) (*Model[T], error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a folder", ErrFormat, dir)
	}
	cfgPath := filepath.Join(dir, "config.json")
	b, err := readJSONFile(cfgPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has no config.json (not a model folder)", ErrFormat, dir)
		}
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	c, err := ParseConfig("config.json", b)
	if err != nil {
		return nil, err
	}
	m := &Model[T]{Dir: dir, Config: c, Pooling: "mean"}
	if b, err := readJSONFile(filepath.Join(dir, "generation_config.json")); err == nil {
		if m.Generation, err = ParseGenerationConfig("generation_config.json", b); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if c.Family == FamilyBert {
		if err := m.readPooling(); err != nil {
			return nil, err
		}
	}
	w, err := readWeights[T](dir, skipper(c))
	if err != nil {
		return nil, err
	}
	// The model is allocated from the config: first check that its
	// matrices are not far beyond the weights read (which are in proportion
	// to the files' bytes), so a config claiming a huge model cannot
	// exhaust memory. Smaller mismatches get the precise report of
	// LoadStateDict below.
	var have int
	for _, t := range w {
		have += t.Size()
	}
	if need := c.matrixParams(); need > 4*float64(have)+(1<<20) {
		return nil, fmt.Errorf("%w: config.json implies at least %.4g parameters, the weights hold %d", ErrFormat, need, have)
	}
	var root nn.Module[T]
	switch c.Family {
	case FamilyBert:
		// Task checkpoints (BertForMaskedLM, …) prefix the encoder with
		// "bert." and carry heads under "cls." (skipped).
		if _, ok := w["bert.embeddings.word_embeddings.weight"]; ok {
			w = renamed(w, func(k string) string { return strings.TrimPrefix(k, "bert.") })
		}
		_, pooler := w["pooler.dense.weight"]
		m.Bert = newBert[T](c, pooler)
		root = m.Bert
	case FamilyGPT2:
		if _, ok := w["wte.weight"]; ok {
			// GPT2Model's names, as the hub's gpt2 checkpoints have them.
			w = renamed(w, func(k string) string { return "transformer." + k })
		}
		delete(w, "lm_head.weight") // tied to wte
		m.LM = newGPT2[T](c)
		root = m.LM
	case FamilyLlama:
		if c.TieWordEmbeddings {
			delete(w, "lm_head.weight")
		}
		m.LM = newLlama[T](c)
		root = m.LM
	}
	// Every tensor present, none left over, shapes as the config implies,
	// values finite.
	if _, err := nn.LoadStateDict(root, nn.State[T](w), true); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}

func renamed[T tensor.Float](w weights[T], f func(string) string) weights[T] {
	out := weights[T]{}
	for k, v := range w {
		out[f(k)] = v
	}
	return out
}

// skipper returns the names left out when reading c's checkpoint.
func skipper(c *Config) skipFunc {
	return func(name, dtype string) bool {
		switch c.Family {
		case FamilyBert:
			return strings.HasSuffix(name, "embeddings.position_ids") || strings.HasPrefix(name, "cls.")
		case FamilyGPT2:
			return strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias")
		case FamilyLlama:
			return strings.HasSuffix(name, ".rotary_emb.inv_freq")
		}
		return false
	}
}

// readPooling reads sentence-transformers' modules.json and
// 1_Pooling/config.json, when present.
func (m *Model[T]) readPooling() error {
	if b, err := readJSONFile(filepath.Join(m.Dir, "sentence_bert_config.json")); err == nil {
		o, err := parseObject("sentence_bert_config.json", b)
		if err != nil {
			return err
		}
		m.MaxSeqLength = o.int("max_seq_length", 0, 1, m.Config.MaxPositions)
		if o.err != nil {
			return o.err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	b, err := readJSONFile(filepath.Join(m.Dir, "modules.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var mods []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &mods); err != nil {
		return fmt.Errorf("%w: modules.json: %v", ErrFormat, err)
	}
	poolDir := ""
	for _, md := range mods {
		switch md.Type {
		case "sentence_transformers.models.Transformer":
		case "sentence_transformers.models.Pooling":
			poolDir = md.Path
		case "sentence_transformers.models.Normalize":
			m.Normalize = true
		default:
			return fmt.Errorf("%w: modules.json: module %q is not supported", ErrUnsupported, md.Type)
		}
	}
	if poolDir == "" {
		return nil
	}
	if poolDir != filepath.Base(poolDir) || poolDir == ".." || poolDir == "." {
		return fmt.Errorf("%w: modules.json: pooling path %q is not a folder name", ErrFormat, poolDir)
	}
	b, err = readJSONFile(filepath.Join(m.Dir, poolDir, "config.json"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	o, err := parseObject(poolDir+"/config.json", b)
	if err != nil {
		return err
	}
	cls, mean := o.bool("pooling_mode_cls_token", false), o.bool("pooling_mode_mean_tokens", false)
	for _, k := range []string{"pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"} {
		if o.bool(k, false) {
			o.fail(ErrUnsupported, "%s is not supported (mean or cls pooling)", k)
		}
	}
	if o.err != nil {
		return o.err
	}
	switch {
	case cls && !mean:
		m.Pooling = "cls"
	case mean && !cls:
		m.Pooling = "mean"
	default:
		return fmt.Errorf("%w: %s/config.json: want exactly one of pooling_mode_cls_token and pooling_mode_mean_tokens", ErrUnsupported, poolDir)
	}
	return nil
}

// matrixParams is the number of elements of c's embedding tables and
// weight matrices (biases and norms left out), a lower bound on the
// model's parameters, in float64 so that no claim overflows.
func (c *Config) matrixParams() float64 {
	f := func(x int) float64 { return float64(x) }
	e, l, i := f(c.HiddenSize), f(c.NumHiddenLayers), f(c.IntermediateSize)
	switch c.Family {
	case FamilyBert:
		return e*(f(c.VocabSize)+f(c.MaxPositions)+f(c.TypeVocabSize)) + l*(4*e*e+2*e*i)
	case FamilyGPT2:
		return e*(f(c.VocabSize)+f(c.MaxPositions)) + l*(4*e*e+2*e*i)
	}
	q, kv := f(c.NumAttentionHeads*c.HeadDim), f(c.NumKeyValueHeads*c.HeadDim)
	n := e*f(c.VocabSize) + l*(2*e*q+2*e*kv+3*e*i)
	if !c.TieWordEmbeddings {
		n += e * f(c.VocabSize)
	}
	return n
}
