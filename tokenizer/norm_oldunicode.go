package tokenizer

// isUnassignedInOldUnicode reports code points that Go's Unicode tables
// assign but the Rust unicode_categories crate (used by BertNormalizer and
// the BERT pre-tokenizer) still treats as unassigned. Filled from the
// reference by the fixture generator where it found differences.
func isUnassignedInOldUnicode(r rune) bool {
	for _, rg := range oldUnassigned {
		if r < rg[0] {
			return false
		}
		if r <= rg[1] {
			return true
		}
	}
	return false
}

var oldUnassigned = [][2]rune{}
