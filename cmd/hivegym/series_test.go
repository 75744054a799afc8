package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func seriesCSV(t *testing.T, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "s")
	code, _, stderr := runCLI(t, append([]string{"series", "--ticks", "300", "--plots=false", "--out", out}, args...)...)
	if code != 0 {
		t.Fatalf("series %v: exit %d: %s", args, code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "series.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSeriesDeterministic(t *testing.T) {
	a := seriesCSV(t, "--seed", "5")
	b := seriesCSV(t, "--seed", "5")
	c := seriesCSV(t, "--seed", "6")
	if !bytes.Equal(a, b) {
		t.Error("same seed: series.csv differs")
	}
	if bytes.Equal(a, c) {
		t.Error("another seed: series.csv is the same")
	}
	lines := strings.Split(strings.TrimSpace(string(a)), "\n")
	if len(lines) != 301 {
		t.Errorf("%d lines, want a header and 300 rows", len(lines))
	}
	for _, col := range []string{"time", "eth_usd", "hive_usd", "l1_base_fee_gwei", "l2_tx_usd", "elec_germany_usd_per_kwh", "elec_hawaii_usd_per_kwh"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %s", lines[0], col)
		}
	}
	if !strings.HasPrefix(lines[1], "2024-01-01T00:00:00Z,2300,1,1,15,") || !strings.HasPrefix(lines[2], "2024-01-01T00:05:00Z,") {
		t.Errorf("rows start %q / %q", lines[1], lines[2])
	}
	// A scenario inside the window changes the series (a gas spike at tick 100).
	cfg := writeFile(t, "c.yaml", "world:\n  scenario:\n    gas_spike: {at_tick: 100, duration: 1h, factor: 20}\n")
	if d := seriesCSV(t, "--seed", "5", "-c", cfg, "--scenario", "gas-spike"); bytes.Equal(a, d) {
		t.Error("gas-spike at tick 100 did not change series.csv")
	}
}

func TestSeriesJSONAndFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s")
	code, stdout, stderr := runCLI(t, "series", "--ticks", "600", "--out", out, "--scenario", "heatwave", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Seed     uint64
		Scenario string
		Ticks    int
		Files    []string
		Series   []struct {
			Name   string
			Unit   string
			Mean   float64
			AnnVol *float64 `json:"annual_volatility"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if rep.Seed != 1 || rep.Scenario != "heatwave" || rep.Ticks != 600 || len(rep.Series) != 16 {
		t.Errorf("report %+v", rep)
	}
	for _, s := range rep.Series {
		if (s.AnnVol != nil) != (s.Unit == "USD" && strings.HasSuffix(s.Name, "_usd") && s.Name != "l2_tx_usd") {
			t.Errorf("%s: annual volatility %v (prices only)", s.Name, s.AnnVol)
		}
	}
	for _, name := range []string{"tokens.png", "l1_gas.png", "l2_cost.png", "electricity.png", "elec_texas.png", "config.yaml"} {
		p := filepath.Join(out, name)
		f, err := os.Open(p)
		if err != nil {
			t.Errorf("missing %s", name)
			continue
		}
		if strings.HasSuffix(name, ".png") {
			if _, err := png.Decode(f); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		f.Close()
	}
	// The written config reproduces the run.
	code, _, stderr = runCLI(t, "config", "validate", filepath.Join(out, "config.yaml"))
	if code != 0 {
		t.Errorf("written config does not validate: %s", stderr)
	}
}

func TestSeriesSummaryTable(t *testing.T) {
	code, stdout, stderr := runCLI(t, "series", "--ticks", "50", "--plots=false", "--out", filepath.Join(t.TempDir(), "s"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, frag := range []string{"50 ticks of 5m0s from 2024-01-01T00:00:00Z, seed 1, scenario baseline", "ann. vol", "eth_usd", "elec_hawaii_usd_per_kwh"} {
		if !strings.Contains(stdout, frag) {
			t.Errorf("summary lacks %q:\n%s", frag, stdout)
		}
	}
}

func TestSeriesBadInput(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCLI(t, "series", "--scenario", "meteor", "--out", dir)
	wantOneErrorLine(t, code, out, stderr, `unknown scenario "meteor"`, "token-crash", "demand-surge")
	code, out, stderr = runCLI(t, "series", "--ticks", "1", "--out", dir)
	wantOneErrorLine(t, code, out, stderr, "--ticks must be between 2")

	// A CSV source with a problem exits 2 naming the file and the line.
	files := map[string]string{
		"nonmono.csv": "Date,Close\n2024-01-02,1\n2024-01-01,2\n",
		"nan.csv":     "Date,Close\n2024-01-01,1\n2024-01-02,2\n2024-01-03,NaN\n",
		"nocol.csv":   "Date,Price\n2024-01-01,1\n",
	}
	want := map[string]string{"nonmono.csv": ":3: timestamp", "nan.csv": ":4: value \"NaN\"", "nocol.csv": ":1: no column \"Close\""}
	for name, content := range files {
		p := writeFile(t, name, content)
		cfg := writeFile(t, "c.yaml", "world:\n  eth:\n    source: csv\n    csv:\n      path: "+p+
			"\n      time_column: Date\n      value_column: Close\n      layout: \"2006-01-02\"\n")
		code, out, stderr := runCLI(t, "series", "-c", cfg, "--ticks", "10", "--out", dir)
		wantOneErrorLine(t, code, out, stderr, p+want[name])
	}
	// A world key out of range is bad input naming the key.
	cfg := writeFile(t, "c.yaml", "world:\n  eth:\n    sigma: -1\n")
	code, out, stderr = runCLI(t, "series", "-c", cfg, "--ticks", "10", "--out", dir)
	if code != exitBadInput || out != "" || !strings.Contains(stderr, "world.eth.sigma") {
		t.Errorf("bad sigma: exit %d, stderr %q", code, stderr)
	}
}
