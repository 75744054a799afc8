package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// This file holds the figures of experiment reports: lines with bands and shaded
// spans (learning curves, equity curves, market statistics), box plots, bars, offer
// trajectories and error bars, and a grid layout. Like the rest of the package they
// take plain slices and know nothing of what they draw.

// Span is an interval [From, To] of the x axis, shaded across the whole height of a
// figure (a drawdown period, for instance).
type Span struct{ From, To float64 }

// Line is one line of a Lines figure, with its own x values.
type Line struct {
	// Name is the legend entry; an empty name has none.
	Name string
	X, Y []float64
	// Lo and Hi, when both set (one value per x), shade a band behind the line, for
	// instance a 95% confidence interval across seeds. Points where Y, Lo or Hi is
	// not finite are left out of the band.
	Lo, Hi []float64
	// Color is the line's colour; nil takes Palette[i] for the i-th line.
	Color color.Color
	// Faint draws a thin, translucent line (one seed among many, or raw data behind
	// a smoothed line).
	Faint bool
	// Dashed draws the line dashed.
	Dashed bool
	// Points marks each point with a glyph: a circle, or a triangle with Triangle.
	Points, Triangle bool
}

// Lines is a line plot of lines that may have different x values, with optional
// bands, smoothing, shaded spans and a calendar x axis.
type Lines struct {
	Title  string
	XLabel string // with unit
	YLabel string // with unit
	Lines  []Line
	// Smooth > 1 draws each line as its centred moving average over Smooth points
	// (see MovingAverage), with the raw line faint behind it; a band is smoothed alike.
	Smooth int
	// Shade lists x intervals shaded light red behind the lines; ShadeName is their
	// legend entry ("" for none).
	Shade     []Span
	ShadeName string
	// RefY draws thin grey horizontal reference lines (e.g. y = 1 for wealth
	// relative to the start); they do not widen the y range.
	RefY []float64
	// Time says the x values are Unix seconds (UTC): the axis gets calendar ticks.
	Time bool
	// XTicks, when set, replaces the automatic x ticks.
	XTicks []plot.Tick
	// MaxPoints bounds the points drawn per line (default 4000), as for TimeSeries.
	MaxPoints int
}

// Plot builds the gonum plot of the figure.
func (f *Lines) Plot() (*plot.Plot, error) {
	if len(f.Lines) == 0 {
		return nil, errors.New("plots: no lines")
	}
	p := newBase(f.Title, f.XLabel, f.YLabel)
	var names []string
	if len(f.Shade) > 0 {
		s := &spans{spans: f.Shade, color: shadeColor}
		p.Add(s)
		if f.ShadeName != "" {
			p.Legend.Add(f.ShadeName, s)
			names = append(names, f.ShadeName)
		}
	}
	maxPts := f.MaxPoints
	if maxPts <= 0 {
		maxPts = 4000
	}
	finiteY := false
	for i, ln := range f.Lines {
		if len(ln.Y) != len(ln.X) {
			return nil, fmt.Errorf("plots: line %q has %d values for %d x values", ln.Name, len(ln.Y), len(ln.X))
		}
		col := ln.Color
		if col == nil {
			col = Palette[i%len(Palette)]
		}
		if ln.Lo != nil || ln.Hi != nil {
			if len(ln.Lo) != len(ln.X) || len(ln.Hi) != len(ln.X) {
				return nil, fmt.Errorf("plots: line %q: band has %d/%d values for %d x values", ln.Name, len(ln.Lo), len(ln.Hi), len(ln.X))
			}
			lo, hi := ln.Lo, ln.Hi
			if f.Smooth > 1 { // the band follows the smoothed line
				lo, hi = MovingAverage(nil, lo, f.Smooth), MovingAverage(nil, hi, f.Smooth)
			}
			if poly := band(ln.X, ln.Y, lo, hi, maxPts, fade(col, 0x38)); poly != nil {
				p.Add(poly)
			}
		}
		y := ln.Y
		if f.Smooth > 1 {
			raw, err := lineOf(ln.X, ln.Y, maxPts, fade(col, 0x50), vg.Points(0.6), false)
			if err != nil {
				return nil, fmt.Errorf("plots: line %q: %w", ln.Name, err)
			}
			if raw != nil {
				p.Add(raw)
			}
			y = MovingAverage(nil, ln.Y, f.Smooth)
		}
		width := vg.Points(1.2)
		if ln.Faint {
			col, width = fade(col, 0x70), vg.Points(0.6)
		}
		l, err := lineOf(ln.X, y, maxPts, col, width, ln.Dashed)
		if err != nil {
			return nil, fmt.Errorf("plots: line %q: %w", ln.Name, err)
		}
		if l == nil {
			continue
		}
		finiteY = true
		var thumbs []plot.Thumbnailer
		p.Add(l)
		thumbs = append(thumbs, l)
		if ln.Points {
			sc, err := plotter.NewScatter(finitePoints(ln.X, y))
			if err == nil {
				sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
				if ln.Triangle {
					sc.GlyphStyle.Shape = draw.TriangleGlyph{}
					sc.GlyphStyle.Radius = vg.Points(3)
				}
				p.Add(sc)
				thumbs = append(thumbs, sc)
			}
		}
		if ln.Name != "" {
			p.Legend.Add(ln.Name, thumbs...)
			names = append(names, ln.Name)
		}
	}
	if !finiteY {
		return nil, errors.New("plots: no finite values to draw")
	}
	if len(f.RefY) > 0 {
		p.Add(&hlines{ys: f.RefY})
	}
	if f.Time {
		p.X.Tick.Marker = CalendarTicks{}
	}
	if f.XTicks != nil {
		p.X.Tick.Marker = plot.ConstantTicks(f.XTicks)
	}
	finishLegend(p, names)
	return p, nil
}

