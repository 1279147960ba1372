//go:build !linux

package onnx

import "time"

// cpuTime is 0 where the benchmarks do not read the CPU time.
func cpuTime() time.Duration { return 0 }
