package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the model reader: it must return a
// model or an error, never panic or allocate out of proportion to the input
// (the fuzzer's memory limit catches that). Seeds: crafted models and, when
// installed, a few conformance models.
func FuzzParse(f *testing.F) {
	f.Add([]byte(modelPB(13, graphPB([]pb{nodePB("Neg", []string{"x"}, []string{"y"})}))))
	f.Add([]byte(modelPB(13, graphPB([]pb{nodePB("Add", []string{"x", "w"}, []string{"y"})},
		pb(nil).msg(5, floatTensorPB("w", []int64{2}, []float32{1, 2}))))))
	for _, c := range []string{"test_add_bcast", "test_if", "test_loop11", "test_gather_0", "test_reshape_reduced_dims"} {
		if b, err := os.ReadFile(filepath.Join(conformanceDir, c, "model.onnx")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Only decoding and compiling: running a loaded model may
		// legitimately take unbounded time (a Loop's trip count is data).
		m, err := Parse(b, "")
		if err == nil && m.Graph == nil {
			t.Fatal("model without a graph")
		}
	})
}

func FuzzParseTensor(f *testing.F) {
	f.Add([]byte(floatTensorPB("w", []int64{2}, []float32{1, 2})))
	f.Add([]byte(pb(nil).varint(1, 2).varint(2, int64(Float16)).msg(9, pb{0, 0x3c, 0, 0xc0})))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, _, err := ParseTensor(b)
		if err == nil && x.Size() > len(b)*8+1 {
			t.Fatalf("tensor of %d elements from %d bytes", x.Size(), len(b))
		}
	})
}
