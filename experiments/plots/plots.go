package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named line: Y values, one per x (or timestamp).
type Series struct {
	// Name is the legend entry; a figure with one unnamed series has no legend.
	Name string
	Y    []float64
}

// TimeSeries is a line plot against calendar time.
type TimeSeries struct {
	Title string
	// YLabel should carry the unit, e.g. "price (USD)" or "base fee (gwei)".
	YLabel string
	// XLabel defaults to "time (UTC), <year or years>".
	XLabel string
	// Times are the x values, in increasing order, shared by every series.
	Times  []time.Time
	Series []Series
	// LogY draws the y axis on a log scale (every value must then be positive).
	LogY bool
	// ZeroLine draws a thin horizontal line at y = 0 when 0 is inside the range.
	ZeroLine bool
	// MaxPoints bounds the points drawn per series (default 4000): longer series are
	// decimated to each bucket's minimum and maximum.
	MaxPoints int
}

// XY is a line plot against a numeric x axis.
type XY struct {
	Title  string
	XLabel string // with unit
	YLabel string // with unit
	X      []float64
	Series []Series
	LogY   bool
	// XTicks, when set, replaces the automatic x ticks (value -> label).
	XTicks []plot.Tick
}

// Size is the default figure size: 8 x 4.5 inches (1200 x 675 pixels at 150 dpi).
var Size = struct{ W, H vg.Length }{8 * vg.Inch, 4.5 * vg.Inch}

// Plot builds the gonum plot of a time series figure.
func (ts *TimeSeries) Plot() (*plot.Plot, error) {
	if len(ts.Times) < 2 {
		return nil, errors.New("plots: a time series needs at least two timestamps")
	}
	for i := 1; i < len(ts.Times); i++ {
		if ts.Times[i].Before(ts.Times[i-1]) {
			return nil, fmt.Errorf("plots: timestamps not in order at index %d", i)
		}
	}
	x := make([]float64, len(ts.Times))
	for i, t := range ts.Times {
		x[i] = float64(t.UnixNano()) / 1e9
	}
	xl := ts.XLabel
	if xl == "" {
		y0, y1 := ts.Times[0].UTC().Year(), ts.Times[len(ts.Times)-1].UTC().Year()
		xl = fmt.Sprintf("time (UTC), %d", y0)
		if y1 != y0 {
			xl = fmt.Sprintf("time (UTC), %d-%d", y0, y1)
		}
	}
	p, err := newPlot(ts.Title, xl, ts.YLabel, x, ts.Series, ts.LogY, ts.maxPoints())
	if err != nil {
		return nil, err
	}
	p.X.Tick.Marker = CalendarTicks{}
	if ts.ZeroLine && p.Y.Min < 0 && p.Y.Max > 0 {
		z, _ := plotter.NewLine(plotter.XYs{{X: x[0], Y: 0}, {X: x[len(x)-1], Y: 0}})
		z.Color = color.Gray{Y: 120}
		z.Width = vg.Points(0.5)
		p.Add(z)
	}
	return p, nil
}

func (ts *TimeSeries) maxPoints() int {
	if ts.MaxPoints > 0 {
		return ts.MaxPoints
	}
	return 4000
}

// Save writes the figure to path; the format follows the extension (.png, .svg, .pdf).
func (ts *TimeSeries) Save(path string) error {
	p, err := ts.Plot()
	if err != nil {
		return err
	}
	return save(p, path)
}

// Plot builds the gonum plot of an x-y figure.
func (xy *XY) Plot() (*plot.Plot, error) {
	if len(xy.X) < 2 {
		return nil, errors.New("plots: an x-y plot needs at least two points")
	}
	p, err := newPlot(xy.Title, xy.XLabel, xy.YLabel, xy.X, xy.Series, xy.LogY, 0)
	if err != nil {
		return nil, err
	}
	p.X.Tick.Marker = NiceTicks{}
	if xy.XTicks != nil {
		p.X.Tick.Marker = plot.ConstantTicks(xy.XTicks)
	}
	return p, nil
}

// Save writes the figure to path; the format follows the extension.
func (xy *XY) Save(path string) error {
	p, err := xy.Plot()
	if err != nil {
		return err
	}
	return save(p, path)
}

