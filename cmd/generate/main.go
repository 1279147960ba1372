// Command generate continues a prompt with a Hugging Face causal language
// model (GPT-2, Llama, Mistral, Qwen2, SmolLM) from its folder, streaming
// the text to stdout.
//
//	generate -model DIR -prompt 'Once upon a time' -max-tokens 64
//	generate -model DIR -prompt '...' -temperature 0.7 -top-k 50 -top-p 0.9 -seed 1
//	generate -model DIR -prompt-ids '[1, 5, 9]' -ids   # no tokenizer needed
//
// The folder holds config.json, model.safetensors (or shards with
// model.safetensors.index.json), and tokenizer.json to turn text into ids
// and back; generation_config.json supplies defaults (eos_token_id,
// do_sample, temperature, top_k, top_p, repetition_penalty, max_new_tokens)
// that the flags override. -temperature 0 is greedy decoding. -ids prints
// the generated ids as one JSON array instead of text. Generation stops
// at an eos_token_id of the folder (or -stop ids), after -max-tokens
// tokens, or when the context is full.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adjoint-go/adjoint/hf"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tokenizer"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		if !strings.HasPrefix(msg, "generate: ") {
			msg = "generate: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		model     = fs.String("model", "", "model folder (config.json, model.safetensors, tokenizer.json)")
		prompt    = fs.String("prompt", "", "prompt text")
		promptIDs = fs.String("prompt-ids", "", "prompt as a JSON array of token ids (instead of -prompt)")
		maxTokens = fs.Int("max-tokens", 64, "most tokens to generate (default: generation_config's max_new_tokens, else 64)")
		temp      = fs.Float64("temperature", 0, "sampling temperature; 0 is greedy (default: generation_config's)")
		topK      = fs.Int("top-k", 0, "keep the k most likely tokens; 0 keeps all")
		topP      = fs.Float64("top-p", 0, "keep the most likely tokens up to this probability; 0 or 1 keeps all")
		penalty   = fs.Float64("repetition-penalty", 0, "penalty for tokens already in the context; 0 or 1 is none")
		seed      = fs.Uint64("seed", 0, "random seed (0: from the clock)")
		ids       = fs.Bool("ids", false, "print the generated ids as one JSON array instead of text")
		stop      = fs.String("stop", "", "JSON array of stop token ids (default: the folder's eos_token_id)")
		noSpecial = fs.Bool("no-special", false, "do not add the tokenizer's special tokens (BOS) to the prompt")
		threads   = fs.Int("threads", 0, "worker threads (0: all cores)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *model == "":
		return errors.New("-model DIR is required")
	case set["prompt"] == set["prompt-ids"]:
		return errors.New("give exactly one of -prompt and -prompt-ids")
	case *maxTokens < 0:
		return fmt.Errorf("-max-tokens %d < 0", *maxTokens)
	case *threads < 0:
		return fmt.Errorf("-threads %d < 0", *threads)
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	m, err := hf.Load[float32](*model)
	if err != nil {
		return err
	}
	if m.LM == nil {
		return fmt.Errorf("%s holds a %s model, not a causal language model", *model, m.Config.ModelType)
	}
	c := m.Config

	// Defaults from generation_config.json, then the flags.
	o := hf.GenerateOptions{MaxNewTokens: 64}
	stopIDs := c.EosTokenID
	if g := m.Generation; g != nil {
		if g.DoSample {
			o.Temperature = 1
			if g.Temperature > 0 {
				o.Temperature = g.Temperature
			}
			o.TopK, o.TopP = g.TopK, g.TopP
		}
		o.RepetitionPenalty = g.RepetitionPenalty
		if g.MaxNewTokens > 0 {
			o.MaxNewTokens = g.MaxNewTokens
		}
		if len(g.EosTokenID) > 0 {
			stopIDs = g.EosTokenID
		}
	}
	if set["temperature"] {
		o.Temperature = *temp
	}
	if set["top-k"] {
		o.TopK = *topK
	}
	if set["top-p"] {
		o.TopP = *topP
	}
	if set["repetition-penalty"] {
		o.RepetitionPenalty = *penalty
	}
	if set["max-tokens"] {
		o.MaxNewTokens = *maxTokens
	}
	if set["stop"] {
		if stopIDs, err = parseIDs("-stop", *stop, c.VocabSize); err != nil {
			return err
		}
	}
	o.Stop = stopIDs
	if err := o.Validate(); err != nil {
		return err
	}

	var tok *tokenizer.Tokenizer
	if !*ids || set["prompt"] {
		tp := filepath.Join(*model, "tokenizer.json")
		if tok, err = tokenizer.FromFile(tp); err != nil {
			return fmt.Errorf("%w (use -prompt-ids and -ids for a folder without tokenizer.json)", err)
		}
	}
	var in []int
	if set["prompt"] {
		enc, err := tok.Encode(*prompt, !*noSpecial)
		if err != nil {
			return fmt.Errorf("encoding the prompt: %w", err)
		}
		in = enc.IDs
	} else if in, err = parseIDs("-prompt-ids", *promptIDs, c.VocabSize); err != nil {
		return err
	}
	if len(in) == 0 {
		return errors.New("the prompt is empty (no tokens)")
	}
	for _, id := range in {
		if id < 0 || id >= c.VocabSize {
			return fmt.Errorf("prompt token %d is outside the model's vocabulary [0, %d)", id, c.VocabSize)
		}
	}
	if len(in) > c.MaxPositions {
		return fmt.Errorf("the prompt has %d tokens; the model's context is %d", len(in), c.MaxPositions)
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(*seed, 0x9e3779b97f4a7c15))

	gen := hf.NewGenerator(m.LM, 0)
	var werr error
	var out []int
	printed := ""
	if !*ids {
		// Stream text: decode the whole continuation each time and print
		// what is new (a token can complete a character or a word). A
		// trailing U+FFFD may be half a character that the next byte-level
		// token completes: it is held back until then, or the end.
		o.Stream = func(t int) bool {
			out = append(out, t)
			s, err := tok.Decode(out, true)
			if err != nil {
				werr = err
				return false
			}
			stable := strings.TrimRight(s, "\uFFFD")
			if strings.HasPrefix(stable, printed) {
				_, werr = io.WriteString(stdout, stable[len(printed):])
				printed = stable
			}
			return werr == nil
		}
	}
	res := gen.Generate(nil, in, o, rng)
	if werr != nil {
		return werr
	}
	if !*ids {
		s, err := tok.Decode(out, true)
		if err != nil {
			return err
		}
		if strings.HasPrefix(s, printed) {
			if _, err := io.WriteString(stdout, s[len(printed):]); err != nil {
				return err
			}
		}
	}
	if *ids {
		b, _ := json.Marshal(res)
		_, err := fmt.Fprintln(stdout, string(b))
		return err
	}
	_, err = fmt.Fprintln(stdout)
	return err
}

// parseIDs reads a JSON array of token ids in [0, vocab).
func parseIDs(flagName, s string, vocab int) ([]int, error) {
	var ids []int
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("%s: want a JSON array of token ids: %v", flagName, err)
	}
	for _, id := range ids {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("%s: token %d outside [0, %d)", flagName, id, vocab)
		}
	}
	return ids, nil
}
