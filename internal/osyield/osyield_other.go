//go:build !linux

package osyield

// Supported reports whether Yield gives the CPU to the operating system.
const Supported = false

func yield() {}
