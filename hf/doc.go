// Package hf runs Hugging Face models from their folders: config.json,
// model.safetensors (or shards with model.safetensors.index.json),
// generation_config.json and sentence-transformers' pooling files become
// modules under Hugging Face's parameter names and layouts: BertModel with
// mean or CLS pooling, GPT2LMHeadModel, and LlamaForCausalLM with the
// families that share it (Llama 2 and 3, Mistral, Qwen2, SmolLM).
//
// The same modules record on an autograd tape, so they fine-tune with the
// optimisers, and run on a tape in NoGrad mode for inference. Generation
// runs without a tape: a Generator keeps a KV cache and samples (greedy,
// temperature, top-k, top-p, repetition penalty, stop tokens) without
// allocating per token.
//
// # Use
//
//	m, err := hf.Load[float32]("all-MiniLM-L6-v2")  // config.json, model.safetensors, …
//	tp := autograd.NewTape[float32]()
//	tp.NoGrad(true)
//	h := m.Bert.Forward(tp, hf.BertInput{B: 1, T: len(ids), InputIDs: ids})
//	emb := hf.Pool(nil, h.Value(), nil, 1, len(ids), m.Pooling, m.Normalize)
//
//	m, err := hf.Load[float32]("SmolLM-135M")
//	g := hf.NewGenerator(m.LM, 0)
//	out := g.Generate(nil, prompt, hf.GenerateOptions{MaxNewTokens: 64, Stop: m.Config.EosTokenID,
//		SampleOptions: hf.SampleOptions{Temperature: 0.7, TopP: 0.9}}, rng)
//
// Token ids come from package tokenizer (tokenizer.json of the same
// folder); cmd/embed and cmd/generate put the two together.
// NewBatchGenerator continues several prompts of different lengths at once.
// Fine-tuning is the usual loop: m.LM.Logits on a tape, a loss,
// Backward, an optimiser over nn.Parameters(m.LM).
//
// # Layout
//
// Linear weights are [out, in] (torch.nn.Linear), GPT-2's Conv1D weights
// [in, out], embeddings [num, dim], as in the checkpoints: nothing is
// transposed on load. Activations on the tape are [batch·time, width],
// sequence after sequence.
//
// # Bad input
//
// Files are untrusted: Load returns an error wrapping ErrFormat for a
// missing, malformed or inconsistent file and ErrUnsupported for a model or
// a setting that changes the math in a way not implemented, always at load
// time. Calls with impossible arguments (token ids out of range, sizes that
// disagree) panic with a message naming the function and the values.
//
// # Concurrency
//
// A model may be read by several goroutines at once (each with its own
// tape or Generator) while no one updates its weights.
package hf
