package tensor

// Item returns the one element of a tensor holding exactly one (a scalar,
// or any shape of size 1), as PyTorch's tensor.item(): loss.Value().Item().
// It panics (ErrShape) for a nil tensor or any other size.
func (t *Dense[T]) Item() T {
	notNil("Item", "t", t)
	if n := t.Size(); n != 1 {
		fail(ErrShape, "Item: shape %v holds %d elements, not 1", t.shape, n)
	}
	return t.data[t.offset] // every index is 0
}