// Save writes the figure to path; the format follows the extension.
func (f *Lines) Save(path string) error { return saveFigure(f, path) }

// Curves is a learning-curve figure: one line per policy group against the training
// iteration, smoothed with a centred moving average when Smooth > 1 (the raw curve
// stays faint behind), with an optional band such as a 95% confidence interval
// across seeds.
type Curves struct {
	Title  string
	XLabel string // default "training iteration"
	YLabel string
	Groups []Line
	Smooth int
}

// Plot builds the gonum plot of the figure.
func (f *Curves) Plot() (*plot.Plot, error) {
	xl := f.XLabel
	if xl == "" {
		xl = "training iteration"
	}
	l := Lines{Title: f.Title, XLabel: xl, YLabel: f.YLabel, Lines: f.Groups, Smooth: f.Smooth}
	return l.Plot()
}

// Save writes the figure to path; the format follows the extension.
func (f *Curves) Save(path string) error { return saveFigure(f, path) }

// Equity is an equity-curve figure for one policy group: its wealth relative to the
// start (Wealth, typically the mean over seeds, drawn bold) with the periods in which
// Wealth is below its running maximum shaded (see Drawdowns), a thin reference line at
// 1, and optionally one faint line per seed.
type Equity struct {
	Title  string
	XLabel string // default "tick", or the calendar with Time
	YLabel string // default "wealth / initial wealth"
	X      []float64
	Wealth []float64
	// Name labels the bold line in the legend (e.g. "mean of 3 seeds").
	Name string
	// Seeds are drawn faint, on the same x values.
	Seeds []Series
	// Color of the bold line; nil: Palette[0].
	Color color.Color
	// Time says X is Unix seconds (UTC).
	Time bool
	// MinDepth drops drawdown periods shallower than this fraction of the peak
	// (0.001 = 0.1%) so that flat noise does not paint the whole figure; 0 keeps all.
	MinDepth float64
	// Top, when positive, shades only the Top deepest periods (pyfolio's
	// plot_drawdown_periods shows the top 5), so that a noisy curve is not shaded
	// almost everywhere.
	Top int
}

// Plot builds the gonum plot of the figure.
func (f *Equity) Plot() (*plot.Plot, error) {
	if len(f.X) < 2 {
		return nil, errors.New("plots: an equity curve needs at least two points")
	}
	if len(f.Wealth) != len(f.X) {
		return nil, fmt.Errorf("plots: equity curve has %d values for %d x values", len(f.Wealth), len(f.X))
	}
	col := f.Color
	if col == nil {
		col = Palette[0]
	}
	xl, yl := f.XLabel, f.YLabel
	if xl == "" && !f.Time {
		xl = "tick"
	}
	if yl == "" {
		yl = "wealth / initial wealth"
	}
	l := Lines{Title: f.Title, XLabel: xl, YLabel: yl, Time: f.Time, RefY: []float64{1}}
	for _, s := range f.Seeds {
		l.Lines = append(l.Lines, Line{X: f.X, Y: s.Y, Color: col, Faint: true})
	}
	l.Lines = append(l.Lines, Line{Name: f.Name, X: f.X, Y: f.Wealth, Color: col})
	for _, d := range DeepestDrawdowns(f.X, f.Wealth, f.MinDepth, f.Top) {
		l.Shade = append(l.Shade, d.Span)
	}
	if len(l.Shade) > 0 {
		l.ShadeName = "drawdown"
	}
	return l.Plot()
}

