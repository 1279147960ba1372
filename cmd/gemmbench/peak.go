package main

import (
	"runtime"
	"sync"
	"time"
)

// peakLoop is one assembly loop of independent FMAs.
type peakLoop struct {
	name         string // vector width, e.g. "avx512 zmm"
	double       bool
	flopsPerIter float64
	run          func(n int)
}

// measure returns the loop's throughput in GFLOP/s with threads copies
// running at once, each on its own OS thread: the best of reps timings of
// about d each (the best, because other processes can only slow it down).
func (l peakLoop) measure(threads, reps int, d time.Duration) float64 {
	// Calibrate iterations for about d on one thread.
	n := 1 << 12
	for {
		t := time.Now()
		l.run(n)
		if el := time.Since(t); el > d/8 {
			n = int(float64(n) * float64(d) / float64(el))
			break
		}
		n *= 4
	}
	best := 0.0
	for range reps {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				<-start
				l.run(n)
			}()
		}
		t := time.Now()
		close(start)
		wg.Wait()
		el := time.Since(t).Seconds()
		best = max(best, float64(threads)*float64(n)*l.flopsPerIter/el/1e9)
	}
	return best
}

// peaks holds the measured FMA peak per element type and thread count, and
// the loop that reached it.
type peaks struct {
	best  map[peakKey]float64
	which map[peakKey]string
	all   map[peakKey]map[string]float64 // every loop, for the header
}

type peakKey struct {
	double  bool
	threads int
}

// measurePeaks times every loop on each thread count. For T > 1 threads the
// figure kept is the higher of the T concurrent copies measured and T times
// the one-thread figure: the cores do not share FMA units, and on a loaded
// machine T copies seldom get T cores at once for a whole timing.
func measurePeaks(threads []int, reps int, d time.Duration) peaks {
	p := peaks{best: map[peakKey]float64{}, which: map[peakKey]string{}, all: map[peakKey]map[string]float64{}}
	for _, l := range peakLoops() {
		for _, th := range threads {
			k := peakKey{l.double, th}
			g := l.measure(th, reps, d)
			if th > 1 {
				g = max(g, float64(th)*l.measure(1, reps, d))
			}
			if p.all[k] == nil {
				p.all[k] = map[string]float64{}
			}
			p.all[k][l.name] = g
			if g > p.best[k] {
				p.best[k], p.which[k] = g, l.name
			}
		}
	}
	return p
}

// merge keeps, for every loop and key, the higher of p's and q's figures.
func (p peaks) merge(q peaks) {
	for k, m := range q.all {
		if p.all[k] == nil {
			p.all[k] = map[string]float64{}
		}
		for name, g := range m {
			p.all[k][name] = max(p.all[k][name], g)
			if g > p.best[k] {
				p.best[k], p.which[k] = g, name
			}
		}
	}
}
