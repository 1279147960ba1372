package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
)

// Sentinel errors, wrapped by the errors this package returns (match with
// errors.Is).
var (
	// ErrFormat: a file of the model folder is missing or malformed
	// (config.json that is not JSON or has a field of the wrong type,
	// shards that do not match their index, missing or duplicate tensors,
	// tensors of the wrong shape).
	ErrFormat = errors.New("hf: malformed model folder")
	// ErrUnsupported: a well-formed folder describing a model or a setting
	// that changes the math in a way this package does not implement (an
	// unknown model_type, rope_scaling of another type, an activation
	// other than the architecture's, quantization).
	ErrUnsupported = errors.New("hf: unsupported model")
)

// maxJSON bounds the JSON files of a folder (config.json,
// generation_config.json, the shard index): hub files are a few KB, the
// largest indexes a few hundred KB.
const maxJSON = 16 << 20

// readJSONFile reads a JSON file of at most maxJSON bytes, reading no more
// than that (so a huge file costs nothing).
func readJSONFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, path, err)
	}
	if len(b) > maxJSON {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFormat, path, maxJSON)
	}
	return b, nil
}

// object is a parsed JSON object whose fields are read by type, each
// failure naming the file and the field.
type object struct {
	file string
	m    map[string]json.RawMessage
	err  error
}

func parseObject(file string, b []byte) (*object, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, file, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: %s: not a JSON object", ErrFormat, file)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s: data after the JSON object", ErrFormat, file)
	}
	return &object{file: file, m: m}, nil
}

func (o *object) fail(kind error, format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("%w: %s: "+format, append([]any{kind, o.file}, args...)...)
	}
}

// has reports whether key is present and not null.
func (o *object) has(key string) bool {
	r, ok := o.m[key]
	return ok && string(bytes.TrimSpace(r)) != "null"
}

func (o *object) decode(key string, v any, what string) bool {
	if !o.has(key) {
		return false
	}
	if err := json.Unmarshal(o.m[key], v); err != nil {
		o.fail(ErrFormat, "field %q is not %s", key, what)
		return false
	}
	return true
}

// int reads a required (def == required) or optional integer in [lo, hi].
func (o *object) int(key string, def, lo, hi int) int {
	var f float64
	if !o.decode(key, &f, "a number") {
		if def == required && o.err == nil {
			o.fail(ErrFormat, "field %q is missing", key)
		}
		return def
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		o.fail(ErrFormat, "field %q is %v (want an integer in [%d, %d])", key, f, lo, hi)
		return def
	}
	return int(f)
}

// float reads an optional finite number in (lo, hi].
func (o *object) float(key string, def, lo, hi float64) float64 {
	var f float64
	if !o.decode(key, &f, "a number") {
		return def
	}
	if !(f > lo && f <= hi) {
		o.fail(ErrFormat, "field %q is %v (want a number in (%g, %g])", key, f, lo, hi)
		return def
	}
	return f
}

func (o *object) str(key, def string) string {
	s := def
	o.decode(key, &s, "a string")
	return s
}

func (o *object) bool(key string, def bool) bool {
	b := def
	o.decode(key, &b, "true or false")
	return b
}

// ints reads an integer or a list of integers (eos_token_id's two forms).
func (o *object) ints(key string, lo, hi int) []int {
	if !o.has(key) {
		return nil
	}
	var one float64
	if json.Unmarshal(o.m[key], &one) == nil {
		o.m["\x00one"] = o.m[key]
		v := o.int("\x00one", 0, lo, hi)
		delete(o.m, "\x00one")
		return []int{v}
	}
	var list []float64
	if err := json.Unmarshal(o.m[key], &list); err != nil || len(list) > 1024 {
		o.fail(ErrFormat, "field %q is not an integer or a list of at most 1024 integers", key)
		return nil
	}
	out := make([]int, 0, len(list))
	for _, f := range list {
		if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			o.fail(ErrFormat, "field %q holds %v (want integers in [%d, %d])", key, f, lo, hi)
			return nil
		}
		out = append(out, int(f))
	}
	return out
}

