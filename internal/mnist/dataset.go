package mnist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The standard MNIST file names, without the optional ".gz".
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
)

// Dataset is a set of images with their labels, held as the raw bytes of
// the IDX files: image i is Images[i*Rows*Cols : (i+1)*Rows*Cols], pixel
// values 0 (background) to 255, and its label is Labels[i].
type Dataset struct {
	Images     []byte
	Labels     []byte
	N          int // number of images
	Rows, Cols int // image size (28x28 for MNIST)
}

// Pixels returns the number of pixels per image.
func (d Dataset) Pixels() int { return d.Rows * d.Cols }

// Image returns the pixels of image i (a view, not a copy). It panics if i
// is out of range.
func (d Dataset) Image(i int) []byte {
	if i < 0 || i >= d.N {
		panic(fmt.Sprintf("mnist: Dataset.Image: index %d out of range [0, %d)", i, d.N))
	}
	p := d.Pixels()
	return d.Images[i*p : (i+1)*p : (i+1)*p]
}

// Head returns the first n images (views, not copies), or all of them if n
// is larger than the set or negative.
func (d Dataset) Head(n int) Dataset {
	if n < 0 || n > d.N {
		n = d.N
	}
	d.Images = d.Images[:n*d.Pixels()]
	d.Labels = d.Labels[:n]
	d.N = n
	return d
}

// Gather writes the images idx[0], idx[1], ... as consecutive rows of x,
// each pixel scaled from 0..255 to [0, 1], and their labels into labels.
// It panics if x is shorter than len(idx)·Pixels(), labels is shorter than
// len(idx), or an index is out of range.
func Gather[T ~float32 | ~float64](d Dataset, idx []int, x []T, labels []int) {
	p := d.Pixels()
	if len(x) < len(idx)*p || len(labels) < len(idx) {
		panic(fmt.Sprintf("mnist: Gather: %d images of %d pixels need len(x) >= %d and len(labels) >= %d, have %d and %d",
			len(idx), p, len(idx)*p, len(idx), len(x), len(labels)))
	}
	// Each pixel value's scaled form, computed as the loop computed it: a
	// table lookup instead of a conversion and a multiply per pixel, the
	// same values. BenchmarkGather (128 images), old and new alternated x3:
	// 42.6-52.4 -> 32.8-35.1 µs a batch.
	const scale = 1.0 / 255
	var lut [256]T
	for v := range lut {
		lut[v] = T(float32(v) * scale)
	}
	for r, i := range idx {
		img := d.Image(i)
		row := x[r*p : (r+1)*p]
		row = row[:len(img)]
		for j, v := range img {
			row[j] = lut[v]
		}
		labels[r] = int(d.Labels[i])
	}
}

// ReadSet reads an image file and its label file and checks that they hold
// the same number of items.
func ReadSet(imagesPath, labelsPath string) (Dataset, error) {
	px, n, rows, cols, err := ReadImages(imagesPath)
	if err != nil {
		return Dataset{}, err
	}
	lb, err := ReadLabels(labelsPath)
	if err != nil {
		return Dataset{}, err
	}
	if len(lb) != n {
		return Dataset{}, fmt.Errorf("%w: %s holds %d images but %s holds %d labels", ErrFormat, imagesPath, n, labelsPath, len(lb))
	}
	return Dataset{Images: px, Labels: lb, N: n, Rows: rows, Cols: cols}, nil
}

// Load reads the four standard MNIST files from dir. Each may be stored
// gzip-compressed with a ".gz" suffix or raw without it.
func Load(dir string) (train, test Dataset, err error) {
	var paths [4]string
	for i, name := range []string{TrainImages, TrainLabels, TestImages, TestLabels} {
		if paths[i], err = findFile(dir, name); err != nil {
			return Dataset{}, Dataset{}, err
		}
	}
	// The two sets decompress in parallel: gunzip is most of the time.
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = ReadSet(paths[2], paths[3])
	}()
	train, err = ReadSet(paths[0], paths[1])
	<-done
	if err == nil {
		err = testErr
	}
	if err != nil {
		return Dataset{}, Dataset{}, err
	}
	if train.Rows != test.Rows || train.Cols != test.Cols {
		return Dataset{}, Dataset{}, fmt.Errorf("%w: %s has %dx%d images but %s has %dx%d",
			ErrFormat, paths[0], train.Rows, train.Cols, paths[2], test.Rows, test.Cols)
	}
	return train, test, nil
}

// findFile returns dir/name.gz or dir/name, whichever exists (the .gz first).
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: neither %s.gz nor %s in %s", ErrNotFound, name, name, dir)
}
