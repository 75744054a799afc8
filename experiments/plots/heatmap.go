package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Heatmap is a matrix of values over categorical rows and columns (a payoff matrix):
// each cell is coloured on a diverging blue-white-red scale centred on zero (Moreland's
// smooth cool-warm map), symmetric in the largest absolute value, and labelled with its
// value as Format gives it. A NaN value leaves its cell grey and unlabelled.
type Heatmap struct {
	Title  string
	XLabel string
	YLabel string
	// Rows and Cols name the rows (top to bottom) and the columns (left to right).
	Rows, Cols []string
	// Values[i][j] is row i, column j.
	Values [][]float64
	// Format prints a cell's label (default %.3g).
	Format func(float64) string
}

// Plot builds the gonum plot of the figure.
func (f *Heatmap) Plot() (*plot.Plot, error) {
	if len(f.Rows) == 0 || len(f.Cols) == 0 {
		return nil, errors.New("plots: a heatmap needs rows and columns")
	}
	if len(f.Values) != len(f.Rows) {
		return nil, fmt.Errorf("plots: heatmap: %d rows of values for %d row names", len(f.Values), len(f.Rows))
	}
	for i, row := range f.Values {
		if len(row) != len(f.Cols) {
			return nil, fmt.Errorf("plots: heatmap: row %d has %d values for %d columns", i, len(row), len(f.Cols))
		}
	}
	cl := f.cells()
	format := f.Format
	if format == nil {
		format = func(x float64) string { return fmt.Sprintf("%.3g", x) }
	}
	p := newBase(f.Title, f.XLabel, f.YLabel)
	p.Add(cl)
	n := len(f.Rows)
	var labels plotter.XYLabels
	for i, row := range f.Values {
		for j, v := range row {
			if math.IsNaN(v) {
				continue
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
			labels.Labels = append(labels.Labels, format(v))
		}
	}
	if len(labels.Labels) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(8)
			l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		}
		p.Add(l)
	}
	var xt, yt []plot.Tick
	for j, c := range f.Cols {
		xt = append(xt, plot.Tick{Value: float64(j), Label: c})
	}
	for i, r := range f.Rows {
		yt = append(yt, plot.Tick{Value: float64(n - 1 - i), Label: r})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	p.X.Min, p.X.Max = -0.5, float64(len(f.Cols))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	return p, nil
}

// Save writes the figure to path, sized to its number of cells.
func (f *Heatmap) Save(path string) error {
	p, err := f.Plot()
	if err != nil {
		return err
	}
	w := vg.Length(math.Max(5, 1.5+0.75*float64(len(f.Cols)))) * vg.Inch
	h := vg.Length(math.Max(3.2, 1.5+0.35*float64(len(f.Rows)))) * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	p.Draw(draw.New(img))
	return writeTo(path, vgimg.PngCanvas{Canvas: img})
}

// cells returns the heatmap's cells with their colour scale: symmetric in the largest
// finite |value| (1 when there is none).
func (f *Heatmap) cells() *cells {
	scale := 0.0
	for _, row := range f.Values {
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				scale = math.Max(scale, math.Abs(v))
			}
		}
	}
	if scale == 0 {
		scale = 1
	}
	cmap := moreland.SmoothBlueRed()
	cmap.SetMin(-scale)
	cmap.SetMax(scale)
	return &cells{f: f, cmap: cmap, min: -scale, max: scale}
}

// color returns the colour of a cell of value v: grey for NaN, ±Inf at the ends.
func (c *cells) color(v float64) color.Color {
	if math.IsNaN(v) {
		return color.Gray{Y: 200}
	}
	k, err := c.cmap.At(math.Max(c.min, math.Min(c.max, v)))
	if err != nil {
		return color.Gray{Y: 200}
	}
	return k
}

// cells draws a heatmap's coloured cells (unit squares centred on the integer grid).
type cells struct {
	f        *Heatmap
	min, max float64
	cmap     interface {
		At(float64) (color.Color, error)
	}
}

func (c *cells) Plot(dc draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&dc)
	n := len(c.f.Rows)
	for i, row := range c.f.Values {
		for j, v := range row {
			col := c.color(v)
			x0, x1 := float64(j)-0.5, float64(j)+0.5
			y0, y1 := float64(n-1-i)-0.5, float64(n-1-i)+0.5
			pts := []vg.Point{{X: trX(x0), Y: trY(y0)}, {X: trX(x1), Y: trY(y0)}, {X: trX(x1), Y: trY(y1)}, {X: trX(x0), Y: trY(y1)}}
			dc.FillPolygon(col, dc.ClipPolygonXY(pts))
		}
	}
}

func (c *cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(c.f.Cols)) - 0.5, -0.5, float64(len(c.f.Rows)) - 0.5
}

var _ Figure = (*Heatmap)(nil)
