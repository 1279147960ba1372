package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testdata = "../../hf/testdata"

func runCmd(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	return out.String(), errb.String(), err
}

// The fixture of each decoder: prompt and PyTorch's greedy tokens.
func fixture(t *testing.T, name string) (prompt, greedy []int) {
	b, err := os.ReadFile(filepath.Join(testdata, name, "expected.json"))
	require.NoError(t, err)
	var fx struct{ Prompt, Greedy []int }
	require.NoError(t, json.Unmarshal(b, &fx))
	return fx.Prompt, fx.Greedy
}

func TestGreedyIDs(t *testing.T) {
	for _, name := range []string{"gpt2", "llama", "qwen2"} {
		prompt, greedy := fixture(t, name)
		p, _ := json.Marshal(prompt)
		out, _, err := runCmd("-model", filepath.Join(testdata, name), "-prompt-ids", string(p), "-ids",
			"-temperature", "0", "-max-tokens", "32", "-stop", "[]")
		require.NoError(t, err, name)
		var got []int
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		require.Equal(t, greedy, got, name)
	}
}

func TestText(t *testing.T) {
	dir := filepath.Join(testdata, "llama")
	out, _, err := runCmd("-model", dir, "-prompt", "hello world the cat", "-max-tokens", "8", "-seed", "3", "-temperature", "0.8")
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(out))
	again, _, err := runCmd("-model", dir, "-prompt", "hello world the cat", "-max-tokens", "8", "-seed", "3", "-temperature", "0.8")
	require.NoError(t, err)
	require.Equal(t, out, again, "same seed, same text")
}

func TestErrors(t *testing.T) {
	notModel := t.TempDir()
	cases := [][]string{
		{"-prompt", "x"},
		{"-model", notModel, "-prompt", "x"},
		{"-model", filepath.Join(testdata, "bert"), "-prompt", "x"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt", "x"}, // no tokenizer.json
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", "[1, 2, 999]", "-ids"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", "nope", "-ids"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", "[1]", "-ids", "-temperature", "-1"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", "[1]", "-ids", "-top-p", "2"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", "[1]", "-ids", "-max-tokens", "-3"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", "[]", "-ids"},
		{"-model", filepath.Join(testdata, "gpt2"), "-prompt", "a", "-prompt-ids", "[1]"},
	}
	for _, args := range cases {
		_, _, err := runCmd(args...)
		require.Error(t, err, "%q", args)
		require.NotContains(t, err.Error(), "\n", "%q", args)
	}
}

// TestGenerationConfigDefaults: gpt2's folder has no do_sample, so the
// default is greedy; llama's generation_config.json asks for sampling
// (temperature 0.6, top_p 0.9), which -temperature 0 overrides.
func TestGenerationConfigDefaults(t *testing.T) {
	prompt, greedy := fixture(t, "gpt2")
	p, _ := json.Marshal(prompt)
	out, _, err := runCmd("-model", filepath.Join(testdata, "gpt2"), "-prompt-ids", string(p), "-ids", "-max-tokens", "32", "-stop", "[]")
	require.NoError(t, err)
	var got []int
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, greedy, got)

	prompt, greedy = fixture(t, "llama")
	p, _ = json.Marshal(prompt)
	dir := filepath.Join(testdata, "llama")
	seen := map[string]bool{}
	for _, seed := range []string{"1", "2", "3", "4"} {
		out, _, err := runCmd("-model", dir, "-prompt-ids", string(p), "-ids", "-max-tokens", "16", "-stop", "[]", "-seed", seed)
		require.NoError(t, err)
		seen[out] = true
	}
	require.Greater(t, len(seen), 1, "sampling, as generation_config.json asks")
	out, _, err = runCmd("-model", dir, "-prompt-ids", string(p), "-ids", "-max-tokens", "16", "-stop", "[]", "-seed", "1", "-temperature", "0")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, greedy[:16], got)
}
