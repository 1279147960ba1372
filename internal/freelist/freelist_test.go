package freelist

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLIFOAndBound(t *testing.T) {
	l := List[*int]{Max: 2}
	assert.Nil(t, l.Get(), "empty list")
	a, b, c := new(int), new(int), new(int)
	l.Put(a)
	l.Put(b)
	l.Put(c) // over Max: dropped
	assert.Same(t, b, l.Get())
	assert.Same(t, a, l.Get())
	assert.Nil(t, l.Get())
}

func TestDefaultMax(t *testing.T) {
	var l List[*int]
	for range DefaultMax() + 3 {
		l.Put(new(int))
	}
	n := 0
	for l.Get() != nil {
		n++
	}
	assert.Equal(t, DefaultMax(), n)
}

// What sync.Pool cannot do: objects survive garbage collections, so a warm
// get/put cycle allocates nothing even with GCs in between.
func TestSurvivesGC(t *testing.T) {
	var l List[*[64]byte]
	x := new([64]byte)
	l.Put(x)
	allocs := testing.AllocsPerRun(10, func() {
		runtime.GC()
		runtime.GC()
		y := l.Get()
		if y == nil {
			y = new([64]byte)
		}
		l.Put(y)
	})
	require.Zero(t, allocs)
	assert.Same(t, x, l.Get())
}

// As a drop-in for a sync.Pool: interface values, nil when empty, and no
// allocation to box a pointer.
func TestAny(t *testing.T) {
	var l List[any]
	assert.Nil(t, l.Get())
	x := new(float64)
	l.Put(x)
	got, ok := l.Get().(*float64)
	require.True(t, ok)
	assert.Same(t, x, got)
	_, ok = l.Get().(*float64)
	assert.False(t, ok, "empty again")
}
