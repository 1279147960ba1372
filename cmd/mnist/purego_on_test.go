//go:build purego

package main

// puregoBuild: GEMM runs its generic Go kernel, several times slower, and
// the full-size CNN runs would take minutes; the default build runs them.
const puregoBuild = true
