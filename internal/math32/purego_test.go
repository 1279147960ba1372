package math32

import (
	"go/build"
	"testing"
)

// TestPuregoHasNoAssembly: with -tags purego (or off amd64) the package must
// build from Go files alone.
func TestPuregoHasNoAssembly(t *testing.T) {
	for _, c := range []struct {
		arch string
		tags []string
	}{{"amd64", []string{"purego"}}, {"arm64", nil}, {"s390x", nil}} {
		ctx := build.Default
		ctx.GOARCH = c.arch
		ctx.BuildTags = c.tags
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkg.SFiles) > 0 {
			t.Errorf("GOARCH=%s tags %v builds assembly %v", c.arch, c.tags, pkg.SFiles)
		}
	}
	ctx := build.Default
	ctx.GOARCH = "amd64"
	pkg, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.SFiles) == 0 {
		t.Error("amd64 without purego builds no assembly")
	}
}