// require fails with ErrUnsupported when key is present and not one of
// the accepted values (compared as JSON after decoding into any); absent
// or null is accepted.
func (o *object) require(key string, accepted ...any) {
	if !o.has(key) || o.err != nil {
		return
	}
	var v any
	if err := json.Unmarshal(o.m[key], &v); err != nil {
		o.fail(ErrFormat, "field %q: %v", key, err)
		return
	}
	for _, a := range accepted {
		if fmt.Sprint(a) == fmt.Sprint(v) {
			return
		}
	}
	o.fail(ErrUnsupported, "%s = %s is not supported (accepted: %v)", key, clip(string(o.m[key])), accepted)
}

// absent fails with ErrUnsupported for each key present and not null:
// settings that change the math and are not implemented.
func (o *object) absent(keys ...string) {
	for _, k := range keys {
		if o.has(k) {
			o.fail(ErrUnsupported, "%s = %s is not supported", k, clip(string(o.m[k])))
		}
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// Family is the architecture a folder's model_type selects.
type Family int

const (
	FamilyBert  Family = iota + 1 // BertModel (model_type "bert")
	FamilyGPT2                    // GPT2LMHeadModel (model_type "gpt2")
	FamilyLlama                   // LlamaForCausalLM and relatives ("llama", "mistral", "qwen2")
)

func (f Family) String() string {
	switch f {
	case FamilyBert:
		return "bert"
	case FamilyGPT2:
		return "gpt2"
	case FamilyLlama:
		return "llama"
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

// Config is a parsed config.json: the fields the architectures use, in
// one struct for every family (a field a family does not use is zero).
// Names follow config.json's.
type Config struct {
	ModelType string // as written: bert, gpt2, llama, mistral, qwen2
	Family    Family

	VocabSize         int
	HiddenSize        int // n_embd for GPT-2
	NumHiddenLayers   int // n_layer
	NumAttentionHeads int // n_head
	NumKeyValueHeads  int // = NumAttentionHeads without grouped-query attention
	HeadDim           int // HiddenSize/NumAttentionHeads unless given
	IntermediateSize  int // n_inner (default 4·n_embd) for GPT-2
	MaxPositions      int // max_position_embeddings, n_positions; capped by a sliding window
	TypeVocabSize     int // BERT
	NormEps           float64
	HiddenAct         string // gelu (erf, BERT), gelu_new (tanh, GPT-2), silu (Llama)

	// Llama family.
	RopeTheta         float64
	RopeScaling       *RopeScaling
	AttentionBias     bool // q, k, v and o projections with bias (Llama's attention_bias)
	QKVBias           bool // q, k, v with bias, o without (Qwen2)
	MLPBias           bool
	TieWordEmbeddings bool

	BosTokenID int   // -1 when absent
	EosTokenID []int // the config's eos_token_id, one or several
	PadTokenID int   // -1 when absent
}

// RopeScaling is config.json's rope_scaling for the types implemented:
// "linear" (positions divided by Factor) and "llama3" (Llama 3.1's
// frequency-dependent scaling).
type RopeScaling struct {
	Type                          string
	Factor                        float64
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositions          int
}

// ParseConfig parses config.json's bytes (file names the source in
// errors). An unknown model_type, or a field whose value changes the math
// in a way not implemented, is an error wrapping ErrUnsupported; a missing
// required field or one of the wrong type wraps ErrFormat.
func ParseConfig(file string, b []byte) (*Config, error) {
	o, err := parseObject(file, b)
	if err != nil {
		return nil, err
	}
	c := &Config{ModelType: o.str("model_type", "")}
	if o.err != nil {
		return nil, o.err
	}
	const big = 1 << 24      // widths, layers, heads, positions
	const maxVocab = 1 << 24 // tokens
	// Settings no family here implements.
	o.absent("quantization_config", "attn_logit_softcapping", "final_logit_softcapping")
	o.require("is_encoder_decoder", false)
	o.require("add_cross_attention", false)
	o.require("is_decoder", false)
	o.require("chunk_size_feed_forward", 0) // same math, but say so if set
	switch c.ModelType {
	case "bert":
		c.Family = FamilyBert
		c.VocabSize = o.int("vocab_size", required, 1, maxVocab)
		c.HiddenSize = o.int("hidden_size", required, 1, big)
		c.NumHiddenLayers = o.int("num_hidden_layers", required, 1, big)
		c.NumAttentionHeads = o.int("num_attention_heads", required, 1, big)
		c.IntermediateSize = o.int("intermediate_size", required, 1, big)
		c.MaxPositions = o.int("max_position_embeddings", 512, 1, big)
		c.TypeVocabSize = o.int("type_vocab_size", 2, 1, big)
		c.NormEps = o.float("layer_norm_eps", 1e-12, 0, 1)
		c.HiddenAct = o.str("hidden_act", "gelu")
		o.require("hidden_act", "gelu")
		o.require("position_embedding_type", "absolute")
	case "gpt2":
		c.Family = FamilyGPT2
		c.VocabSize = o.int("vocab_size", 50257, 1, maxVocab)
		c.HiddenSize = o.int("n_embd", 768, 1, big)
		c.NumHiddenLayers = o.int("n_layer", 12, 1, big)
		c.NumAttentionHeads = o.int("n_head", 12, 1, big)
		c.IntermediateSize = o.int("n_inner", 4*c.HiddenSize, 1, big)
		c.MaxPositions = o.int("n_positions", 1024, 1, big)
		c.NormEps = o.float("layer_norm_epsilon", 1e-5, 0, 1)
		c.HiddenAct = o.str("activation_function", "gelu_new")
		o.require("activation_function", "gelu_new", "gelu_pytorch_tanh")
		o.require("scale_attn_weights", true)
		o.require("scale_attn_by_inverse_layer_idx", false)
		c.TieWordEmbeddings = o.bool("tie_word_embeddings", true)
		o.require("tie_word_embeddings", true)
	case "llama", "mistral", "qwen2":
		c.Family = FamilyLlama
		c.VocabSize = o.int("vocab_size", required, 1, maxVocab)
		c.HiddenSize = o.int("hidden_size", required, 1, big)
		c.NumHiddenLayers = o.int("num_hidden_layers", required, 1, big)
		c.NumAttentionHeads = o.int("num_attention_heads", required, 1, big)
		c.IntermediateSize = o.int("intermediate_size", required, 1, big)
		c.NumKeyValueHeads = o.int("num_key_value_heads", c.NumAttentionHeads, 1, big)
		c.MaxPositions = o.int("max_position_embeddings", 2048, 1, big)
		c.NormEps = o.float("rms_norm_eps", 1e-6, 0, 1)
		c.RopeTheta = o.float("rope_theta", 10000, 0, math.MaxFloat64)
		c.HiddenAct = o.str("hidden_act", "silu")
		o.require("hidden_act", "silu")
		c.TieWordEmbeddings = o.bool("tie_word_embeddings", false)
		c.MLPBias = o.bool("mlp_bias", false)
		o.absent("partial_rotary_factor")
		switch c.ModelType {
		case "qwen2":
			c.QKVBias = true
			if o.bool("use_sliding_window", false) {
				o.fail(ErrUnsupported, "use_sliding_window = true is not supported")
			}
		case "llama":
			c.AttentionBias = o.bool("attention_bias", false)
		case "mistral":
			// A sliding window changes nothing while the context fits in it:
			// cap the context there.
			if w := o.int("sliding_window", 0, 1, big); w > 0 {
				c.MaxPositions = min(c.MaxPositions, w)
			}
		}
		if o.has("head_dim") {
			c.HeadDim = o.int("head_dim", 0, 1, big)
		}
		c.RopeScaling = parseRopeScaling(o)
	default:
		if c.ModelType == "" {
			return nil, fmt.Errorf("%w: %s: no model_type", ErrFormat, file)
		}
		return nil, fmt.Errorf("%w: %s: model_type %q (supported: bert, gpt2, llama, mistral, qwen2)", ErrUnsupported, file, c.ModelType)
	}
	c.BosTokenID = o.int("bos_token_id", -1, 0, maxVocab)
	c.PadTokenID = o.int("pad_token_id", -1, 0, maxVocab)
	c.EosTokenID = o.ints("eos_token_id", 0, maxVocab)
	if o.err != nil {
		return nil, o.err
	}
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if c.HeadDim == 0 {
		if c.HiddenSize%c.NumAttentionHeads != 0 {
			return nil, fmt.Errorf("%w: %s: %d heads do not divide width %d", ErrFormat, file, c.NumAttentionHeads, c.HiddenSize)
		}
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return nil, fmt.Errorf("%w: %s: %d key/value heads do not divide %d heads", ErrFormat, file, c.NumKeyValueHeads, c.NumAttentionHeads)
	}
	if c.Family == FamilyLlama && c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("%w: %s: head_dim %d is odd (rotary embeddings need pairs)", ErrFormat, file, c.HeadDim)
	}
	if c.NumAttentionHeads > c.HiddenSize*64 || c.HeadDim*c.NumAttentionHeads > 1<<24 {
		return nil, fmt.Errorf("%w: %s: %d heads of %d is too wide", ErrFormat, file, c.NumAttentionHeads, c.HeadDim)
	}
	return c, nil
}

func parseRopeScaling(o *object) *RopeScaling {
	if !o.has("rope_scaling") {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(o.m["rope_scaling"], &raw); err != nil {
		o.fail(ErrFormat, "rope_scaling is not an object")
		return nil
	}
	s := &object{file: o.file + ": rope_scaling", m: raw}
	t := s.str("rope_type", s.str("type", "default"))
	var rs *RopeScaling
	switch t {
	case "default":
	case "linear":
		rs = &RopeScaling{Type: t, Factor: s.float("factor", 0, 0, 1e9)}
		if rs.Factor == 0 {
			s.fail(ErrFormat, "linear scaling needs a factor")
		}
	case "llama3":
		rs = &RopeScaling{Type: t,
			Factor:               s.float("factor", 0, 0, 1e9),
			LowFreqFactor:        s.float("low_freq_factor", 0, 0, 1e9),
			HighFreqFactor:       s.float("high_freq_factor", 0, 0, 1e9),
			OriginalMaxPositions: s.int("original_max_position_embeddings", required, 1, 1<<30),
		}
		if rs.Factor == 0 || rs.LowFreqFactor == 0 || rs.HighFreqFactor <= rs.LowFreqFactor {
			s.fail(ErrFormat, "llama3 scaling needs factor, low_freq_factor < high_freq_factor")
		}
	default:
		s.fail(ErrUnsupported, "rope_type %q is not supported (default, linear, llama3)", t)
	}
	var unknown []string
	for k := range raw {
		switch k {
		case "rope_type", "type", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings":
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		s.fail(ErrUnsupported, "fields %s are not supported", strings.Join(unknown, ", "))
	}
	if s.err != nil && o.err == nil {
		o.err = s.err
	}
	return rs
}

// GenerationConfig holds the defaults of generation_config.json that
// sampling uses; a zero field was absent.
type GenerationConfig struct {
	EosTokenID        []int
	BosTokenID        int // -1 when absent
	DoSample          bool
	Temperature       float64
	TopK              int
	TopP              float64
	RepetitionPenalty float64
	MaxNewTokens      int
}

// ParseGenerationConfig parses generation_config.json's bytes.
func ParseGenerationConfig(file string, b []byte) (*GenerationConfig, error) {
	o, err := parseObject(file, b)
	if err != nil {
		return nil, err
	}
	g := &GenerationConfig{
		EosTokenID:        o.ints("eos_token_id", 0, 1<<24),
		BosTokenID:        o.int("bos_token_id", -1, 0, 1<<24),
		DoSample:          o.bool("do_sample", false),
		Temperature:       o.float("temperature", 0, -1, 1e6),
		TopK:              o.int("top_k", 0, 0, 1<<24),
		TopP:              o.float("top_p", 0, -1, 1),
		RepetitionPenalty: o.float("repetition_penalty", 0, 0, 1e6),
		MaxNewTokens:      o.int("max_new_tokens", 0, 0, 1<<30),
	}
	if g.Temperature < 0 || g.TopP < 0 {
		o.fail(ErrFormat, "temperature %v and top_p %v must not be negative", g.Temperature, g.TopP)
	}
	if o.err != nil {
		return nil, o.err
	}
	return g, nil
}

// required as int's default makes the field required.
const required = math.MinInt
