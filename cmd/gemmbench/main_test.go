package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/bench"
)

func TestInts(t *testing.T) {
	xs, err := ints("64, 128,2048")
	require.NoError(t, err)
	assert.Equal(t, []int{64, 128, 2048}, xs)
	for _, bad := range []string{"", "a", "0", "-4", "64,,128"} {
		_, err := ints(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// The FMA loops run (n = 0 must return at once) and report a positive
// figure; the exact peak is the machine's business.
func TestPeakLoops(t *testing.T) {
	for _, l := range peakLoops() {
		l.run(0)
		l.run(3)
		assert.Greater(t, l.measure(1, 2, time.Millisecond), 0.0, l.name)
	}
}

// A small end-to-end run: every implementation timed on two sizes, a table
// with one row per type, shape and thread count and one column per
// implementation, and a PNG that decodes.
func TestSmallRun(t *testing.T) {
	cfg := config{sizes: []int{16, 32}, threads: []int{1, 2}, impls: bench.Impls(),
		minTime: time.Millisecond, batches: 2, maxCall: time.Second}
	pk := measurePeaks(cfg.threads, 2, time.Millisecond)
	res := run(cfg)
	var buf bytes.Buffer
	report(&buf, cfg, pk, res, time.Second, "0.5", "1.0")
	out := buf.String()
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| f32 |") || strings.HasPrefix(line, "| f64 |") {
			rows++
			assert.Equal(t, len(cfg.impls)+6, strings.Count(line, "|"), line)
		}
	}
	assert.Equal(t, 2*2*2, rows, out)
	for _, im := range cfg.impls {
		assert.Contains(t, out, " "+im.Name+" ")
	}

	path := filepath.Join(t.TempDir(), "g.png")
	require.NoError(t, writePlot(path, cfg, pk, res))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 100)
}

// The child process's results come back unchanged, shape by shape.
func TestEmitParse(t *testing.T) {
	cfg := config{sizes: []int{16, 32}, extra: true}
	shapes := cfg.shapes()
	want := []result{{false, shapes[1], "openblas", 2, 123.5}, {true, shapes[len(shapes)-1], "openblas", 4, 0.25}}
	var buf bytes.Buffer
	emitResults(&buf, cfg, want)
	got, err := parseResults(buf.Bytes(), shapes)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = parseResults([]byte("f32 99 openblas 2 1\n"), shapes)
	assert.Error(t, err, "shape index out of range")
}