// Save writes the figure to path; the format follows the extension.
func (f *Equity) Save(path string) error { return saveFigure(f, path) }

// Drawdown is one period in which a series is below its running maximum: from the
// peak it fell from to the point where it is back at or above that peak (or the last
// point, when it never recovers).
type Drawdown struct {
	Span
	// Depth is the largest fall inside the period, as a fraction of the peak
	// (1 - trough/peak); for a non-positive peak, the absolute fall.
	Depth float64
	// Recovered says whether the series got back to the peak.
	Recovered bool
}

// Drawdowns returns the drawdown periods of y against x, in order. Non-finite values
// are skipped. A period starts at the last running maximum before y falls below it
// and ends at the first later point where y is at or above that maximum again.
func Drawdowns(x, y []float64) []Drawdown {
	var out []Drawdown
	peak, peakX := math.NaN(), 0.0
	in := false
	var cur Drawdown
	lastX := 0.0
	for i := range y {
		if i >= len(x) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			continue
		}
		lastX = x[i]
		switch {
		case math.IsNaN(peak) || y[i] >= peak:
			if in {
				cur.To, cur.Recovered = x[i], true
				out = append(out, cur)
				in = false
			}
			peak, peakX = y[i], x[i]
		default:
			if !in {
				cur = Drawdown{Span: Span{From: peakX}}
				in = true
			}
			d := peak - y[i]
			if peak > 0 {
				d /= peak
			}
			cur.Depth = math.Max(cur.Depth, d)
		}
	}
	if in {
		cur.To = lastX
		out = append(out, cur)
	}
	return out
}

// DeepestDrawdowns returns the drawdown periods of y (see Drawdowns) at least
// minDepth deep and, when top > 0, only the top deepest of them (ties: the earlier),
// in x order.
func DeepestDrawdowns(x, y []float64, minDepth float64, top int) []Drawdown {
	var dd []Drawdown
	for _, d := range Drawdowns(x, y) {
		if d.Depth >= minDepth {
			dd = append(dd, d)
		}
	}
	if top > 0 && len(dd) > top {
		byDepth := append([]Drawdown(nil), dd...)
		sort.SliceStable(byDepth, func(i, j int) bool { return byDepth[i].Depth > byDepth[j].Depth })
		byDepth = byDepth[:top]
		sort.SliceStable(byDepth, func(i, j int) bool { return byDepth[i].From < byDepth[j].From })
		dd = byDepth
	}
	return dd
}

// MovingAverage writes to dst (grown or allocated as needed) the centred moving
// average of y over a window of w points (w/2 on each side for odd w; one more on
// the left for even w), truncated at the ends, and returns it. Non-finite values are
// left out of the averages; a window with none gives NaN. w <= 1 copies y.
func MovingAverage(dst, y []float64, w int) []float64 {
	if cap(dst) < len(y) {
		dst = make([]float64, len(y))
	}
	dst = dst[:len(y)]
	if w <= 1 {
		copy(dst, y)
		return dst
	}
	left, right := w/2, (w-1)/2
	for i := range y {
		lo, hi := max(0, i-left), min(len(y)-1, i+right)
		var s float64
		n := 0
		for j := lo; j <= hi; j++ {
			if !math.IsNaN(y[j]) && !math.IsInf(y[j], 0) {
				s += y[j]
				n++
			}
		}
		if n == 0 {
			dst[i] = math.NaN()
		} else {
			dst[i] = s / float64(n)
		}
	}
	return dst
}

// Box is one box of a Boxes figure: a named sample.
type Box struct {
	Name   string
	Values []float64
}

// Boxes is a figure of box plots, one per named sample (Tukey's box: median,
// quartiles, whiskers to the furthest values within 1.5 IQR of the box, and points
// beyond), with every sample also drawn as dots beside its box, which matters
// when there are only a few seeds. Non-finite values are left out; a sample with
// none shows its name and no box.
type Boxes struct {
	Title  string
	YLabel string
	Boxes  []Box
	// ZeroLine draws a thin horizontal line at y = 0 when 0 is inside the range.
	ZeroLine bool
}

