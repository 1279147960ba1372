package nn

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// statLayer is a parameterless layer holding one buffer, for the
// checkpoint tests.
type statLayer struct{ s *tensor.Dense[float32] }

func (l statLayer) Forward(_ *autograd.Tape[float32], x *autograd.Var[float32]) *autograd.Var[float32] {
	return x
}
func (l statLayer) Members(m *Members[float32]) { m.Buffer("stat", l.s) }

// convBlock is a user's container: a conv, a BatchNorm and a Dropout,
// named once. Everything else must derive from that.
type convBlock struct {
	Conv *Conv2d[float32]
	BN   *BatchNorm2d[float32]
	Drop *Dropout[float32]
}

func (b *convBlock) Members(m *Members[float32]) {
	m.Module("conv", b.Conv)
	m.Module("bn", b.BN)
	m.Module("drop", b.Drop)
}

func (b *convBlock) Forward(tp *autograd.Tape[float32], x *autograd.Var[float32]) *autograd.Var[float32] {
	return b.Drop.Forward(tp, b.BN.Forward(tp, b.Conv.Forward(tp, x)))
}

func newConvBlockNet(seed uint64) *Sequential[float32] {
	rng := rand.New(rand.NewPCG(seed, seed))
	blk := &convBlock{
		Conv: NewConv2d[float32](rng, Conv2dConfig{In: 1, Out: 2, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}),
		BN:   NewBatchNorm2d[float32](2),
		Drop: NewDropout[float32](rng, 0.5),
	}
	return NewSequential[float32](blk, Flatten[float32]{}, NewLinear[float32](rng, 2*4*4, 3, KaimingUniform))
}

// TestUserContainer: a user block inside a Sequential gets eval mode and
// its buffers into the state dict (issue 20 item 2).
func TestUserContainer(t *testing.T) {
	m := newConvBlockNet(1)
	var names []string
	for _, p := range NamedParameters(m) {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"0.conv.weight", "0.conv.bias", "0.bn.weight", "0.bn.bias", "2.weight", "2.bias"}, names)
	names = nil
	for _, b := range NamedBuffers(m) {
		names = append(names, b.Name)
	}
	assert.Equal(t, []string{"0.bn.running_mean", "0.bn.running_var", "0.bn.num_batches_tracked"}, names)

	blk := m.Layers[0].(*convBlock)
	require.True(t, blk.Drop.Training())
	Train(m, false)
	require.False(t, blk.Drop.Training())
	require.False(t, blk.BN.Training())

	// In eval mode two passes agree (no dropout) and the statistics stay.
	x := tensor.New[float32](2, 1, 4, 4)
	for i := range x.Data() {
		x.Data()[i] = float32(i%7) - 3
	}
	tp := autograd.NewTape[float32]()
	y1 := m.Forward(tp, tp.Const(x)).Value().Clone()
	y2 := m.Forward(tp, tp.Const(x)).Value()
	assert.Equal(t, y1.Data(), y2.Data())
	assert.Equal(t, []float32{0, 0}, blk.BN.RunningMean.Data())

	// Training updates the statistics; a checkpoint carries them.
	Train(m, true)
	m.Forward(tp, tp.Const(x))
	assert.NotEqual(t, []float32{0, 0}, blk.BN.RunningMean.Data())
	assert.Equal(t, float32(1), blk.BN.NumBatchesTracked.Data()[0])
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, Save(path, m))
	m2 := newConvBlockNet(2)
	_, err := Load(path, m2, true)
	require.NoError(t, err)
	assert.Equal(t, blk.BN.RunningMean.Data(), m2.Layers[0].(*convBlock).BN.RunningMean.Data())
	assert.Equal(t, blk.BN.RunningVar.Data(), m2.Layers[0].(*convBlock).BN.RunningVar.Data())
	assert.Equal(t, float32(1), m2.Layers[0].(*convBlock).BN.NumBatchesTracked.Data()[0])
	Train(m, false)
	Train(m2, false)
	assert.Equal(t, m.Forward(tp, tp.Const(x)).Value().Data(), m2.Forward(tp, tp.Const(x)).Value().Data())

	// Save stores the count as int64 (PyTorch's dtype); a file holding it
	// as a float (SaveState, or what this package wrote before) loads too.
	for _, ext := range []string{".safetensors", ".npz"} {
		p := filepath.Join(t.TempDir(), "m"+ext)
		require.NoError(t, Save(p, m))
		back, err := LoadState[float32](p)
		require.NoError(t, err)
		require.Equal(t, []float32{1}, back["0.bn.num_batches_tracked"].Data(), ext)
		f := filepath.Join(t.TempDir(), "f"+ext)
		require.NoError(t, SaveState(f, StateDict[float32](m)))
		m3 := newConvBlockNet(3)
		_, err = Load(f, m3, true)
		require.NoError(t, err, ext)
		assert.Equal(t, float32(1), m3.Layers[0].(*convBlock).BN.NumBatchesTracked.Data()[0], ext)
	}
	head := func(p string) string {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return string(b[:min(len(b), 4096)])
	}
	require.Contains(t, head(path), `"0.bn.num_batches_tracked":{"dtype":"I64","shape":[]`)
	f := filepath.Join(t.TempDir(), "f.safetensors")
	require.NoError(t, SaveState(f, StateDict[float32](m)))
	require.Contains(t, head(f), `"0.bn.num_batches_tracked":{"dtype":"F32","shape":[]`)

	// A state dict without num_batches_tracked (an older PyTorch file)
	// loads strictly, as into PyTorch's BatchNorm, leaving the count.
	sd := StateDict[float32](m)
	delete(sd, "0.bn.num_batches_tracked")
	rep, err := LoadStateDict[float32](m2, sd, true)
	require.NoError(t, err)
	assert.Empty(t, rep.Missing)
	assert.Equal(t, float32(1), m2.Layers[0].(*convBlock).BN.NumBatchesTracked.Data()[0])
}

