package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/adjoint-go/adjoint/parallel"
)

// TestOpTimes times every node of a model at one and two threads, in
// place in the run (each step is rerun, alternating thread counts, once
// its inputs are ready), and prints them by op type and shape: the data
// for the parallel cut-offs in docs/onnx-vs-ort.md. A tool, not a check:
//
//	ADJOINT_ONNX_OPTIMES=resnet18,mobilenet_v2 ADJOINT_ONNX_MODELS=DIR go test -run TestOpTimes -v ./onnx/
//
// (each model's DIR/NAME.in.*.npy gives its inputs).
func TestOpTimes(t *testing.T) {
	names, dir := os.Getenv("ADJOINT_ONNX_OPTIMES"), os.Getenv("ADJOINT_ONNX_MODELS")
	if names == "" || dir == "" {
		t.Skip("ADJOINT_ONNX_OPTIMES and ADJOINT_ONNX_MODELS not set")
	}
	for _, name := range strings.Split(names, ",") {
		m, err := Load(filepath.Join(dir, name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		p := m.Graph.plan
		rs := p.newState()
		for i, in := range m.Graph.Inputs {
			files, _ := filepath.Glob(filepath.Join(dir, name+".in.*.npy"))
			for _, f := range files {
				if strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), name+".in."), ".npy") == npySafe.ReplaceAllString(in.Name, "_") {
					x, err := readNpyTensor(f)
					if err != nil {
						t.Fatal(err)
					}
					rs.vals[p.inputs[i]] = x
				}
			}
		}
		for _, c := range p.consts {
			rs.vals[c.slot] = c.t
		}
		type row struct {
			key    string
			t1, t2 time.Duration
			count  int
		}
		rows := map[string]*row{}
		var tot1, tot2 time.Duration
		for i := range p.steps {
			st := &p.steps[i]
			in := rs.ins[i]
			for j, s := range st.in {
				if s >= 0 {
					in[j] = rs.vals[s]
				}
			}
			out := rs.outs[i]
			if err := runKernel(st.node.kernel, in, out); err != nil {
				t.Fatal(err)
			}
			best := [3]time.Duration{}
			for rep := range 24 {
				th := 1 + rep%2
				prev := parallel.SetThreads(th)
				t0 := time.Now()
				_ = runKernel(st.node.kernel, in, out)
				d := time.Since(t0)
				parallel.SetThreads(prev)
				if best[th] == 0 || d < best[th] {
					best[th] = d
				}
			}
			for j, o := range out {
				o.normalize()
				rs.vals[st.out[j]] = o
			}
			var sh []string
			for _, x := range in {
				if x != nil && x.Rank() > 0 {
					sh = append(sh, fmt.Sprint(x.Shape))
				}
			}
			extra := ""
			if k, ok := st.node.kernel.(*convKernel); ok {
				extra = fmt.Sprintf(" group=%d act=%d", k.group, k.act.kind)
			}
			key := fmt.Sprintf("%s%s %s", st.node.OpType, extra, strings.Join(sh, " "))
			r := rows[key]
			if r == nil {
				r = &row{key: key}
				rows[key] = r
			}
			r.t1 += best[1]
			r.t2 += best[2]
			r.count++
			tot1 += best[1]
			tot2 += best[2]
		}
		var list []*row
		for _, r := range rows {
			list = append(list, r)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].t1 > list[j].t1 })
		t.Logf("%s: sum of steps %v at 1 thread, %v at 2", name, tot1, tot2)
		for _, r := range list {
			flag := ""
			if r.t2 > r.t1 {
				flag = "  SLOWER AT 2"
			}
			t.Logf("%8.1f µs %8.1f µs  ×%d  %s%s", float64(r.t1.Nanoseconds())/1e3, float64(r.t2.Nanoseconds())/1e3, r.count, r.key, flag)
		}
	}
}
