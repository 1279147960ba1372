package nn

import (
	"errors"
	"fmt"
	"math"
)

// ErrDiverged is wrapped by CheckLoss's error, and by the panic of
// Generator.Sample, when a model's numbers stopped being finite (a
// learning rate far too large, or a checkpoint of NaNs): a training
// program must stop with an error rather than save, sample from, or report
// such a model.
var ErrDiverged = errors.New("nn: training diverged")

// CheckLoss returns nil if loss is finite, and otherwise an error wrapping
// ErrDiverged that names what the loss is (e.g. "epoch 3 mean loss",
// "validation loss") and its value. Training commands call it on every
// loss they report, so a run that diverged never exits 0.
func CheckLoss(what string, loss float64) error {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("%w: %s %g (try a smaller learning rate)", ErrDiverged, what, loss)
	}
	return nil
}