func TestSaveLoadBuffers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.npz")
	mk := func(v float32) *Sequential[float32] {
		lin := &Linear[float32]{In: 2, Out: 1,
			Weight: autograd.NewVar(tensor.Full[float32](v, 1, 2), true), Bias: autograd.NewVar(tensor.Full[float32](v, 1), true)}
		return NewSequential[float32](lin, statLayer{tensor.Full[float32](v+1, 3)})
	}
	a, b := mk(1), mk(5)
	require.NoError(t, Save(path, a))
	_, err := Load(path, b, true)
	require.NoError(t, err)
	require.Equal(t, []float32{2, 2, 2}, b.Layers[1].(statLayer).s.Data())
	require.Equal(t, []float32{1, 1}, b.Layers[0].(*Linear[float32]).Weight.Value().Data())

	// A checkpoint without the buffer does not load strictly into the
	// model that has one, and changes nothing; non-strict, it loads the
	// rest and reports the buffer missing.
	require.NoError(t, SaveState(path, State[float32]{"0.weight": tensor.Full[float32](3, 1, 2), "0.bias": tensor.Full[float32](3, 1), "head.weight": tensor.New[float32](2)}))
	c := mk(7)
	_, err = Load(path, c, true)
	require.ErrorIs(t, err, ErrCheckpoint)
	require.Contains(t, err.Error(), `missing keys ["1.stat"]; unexpected keys ["head.weight"]`)
	require.Equal(t, []float32{7, 7}, c.Layers[0].(*Linear[float32]).Weight.Value().Data())
	rep, err := Load(path, c, false)
	require.NoError(t, err)
	require.Equal(t, LoadReport{Missing: []string{"1.stat"}, Unexpected: []string{"head.weight"}}, rep)
	require.Equal(t, []float32{3, 3}, c.Layers[0].(*Linear[float32]).Weight.Value().Data())
	require.Equal(t, []float32{8, 8, 8}, c.Layers[1].(statLayer).s.Data())

	// Two members under one name are a programmer error.
	require.PanicsWithError(t, `nn: invalid argument: StateDict: name "0.stat" used twice`, func() {
		StateDict[float32](NewSequential[float32](dupLayer{}))
	})
}

type dupLayer struct{ statLayer }

func (dupLayer) Members(m *Members[float32]) {
	m.Buffer("stat", tensor.New[float32](1))
	m.Buffer("stat", tensor.New[float32](1))
}

// finetune is a pretrained backbone with a new head, as a user fine-tunes:
// the checkpoint's backbone loads non-strictly, the old head is reported
// unexpected and the new one missing (and left as initialised).
type finetune struct {
	Backbone *Sequential[float32]
	Head     *Linear[float32]
	name     string
}

func (f *finetune) Members(m *Members[float32]) {
	m.Module("backbone", f.Backbone)
	m.Module(f.name, f.Head)
}

func TestNonStrictNewHead(t *testing.T) {
	mk := func(seed uint64, head string, classes int) *finetune {
		rng := rand.New(rand.NewPCG(seed, seed))
		return &finetune{NewMLP[float32](rng, []int{4, 6, 5}, ReLU), NewLinear[float32](rng, 5, classes, KaimingUniform), head}
	}
	pre := mk(1, "head", 10)
	path := filepath.Join(t.TempDir(), "pre.safetensors")
	require.NoError(t, Save(path, pre))

	ft := mk(2, "classifier", 3)
	head := append([]float32(nil), ft.Head.Weight.Value().Data()...)
	_, err := Load(path, ft, true)
	require.ErrorIs(t, err, ErrCheckpoint)
	rep, err := Load(path, ft, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"classifier.bias", "classifier.weight"}, rep.Missing)
	assert.Equal(t, []string{"head.bias", "head.weight"}, rep.Unexpected)
	for i, p := range NamedParameters(pre.Backbone) {
		assert.Equal(t, p.Var.Value().Data(), NamedParameters(ft.Backbone)[i].Var.Value().Data(), p.Name)
	}
	assert.Equal(t, head, ft.Head.Weight.Value().Data())
}
