//go:build !amd64 || !gc || purego

package main

// peakLoops: without the amd64 assembly there is no vector FMA loop to time,
// and the table shows no percentage.
func peakLoops() []peakLoop { return nil }
