package tokenizer

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestByteOffsets checks Encode's UTF-8 byte offsets (the public API)
// against the reference's character offsets mapped to bytes, for the
// fixtures whose post-processor does not trim offsets (trimming counts
// characters after conversion in the reference, so it can land inside a
// multi-byte character in byte mode). Multi-byte text, combining marks,
// emoji and invalid bytes are all in the cases.
func TestByteOffsets(t *testing.T) {
	trims := map[string]bool{"gpt2_small": true, "roberta_small": true}
	files, _ := filepath.Glob("testdata/*.cases.json.gz")
	checked := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".cases.json.gz")
		if name == "gpt2_full" || trims[name] {
			continue
		}
		var ref refFile
		if err := json.Unmarshal(readGz(t, f), &ref); err != nil {
			t.Fatal(err)
		}
		tk := loadFixtureTokenizer(t, ref.Tokenizer)
		for i, c := range ref.Cases {
			if c.Pair != nil {
				continue
			}
			in := c.text(t)
			// starts[k] is the byte offset of character k (an invalid byte
			// is one character), then len(in).
			var starts []int
			for b := 0; b < len(in); {
				starts = append(starts, b)
				_, size := utf8.DecodeRuneInString(in[b:])
				b += size
			}
			starts = append(starts, len(in))
			want := make([][2]int, len(c.Offsets))
			for k, o := range c.Offsets {
				if c.Special != nil && c.Special[k] == 1 {
					continue // added by the post-processor: [0, 0]
				}
				want[k] = [2]int{starts[o[0]], starts[o[1]]}
			}
			e, err := tk.Encode(in, c.AddSpecial)
			if err != nil {
				t.Fatalf("%s case %d: %v", name, i, err)
			}
			if !reflect.DeepEqual(e.Offsets, want) && !(len(want) == 0 && len(e.Offsets) == 0) {
				t.Errorf("%s case %d %q:\n got  %v\n want %v", name, i, in, e.Offsets, want)
			}
			checked++
		}
	}
	t.Logf("%d encodings' byte offsets checked", checked)
}
