package gemm

import "github.com/adjoint-go/adjoint/internal/freelist"

// Free lists of call state, pack arenas and batched calls: bounded stacks
// that, unlike a sync.Pool, survive garbage collections (see package
// freelist: a pool refill means allocating and page-faulting megabytes of
// pack buffers in the middle of a training step).
var (
	calls32   freelist.List[*call[float32]]
	calls64   freelist.List[*call[float64]]
	arenas32  freelist.List[*arena[float32]]
	arenas64  freelist.List[*arena[float64]]
	strided32 freelist.List[*stridedCall[float32]]
	strided64 freelist.List[*stridedCall[float64]]
)

func callList[T float32 | float64]() *freelist.List[*call[T]] {
	if l, ok := any(&calls32).(*freelist.List[*call[T]]); ok {
		return l
	}
	return any(&calls64).(*freelist.List[*call[T]])
}

func arenaList[T float32 | float64]() *freelist.List[*arena[T]] {
	if l, ok := any(&arenas32).(*freelist.List[*arena[T]]); ok {
		return l
	}
	return any(&arenas64).(*freelist.List[*arena[T]])
}

func stridedList[T float32 | float64]() *freelist.List[*stridedCall[T]] {
	if l, ok := any(&strided32).(*freelist.List[*stridedCall[T]]); ok {
		return l
	}
	return any(&strided64).(*freelist.List[*stridedCall[T]])
}
