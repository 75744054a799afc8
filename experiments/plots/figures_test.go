package plots

import (
	"bytes"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outDir, when set (go test -args -plots.out DIR), keeps the figures the tests draw
// there, to look at them.
var outDir = flag.String("plots.out", "", "directory to keep the test figures in")

func figPath(t *testing.T, name string) string {
	t.Helper()
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(*outDir, name)
	}
	return filepath.Join(t.TempDir(), name)
}

// checkPNG decodes the file and checks its size.
func checkPNG(t *testing.T, path string, minW, minH int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", path, err)
	}
	if r := img.Bounds(); r.Dx() < minW || r.Dy() < minH {
		t.Errorf("%s: image %v smaller than %dx%d", path, r, minW, minH)
	}
	return b
}

// TestDrawdowns works the periods out by hand on a small series:
// 1, 2, 1.5, 1, 2.5, 2.5, 2, 3, 2.7 (x = 0..8):
//   - peak 2 at x=1, falls to 1.5 and 1, recovers at x=4 (2.5 >= 2): depth 1 - 1/2 = 0.5;
//   - peak 2.5 at x=5 (equal values keep the later peak), falls to 2, recovers at x=7:
//     depth 1 - 2/2.5 = 0.2;
//   - peak 3 at x=7, falls to 2.7 and never recovers: ends at the last x, depth 0.1.
func TestDrawdowns(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}
	y := []float64{1, 2, 1.5, 1, 2.5, 2.5, 2, 3, 2.7}
	got := Drawdowns(x, y)
	want := []Drawdown{
		{Span{1, 4}, 0.5, true},
		{Span{5, 7}, 0.2, true},
		{Span{7, 8}, 0.1, false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d drawdowns %v, want %v", len(got), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.From != w.From || g.To != w.To || g.Recovered != w.Recovered || math.Abs(g.Depth-w.Depth) > 1e-12 {
			t.Errorf("drawdown %d = %+v, want %+v", i, g, w)
		}
	}
	if d := Drawdowns(x[:3], []float64{1, 2, 3}); len(d) != 0 {
		t.Errorf("rising series has drawdowns %v", d)
	}
	// NaN is skipped: 1, NaN, 0.5, 1 is one drawdown from x=0 to x=3 of depth 0.5.
	d := Drawdowns([]float64{0, 1, 2, 3}, []float64{1, math.NaN(), 0.5, 1})
	if len(d) != 1 || d[0].From != 0 || d[0].To != 3 || d[0].Depth != 0.5 {
		t.Errorf("with NaN: %v", d)
	}
}

// TestMovingAverage: window 3 over 1, 2, 3, 10 is (1+2)/2, (1+2+3)/3, (2+3+10)/3,
// (3+10)/2; window 4 takes two on the left and one on the right.
func TestMovingAverage(t *testing.T) {
	y := []float64{1, 2, 3, 10}
	cases := []struct {
		w    int
		want []float64
	}{
		{3, []float64{1.5, 2, 5, 6.5}},
		{4, []float64{1.5, 2, 4, 5}},
		{1, []float64{1, 2, 3, 10}},
	}
	for _, c := range cases {
		got := MovingAverage(nil, y, c.w)
		for i := range c.want {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("w=%d: got %v, want %v", c.w, got, c.want)
				break
			}
		}
	}
	got := MovingAverage(nil, []float64{math.NaN(), 4, math.NaN()}, 3)
	if got[0] != 4 || got[1] != 4 || got[2] != 4 {
		t.Errorf("NaN skipped: %v", got)
	}
	if got := MovingAverage(nil, []float64{math.NaN()}, 3); !math.IsNaN(got[0]) {
		t.Errorf("all NaN: %v", got)
	}
}

func TestJitter(t *testing.T) {
	want := []float64{0, -0.5, 0.5, -0.75} // 2*vdc(k+1)-1 with vdc = 1/2, 1/4, 3/4, 1/8
	for k, w := range want {
		if got := jitter(k); math.Abs(got-w) > 1e-12 {
			t.Errorf("jitter(%d) = %g, want %g", k, got, w)
		}
	}
}

// fixture data: a noisy rising learning curve for three groups.
func curves() *Curves {
	n := 60
	c := &Curves{Title: "Episodic return", YLabel: "return (USD)", Smooth: 7}
	for g, name := range []string{"providers-ppo", "clients-ppo", "clients-scripted"} {
		x, y, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = float64(i)
			y[i] = float64(g+1)*(1-math.Exp(-float64(i)/15)) + 0.2*math.Sin(float64(i*(g+3)))
			lo[i], hi[i] = y[i]-0.15, y[i]+0.15
		}
		c.Groups = append(c.Groups, Line{Name: name, X: x, Y: y, Lo: lo, Hi: hi})
	}
	return c
}

func equity() *Equity {
	n := 400
	x, mean := make([]float64, n), make([]float64, n)
	seeds := make([]Series, 3)
	for s := range seeds {
		seeds[s] = Series{Name: "seed", Y: make([]float64, n)}
	}
	for i := range x {
		x[i] = float64(i)
		for s := range seeds {
			seeds[s].Y[i] = 1 + 0.0005*float64(i) + 0.03*math.Sin(float64(i)/(20+5*float64(s)))
			mean[i] += seeds[s].Y[i] / 3
		}
	}
	return &Equity{Title: "providers-ppo", X: x, Wealth: mean, Seeds: seeds, Name: "mean of 3 seeds", MinDepth: 0.001}
}

