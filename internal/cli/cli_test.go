package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	var out bytes.Buffer
	fs := NewFlagSet("prog", "Does a thing.", &out)
	n := fs.Int("n", 3, "how many")

	require.NoError(t, Parse(fs, []string{"-n", "5"}))
	assert.Equal(t, 5, *n)

	fs = NewFlagSet("prog", "Does a thing.", &out)
	fs.Int("n", 3, "how many")
	err := Parse(fs, []string{"-n", "5", "extra"})
	require.EqualError(t, err, `unexpected arguments ["extra"]`)

	out.Reset()
	fs = NewFlagSet("prog", "Does a thing.", &out)
	fs.Int("n", 3, "how many")
	err = Parse(fs, []string{"-help"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "usage: prog [flags]\n\nDoes a thing.\n\n")
	assert.Contains(t, out.String(), "how many")

	out.Reset()
	fs = NewFlagSet("prog", "Does a thing.", &out)
	fs.Int("n", 3, "how many")
	assert.Error(t, Parse(fs, []string{"-n", "x"}))
	assert.Contains(t, out.String(), `invalid value "x" for flag -n`)
}

func TestIsTerminalAndBar(t *testing.T) {
	var b bytes.Buffer
	assert.False(t, IsTerminal(&b))
	assert.Nil(t, NewBar(&b, 10, "it", ""))
	f, err := os.CreateTemp(t.TempDir(), "x")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f), "a regular file is not a terminal")
}

func TestStartCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	stop, err := StartCPUProfile(path)
	require.NoError(t, err)
	stop()
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Positive(t, st.Size(), "a stopped profile has at least its header")

	_, err = StartCPUProfile(filepath.Join(t.TempDir(), "missing", "cpu.prof"))
	assert.Error(t, err)

	stop, err = StartCPUProfile("")
	require.NoError(t, err)
	stop()
}
