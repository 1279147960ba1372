package tensor

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLargeLogitsRows checks LogSoftmax, Softmax and LogSumExpAxis on the
// large logits of issue 9 item 7 against PyTorch 1.13's values, printed by
// /usr/bin/python3 with
//
//	z = torch.tensor([[1e8, 1e8 - 1]], dtype=torch.float64)
//	print(torch.log_softmax(z, 1).tolist(), torch.softmax(z, 1).tolist(),
//	      repr(torch.logsumexp(z, 1).item()))
//
// and the same for [1e8, 1e8] and in float32 (where 1e8 − 1 rounds to
// 1e8; .tolist() widens float32 to float64, so those are compared as
// float32).
func TestLargeLogitsRows(t *testing.T) {
	type row struct {
		z                   []float64
		logSoftmax, softmax []float64
		lse                 float64
	}
	r64 := []row{
		{[]float64{1e8, 1e8}, []float64{-0.6931471805599453, -0.6931471805599453}, []float64{0.5, 0.5}, 100000000.69314718},
		{[]float64{1e8, 1e8 - 1}, []float64{-0.31326168751822286, -1.3132616875182228}, []float64{0.7310585786300049, 0.26894142136999516}, 100000000.31326169},
	}
	for _, c := range r64 {
		z := FromSlice(append([]float64(nil), c.z...), 1, 2)
		for j, v := range LogSoftmax(z, 1).Data() {
			assert.InEpsilon(t, c.logSoftmax[j], v, 1e-15, "float64 log-softmax %v", c.z)
		}
		for j, v := range Softmax(z, 1).Data() {
			assert.InEpsilon(t, c.softmax[j], v, 1e-15, "float64 softmax %v", c.z)
		}
		assert.InEpsilon(t, c.lse, LogSumExpAxis(z, 1, false).Data()[0], 1e-15, "float64 logsumexp %v", c.z)
	}
	z := FromSlice([]float32{1e8, 1e8}, 1, 2)
	for _, v := range LogSoftmax(z, 1).Data() {
		assert.Equal(t, float32(-0.6931471824645996), v, "float32 log-softmax")
	}
	for _, v := range Softmax(z, 1).Data() {
		assert.Equal(t, float32(0.5), v, "float32 softmax")
	}
	assert.Equal(t, float32(100000000.0), LogSumExpAxis(z, 1, false).Data()[0], "float32 logsumexp")
	// Strided rows (axis 0) take the other code path.
	zt := FromSlice([]float64{1e8, 0, 1e8 - 1, 0}, 2, 2)
	assert.InEpsilon(t, -1.3132616875182228, LogSoftmax(zt, 0).At(1, 0), 1e-15)
	assert.InEpsilon(t, 0.26894142136999516, Softmax(zt, 0).At(1, 0), 1e-15)
}
