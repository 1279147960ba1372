package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseString(t *testing.T) {
	for l := range numLevels {
		got, err := Parse(l.String())
		require.NoError(t, err)
		require.Equal(t, l, got)
	}
	_, err := Parse("sse9")
	require.ErrorContains(t, err, `"sse9"`)
	require.Equal(t, "Level(9)", Level(9).String())
}

func TestLevels(t *testing.T) {
	ls := Levels()
	require.Equal(t, Generic, ls[0], "generic is always supported")
	for _, l := range ls {
		require.True(t, Supported(l))
	}
	require.False(t, Supported(numLevels))
	require.True(t, Supported(requested), "the requested level is one this CPU runs")
}

// withRequested runs f as if ADJOINT_KERNEL had asked for l.
func withRequested(t *testing.T, l Level, f func()) {
	prev := requested
	defer func() { requested = prev }()
	requested = l
	f()
}

func TestChoose(t *testing.T) {
	require.Equal(t, Generic, Choose(), "a package without assembly")
	for _, req := range Levels() {
		withRequested(t, req, func() {
			for _, impls := range [][]Level{{AVX2}, {AVX2, AVX512}, {AVX512}, {NEON}, {AVX2, AVX512, NEON}} {
				got := Choose(impls...)
				require.True(t, Supported(got))
				require.LessOrEqual(t, got, req, "never above the requested level")
				if got != Generic {
					require.Contains(t, impls, got)
				}
				// The best such level.
				for _, l := range impls {
					if Supported(l) && l <= req {
						require.GreaterOrEqual(t, got, l)
					}
				}
			}
			require.Equal(t, Generic, Choose(numLevels), "an unknown level is never chosen")
		})
	}
	withRequested(t, Generic, func() {
		require.Equal(t, Generic, Choose(AVX2, AVX512, NEON))
	})
}

// TestRegistry registers a fake package and forces each of its levels.
func TestRegistry(t *testing.T) {
	const pkg = "internal/dispatch/fake"
	var cur Level = 99
	got := Register(pkg, func() Level { return cur }, func(l Level) { cur = l }, AVX2, AVX512, NEON)
	t.Cleanup(func() {
		mu.Lock()
		delete(registry, pkg)
		mu.Unlock()
	})
	require.Equal(t, Choose(AVX2, AVX512, NEON), got)
	require.Equal(t, got, cur, "Register sets the package's level")
	require.Equal(t, got, Current(pkg))
	require.Contains(t, Packages(), pkg)
	require.Equal(t, Levels(), Available(pkg), "the fake package has code for every level")
	for _, l := range Available(pkg) {
		require.NoError(t, Set(pkg, l))
		require.Equal(t, l, Current(pkg))
	}
	before := Current(pkg)
	for l := range numLevels + 1 {
		if !Supported(l) {
			require.Error(t, Set(pkg, l))
			require.Equal(t, before, Current(pkg), "a failed Set changes nothing")
		}
	}
	require.PanicsWithValue(t, "dispatch: Register: package "+pkg+" registered twice", func() {
		Register(pkg, func() Level { return Generic }, func(Level) {})
	})
	require.Panics(t, func() { Current("no/such/package") })
}
