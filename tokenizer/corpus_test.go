package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestCorpus encodes the repository's Go source with every fixture
// tokenizer and compares a hash of the ids and character offsets with the
// Rust library's (testdata/corpus.hashes.json.gz, made by gen.js). Files
// changed since the fixtures were made are skipped; -short checks the
// first 4 files.
func TestCorpus(t *testing.T) {
	var ref struct {
		Files []struct {
			Path string `json:"path"`
			SHA  string `json:"sha"`
		} `json:"files"`
		Tokenizers map[string][]string `json:"tokenizers"`
	}
	if err := json.Unmarshal(readGz(t, filepath.Join("testdata", "corpus.hashes.json.gz")), &ref); err != nil {
		t.Fatal(err)
	}
	sha := func(b []byte) string {
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:16])
	}
	short := func(b []byte) string { return sha(b)[:16] }
	var texts []string
	var idx []int
	bytes := 0
	for i, f := range ref.Files {
		if testing.Short() && len(texts) == 4 {
			break
		}
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(f.Path)))
		if err != nil || sha(b) != f.SHA {
			continue
		}
		texts = append(texts, string(b))
		idx = append(idx, i)
		bytes += len(b)
	}
	if len(texts) == 0 {
		t.Skip("none of the corpus files is unchanged")
	}
	for name, hashes := range ref.Tokenizers {
		t.Run(name, func(t *testing.T) {
			var tk *Tokenizer
			if name == "gpt2_full" {
				tk = loadGPT2(t)
			} else {
				tk = loadFixtureTokenizer(t, name+".tokenizer.json.gz")
			}
			pass := 0
			for k, s := range texts {
				e, err := tk.encodeChars(s, true)
				if err != nil {
					t.Fatalf("%s: %v", ref.Files[idx[k]].Path, err)
				}
				b := []byte("[[")
				for i, id := range e.IDs {
					if i > 0 {
						b = append(b, ',')
					}
					b = strconv.AppendInt(b, int64(id), 10)
				}
				b = append(b, "],["...)
				for i, o := range e.Offsets {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, '[')
					b = strconv.AppendInt(b, int64(o[0]), 10)
					b = append(b, ',')
					b = strconv.AppendInt(b, int64(o[1]), 10)
					b = append(b, ']')
				}
				b = append(b, "]]"...)
				if short(b) != hashes[idx[k]] {
					t.Errorf("%s: ids or offsets differ from the reference", ref.Files[idx[k]].Path)
					continue
				}
				pass++
			}
			t.Logf("corpus parity %s: %d/%d files (%d bytes; %d of %d files unchanged since the fixtures)", name, pass, len(texts), bytes, len(texts), len(ref.Files))
		})
	}
}
