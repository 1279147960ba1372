package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/nn"
)

// Token ids are []int: Lookup records the rows of the table at those ids,
// and the gradient reaches only those rows (twice for a repeated id).
func ExampleEmbedding_Lookup() {
	e := nn.NewEmbedding[float32](rand.New(rand.NewPCG(1, 2)), 4, 2, 1)
	copy(e.Weight.Value().Data(), []float32{0, 1, 10, 11, 20, 21, 30, 31})
	tp := autograd.NewTape[float32]()
	rows := e.Lookup(tp, []int{3, 0, 3})
	fmt.Println(rows.Shape(), rows.Value().Data())
	if err := tp.Backward(tp.Sum(rows)); err != nil {
		panic(err)
	}
	fmt.Println(e.Weight.Grad().Data())
	// Output:
	// [3 2] [30 31 0 1 30 31]
	// [1 1 0 0 0 0 2 2]
}
