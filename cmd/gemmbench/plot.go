package main

import (
	"fmt"
	"image/color"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writePlot draws GFLOP/s against square size, one line per implementation,
// one panel per element type (columns) and thread count (rows), with the
// measured FMA peak as a dashed line, and writes it as PNG.
func writePlot(path string, cfg config, pk peaks, res []result) error {
	rows := len(cfg.threads)
	grid := make([][]*plot.Plot, rows)
	var ticks []plot.Tick
	for _, n := range cfg.sizes {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
	}
	for i, th := range cfg.threads {
		for _, double := range []bool{false, true} {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s GEMM, %d thread(s) — %s", map[bool]string{false: "float32", true: "float64"}[double], th, cpuName())
			p.X.Label.Text = "n (n×n·n×n, NN)"
			p.Y.Label.Text = "GFLOP/s"
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
			p.Y.Min = 0
			p.Legend.Top = true
			p.Legend.Left = true
			p.Add(plotter.NewGrid())
			for j, im := range cfg.impls {
				var xys plotter.XYs
				for _, r := range res {
					if r.double == double && r.threads == th && r.impl == im.Name && r.shape.Note == "" && r.shape.M == r.shape.N && r.shape.N == r.shape.K {
						xys = append(xys, plotter.XY{X: float64(r.shape.M), Y: r.gflops})
					}
				}
				if len(xys) == 0 {
					continue
				}
				l, s, err := plotter.NewLinePoints(xys)
				if err != nil {
					return err
				}
				c := implColor(im.Name, j)
				l.Color, s.Color = c, c
				l.Width = vg.Points(2)
				s.Shape = plotutil.Shape(j)
				p.Add(l, s)
				p.Legend.Add(im.Name, l, s)
			}
			if peak := pk.best[peakKey{double, th}]; peak > 0 {
				f := plotter.NewFunction(func(float64) float64 { return peak })
				f.Color = color.Gray{Y: 80}
				f.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
				p.Add(f)
				p.Legend.Add(fmt.Sprintf("FMA peak %.0f (measured, %s)", peak, pk.which[peakKey{double, th}]), f)
				p.Y.Max = peak * 1.4 // room for the legend above the lines
			}
			if len(cfg.sizes) > 0 {
				p.X.Min, p.X.Max = float64(cfg.sizes[0])/1.15, float64(cfg.sizes[len(cfg.sizes)-1])*1.15
			}
			grid[i] = append(grid[i], p)
		}
	}
	w, h := vg.Points(1300), vg.Points(float64(480*rows))
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j := range grid[i] {
			grid[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// implColor gives each implementation the same colour in every panel and
// every run.
func implColor(name string, i int) color.Color {
	switch name {
	case "naive":
		return color.RGBA{150, 150, 150, 255}
	case "generic":
		return color.RGBA{80, 170, 80, 255}
	case "avx2":
		return color.RGBA{60, 120, 210, 255}
	case "avx512":
		return color.RGBA{230, 120, 30, 255}
	case "gonum":
		return color.RGBA{150, 70, 170, 255}
	case "openblas":
		return color.RGBA{20, 20, 20, 255}
	}
	return plotutil.Color(i)
}
