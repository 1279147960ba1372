// Package math32 holds float32 elementary functions that do not round-trip
// through float64.
package math32

import "math"

// TEMPORARY: these delegate to float64 math until the fast versions land.

// Exp returns e**x.
func Exp(x float32) float32 { return float32(math.Exp(float64(x))) }

// Log returns the natural logarithm of x.
func Log(x float32) float32 { return float32(math.Log(float64(x))) }

// Tanh returns the hyperbolic tangent of x.
func Tanh(x float32) float32 { return float32(math.Tanh(float64(x))) }

// Sigmoid returns 1/(1+e**-x).
func Sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