// Plot builds the gonum plot of the figure.
func (f *Boxes) Plot() (*plot.Plot, error) {
	if len(f.Boxes) == 0 {
		return nil, errors.New("plots: no boxes")
	}
	p := newBase(f.Title, "", f.YLabel)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	names := make([]string, len(f.Boxes))
	drawn := false
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, b := range f.Boxes {
		names[i] = b.Name
		vals := make(plotter.Values, 0, len(b.Values))
		for _, v := range b.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		drawn = true
		col := Palette[i%len(Palette)]
		bp, err := plotter.NewBoxPlot(vg.Points(28), float64(i), vals)
		if err != nil {
			return nil, fmt.Errorf("plots: box %q: %w", b.Name, err)
		}
		bp.FillColor = fade(col, 0x40)
		bp.BoxStyle.Color = col
		bp.MedianStyle.Color = col
		bp.MedianStyle.Width = vg.Points(2)
		bp.WhiskerStyle.Color = col
		bp.GlyphStyle.Color = col
		p.Add(bp)
		// The samples, spread deterministically to the right of the box.
		pts := make(plotter.XYs, len(vals))
		for k, v := range vals {
			pts[k] = plotter.XY{X: float64(i) + 0.3 + 0.08*jitter(k), Y: v}
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: box %q: %w", b.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
		p.Add(sc)
	}
	if !drawn {
		return nil, errors.New("plots: no finite values to draw")
	}
	// Long group names ("providers/cost-plus") run into their neighbours: break them
	// after each '/' so every label stays under its own box.
	for i, n := range names {
		names[i] = strings.ReplaceAll(n, "/", "/\n")
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(f.Boxes))-0.4
	d := (hi - lo) * 0.06
	if lo == hi { // one value everywhere: give the axis some height
		d = math.Max(math.Abs(lo)*0.05, 1e-9)
	}
	p.Y.Min, p.Y.Max = lo-d, hi+d
	if f.ZeroLine && p.Y.Min < 0 && p.Y.Max > 0 {
		p.Add(&hlines{ys: []float64{0}})
	}
	return p, nil
}

// Save writes the figure to path; the format follows the extension.
func (f *Boxes) Save(path string) error { return saveFigure(f, path) }

// jitter returns the k-th offset of a fixed low-discrepancy sequence in [-1, 1]
// (the van der Corput sequence in base 2), so that repeated values are spread
// without any randomness.
func jitter(k int) float64 {
	v, denom := 0.0, 1.0
	for n := k + 1; n > 0; n >>= 1 {
		denom *= 2
		v += float64(n&1) / denom
	}
	return 2*v - 1
}

// Bars is a bar chart over a numeric x axis: at each x, one bar per series side by
// side, or the series stacked with Stacked (values must then be non-negative).
type Bars struct {
	Title  string
	XLabel string
	YLabel string
	// X are the bar centres, in increasing order.
	X []float64
	// Width is the width of a bar slot in x units; 0 takes the smallest gap between
	// consecutive X (or 1 for a single bar).
	Width  float64
	Series []Series
	// Stacked piles the series' bars on each other instead of placing them side by side.
	Stacked bool
	// Time says X is Unix seconds (UTC).
	Time bool
}

// Plot builds the gonum plot of the figure.
func (f *Bars) Plot() (*plot.Plot, error) {
	if len(f.X) == 0 || len(f.Series) == 0 {
		return nil, errors.New("plots: a bar chart needs bars")
	}
	w := f.Width
	if w <= 0 {
		w = math.Inf(1)
		for i := 1; i < len(f.X); i++ {
			if d := f.X[i] - f.X[i-1]; d > 0 {
				w = math.Min(w, d)
			}
		}
		if math.IsInf(w, 1) {
			w = 1
		}
	}
	p := newBase(f.Title, f.XLabel, f.YLabel)
	base := make([]float64, len(f.X))
	var names []string
	for si, s := range f.Series {
		if len(s.Y) != len(f.X) {
			return nil, fmt.Errorf("plots: series %q has %d values for %d x values", s.Name, len(s.Y), len(f.X))
		}
		r := &rects{color: Palette[si%len(Palette)]}
		for i, x := range f.X {
			y := s.Y[i]
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			slot := 0.9 * w
			x0, x1 := x-slot/2, x+slot/2
			y0, y1 := 0.0, y
			if f.Stacked {
				if y < 0 {
					return nil, fmt.Errorf("plots: series %q: negative value %g in a stacked bar chart", s.Name, y)
				}
				y0, y1 = base[i], base[i]+y
				base[i] = y1
			} else {
				k := float64(len(f.Series))
				x0 = x - slot/2 + slot*float64(si)/k
				x1 = x0 + slot/k
			}
			r.r = append(r.r, [4]float64{x0, y0, x1, y1})
		}
		p.Add(r)
		if s.Name != "" {
			p.Legend.Add(s.Name, r)
			names = append(names, s.Name)
		}
	}
	if f.Time {
		p.X.Tick.Marker = CalendarTicks{}
	}
	finishLegend(p, names)
	return p, nil
}

// Save writes the figure to path; the format follows the extension.
func (f *Bars) Save(path string) error { return saveFigure(f, path) }

// Offers is the figure of one negotiation thread: the price each side offered
// against the negotiation round, the client's offers as circles on a dashed line and
// the provider's as triangles on a solid one.
type Offers struct {
	Title  string
	XLabel string // default "round"
	YLabel string // default "price (USD per hour)"
	// Client and Provider are (round, price) pairs, in round order.
	ClientRound, ClientPrice     []float64
	ProviderRound, ProviderPrice []float64
}

// Plot builds the gonum plot of the figure.
func (f *Offers) Plot() (*plot.Plot, error) {
	xl, yl := f.XLabel, f.YLabel
	if xl == "" {
		xl = "round"
	}
	if yl == "" {
		yl = "price (USD per hour)"
	}
	l := Lines{Title: f.Title, XLabel: xl, YLabel: yl}
	if len(f.ClientRound) > 0 {
		l.Lines = append(l.Lines, Line{Name: "client", X: f.ClientRound, Y: f.ClientPrice, Color: Palette[0], Dashed: true, Points: true})
	}
	if len(f.ProviderRound) > 0 {
		l.Lines = append(l.Lines, Line{Name: "provider", X: f.ProviderRound, Y: f.ProviderPrice, Color: Palette[1], Points: true, Triangle: true})
	}
	if len(l.Lines) == 0 {
		return nil, errors.New("plots: a thread with no offers")
	}
	// Integer rounds: one tick per round when there are few.
	maxR := 0.0
	for _, ln := range l.Lines {
		for _, r := range ln.X {
			maxR = math.Max(maxR, r)
		}
	}
	if maxR <= 12 {
		for r := 0; r <= int(maxR); r++ {
			l.XTicks = append(l.XTicks, plot.Tick{Value: float64(r), Label: fmt.Sprint(r)})
		}
	}
	p, err := l.Plot()
	if err != nil {
		return nil, err
	}
	if p.X.Max-p.X.Min < 1 { // a single round: widen around it
		p.X.Min, p.X.Max = p.X.Min-0.5, p.X.Max+0.5
	}
	pad := (p.Y.Max - p.Y.Min) * 0.08
	if pad == 0 {
		pad = math.Max(math.Abs(p.Y.Max)*0.05, 1e-9)
	}
	// Offers often start high on the right (the provider's first ask): leave the top
	// quarter to the legend.
	p.Y.Max += 2 * pad
	p.Y.Min -= pad
	p.X.Min -= 0.3
	p.X.Max += 0.3
	return p, nil
}

// Save writes the figure to path; the format follows the extension.
func (f *Offers) Save(path string) error { return saveFigure(f, path) }

// ErrSeries is one series of an ErrorBars figure: a mean per x with its interval.
type ErrSeries struct {
	Name string
	// Y, Lo and Hi have one value per x; a NaN Y leaves the point out, a NaN Lo or Hi
	// draws the point without a bar.
	Y, Lo, Hi []float64
}

// ErrorBars plots means with error bars (e.g. 95% confidence intervals) against a
// numeric or categorical x, one series per group, each series shifted slightly
// sideways so that bars at the same x do not hide each other.
type ErrorBars struct {
	Title  string
	XLabel string
	YLabel string
	X      []float64
	// XTicks, when set, replaces the automatic x ticks (categorical x: X = 0, 1, ...).
	XTicks []plot.Tick
	Series []ErrSeries
	// LogX draws the x axis on a log scale (every x must then be positive).
	LogX bool
	// Points leaves out the lines joining a series' points (x values that are
	// categories with no order).
	Points bool
}

// Plot builds the gonum plot of the figure.
func (f *ErrorBars) Plot() (*plot.Plot, error) {
	if len(f.X) == 0 || len(f.Series) == 0 {
		return nil, errors.New("plots: an error-bar plot needs points")
	}
	p := newBase(f.Title, f.XLabel, f.YLabel)
	if f.LogX {
		for _, x := range f.X {
			if !(x > 0) {
				return nil, fmt.Errorf("plots: non-positive x %g on a log axis", x)
			}
		}
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, x := range f.X {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
	}
	// Sideways shift: a fraction of the smallest gap between x values.
	gap := xmax - xmin
	for i := 1; i < len(f.X); i++ {
		if d := math.Abs(f.X[i] - f.X[i-1]); d > 0 && d < gap {
			gap = d
		}
	}
	if gap == 0 {
		gap = 1
	}
	k := float64(len(f.Series))
	// Series are spread over spread*gap around each x (at most 0.2 of the smallest gap).
	spread := math.Min(0.2, 0.04*(k-1))
	var names []string
	drawn := false
	for si, s := range f.Series {
		if len(s.Y) != len(f.X) || len(s.Lo) != len(f.X) || len(s.Hi) != len(f.X) {
			return nil, fmt.Errorf("plots: series %q: lengths %d/%d/%d for %d x values", s.Name, len(s.Y), len(s.Lo), len(s.Hi), len(f.X))
		}
		col := Palette[si%len(Palette)]
		shift := 0.0
		if k > 1 {
			shift = spread * gap * (float64(si)/(k-1) - 0.5)
		}
		var pts plotter.XYs
		var bars errXYs
		for i, x := range f.X {
			y := s.Y[i]
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			xs := x + shift
			if f.LogX { // shift by a constant factor instead
				xs = x * (1 + 0.06*(float64(si)/math.Max(k-1, 1)-0.5))
			}
			pts = append(pts, plotter.XY{X: xs, Y: y})
			lo, hi := s.Lo[i], s.Hi[i]
			if !math.IsNaN(lo) && !math.IsNaN(hi) && !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
				bars = append(bars, errXY{XY: plotter.XY{X: xs, Y: y}, lo: y - lo, hi: hi - y})
			}
		}
		if len(pts) == 0 {
			continue
		}
		drawn = true
		var thumbs []plot.Thumbnailer
		if len(pts) > 1 && !f.Points {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
			}
			l.Color, l.Width = col, vg.Points(1)
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		if len(bars) > 0 {
			eb, err := plotter.NewYErrorBars(bars)
			if err != nil {
				return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
			}
			eb.LineStyle.Color, eb.LineStyle.Width = col, vg.Points(1.2)
			eb.CapWidth = vg.Points(6)
			p.Add(eb)
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		thumbs = append(thumbs, sc)
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
			names = append(names, s.Name)
		}
	}
	if !drawn {
		return nil, errors.New("plots: no finite values to draw")
	}
	if f.XTicks != nil {
		p.X.Tick.Marker = plot.ConstantTicks(f.XTicks)
	}
	if f.LogX {
		p.X.Min, p.X.Max = xmin/1.4, xmax*1.4
	} else {
		pad := 0.5
		if xmax > xmin {
			pad = math.Max(0.15*gap+spread*gap/2, 0.05*(xmax-xmin))
		}
		p.X.Min, p.X.Max = xmin-pad, xmax+pad
	}
	finishLegend(p, names)
	return p, nil
}

// Save writes the figure to path; the format follows the extension.
func (f *ErrorBars) Save(path string) error { return saveFigure(f, path) }

type errXY struct {
	plotter.XY
	lo, hi float64
}

type errXYs []errXY

func (e errXYs) Len() int                        { return len(e) }
func (e errXYs) XY(i int) (float64, float64)     { return e[i].X, e[i].Y }
func (e errXYs) YError(i int) (float64, float64) { return e[i].lo, e[i].hi }

// PanelSize is the size of one panel of a grid (SaveGrid): 5 x 3.2 inches.
var PanelSize = struct{ W, H vg.Length }{5 * vg.Inch, 3.2 * vg.Inch}

// SaveGrid writes the panels as a grid of cols columns (rows filled left to right,
// top to bottom) in one PNG image, each panel PanelSize, their plot areas aligned
// across each row and column. A nil panel leaves its cell empty.
func SaveGrid(path string, cols int, panels ...Figure) error {
	if len(panels) == 0 {
		return errors.New("plots: no panels")
	}
	if strings.ToLower(filepath.Ext(path)) != ".png" {
		return fmt.Errorf("plots: %s: grids of figures are written as .png", path)
	}
	if cols < 1 {
		cols = 1
	}
	cols = min(cols, len(panels))
	rows := (len(panels) + cols - 1) / cols
	ps := make([][]*plot.Plot, rows)
	for r := range ps {
		ps[r] = make([]*plot.Plot, cols)
	}
	for i, f := range panels {
		if f == nil {
			continue
		}
		p, err := f.Plot()
		if err != nil {
			return err
		}
		ps[i/cols][i%cols] = p
	}
	w := PanelSize.W * vg.Length(cols)
	h := PanelSize.H * vg.Length(rows)
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadX: vg.Points(14), PadY: vg.Points(10)}
	canvases := plot.Align(ps, t, dc)
	for r := range ps {
		for c, p := range ps[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	return writeTo(path, vgimg.PngCanvas{Canvas: img})
}

func saveFigure(f Figure, path string) error {
	p, err := f.Plot()
	if err != nil {
		return err
	}
	return save(p, path)
}

// newBase returns an empty plot with the package's fonts, grid and legend placement.
func newBase(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = vg.Points(10)
	p.Y.Label.TextStyle.Font.Size = vg.Points(10)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.X.Tick.Marker = NiceTicks{}
	p.Y.Tick.Marker = NiceTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.Padding = vg.Points(1)
	return p
}

// finishLegend makes room for a legend of the named entries in the top right corner:
// it raises the top of a linear y range (about 7% of the height an entry), and puts a
// translucent white box behind the legend so that data that still runs under it does
// not make it unreadable.
func finishLegend(p *plot.Plot, names []string) {
	if len(names) == 0 {
		return
	}
	if !isLog(p.Y.Scale) && p.Y.Max > p.Y.Min {
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.07 * float64(len(names))
	}
	p.Add(&legendBox{names: names})
}

// legendBox fills the area of a top-right legend (drawn after every plotter) with
// translucent white; it has no data range.
type legendBox struct{ names []string }

func (l *legendBox) Plot(c draw.Canvas, p *plot.Plot) {
	sty := p.Legend.TextStyle
	var w, eh vg.Length
	for _, n := range l.names {
		w = max(w, p.Legend.ThumbnailWidth+sty.Rectangle(" "+n).Max.X)
		eh = max(eh, sty.Rectangle(n).Max.Y)
	}
	h := eh*vg.Length(len(l.names)) + p.Legend.Padding*vg.Length(len(l.names)-1) + sty.FontExtents().Descent
	pad := vg.Points(3)
	x0, y0 := c.Max.X-w-2*pad, c.Max.Y-h-pad
	x1, y1 := c.Max.X+pad, c.Max.Y+pad
	c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 0xd8}, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
}

func isLog(s plot.Normalizer) bool {
	switch s.(type) {
	case plot.LogScale, *plot.LogScale:
		return true
	}
	return false
}

// lineOf returns a line through the finite points of (x, y), decimated to maxPts
// buckets, or nil when there are none.
func lineOf(x, y []float64, maxPts int, col color.Color, width vg.Length, dashed bool) (*plotter.Line, error) {
	xys := decimate(x, y, maxPts)
	if len(xys) == 0 {
		return nil, nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = col, width
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2.5)}
	}
	return l, nil
}

