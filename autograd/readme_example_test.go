package autograd_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/tensor"
)

// The usage example of README.md; TestReadmeExample keeps the two identical.
func Example_readme() {
	// Tensors: views share storage; a transposed view reaches GEMM as a flag.
	a := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	g := tensor.MatMul(a, a.T()) // a·aᵀ without copying aᵀ
	fmt.Println(g)

	// Autograd: f(x, y) = x²·y, so ∂f/∂x = 2xy and ∂f/∂y = x².
	x := autograd.NewVar(tensor.FromSlice([]float64{3}), true)
	y := autograd.NewVar(tensor.FromSlice([]float64{2}), true)
	tp := autograd.NewTape[float64]()
	f := tp.Mul(tp.Square(x), y)
	if err := tp.Backward(f); err != nil {
		panic(err)
	}
	fmt.Println(f.Value().Data()[0], x.Grad().Data()[0], y.Grad().Data()[0])
	// Output:
	// [[14 32]
	//  [32 77]]
	// 18 12 9
}

// TestReadmeExample checks that the body of main in README.md's usage
// example is the body of Example_readme, so the README's code compiles and
// prints what this example asserts.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := func(s, start string) string {
		i := strings.Index(s, start)
		if i < 0 {
			t.Fatalf("%q not found", start)
		}
		s = s[i+len(start):]
		j := strings.Index(s, "\n}\n")
		if j < 0 {
			t.Fatalf("no end of function after %q", start)
		}
		s = s[:j]
		if k := strings.Index(s, "\t// Output:"); k >= 0 {
			s = s[:k]
		}
		return strings.TrimSpace(s)
	}
	want := body(string(src), "func Example_readme() {")
	got := body(string(readme), "func main() {")
	if got != want {
		t.Errorf("README.md's example differs from Example_readme:\nREADME:\n%s\n\nexample:\n%s", got, want)
	}
}
