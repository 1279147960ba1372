package onnx

import "fmt"

// DepthToSpace and SpaceToDepth: pure index permutations of an NCHW
// tensor, for every element type.

func init() {
	Register("", "DepthToSpace", 1, Latest, func(n *Node) (Kernel, error) { return newSpace(n, true) })
	Register("", "SpaceToDepth", 1, Latest, func(n *Node) (Kernel, error) { return newSpace(n, false) })
}

type spaceKernel struct {
	toSpace bool
	b       int
	crd     bool // DepthToSpace mode CRD (column, row, depth) rather than DCR
}

func newSpace(n *Node, toSpace bool) (Kernel, error) {
	k := &spaceKernel{toSpace: toSpace, b: int(n.Int("blocksize", 0))}
	if k.b < 1 {
		return nil, n.Errorf("blocksize %d < 1", k.b)
	}
	if toSpace {
		switch m := n.String("mode", "DCR"); m {
		case "DCR":
		case "CRD":
			k.crd = true
		default:
			return nil, n.Errorf("mode %q: %w", m, ErrUnsupported)
		}
	}
	return k, n.Err()
}

func (k *spaceKernel) Run(in, out []*Tensor) error {
	x := in[0]
	if x.Rank() != 4 {
		return fmt.Errorf("input shape %v is not N×C×H×W", x.Shape)
	}
	n, c, h, w, b := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], k.b
	var shape []int
	if k.toSpace {
		if c%(b*b) != 0 {
			return fmt.Errorf("channels %d not divisible by blocksize² %d", c, b*b)
		}
		shape = []int{n, c / (b * b), h * b, w * b}
	} else {
		if h%b != 0 || w%b != 0 {
			return fmt.Errorf("height %d and width %d not divisible by blocksize %d", h, w, b)
		}
		shape = []int{n, c * b * b, h / b, w / b}
	}
	out[0].Reset(x.DType, shape)
	// src maps each output element to its input index.
	co, ho, wo := shape[1], shape[2], shape[3]
	src := func(i, oc, oh, ow int) int {
		if k.toSpace {
			bh, bw, ih, iw := oh%b, ow%b, oh/b, ow/b
			ic := (bh*b+bw)*co + oc // DCR
			if k.crd {
				ic = oc*b*b + bh*b + bw
			}
			return ((i*c+ic)*h+ih)*w + iw
		}
		// SpaceToDepth: output channel (bh·b + bw)·C + c.
		blk, ic := oc/c, oc%c
		bh, bw := blk/b, blk%b
		return ((i*c+ic)*h+oh*b+bh)*w + ow*b + bw
	}
	o := 0
	for i := range n {
		for oc := range co {
			for oh := range ho {
				for ow := range wo {
					j := src(i, oc, oh, ow)
					switch x.DType.Storage() {
					case StoreF32:
						out[0].F32[o] = x.F32[j]
					case StoreF64:
						out[0].F64[o] = x.F64[j]
					case StoreI64:
						out[0].I64[o] = x.I64[j]
					case StoreBool:
						out[0].B[o] = x.B[j]
					case StoreStr:
						out[0].S[o] = x.S[j]
					}
					o++
				}
			}
		}
	}
	return nil
}
