package gemm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/adjoint-go/adjoint/internal/dispatch"
	"github.com/adjoint-go/adjoint/internal/testenv"
)

// TestEnvKernel re-runs the test binary with ADJOINT_KERNEL set and checks
// the kernel chosen at start-up, and the one-line warning for a kernel that
// is unknown or unavailable.
func TestEnvKernel(t *testing.T) {
	if os.Getenv("ADJOINT_KERNEL_CHILD") != "" {
		fmt.Printf("kernel=%s\n", Kernel())
		return
	}
	if testing.Short() {
		t.Skip("spawns the test binary")
	}
	testenv.MustHaveExec(t)
	run := func(val string) (stdout, stderr string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvKernel$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ADJOINT_KERNEL_CHILD=1", EnvKernel+"="+val)
		var so, se strings.Builder
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Skipf("cannot re-run the test binary here (emulated?): %v", err)
		}
		require.NoError(t, err, "stderr: %s", se.String())
		return so.String(), se.String()
	}
	best := kernels[bestKernel()].name
	for _, name := range Kernels() {
		out, errOut := run(name)
		require.Contains(t, out, "kernel="+name+"\n")
		require.Empty(t, errOut)
	}
	for _, bad := range []string{"sse9", "avx2", "avx512"} {
		if bad != "sse9" && strings.Contains(strings.Join(Kernels(), ","), bad) {
			continue
		}
		out, errOut := run(bad)
		require.Contains(t, out, "kernel="+best+"\n", "falls back to the best kernel")
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one warning line: %q", errOut)
		require.Contains(t, errOut, EnvKernel)
	}
}

// TestModel checks the block sizes are usable for every kernel shape and for
// cache geometries from tiny to huge, including the defaults used when cpuid
// reports nothing.
func TestModel(t *testing.T) {
	geoms := []cacheGeom{
		{l1: defL1, l2: defL2, l3: defL3, w1: 8, w2: 8, w3: 16, line: 64},
		{l1: 16 << 10, l2: 128 << 10, l3: 1 << 20, w1: 4, w2: 4, w3: 8, line: 64},
		{l1: 48 << 10, l2: 2 << 20, l3: 256 << 20, w1: 12, w2: 16, w3: 16, line: 64},
		hostCaches(),
	}
	tiles := [][3]int{{mrS512, nrS512, 4}, {mrD512, nrD512, 8}, {mrS256, nrS256, 4}, {mrD256, nrD256, 8}, {mrGenS, nrGenS, 4}, {mrGenD, nrGenD, 8}}
	for _, g := range geoms {
		for _, tl := range tiles {
			bl := model(g, tl[0], tl[1], tl[2])
			name := fmt.Sprintf("%+v/tile=%dx%d/size=%d", g, tl[0], tl[1], tl[2])
			require.GreaterOrEqual(t, bl.kc, kcMin, name)
			require.Positive(t, bl.mc, name)
			require.Zero(t, bl.mc%tl[0], name)
			require.Positive(t, bl.nc, name)
			require.Zero(t, bl.nc%tl[1], name)
			require.LessOrEqual(t, bl.nc, maxNC, name)
		}
	}
	// The tables in use match the tiles the kernels compute.
	require.Equal(t, mrS512, blocks[kernAVX512][0].mr)
	require.Equal(t, nrD512, blocks[kernAVX512][1].nr)
	require.Equal(t, mrS256, blocks[kernAVX2][0].mr)
	require.Equal(t, nrGenD, blocks[kernGeneric][1].nr)
}

// TestKernelTable checks the kernel table's entries against each other and
// against what the rest of the module calls the same kernels.
func TestKernelTable(t *testing.T) {
	for id, kd := range kernels {
		require.Equal(t, dispatch.Level(id).String(), kd.name, "kernel ids are dispatch levels")
		require.Positive(t, kd.parMinFlops, kd.name)
		require.Positive(t, kd.smallMax, kd.name)
		if kd.rowOffsets {
			require.Positive(t, kd.directBRows[0], "%s: row-offset kernels share the in-place cut-off", kd.name)
		}
		for ti, tl := range kd.tile {
			bl := blocks[id][ti]
			require.Equal(t, [2]int{tl.mr, tl.nr}, [2]int{bl.mr, bl.nr}, kd.name)
			require.Equal(t, tl.mrEdge, bl.mrEdge, kd.name)
			require.Equal(t, tl.nrEdge, bl.nrEdge, kd.name)
			for i, e := range tl.mrEdge {
				require.True(t, e == 0 || e < tl.mr && (i == 0 || e > tl.mrEdge[i-1]), "%s: mrEdge %v", kd.name, tl.mrEdge)
			}
			for i, e := range tl.nrEdge {
				require.True(t, e == 0 || e < tl.nr && (i == 0 || e > tl.nrEdge[i-1]), "%s: nrEdge %v", kd.name, tl.nrEdge)
			}
		}
	}
}
