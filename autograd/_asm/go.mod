module github.com/adjoint-go/adjoint/autograd/_asm

go 1.26.0

replace github.com/adjoint-go/adjoint => ../..

require github.com/mmcloughlin/avo v0.6.0

require (
	github.com/adjoint-go/adjoint v0.0.0-00010101000000-000000000000 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
