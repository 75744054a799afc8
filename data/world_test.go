package data

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// csvBytes renders n ticks of a world as CSV text, the way a caller would write it.
func csvBytes(t *testing.T, cfg Config, seed uint64, n int) []byte {
	t.Helper()
	w, err := New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, c := range w.Columns() {
		b.WriteString(c.Name + ",")
	}
	b.WriteString("\n")
	var v []float64
	for k := 0; k < n; k++ {
		if k > 0 {
			w.Step()
		}
		v = w.Values(v)
		for _, x := range v {
			fmt.Fprintf(&b, "%.17g,", x)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func TestWorldDeterminism(t *testing.T) {
	a := csvBytes(t, DefaultConfig(), 42, 3000)
	b := csvBytes(t, DefaultConfig(), 42, 3000)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different series")
	}
	c := csvBytes(t, DefaultConfig(), 43, 3000)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same series")
	}
	// Streams are per series: another seed changes every synthetic column.
	la, lc := strings.Split(string(a), "\n")[100], strings.Split(string(c), "\n")[100]
	fa, fc := strings.Split(la, ","), strings.Split(lc, ",")
	for i, name := range strings.Split(strings.Split(string(a), "\n")[0], ",") {
		if name == "" || name == "usdc_usd" || name == "blob_base_fee_wei" {
			continue // constant 1 with depegs off; blob fee mostly at its 1-wei floor
		}
		if fa[i] == fc[i] {
			t.Errorf("column %s is the same at tick 99 under seeds 42 and 43", name)
		}
	}
}

// TestWorldAddingLocationKeepsOthers: a location's stream is named after it, so adding
// one changes no other series.
func TestWorldAddingLocationKeepsOthers(t *testing.T) {
	c := DefaultConfig()
	c.Locations = c.Locations[:2]
	c.Scenario.Heatwave.Location = "germany"
	w1, base := trace(t, c, 5, 500)
	c2 := DefaultConfig()
	c2.Scenario.Heatwave.Location = "germany"
	c2.Locations = append(append([]LocationConfig{}, c.Locations...), DefaultLocations()[5])
	_, got := trace(t, c2, 5, 500)
	sameExcept(t, w1, base, got[:len(base)])
}

func TestWorldStepAllocs(t *testing.T) {
	w, err := New(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var v []float64
	v = w.Values(v)
	if a := testing.AllocsPerRun(1000, func() {
		w.Step()
		v = w.Values(v)
		_ = w.L2TxCostUSD(0)
		_ = EWMA{Alpha: 0.1}.ForecastRing(w.Window(ColETH), 12, 0.9)
		_ = AR1{}.ForecastRing(w.Window(colElec), 12, 0.9)
	}); a != 0 {
		t.Errorf("Step and forecasts allocate %.1f times per tick", a)
	}
}

func TestWorldWindowAndTime(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window = 10
	w, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	var eth []float64
	eth = append(eth, w.ETHUSD())
	for k := 1; k <= 25; k++ {
		w.Step()
		eth = append(eth, w.ETHUSD())
	}
	if w.Tick() != 25 || !w.Time().Equal(time.Date(2024, 1, 1, 2, 5, 0, 0, time.UTC)) {
		t.Errorf("tick %d at %v, want 25 at 02:05", w.Tick(), w.Time())
	}
	r := w.Window(ColETH)
	if r.Len() != 10 {
		t.Fatalf("window holds %d, want 10", r.Len())
	}
	for i := 0; i < 10; i++ {
		if r.At(i) != eth[16+i] {
			t.Errorf("window[%d] = %g, want %g", i, r.At(i), eth[16+i])
		}
	}
	if eth[0] != cfg.ETH.InitialUSD {
		t.Errorf("tick-0 ETH %g, want the initial %g", eth[0], cfg.ETH.InitialUSD)
	}
}

// TestWorldL2Cost recomputes the fee of every kind from the world's integer gas
// prices with the formula of specs/world.md, and checks the typical cost range.
func TestWorldL2Cost(t *testing.T) {
	cfg := DefaultConfig()
	w, err := New(cfg, 9)
	if err != nil {
		t.Fatal(err)
	}
	l2 := cfg.Gas.L2
	var ref []float64
	for k := 0; k < 2016; k++ {
		w.Step()
		for i, kind := range w.TxKinds() {
			exec := kind.Gas * (w.L2BaseFeeWei() + w.L2PriorityFeeWei())
			l1 := kind.CompressedBytes * (16*w.L1BaseFeeWei()*l2.BaseFeeScalar + w.BlobBaseFeeWei()*l2.BlobBaseFeeScalar) / 1_000_000
			if got := w.L2TxFeeWei(i); got != exec+l1 {
				t.Fatalf("tick %d kind %s: fee %d, want %d", k, kind.Name, got, exec+l1)
			}
			if got, want := w.L2TxCostUSD(i), float64(exec+l1)/1e18*w.ETHUSD(); math.Abs(got-want) > 1e-12*want {
				t.Fatalf("USD cost %g, want %g", got, want)
			}
		}
		ref = append(ref, w.Values(nil)[ColL2Tx])
	}
	// specs/world.md: a typical L2 transaction costs about $0.001 to $0.005; the median
	// cost of the reference kind over a week sits within a factor of 3 of that range.
	s := Summarize(ref, false, 1)
	if s.Mean < 0.001/3 || s.Mean > 0.005*3 {
		t.Errorf("mean %s cost $%.5f, outside $0.0003-$0.015", l2.ReferenceTx, s.Mean)
	}
	if w.L2PriorityFeeWei() != 1_000_000 {
		t.Errorf("priority fee %d wei, want 0.001 gwei", w.L2PriorityFeeWei())
	}
}

// TestWorldCSVSource replaces Germany's electricity and ETH with the real files.
func TestWorldCSVSource(t *testing.T) {
	cfg := DefaultConfig()
	g := &cfg.Locations[0]
	g.Source = SourceCSV
	g.CSV = &CSVSource{Path: belgiumFile, TimeColumn: "time", ValueColumn: "DAM_price", Layout: "02jan2006 15:04:05",
		Resample: ResampleHold, Empty: EmptySkip, Scale: 1.08, From: "2023-06-01T00:00:00Z"}
	cfg.ETH.Source = SourceCSV
	cfg.ETH.CSV = &CSVSource{Path: ethFile, TimeColumn: "Date", ValueColumn: "Close", Layout: "2006-01-02",
		Resample: ResampleHold, Empty: EmptySkip, NullTokens: []string{"null"}, Scale: 1}
	w, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadCSV(belgiumFile, belgiumOpts(EmptySkip))
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Resample(time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), cfg.Tick, 600, ResampleHold)
	if err != nil {
		t.Fatal(err)
	}
	if w.ETHUSD() != 2.772120 { // the first daily close holds for the first day
		t.Errorf("ETH from CSV = %g, want 2.772120", w.ETHUSD())
	}
	for k := 0; k < 600; k++ {
		if k > 0 {
			w.Step()
		}
		if got := w.ElecUSDPerKWh(0); math.Abs(got-1.08*want[k]) > 1e-15 {
			t.Fatalf("tick %d: germany %g, want 1.08 x %g", k, got, want[k])
		}
		// Daily closes held: tick k is day k/288 (closes 2.772120, 0.753325, 0.701897).
		if got, want := w.ETHUSD(), []float64{2.772120, 0.753325, 0.701897}[k/288]; got != want {
			t.Fatalf("tick %d: ETH from CSV = %g, want %g", k, got, want)
		}
	}
	if h := w.HIVEUSD(); !(h > 0) || math.IsInf(h, 0) {
		t.Errorf("HIVE on a CSV ETH = %g", h)
	}

	// A broken file is a validation error naming the key, the file and its line.
	bad := DefaultConfig()
	bad.ETH.Source = SourceCSV
	bad.ETH.CSV = &CSVSource{Path: belgiumFile, TimeColumn: "time", ValueColumn: "DAM_price", Layout: "02jan2006 15:04:05",
		Resample: ResampleHold, Empty: EmptySkip, Scale: 1}
	_, err = New(bad, 1)
	if err == nil || !strings.Contains(err.Error(), "eth.csv.path: "+belgiumFile+":50: value -0.0006999") || !strings.Contains(err.Error(), "out of range for a token price") {
		t.Errorf("negative prices as ETH: %v", err)
	}
}

func TestWorldInvalidConfig(t *testing.T) {
	c := DefaultConfig()
	c.ETH.Sigma = -1
	c.Locations[2].OU.HalfLifeDays = 0
	_, err := New(c, 1)
	var fe *fieldpath.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err %v is not a fieldpath error", err)
	}
	for _, p := range []string{"eth.sigma: must be in (0, 5], got -1", "locations[2].ou.half_life_days"} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestWorldColumns(t *testing.T) {
	w, err := New(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eth_usd", "hive_usd", "usdc_usd", "l1_base_fee_gwei", "blob_base_fee_wei", "l2_base_fee_gwei", "l2_tx_usd",
		"elec_germany_usd_per_kwh", "elec_sweden_usd_per_kwh", "elec_ireland_usd_per_kwh", "elec_italy_usd_per_kwh",
		"elec_texas_usd_per_kwh", "elec_virginia_usd_per_kwh", "elec_washington_usd_per_kwh", "elec_california_usd_per_kwh",
		"elec_hawaii_usd_per_kwh"}
	cols := w.Columns()
	if len(cols) != len(want) {
		t.Fatalf("%d columns, want %d", len(cols), len(want))
	}
	for i, c := range cols {
		if c.Name != want[i] {
			t.Errorf("column %d = %s, want %s", i, c.Name, want[i])
		}
	}
	if i, ok := w.Location("texas"); !ok || w.LocationName(i) != "texas" || w.NumLocations() != 9 {
		t.Errorf("Location(texas) = %d, %v", i, ok)
	}
	if _, ok := w.TxKind("attest"); !ok {
		t.Errorf("no attest kind")
	}
	if w.TicksPerYear() != 105120 {
		t.Errorf("ticks per year %g, want 105120", w.TicksPerYear())
	}
}

// TestWorldPricesStayInBand: a price path started at the lower bound dips below it
// within a few ticks as a free random walk; the world holds it at the bound, and it
// never goes outside [MinTokenUSD, MaxTokenUSD].
func TestWorldPricesStayInBand(t *testing.T) {
	for _, start := range []float64{MinTokenUSD, MaxTokenUSD} {
		c := DefaultConfig()
		c.ETH.InitialUSD, c.HIVE.InitialUSD = start, start
		w, err := New(c, 7)
		if err != nil {
			t.Fatal(err)
		}
		atBound := 0
		for k := 0; k < 500; k++ {
			w.Step()
			for _, p := range []float64{w.ETHUSD(), w.HIVEUSD()} {
				if !(p >= MinTokenUSD && p <= MaxTokenUSD) {
					t.Fatalf("start %g, tick %d: price %g outside [%g, %g]", start, k, p, MinTokenUSD, MaxTokenUSD)
				}
				if p == start {
					atBound++
				}
			}
		}
		if atBound == 0 {
			t.Errorf("start %g: no tick held at the bound; the test no longer exercises the clamp", start)
		}
	}
}
