package tensor_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/adjoint-go/adjoint/tensor"
)

// Save a tensor as .npy (readable with numpy.load) and load it back.
func ExampleSaveNPY() {
	dir, err := os.MkdirTemp("", "npy-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "w.npy")

	w := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if err := tensor.SaveNPY(path, w); err != nil {
		panic(err)
	}
	back, err := tensor.LoadNPY[float32](path)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Shape(), back.Data())
	// The other width is converted on load.
	back64, err := tensor.LoadNPY[float64](path)
	if err != nil {
		panic(err)
	}
	fmt.Println(back64.At(1, 2))
	// Output:
	// [2 3] [1 2 3 4 5 6]
	// 6
}

// Save several named tensors as one .npz archive (numpy.load gives a dict-like
// NpzFile) and load them back.
func ExampleSaveNPZ() {
	dir, err := os.MkdirTemp("", "npz-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.npz")

	params := map[string]*tensor.Dense[float64]{
		"w": tensor.FromSlice([]float64{0.5, -1, 2, 0}, 2, 2),
		"b": tensor.FromSlice([]float64{0.25, 0.75}, 2),
	}
	if err := tensor.SaveNPZ(path, params); err != nil {
		panic(err)
	}
	back, err := tensor.LoadNPZ[float64](path)
	if err != nil {
		panic(err)
	}
	fmt.Println(back["w"].Shape(), back["w"].Data())
	fmt.Println(back["b"].Shape(), back["b"].Data())
	// Output:
	// [2 2] [0.5 -1 2 0]
	// [2] [0.25 0.75]
}

// Save named tensors as safetensors (the format of
// safetensors.torch.save_file) and load them back; F16 and BF16 files load
// too.
func ExampleSaveSafetensors() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	params := map[string]*tensor.Dense[float32]{
		"fc.weight": tensor.FromSlice([]float32{0.5, -1, 2, 0, 1, 3}, 2, 3),
		"fc.bias":   tensor.FromSlice([]float32{0.25, 0.75}, 2),
	}
	if err := tensor.SaveSafetensors(path, params); err != nil {
		panic(err)
	}
	back, err := tensor.LoadSafetensors[float64](path)
	if err != nil {
		panic(err)
	}
	fmt.Println(back["fc.weight"].Shape(), back["fc.weight"].Data())
	fmt.Println(back["fc.bias"].Shape(), back["fc.bias"].Data())
	// Output:
	// [2 3] [0.5 -1 2 0 1 3]
	// [2] [0.25 0.75]
}
