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
// Offsets are UTF-8 byte ranges of the input, as the Rust library's
// encode (the Python and Node bindings convert them to characters).
// Bytes that are not valid UTF-8 are treated as U+FFFD, one per byte, each
// covering its byte.
//
// Supported: models BPE (byte fallback, both merge formats, ignore_merges,
// continuing_subword_prefix, end_of_word_suffix, unk fusing), WordPiece,
// Unigram, WordLevel; normalizers BertNormalizer, NFC, NFD, NFKC, NFKD,
// Lowercase, StripAccents, Strip, Prepend, Replace, Nmt, Precompiled
// (SentencePiece's precompiled_charsmap, as T5, ALBERT, XLM-RoBERTa and
// mBART carry it, looked up one extended grapheme cluster of Unicode 16.0
// at a time as the Rust library does), Sequence;
// pre-tokenizers ByteLevel (GPT-2's split rule by a hand-written scanner),
// BertPreTokenizer, Metaspace, Whitespace, WhitespaceSplit, Split,
// Punctuation, Digits, CharDelimiterSplit, Sequence; post-processors
// TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel,
// Sequence; decoders ByteLevel, WordPiece, Metaspace, BPEDecoder,
// ByteFallback, Fuse, Strip, Replace, CTC, Sequence; added tokens with
// single_word, lstrip, rstrip, normalized and special; truncation and
// padding from the file or the setters. Split and Replace regexes run on
// Go's regexp after rewriting \s to Unicode white space and GPT-2's
// `\s+(?!\S)|\s+` to an equivalent; other look-around is rejected at load.
//
// # Reference
//
// testdata/gen.js builds tokenizer.json files of every model type with the
// Rust library (npm @anush008/tokenizers) and records its encodings of a
// mixed corpus (adversarial Unicode, this repository's Go source) and of
// the whole source tree (as hashes); the tests compare ids, tokens,
// offsets, masks, type ids and decoded text exactly. GPT-2's full
// vocabulary is checked against both that library and tiktoken.
// testdata/gen_precompiled.js does the same for the Precompiled normalizer
// with SentencePiece's nmt_nfkc charsmap and a hand-built edge-case one.
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
