package autograd

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/tensor"
)

// TestResetDropsNodeRefs: after Reset no pooled node refers to a Var or a
// tensor of the step (so leaves and buffers are not kept alive through the
// pools), except Reshape's view cache, which is kept on purpose; and the
// next identical step reuses the same nodes.
func TestResetDropsNodeRefs(t *testing.T) {
	tp := NewTape[float64]()
	r := rand.New(rand.NewPCG(1, 2))
	x := NewVar(randT(r, -1, 1, 2, 3, 4), true)
	w := NewVar(randT(r, -1, 1, 4, 4), true)
	step := func() {
		tp.Reset()
		h := tp.Linear(tp.Reshape(x, 6, 4), w, nil)
		h = tp.LayerNormShape(tp.Reshape(h, 2, 3, 4), []int{3, 4}, nil, nil, 1e-5)
		h = tp.Concat(0, tp.GeluErf(h), tp.Tanh(h))
		l := tp.CrossEntropyWith(tp.Reshape(h, 12, 4), []int{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, CrossEntropyOptions{LabelSmoothing: 0.1})
		l = tp.Add(l, tp.Sum(tp.Apply(mulAdd[float64]{}, h, h)))
		require.NoError(t, tp.Backward(l))
	}
	step()
	first := nodeAddrs(tp)
	step()
	require.Equal(t, first, nodeAddrs(tp), "an identical step reuses the same nodes")
	tp.Reset()
	for _, p := range tp.pools {
		if p == nil {
			continue
		}
		nodes := reflect.ValueOf(p).Elem().FieldByName("nodes")
		for i := range nodes.Len() {
			n := nodes.Index(i).Elem()
			for f := range n.NumField() {
				name := n.Type().Field(f).Name
				if n.Type().Name() == "reshapeNode[float64]" && (name == "view" || name == "viewSrc") {
					continue
				}
				requireNoRefs(t, n.Type().String()+"."+name, n.Field(f))
			}
		}
	}
}

func nodeAddrs(tp *Tape[float64]) []uintptr {
	var a []uintptr
	for _, p := range tp.pools {
		if p == nil {
			continue
		}
		nodes := reflect.ValueOf(p).Elem().FieldByName("nodes")
		for i := range nodes.Len() {
			a = append(a, nodes.Index(i).Pointer())
		}
	}
	return a
}

// requireNoRefs requires v to hold no pointer to a Var or tensor: nil
// pointers and interfaces, and slices whose visible elements are none.
func requireNoRefs(t *testing.T, what string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Func:
		require.True(t, v.IsNil(), "%s still set after Reset", what)
	case reflect.Slice:
		require.Zero(t, v.Len(), "%s has %d elements after Reset", what, v.Len())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[tensor.Conv2D]() {
			return
		}
		for f := range v.NumField() {
			requireNoRefs(t, what+"."+v.Type().Field(f).Name, v.Field(f))
		}
	}
}
