package mathx

// Sum returns the sum of s in eight interleaved partial sums, combined
// pairwise: eight independent chains of additions rather than one, whose
// latency would bound the loop, and less rounding error than one running
// sum. tensor's reductions and the ONNX runtime's global average pool add
// unit-stride runs with it, so the two round alike.
func Sum[T Float](s []T) T {
	var a0, a1, a2, a3, a4, a5, a6, a7 T
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8 : i+8]
		a0 += w[0]
		a1 += w[1]
		a2 += w[2]
		a3 += w[3]
		a4 += w[4]
		a5 += w[5]
		a6 += w[6]
		a7 += w[7]
	}
	for ; i < len(s); i++ {
		a0 += s[i]
	}
	return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
}
