package math32

import (
	"go/build"
	"testing"
)

// TestPuregoHasNoAssembly: with -tags purego (or off amd64 and arm64) the package must
// build from Go files alone.
func TestPuregoHasNoAssembly(t *testing.T) {
	for _, c := range []struct {
		arch string
		tags []string
	}{{"amd64", []string{"purego"}}, {"arm64", []string{"purego"}}, {"s390x", nil}} {
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
	for _, arch := range []string{"amd64", "arm64"} {
		ctx := build.Default
		ctx.GOARCH = arch
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkg.SFiles) == 0 {
			t.Errorf("%s without purego builds no assembly", arch)
		}
	}
}
