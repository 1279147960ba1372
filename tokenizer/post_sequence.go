package tokenizer

import (
	"encoding/json"
)

type sequenceProc struct{ list []postProcessor }

func (s *sequenceProc) addedTokens(pair bool) int {
	n := 0
	for _, p := range s.list {
		if p != nil {
			n += p.addedTokens(pair)
		}
	}
	return n
}

// process chains the processors over the separate encodings.
func (s *sequenceProc) process(es []*Encoding, add bool) []*Encoding {
	for _, p := range s.list {
		if p != nil {
			es = p.process(es, add)
		}
	}
	return es
}

func init() {
	registerPostProcessor("Sequence", func(raw json.RawMessage) (postProcessor, error) {
		var j struct {
			List json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		list, err := subComponents("post_processor", j.List, postProcessors)
		if err != nil {
			return nil, err
		}
		return &sequenceProc{list}, nil
	})
}