// DPI is the resolution of PNG output.
const DPI = 150

func save(p *plot.Plot, path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		img := vgimg.NewWith(vgimg.UseWH(Size.W, Size.H), vgimg.UseDPI(DPI))
		p.Draw(draw.New(img))
		return writeTo(path, vgimg.PngCanvas{Canvas: img})
	case ".svg", ".pdf":
		if err := p.Save(Size.W, Size.H, path); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		return nil
	}
	return fmt.Errorf("plots: %s: unsupported image format (use .png, .svg or .pdf)", path)
}

func writeTo(path string, w io.WriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

func newPlot(title, xlabel, ylabel string, x []float64, series []Series, logY bool, maxPoints int) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, errors.New("plots: no series")
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Marker = NiceTicks{}
	p.Add(plotter.NewGrid())
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	legend := len(series) > 1 || series[0].Name != ""
	for i, s := range series {
		if len(s.Y) != len(x) {
			return nil, fmt.Errorf("plots: series %q has %d values for %d x values", s.Name, len(s.Y), len(x))
		}
		xys := decimate(x, s.Y, maxPoints)
		if logY {
			for _, pt := range xys {
				if !(pt.Y > 0) {
					return nil, fmt.Errorf("plots: series %q has a non-positive value %g on a log axis", s.Name, pt.Y)
				}
			}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		l.Color = Palette[i%len(Palette)]
		l.Width = vg.Points(1)
		if i >= len(Palette) { // colours repeat: vary the dashes
			l.Dashes = plotutil.Dashes(i / len(Palette))
		}
		p.Add(l)
		if legend {
			p.Legend.Add(s.Name, l)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.Padding = vg.Points(1)
	if legend && !logY && len(series) > 1 {
		// Leave room above the data for the legend (about 6% of the height an entry).
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.07 * float64(len(series))
	}
	return p, nil
}

// Palette is the line colours, in order (Tableau 10), chosen to stay distinct for ten
// series; further series repeat them dashed.
var Palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // pink
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // olive
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
}

// decimate returns the points of (x, y), reduced when there are more than max*2: the
// range is cut into max buckets and each keeps its minimum and maximum in time order.
// Non-finite y values are dropped.
func decimate(x, y []float64, max int) plotter.XYs {
	n := len(x)
	if max <= 0 || n <= 2*max {
		out := make(plotter.XYs, 0, n)
		for i := range x {
			if !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) {
				out = append(out, plotter.XY{X: x[i], Y: y[i]})
			}
		}
		return out
	}
	out := make(plotter.XYs, 0, 2*max)
	for b := 0; b < max; b++ {
		lo, hi := b*n/max, (b+1)*n/max
		imin, imax := -1, -1
		for i := lo; i < hi; i++ {
			if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
				continue
			}
			if imin < 0 || y[i] < y[imin] {
				imin = i
			}
			if imax < 0 || y[i] > y[imax] {
				imax = i
			}
		}
		if imin < 0 {
			continue
		}
		a, c := min(imin, imax), max2(imin, imax)
		out = append(out, plotter.XY{X: x[a], Y: y[a]})
		if c != a {
			out = append(out, plotter.XY{X: x[c], Y: y[c]})
		}
	}
	return out
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// CalendarTicks is a plot.Ticker for an axis of Unix seconds (UTC): it puts labelled
// ticks on calendar boundaries (hours, midnights, Mondays, first days of months or
// years) at a step that gives about 4 to 10 labels, formatted for the span shown.
type CalendarTicks struct{}

type calStep struct {
	d      time.Duration // fixed steps
	months int           // or calendar months
	major  string        // label layout
	minor  time.Duration // unlabelled ticks between (0: none)
}

var calSteps = []calStep{
	{d: time.Hour, major: "Jan 2 15:04", minor: 15 * time.Minute},
	{d: 3 * time.Hour, major: "Jan 2 15:04", minor: time.Hour},
	{d: 6 * time.Hour, major: "Jan 2 15:04", minor: time.Hour},
	{d: 12 * time.Hour, major: "Jan 2 15:04", minor: 3 * time.Hour},
	{d: 24 * time.Hour, major: "Mon Jan 2", minor: 6 * time.Hour},
	{d: 2 * 24 * time.Hour, major: "Jan 2", minor: 24 * time.Hour},
	{d: 7 * 24 * time.Hour, major: "Jan 2", minor: 24 * time.Hour},
	{d: 14 * 24 * time.Hour, major: "Jan 2", minor: 7 * 24 * time.Hour},
	{months: 1, major: "Jan 2006"},
	{months: 2, major: "Jan 2006"},
	{months: 3, major: "Jan 2006"},
	{months: 6, major: "Jan 2006"},
	{months: 12, major: "2006"},
	{months: 24, major: "2006"},
	{months: 60, major: "2006"},
}

// Ticks implements plot.Ticker.
func (CalendarTicks) Ticks(min, max float64) []plot.Tick {
	t0 := time.Unix(0, int64(min*1e9)).UTC()
	t1 := time.Unix(0, int64(max*1e9)).UTC()
	span := t1.Sub(t0)
	step := calSteps[len(calSteps)-1]
	for _, s := range calSteps {
		approx := s.d
		if s.months > 0 {
			approx = time.Duration(s.months) * 30 * 24 * time.Hour
		}
		if span/approx <= 9 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	if step.months > 0 {
		y, m, _ := t0.Date()
		cur := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		// Align to a multiple of the step in months since year 0.
		for (int(cur.Month())-1+12*cur.Year())%step.months != 0 {
			cur = cur.AddDate(0, 1, 0)
		}
		for ; !cur.After(t1); cur = cur.AddDate(0, step.months, 0) {
			if !cur.Before(t0) {
				ticks = append(ticks, plot.Tick{Value: unix(cur), Label: cur.Format(step.major)})
			}
		}
		return ticks
	}
	base := t0.Truncate(step.d) // Truncate works from the zero time; fine for steps up to a day
	if step.d == 7*24*time.Hour || step.d == 14*24*time.Hour {
		// Mondays.
		base = time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
		for base.Weekday() != time.Monday {
			base = base.AddDate(0, 0, -1)
		}
	}
	if step.minor > 0 {
		for cur := base; !cur.After(t1); cur = cur.Add(step.minor) {
			if !cur.Before(t0) {
				ticks = append(ticks, plot.Tick{Value: unix(cur)})
			}
		}
	}
	for cur := base; !cur.After(t1); cur = cur.Add(step.d) {
		if cur.Before(t0) {
			continue
		}
		label := cur.Format(step.major)
		found := false
		for i := range ticks {
			if ticks[i].Value == unix(cur) {
				ticks[i].Label, found = label, true
			}
		}
		if !found {
			ticks = append(ticks, plot.Tick{Value: unix(cur), Label: label})
		}
	}
	return ticks
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

var _ plot.Ticker = CalendarTicks{}

// SaveStack writes several figures stacked vertically in one image, their plot areas
// aligned, each panel Size.H/2 high (at least 2.5 inches).
func SaveStack(path string, panels ...Figure) error {
	if len(panels) == 0 {
		return errors.New("plots: no panels")
	}
	ps := make([][]*plot.Plot, len(panels))
	for i, f := range panels {
		p, err := f.Plot()
		if err != nil {
			return err
		}
		ps[i] = []*plot.Plot{p}
	}
	h := Size.H / 2
	if h < 2.5*vg.Inch {
		h = 2.5 * vg.Inch
	}
	h *= vg.Length(len(panels))
	img := vgimg.NewWith(vgimg.UseWH(Size.W, h), vgimg.UseDPI(DPI))
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(8)}
	canvases := plot.Align(ps, t, dc)
	for i := range ps {
		ps[i][0].Draw(canvases[i][0])
	}
	if strings.ToLower(filepath.Ext(path)) != ".png" {
		return fmt.Errorf("plots: %s: stacked figures are written as .png", path)
	}
	return writeTo(path, vgimg.PngCanvas{Canvas: img})
}

// Figure is anything that builds a plot: *TimeSeries and *XY.
type Figure interface {
	Plot() (*plot.Plot, error)
}
