// Command embed turns texts into sentence embeddings with a BERT-family
// model folder (sentence-transformers models such as all-MiniLM-L6-v2,
// BGE, E5).
//
//	embed -model DIR 'first text' 'second text'   # one JSON array per text
//	embed -model DIR < lines.txt                  # one text per stdin line
//	embed -model DIR -out emb.npy < lines.txt     # float32 [n, dim] .npy
//
// The folder holds config.json, model.safetensors and tokenizer.json;
// sentence-transformers' modules.json and 1_Pooling/config.json choose
// mean or CLS pooling and normalisation (-pooling and -normalize
// override; without those files: mean pooling, not normalised). Texts
// are truncated to sentence_bert_config.json's max_seq_length, else to the
// model's positions. -ids reads each stdin
// line as a JSON array of token ids instead of text (no tokenizer needed).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/hf"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
	"github.com/adjoint-go/adjoint/tokenizer"
)

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		if !strings.HasPrefix(msg, "embed: ") {
			msg = "embed: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(2)
	}
}

// maxLine bounds one input line (a text or an id array).
const maxLine = 16 << 20

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		model     = fs.String("model", "", "model folder (config.json, model.safetensors, tokenizer.json)")
		out       = fs.String("out", "", "write all embeddings as one float32 [n, dim] .npy file instead of JSON lines")
		pooling   = fs.String("pooling", "", "mean or cls (default: the folder's sentence-transformers pooling, else mean)")
		normalize = fs.Bool("normalize", false, "divide each embedding by its norm (default: as the folder's modules.json says)")
		idsIn     = fs.Bool("ids", false, "read stdin lines as JSON arrays of token ids instead of text")
		batch     = fs.Int("batch", 16, "texts per forward pass")
		threads   = fs.Int("threads", 0, "worker threads (0: all cores)")
		quiet     = fs.Bool("quiet", false, "no progress on stderr")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case *model == "":
		return errors.New("-model DIR is required")
	case *batch < 1:
		return fmt.Errorf("-batch %d < 1", *batch)
	case *threads < 0:
		return fmt.Errorf("-threads %d < 0", *threads)
	case *pooling != "" && *pooling != "mean" && *pooling != "cls":
		return fmt.Errorf("-pooling %q (want mean or cls)", *pooling)
	case *idsIn && fs.NArg() > 0:
		return errors.New("-ids reads token ids from stdin; give no text arguments")
	}
	if *out != "" && filepath.Ext(*out) != ".npy" {
		return fmt.Errorf("-out %q: the file name must end in .npy", *out)
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	m, err := hf.Load[float32](*model)
	if err != nil {
		return err
	}
	if m.Bert == nil {
		return fmt.Errorf("%s holds a %s model, not a BERT-family encoder", *model, m.Config.ModelType)
	}
	m.Bert.PackWeights() // inference only: the weights are packed into GEMM panels once
	c := m.Config
	if *pooling != "" {
		m.Pooling = *pooling
	}
	if set["normalize"] {
		m.Normalize = *normalize
	}
	var tok *tokenizer.Tokenizer
	if !*idsIn {
		if tok, err = tokenizer.FromFile(filepath.Join(*model, "tokenizer.json")); err != nil {
			return fmt.Errorf("%w (use -ids for a folder without tokenizer.json)", err)
		}
		limit := c.MaxPositions
		if m.MaxSeqLength > 0 {
			limit = m.MaxSeqLength // as sentence-transformers truncates
		}
		if tr := tok.Truncation(); tr == nil || tr.MaxLength > limit {
			tok.SetTruncation(&tokenizer.Truncation{MaxLength: limit})
		}
		tok.SetPadding(nil)
	}

	// Inputs: arguments, or stdin lines.
	var inputs []string
	if fs.NArg() > 0 {
		inputs = fs.Args()
	} else {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), maxLine)
		for sc.Scan() {
			inputs = append(inputs, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
	}
	encs := make([]*tokenizer.Encoding, len(inputs))
	for i, s := range inputs {
		if *idsIn {
			var ids []int
			if err := json.Unmarshal([]byte(s), &ids); err != nil {
				return fmt.Errorf("line %d: want a JSON array of token ids: %v", i+1, err)
			}
			if len(ids) == 0 || len(ids) > c.MaxPositions {
				return fmt.Errorf("line %d: %d ids (want 1 to %d)", i+1, len(ids), c.MaxPositions)
			}
			for _, id := range ids {
				if id < 0 || id >= c.VocabSize {
					return fmt.Errorf("line %d: token %d outside [0, %d)", i+1, id, c.VocabSize)
				}
			}
			mask := make([]int, len(ids))
			for k := range mask {
				mask[k] = 1
			}
			encs[i] = &tokenizer.Encoding{IDs: ids, TypeIDs: make([]int, len(ids)), AttentionMask: mask}
			continue
		}
		e, err := tok.Encode(s, true)
		if err != nil {
			return fmt.Errorf("text %d: %w", i+1, err)
		}
		if e.Len() == 0 {
			return fmt.Errorf("text %d encodes to no tokens", i+1)
		}
		for _, id := range e.IDs {
			if id < 0 || id >= c.VocabSize {
				return fmt.Errorf("text %d: the tokenizer gives id %d, outside the model's vocabulary [0, %d)", i+1, id, c.VocabSize)
			}
		}
		for _, id := range e.TypeIDs {
			if id < 0 || id >= c.TypeVocabSize {
				return fmt.Errorf("text %d: the tokenizer gives token type %d, outside [0, %d)", i+1, id, c.TypeVocabSize)
			}
		}
		encs[i] = e
	}

	emb := tensor.New[float32](len(encs), c.HiddenSize)
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	w := bufio.NewWriter(stdout)
	progress := !*quiet && len(encs) > 4**batch
	for lo := 0; lo < len(encs); lo += *batch {
		hi := min(lo+*batch, len(encs))
		in := pad(encs[lo:hi])
		tp.Reset()
		h := m.Bert.Forward(tp, in)
		part := hf.Pool(nil, h.Value(), in.AttentionMask, in.B, in.T, m.Pooling, m.Normalize)
		copy(emb.Data()[lo*c.HiddenSize:], part.Data())
		if *out == "" {
			for r := range hi - lo {
				writeJSONRow(w, part.Data()[r*c.HiddenSize:(r+1)*c.HiddenSize])
			}
		}
		if progress {
			fmt.Fprintf(stderr, "\rembed: %d/%d", hi, len(encs))
		}
	}
	if progress {
		fmt.Fprintln(stderr)
	}
	if *out != "" {
		return tensor.SaveNPY(*out, emb)
	}
	return w.Flush()
}

// pad lays encodings out as one batch padded to the longest (id 0, mask 0).
func pad(encs []*tokenizer.Encoding) hf.BertInput {
	t := 0
	for _, e := range encs {
		t = max(t, len(e.IDs))
	}
	in := hf.BertInput{B: len(encs), T: t, InputIDs: make([]int, len(encs)*t),
		AttentionMask: make([]int, len(encs)*t), TokenTypeIDs: make([]int, len(encs)*t)}
	for i, e := range encs {
		copy(in.InputIDs[i*t:], e.IDs)
		copy(in.TokenTypeIDs[i*t:], e.TypeIDs)
		for k := range e.IDs {
			in.AttentionMask[i*t+k] = 1
			if e.AttentionMask != nil && k < len(e.AttentionMask) {
				in.AttentionMask[i*t+k] = e.AttentionMask[k]
			}
		}
	}
	return in
}

func writeJSONRow(w *bufio.Writer, row []float32) {
	w.WriteByte('[')
	for i, v := range row {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
	}
	w.WriteString("]\n")
}
