package dispatch_test

import (
	"fmt"

	"github.com/adjoint-go/adjoint/internal/dispatch"
)

// A package with AVX2 and NEON code keeps its level in a package variable
// that its loops read, and registers it from an init function.
func ExampleRegister() {
	var level dispatch.Level // read by the package's hot loops

	chosen := dispatch.Register("example",
		func() dispatch.Level { return level },
		func(l dispatch.Level) { level = l },
		dispatch.AVX2, dispatch.NEON)
	fmt.Println(chosen == level, chosen == dispatch.Choose(dispatch.AVX2, dispatch.NEON))

	// A test forces each level the package can run here.
	for _, l := range dispatch.Available("example") {
		if err := dispatch.Set("example", l); err != nil {
			panic(err)
		}
	}
	fmt.Println(dispatch.Set("example", dispatch.Generic), level)
	// Output:
	// true true
	// <nil> generic
}
