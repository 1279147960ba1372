package onnx

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// mnv2Conv is one of MobileNetV2's convolution shapes (batch 1, square
// planes, Clip(0, 6) fused as the exporter's graph has it): c input and m
// output channels, a k×k window at stride s with padding k/2.
type mnv2Conv struct{ c, m, hw, k, s, group int }

// BenchmarkConvMobileNetV2 times MobileNetV2's convolution shapes one by
// one, at the threads set (ADJOINT_NUM_THREADS): the depthwise 3×3 layers,
// the first 3×3 stride-2 layer and the 1×1 layers of smallest depth,
// where docs/onnx-vs-ort.md compares each with ONNX Runtime's profile;
// the depthwise ones by the blocked path (nn_dwc8.go) and the per-channel one.
func BenchmarkConvMobileNetV2(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	shapes := []mnv2Conv{
		{3, 32, 224, 3, 2, 1},
		{32, 32, 112, 3, 1, 32}, {96, 96, 112, 3, 2, 96}, {144, 144, 56, 3, 1, 144}, {144, 144, 56, 3, 2, 144},
		{192, 192, 28, 3, 1, 192}, {192, 192, 28, 3, 2, 192}, {384, 384, 14, 3, 1, 384},
		{576, 576, 14, 3, 1, 576}, {576, 576, 14, 3, 2, 576}, {960, 960, 7, 3, 1, 960},
		{16, 96, 112, 1, 1, 1}, {24, 144, 56, 1, 1, 1}, {32, 16, 112, 1, 1, 1}, {96, 24, 56, 1, 1, 1},
		{32, 192, 28, 1, 1, 1}, {960, 320, 7, 1, 1, 1}, {160, 960, 7, 1, 1, 1},
	}
	for _, s := range shapes {
		x, w, bias := randTensor(r, 1, s.c, s.hw, s.hw), randTensor(r, s.m, s.c/s.group, s.k, s.k), randTensor(r, s.m)
		p, st := int64(s.k/2), int64(s.s)
		impls := []string{""}
		if s.group > 1 {
			impls = []string{"/impl=c8", "/impl=perchannel"}
		}
		for _, impl := range impls {
			b.Run(fmt.Sprintf("c=%d/m=%d/hw=%d/k=%d/s=%d/g=%d%s", s.c, s.m, s.hw, s.k, s.s, s.group, impl), func(b *testing.B) {
				defer func(o bool) { dwC8Off = o }(dwC8Off)
				dwC8Off = impl == "/impl=perchannel"
				node := &Node{OpType: "Conv", Opset: 13, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
					Attrs: []*Attribute{intsAttr("pads", p, p, p, p), intsAttr("strides", st, st), {Name: "group", Type: AttrInt, I: int64(s.group)}}}
				node.graph = &Graph{consts: map[string]*Tensor{"w": w}}
				kk, err := newConv(node)
				if err != nil {
					b.Fatal(err)
				}
				k := kk.(*convKernel)
				k.act = act{kind: actClip, lo: 0, hi: 6}
				k.pack = &packedW{} // W is a constant, as markConstW finds it
				in, out := []*Tensor{x, w, bias}, []*Tensor{{}}
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := k.Run(in, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/op")
			})
		}
	}
}
