package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/adjoint-go/adjoint/tokenizer"
)

// A BERT-style WordPiece tokenizer.json (one of the test fixtures, trained
// on this repository's source; gzipped files load as well). The ids,
// offsets and decoded text are the Rust tokenizers library's for the same
// file (TestParity checks them).
func Example() {
	tk, err := tokenizer.FromFile("testdata/bert_uncased.tokenizer.json.gz")
	if err != nil {
		log.Fatal(err)
	}
	e, err := tk.Encode("Hello, world!", true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Tokens)
	fmt.Println(e.Offsets)
	text, _ := tk.Decode(e.IDs, true)
	fmt.Println(text)
	// Output:
	// [[CLS] hello , world ! [SEP]]
	// [[0 0] [0 5] [5 6] [7 12] [12 13] [0 0]]
	// hello, world!
}
