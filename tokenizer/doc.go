// Package tokenizer turns text into token ids and back exactly as Hugging
// Face's tokenizers library does, from the same tokenizer.json file.
//
// # Layout
//
// Encoding runs the library's pipeline: added tokens are split off the raw
// text, the rest is normalised (normalizer), cut into words
// (pre-tokenizer), each word becomes tokens (model: BPE, WordPiece,
// Unigram, WordLevel), and the post-processor adds special tokens
// ([CLS] ... [SEP], <s> ... </s>) and type ids; truncation and padding come
// last. Decoding maps ids to token strings and runs the decoder. Each
// component is a small type in its own file, registered under its JSON
// "type"; a file naming a type this package lacks is a load error naming
// it (ErrUnsupported).
//
// Offsets are UTF-8 byte ranges of the input. Bytes that are not valid
// UTF-8 are treated as U+FFFD, one per byte, each covering its byte.
//
// # Bad input
//
// Files are untrusted: a malformed or inconsistent tokenizer.json is an
// error (wrapping ErrFormat), never a panic; ids a file claims are checked
// against the number of tokens it actually lists before anything is sized
// from them. Setting invalid truncation or padding values is a programmer
// error and panics with a message naming the setter and the value.
//
// # Concurrency
//
// A loaded Tokenizer may encode and decode from many goroutines at once.
// SetTruncation and SetPadding must not run concurrently with encoding.
package tokenizer