func TestFigures(t *testing.T) {
	figs := map[string]Figure{
		"curves.png": curves(),
		"equity.png": equity(),
		"boxes.png": &Boxes{Title: "Sharpe ratio", YLabel: "Sharpe (annualized)", ZeroLine: true, Boxes: []Box{
			{"providers-ppo", []float64{1.2, 0.8, 1.5}},
			{"clients-ppo", []float64{-0.3, 0.1, 0.2, math.NaN()}},
			{"clients-scripted", nil},
		}},
		"bars.png": &Bars{Title: "Deals and timeouts", XLabel: "tick", YLabel: "count per 10 ticks", X: []float64{5, 15, 25, 35}, Stacked: true,
			Series: []Series{{"deals", []float64{3, 5, 4, 6}}, {"timeouts", []float64{1, 0, 2, 1}}}},
		"offers.png": &Offers{Title: "t-41: p-3 / c-17, settled", ClientRound: []float64{0, 2, 4}, ClientPrice: []float64{0.8, 0.95, 1.05},
			ProviderRound: []float64{1, 3}, ProviderPrice: []float64{1.4, 1.1}},
		"errbars.png": &ErrorBars{Title: "Sharpe vs eta", XLabel: "metrics.eta", YLabel: "Sharpe", X: []float64{0.001, 0.01, 0.1},
			LogX: true, Series: []ErrSeries{
				{"providers", []float64{1, 1.2, 0.9}, []float64{0.7, 1.0, 0.5}, []float64{1.3, 1.4, 1.3}},
				{"clients", []float64{0.2, 0.1, math.NaN()}, []float64{0, math.NaN(), 0}, []float64{0.4, math.NaN(), 0}},
			}},
	}
	for name, f := range figs {
		p := figPath(t, name)
		if err := f.(interface{ Save(string) error }).Save(p); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, p, 1000, 600)
	}
	p := figPath(t, "grid.png")
	if err := SaveGrid(p, 2, figs["boxes.png"], figs["boxes.png"], figs["offers.png"]); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 1400, 900)
}

// TestDeterministicPNG: the same figure drawn twice gives identical bytes.
func TestDeterministicPNG(t *testing.T) {
	dir := t.TempDir()
	var prev []byte
	for i := range 2 {
		p := filepath.Join(dir, "a.png")
		if err := SaveGrid(p, 2, curves(), equity(), &Boxes{Boxes: []Box{{"a", []float64{1, 2, 3}}}}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && !bytes.Equal(b, prev) {
			t.Errorf("second drawing differs from the first")
		}
		prev = b
	}
}

func TestFigureErrors(t *testing.T) {
	cases := map[string]Figure{
		"no lines":        &Lines{},
		"length mismatch": &Lines{Lines: []Line{{X: []float64{1, 2}, Y: []float64{1}}}},
		"band mismatch":   &Lines{Lines: []Line{{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{1}}}},
		"all NaN":         &Lines{Lines: []Line{{X: []float64{1, 2}, Y: []float64{math.NaN(), math.NaN()}}}},
		"short equity":    &Equity{X: []float64{1}, Wealth: []float64{1}},
		"no boxes":        &Boxes{},
		"empty boxes":     &Boxes{Boxes: []Box{{"a", []float64{math.NaN()}}}},
		"negative stack":  &Bars{X: []float64{1, 2}, Stacked: true, Series: []Series{{"a", []float64{1, -1}}}},
		"no offers":       &Offers{},
		"log x":           &ErrorBars{X: []float64{0, 1}, LogX: true, Series: []ErrSeries{{"a", []float64{1, 2}, []float64{1, 2}, []float64{1, 2}}}},
	}
	for name, f := range cases {
		if _, err := f.Plot(); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "plots: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
	if err := SaveGrid(filepath.Join(t.TempDir(), "x.svg"), 1, curves()); err == nil {
		t.Errorf("grid as svg: no error")
	}
}

// TestDeepestDrawdowns: of the three periods of TestDrawdowns (depths 0.5, 0.2,
// 0.1), the top two are the first two; a minimum depth of 0.15 drops the third.
func TestDeepestDrawdowns(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}
	y := []float64{1, 2, 1.5, 1, 2.5, 2.5, 2, 3, 2.7}
	got := DeepestDrawdowns(x, y, 0, 2)
	if len(got) != 2 || got[0].From != 1 || got[1].From != 5 {
		t.Errorf("top 2: %v", got)
	}
	got = DeepestDrawdowns(x, y, 0.15, 0)
	if len(got) != 2 || got[1].Depth != 0.2 {
		t.Errorf("min depth 0.15: %v", got)
	}
	// Top picks by depth and returns in x order: top 1 of (0.1 at x=0, 0.3 at x=3).
	got = DeepestDrawdowns([]float64{0, 1, 2, 3, 4, 5}, []float64{1, 0.9, 1, 1, 0.7, 0.8}, 0, 1)
	if len(got) != 1 || got[0].From != 3 || math.Abs(got[0].Depth-0.3) > 1e-12 {
		t.Errorf("top 1: %v", got)
	}
}
