package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate for a step, counted from 0.
type Schedule interface {
	LR(step int) float64
}

// StepDecay multiplies Base by Gamma once every Every steps:
// lr = Base·Gamma^⌊step/Every⌋.
type StepDecay struct {
	Base  float64
	Every int
	Gamma float64
}

// LR implements Schedule. It panics if Every < 1.
func (s StepDecay) LR(step int) float64 {
	if s.Every < 1 {
		panic(fmt.Errorf("%w: StepDecay: Every %d < 1", ErrConfig, s.Every))
	}
	return s.Base * math.Pow(s.Gamma, float64(step/s.Every))
}

// Cosine warms up linearly from 0 to Base over Warmup steps, then follows
// half a cosine from Base down to Min at step Total, and stays at Min after.
type Cosine struct {
	Base, Min     float64
	Warmup, Total int
}

// LR implements Schedule. It panics if Total < 1 or Warmup is outside
// [0, Total].
func (s Cosine) LR(step int) float64 {
	if s.Total < 1 || s.Warmup < 0 || s.Warmup > s.Total {
		panic(fmt.Errorf("%w: Cosine: Warmup %d, Total %d (need 0 <= Warmup <= Total, Total >= 1)", ErrConfig, s.Warmup, s.Total))
	}
	switch {
	case step < s.Warmup:
		return s.Base * float64(step+1) / float64(s.Warmup)
	case step >= s.Total:
		return s.Min
	}
	frac := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	return s.Min + (s.Base-s.Min)*0.5*(1+math.Cos(math.Pi*frac))
}
