package plots

import (
	"image/color"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/palette/moreland"
)

func TestHeatmap(t *testing.T) {
	h := &Heatmap{Title: "payoff", Rows: []string{"a", "b"}, Cols: []string{"x", "y", "z"},
		Values: [][]float64{{0.01, -0.02, math.NaN()}, {math.Inf(1), 0, 0.005}}}
	path := figPath(t, "heatmap.png")
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 700, 450)

	// The colour scale is symmetric in the largest finite |value| (0.02): zero is the
	// map's midpoint, -0.02 its blue end, and +Inf is clamped to the red end.
	c := h.cells()
	if c.min != -0.02 || c.max != 0.02 {
		t.Fatalf("scale [%g, %g], want [-0.02, 0.02]", c.min, c.max)
	}
	ref := moreland.SmoothBlueRed()
	ref.SetMin(-1)
	ref.SetMax(1)
	for _, x := range []struct{ v, at float64 }{{0, 0}, {-0.02, -1}, {0.01, 0.5}, {math.Inf(1), 1}, {math.Inf(-1), -1}} {
		want, _ := ref.At(x.at)
		if got := c.color(x.v); !sameColor(got, want) {
			t.Errorf("value %g: colour %v, want the map's %v at %g", x.v, got, want, x.at)
		}
	}
	if !sameColor(c.color(math.NaN()), color.Gray{Y: 200}) {
		t.Error("NaN is not grey")
	}

	for _, bad := range []*Heatmap{
		{Rows: []string{"a"}, Cols: []string{"x"}, Values: [][]float64{{1, 2}}},
		{Rows: []string{"a", "b"}, Cols: []string{"x"}, Values: [][]float64{{1}}},
		{},
	} {
		if _, err := bad.Plot(); err == nil || !strings.Contains(err.Error(), "heatmap") {
			t.Errorf("%+v: error %v", bad, err)
		}
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}
