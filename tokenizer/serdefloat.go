package tokenizer

import (
	"fmt"
	"math"
	"strconv"
)

// serdeFloat parses a JSON number the way serde_json does without its
// float_roundtrip feature (as the Rust tokenizers library is built): the
// decimal digits are gathered into a uint64 (digits past its range are
// dropped), converted to float64, then multiplied or divided by a power of
// ten. That is not always the correctly rounded value strconv gives; the
// last-bit differences decide ties between Unigram segmentations, so the
// scores must be read the same way.
func serdeFloat(s string) (float64, error) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i >= len(s) || s[i] < '0' || s[i] > '9' {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	var sig uint64
	exp := 0
	over := func(d uint64) bool {
		return sig >= math.MaxUint64/10 && (sig > math.MaxUint64/10 || d > math.MaxUint64%10)
	}
	// Integer part.
	intOverflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if intOverflow || over(d) {
			// serde_json switches to parse_long_integer: further digits
			// only scale by ten.
			intOverflow = true
			exp++
			continue
		}
		sig = sig*10 + d
	}
	if intOverflow {
		// parse_long_integer: significand * 10^exp, fraction digits ignored.
		for i < len(s) && s[i] != 'e' && s[i] != 'E' {
			i++
		}
	} else if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		overflowed := false
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			d := uint64(s[i] - '0')
			if overflowed || over(d) {
				overflowed = true
				continue
			}
			sig = sig*10 + d
			exp--
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		e := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if e < 100000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(s) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	f := float64(sig)
	for {
		a := exp
		if a < 0 {
			a = -a
		}
		if a <= 308 {
			p := pow10[a]
			if exp >= 0 {
				f *= p
				if math.IsInf(f, 0) {
					return 0, fmt.Errorf("number %q out of range", s)
				}
			} else {
				f /= p
			}
			break
		}
		if f == 0 {
			break
		}
		if exp >= 0 {
			return 0, fmt.Errorf("number %q out of range", s)
		}
		f /= 1e308
		exp += 308
	}
	if neg {
		f = -f
	}
	return f, nil
}

// pow10[i] is 1e{i} as the float64 literal (correctly rounded), as
// serde_json's table.
var pow10 = func() [309]float64 {
	var t [309]float64
	for i := range t {
		var err error
		t[i], err = parseFloatExact(i)
		if err != nil {
			panic(err)
		}
	}
	return t
}()

func parseFloatExact(e int) (float64, error) {
	return strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
}