func finitePoints(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(x))
	for i := range x {
		if !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) && !math.IsNaN(x[i]) && !math.IsInf(x[i], 0) {
			out = append(out, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	return out
}

// band returns the filled polygon between lo and hi over the points where y, lo and
// hi are finite, thinned to at most about 2*maxPts vertices per side, or nil.
func band(x, y, lo, hi []float64, maxPts int, col color.Color) *plotter.Polygon {
	var idx []int
	for i := range x {
		ok := true
		for _, v := range []float64{x[i], y[i], lo[i], hi[i]} {
			ok = ok && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
		if ok {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return nil
	}
	step := 1
	if lim := 2 * maxPts; len(idx) > lim {
		step = (len(idx) + lim - 1) / lim
	}
	var top, bot plotter.XYs
	for k := 0; k < len(idx); k += step {
		i := idx[k]
		top = append(top, plotter.XY{X: x[i], Y: hi[i]})
		bot = append(bot, plotter.XY{X: x[i], Y: lo[i]})
	}
	if last := idx[len(idx)-1]; top[len(top)-1].X != x[last] {
		top = append(top, plotter.XY{X: x[last], Y: hi[last]})
		bot = append(bot, plotter.XY{X: x[last], Y: lo[last]})
	}
	ring := make(plotter.XYs, 0, 2*len(top))
	ring = append(ring, top...)
	for i := len(bot) - 1; i >= 0; i-- {
		ring = append(ring, bot[i])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil
	}
	poly.Color = col
	poly.LineStyle.Width = 0
	return poly
}

// fade returns c with alpha a (colours are given non-premultiplied and converted).
func fade(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

var shadeColor = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0x2a}

// spans draws full-height x intervals; it has no data range, so it never widens the
// axes.
type spans struct {
	spans []Span
	color color.Color
}

func (s *spans) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, sp := range s.spans {
		x0, x1 := trX(sp.From), trX(sp.To)
		if x1 < x0 {
			x0, x1 = x1, x0
		}
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 <= x0 {
			continue
		}
		if x1-x0 < vg.Points(0.5) { // keep very short periods visible
			x1 = x0 + vg.Points(0.5)
		}
		c.FillPolygon(s.color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

func (s *spans) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// hlines draws thin grey horizontal lines across the data area, without a data range.
type hlines struct{ ys []float64 }

func (h *hlines) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.Gray{Y: 110}, Width: vg.Points(0.7), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	for _, y := range h.ys {
		if y < p.Y.Min || y > p.Y.Max {
			continue
		}
		yy := trY(y)
		c.StrokeLine2(sty, c.Min.X, yy, c.Max.X, yy)
	}
}

// rects draws filled rectangles given in data coordinates {x0, y0, x1, y1}.
type rects struct {
	r     [][4]float64
	color color.Color
}

func (r *rects) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, b := range r.r {
		pts := []vg.Point{{X: trX(b[0]), Y: trY(b[1])}, {X: trX(b[2]), Y: trY(b[1])}, {X: trX(b[2]), Y: trY(b[3])}, {X: trX(b[0]), Y: trY(b[3])}}
		c.FillPolygon(r.color, c.ClipPolygonXY(pts))
	}
}

func (r *rects) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, b := range r.r {
		xmin, xmax = math.Min(xmin, b[0]), math.Max(xmax, b[2])
		ymin, ymax = math.Min(ymin, math.Min(b[1], b[3])), math.Max(ymax, math.Max(b[1], b[3]))
	}
	if len(r.r) == 0 {
		return 0, 1, 0, 1
	}
	return xmin, xmax, ymin, ymax
}

func (r *rects) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(r.color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

var (
	_ Figure = (*Lines)(nil)
	_ Figure = (*Curves)(nil)
	_ Figure = (*Equity)(nil)
	_ Figure = (*Boxes)(nil)
	_ Figure = (*Bars)(nil)
	_ Figure = (*Offers)(nil)
	_ Figure = (*ErrorBars)(nil)
)

// NiceTicks is a plot.Ticker that labels about N (default 6) values at a step of 1, 2
// or 5 times a power of ten, with unlabelled ticks between, and prints the labels with
// no more digits than the step needs (0, 0.05, 0.1 rather than 0.00, 0.05, 0.10).
type NiceTicks struct{ N int }

// Ticks implements plot.Ticker.
func (t NiceTicks) Ticks(lo, hi float64) []plot.Tick {
	n := t.N
	if n <= 0 {
		n = 6
	}
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return []plot.Tick{{Value: lo, Label: formatTick(lo, 0)}}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minor := mag, mag/5
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			switch m {
			case 2:
				minor = mag / 2
			case 5:
				minor = mag
			case 10:
				minor = 2 * mag
			default:
				minor = mag / 5
			}
			break
		}
	}
	digits := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for k := math.Ceil(lo / minor); k*minor <= hi+minor*1e-9; k++ {
		v := k * minor
		q := v / step
		if math.Abs(q-math.Round(q)) < 1e-6 {
			v = math.Round(q) * step
			ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, digits)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
		if len(ticks) > 200 { // never loop away on a degenerate range
			break
		}
	}
	return ticks
}

func formatTick(v float64, digits int) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e6 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

var _ plot.Ticker = NiceTicks{}
