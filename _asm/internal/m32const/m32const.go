// Package m32const holds the constants of internal/math32's vector kernels,
// one table for the amd64 and arm64 generators.
package m32const

import "math"

// Const is one constant, by name, as its 32-bit pattern.
type Const struct {
	Name string
	Bits uint32
}

// Keep in sync with the constants in math32.go (the tests catch drift by
// checking every kernel's accuracy).
var List = []Const{
	{"expMin", f(-104.0)},
	{"expMax", f(89.0)},
	{"log2e", f(1.4426950216293335)},
	{"magic", f(12582912.0)},
	{"ln2Hi", f(0.693145751953125)},
	{"ln2Lo", f(1.428606765330187e-06)},
	{"e0", f(0.4999999403953552)},
	{"e1", f(0.16666515171527863)},
	{"e2", f(0.04166845604777336)},
	{"e3", f(0.008369418792426586)},
	{"e4", f(0.0013813144760206342)},
	{"one", f(1)},
	{"two", f(2)},
	{"zero", 0},
	{"bias", 127},
	{"absMask", 0x7fffffff},
	{"signMask", 0x80000000},
	{"tanhSmall", f(0.625)},
	{"t0", f(-0.33333277702331543)},
	{"t1", f(0.13331303000450134)},
	{"t2", f(-0.05372752994298935)},
	{"t3", f(0.02059786580502987)},
	{"t4", f(-0.005657474510371685)},
	{"minNormal", 0x00800000},
	{"two23", f(8388608)},
	{"minus23", f(-23)},
	{"mantShift", 0x3f800000 - 0x3f3504f3},
	{"mantMask", 0x007fffff},
	{"sqrtHalfBits", 0x3f3504f3},
	{"half", f(0.5)},
	{"l0", f(0.6666679382324219)},
	{"l1", f(0.3997533619403839)},
	{"l2", f(0.2993497848510742)},
	{"inf", 0x7f800000},
	{"negInf", 0xff800000},
	{"nan", 0x7fc00000},
}

// f is the float32 bit pattern of x.
func f(x float64) uint32 { return math.Float32bits(float32(x)) }
