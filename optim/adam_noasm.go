//go:build !amd64 || !gc || purego

package optim

// Without assembly no vector kernel is usable.
var (
	hasAVX512 bool
	hasAVX2   bool
)

const errNoAsm = "optim: assembly kernel called on a build without it"

func adamAVX512(n int, p, grad, m, v *float32, s *float32) { panic(errNoAsm) }
func adamAVX2(n int, p, grad, m, v *float32, s *float32)   { panic(errNoAsm) }
