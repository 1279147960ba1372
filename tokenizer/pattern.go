package tokenizer

import (
	"encoding/json"
	"fmt"
)

// parsePattern reads {"String": s} or {"Regex": r}.
func parsePattern(raw json.RawMessage) (pattern, error) {
	var p struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return pattern{}, err
	}
	switch {
	case p.String != nil:
		return pattern{lit: *p.String}, nil
	case p.Regex != nil:
		re, err := compileRegex(*p.Regex)
		if err != nil {
			return pattern{}, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return pattern{isRegex: true, re: re}, nil
	}
	return pattern{}, fmt.Errorf("pattern is neither String nor Regex")
}
