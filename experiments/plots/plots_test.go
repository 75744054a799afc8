package plots

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func week() []time.Time {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := make([]time.Time, 2016)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
	}
	return ts
}

func TestTimeSeriesPNG(t *testing.T) {
	ts := week()
	a, b := make([]float64, len(ts)), make([]float64, len(ts))
	for i := range ts {
		a[i] = 2300 + 50*math.Sin(float64(i)/100)
		b[i] = 2000 + 30*math.Cos(float64(i)/50)
	}
	p := filepath.Join(t.TempDir(), "x.png")
	fig := TimeSeries{Title: "prices", YLabel: "price (USD)", Times: ts, Series: []Series{{"ETH", a}, {"other", b}}}
	if err := fig.Save(p); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 {
		t.Errorf("image %v too small", b)
	}
	if err := (&TimeSeries{Times: ts, Series: []Series{{"short", a[:10]}}}).Save(p); err == nil {
		t.Errorf("mismatched lengths: no error")
	}
	if err := (&TimeSeries{Times: ts, Series: []Series{{"a", a}}}).Save(filepath.Join(t.TempDir(), "x.txt")); err == nil {
		t.Errorf("unknown format: no error")
	}
	neg := append([]float64(nil), a...)
	neg[5] = -1
	if err := (&TimeSeries{Times: ts, LogY: true, Series: []Series{{"a", neg}}}).Save(p); err == nil ||
		!strings.Contains(err.Error(), "log axis") {
		t.Errorf("negative value on a log axis: %v", err)
	}
}

// TestCalendarTicks: over a week of 5-minute ticks starting Monday 2024-01-01, the
// labelled ticks are the midnights, labelled with weekday and date.
func TestCalendarTicks(t *testing.T) {
	ts := week()
	ticks := CalendarTicks{}.Ticks(unix(ts[0]), unix(ts[len(ts)-1]))
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
			tt := time.Unix(int64(tk.Value), 0).UTC()
			if tt.Hour() != 0 || tt.Minute() != 0 {
				t.Errorf("labelled tick %v is not a midnight", tt)
			}
		}
	}
	want := "Mon Jan 1,Tue Jan 2,Wed Jan 3,Thu Jan 4,Fri Jan 5,Sat Jan 6,Sun Jan 7"
	if got := strings.Join(labels, ","); got != want {
		t.Errorf("labels %s, want %s", got, want)
	}
	// Five years: yearly labels.
	t0 := time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC)
	ticks = CalendarTicks{}.Ticks(unix(t0), unix(t0.AddDate(5, 0, 0)))
	labels = labels[:0]
	for _, tk := range ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, ","); got != "2021,2022,2023,2024,2025" {
		t.Errorf("5-year labels %s", got)
	}
	// Ten months: monthly or bimonthly labels like "Jan 2024".
	ticks = CalendarTicks{}.Ticks(unix(t0), unix(t0.AddDate(0, 10, 0)))
	if len(ticks) < 4 || len(ticks) > 11 || ticks[0].Label != "Mar 2020" {
		t.Errorf("10-month ticks %v", ticks)
	}
}

// TestDecimate: 100,000 points with one spike become at most 2 x 1000 points and keep
// the spike and the minimum.
func TestDecimate(t *testing.T) {
	n := 100_000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = float64(i)
		y[i] = math.Sin(float64(i) / 1000)
	}
	y[31_337] = 50
	y[70_001] = -9
	pts := decimate(x, y, 1000)
	if len(pts) > 2000 {
		t.Errorf("%d points after decimation", len(pts))
	}
	var hi, lo bool
	for i, p := range pts {
		hi = hi || p.Y == 50 && p.X == 31_337
		lo = lo || p.Y == -9
		if i > 0 && p.X <= pts[i-1].X {
			t.Fatalf("points out of order at %d", i)
		}
	}
	if !hi || !lo {
		t.Errorf("spike kept %v, dip kept %v", hi, lo)
	}
	if got := decimate(x[:10], y[:10], 1000); len(got) != 10 {
		t.Errorf("short series decimated to %d", len(got))
	}
}

func TestXYPlot(t *testing.T) {
	x := []float64{0, 1, 2, 3}
	fig := XY{Title: "profile", XLabel: "hour", YLabel: "USD/kWh", X: x, Series: []Series{{"a", []float64{1, 2, 1, 2}}}}
	if err := fig.Save(filepath.Join(t.TempDir(), "p.png")); err != nil {
		t.Fatal(err)
	}
	if _, err := (&XY{X: x[:1], Series: []Series{{"a", []float64{1}}}}).Plot(); err == nil {
		t.Errorf("one point: no error")
	}
}
