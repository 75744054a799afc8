package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments/store"
)

// writeStore writes a run store holding a 2 x 2 grid (metrics.eta x scenario) times
// 3 seeds, 12 runs, of which one failed. The providers' Sharpe ratio of seed s at
// (eta, scenario) is base[s] + 10*[eta=0.1] + 100*[gas-spike] with base = 1, 2, 6.
func writeStore(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	i := 0
	for _, eta := range []string{"0.01", "0.1"} {
		for _, scen := range []string{"baseline", "gas-spike"} {
			for s := uint64(1); s <= 3; s++ {
				params := fmt.Sprintf(`{"metrics.eta":%s,"world.scenario.name":%q}`, eta, scen)
				run := store.Run{ID: fmt.Sprintf("run%02d", i), Sweep: "grid", Index: i,
					Name: fmt.Sprintf("metrics.eta=%s,world.scenario.name=%s,seed=%d", eta, scen, s), Params: params, Config: "seed: 1\n", Seed: s,
					Status: store.StatusPending}
				if err := st.Add(ctx, run); err != nil {
					t.Fatal(err)
				}
				if eta == "0.1" && scen == "gas-spike" && s == 3 {
					if err := st.Finish(ctx, run.ID, store.Result{Status: store.StatusFailed, Error: "market: invalid combination"}); err != nil {
						t.Fatal(err)
					}
					i++
					continue
				}
				sharpe := []float64{1, 2, 6}[s-1]
				if eta == "0.1" {
					sharpe += 10
				}
				if scen == "gas-spike" {
					sharpe += 100
				}
				res := store.Result{Status: store.StatusDone, Metrics: []store.Metric{
					{Scope: store.ScopeGroup, Key: "providers", Role: "provider", Name: "sharpe", Value: sharpe},
					{Scope: store.ScopeGroup, Key: "clients", Role: "client", Name: "sharpe", Value: 0.5},
					{Scope: store.ScopeAgent, Key: "p-0", Role: "provider", Name: "sharpe", Value: 99},
				}, Curves: []store.CurvePoint{{Iteration: 0, Metric: "charts/episodic_return", Value: 1}}}
				if err := st.Finish(ctx, run.ID, res); err != nil {
					t.Fatal(err)
				}
				i++
			}
		}
	}
}

func TestFromStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.db")
	writeStore(t, path)
	sweeps, err := readStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(sweeps) != 1 || sweeps[0].Name != "grid" || len(sweeps[0].Rows) != 12 {
		t.Fatalf("sweeps %+v", sweeps)
	}
	s := sweeps[0]
	if strings.Join(s.Params, ",") != "metrics.eta,world.scenario.name" {
		t.Errorf("params %v", s.Params)
	}
	r := s.Rows[11]
	if r.Status != "failed" || r.Error != "market: invalid combination" || strings.Join(r.Values, ",") != "0.1,gas-spike" || r.Seed != 3 {
		t.Errorf("last row %+v", r)
	}
	r = s.Rows[0]
	if r.Status != "done" || len(r.Metrics) != 2 { // the agent-scope metric is left out
		t.Errorf("first row %+v", r)
	}
}

// TestSweepFromStore: the sweep section from a store (--store), with the failed run
// listed and the intervals of the table checked by hand; and the same from a sweep's
// output directory given as a run directory.
func TestSweepFromStore(t *testing.T) {
	dir := t.TempDir()
	sweepDir := filepath.Join(dir, "sweep-out")
	os.MkdirAll(sweepDir, 0o755)
	path := filepath.Join(sweepDir, "runs.db")
	writeStore(t, path)
	run := writeFixture(t, dir, fixture{name: "one", kind: "eval", seed: 1, seeds: []uint64{1}, ticks: 50, iters: 3, skill: 1, status: "done",
		omit: map[string]bool{fileCurves: true, fileEquity: true, fileMarket: true, fileSeries: true, fileThreads: true}})
	out := filepath.Join(dir, "out")
	if *keep != "" {
		out = *keep + "-store"
	}
	for _, c := range []struct {
		dirs []string
		opts Options
	}{
		{[]string{run}, Options{Store: path}},
		{[]string{run}, Options{Store: sweepDir}}, // the directory that holds runs.db
		{[]string{sweepDir}, Options{}},           // a sweep's output directory
	} {
		page, res := generate(t, c.dirs, out, c.opts)
		checkImages(t, out, page, res)
		ids := sectionsOf(page)
		if ids[len(ids)-1] != "sweep" {
			t.Fatalf("sections %v", ids)
		}
		if !strings.Contains(page, "Sweep grid: 12 runs (11 done, 1 failed, 0 not finished)") {
			t.Errorf("no sweep summary")
		}
		rows := cellsOf(t, page, "Sweep grid, group providers (provider)")
		if len(rows) != 4 {
			t.Fatalf("%d rows", len(rows))
		}
		// (0.01, baseline): 1, 2, 6 -> 3 ± 4.302653*sqrt(7/3) = 3 ± 6.57241.
		if got := strings.Join(rows[0], "|"); got != "0.01|baseline|3|3 [-3.572, 9.572]" {
			t.Errorf("row 0 %q", got)
		}
		// (0.1, gas-spike): 111, 112 (seed 3 failed): s = sqrt(0.5), half-width
		// t(0.975, 1) * s / sqrt(2) = 12.7062 * 0.5 = 6.3531.
		if got := strings.Join(rows[3], "|"); got != "0.1|gas-spike|2|111.5 [105.1, 117.9]" {
			t.Errorf("row 3 %q", got)
		}
		fr := cellsOf(t, page, "Failed runs of sweep grid")
		if len(fr) != 1 || fr[0][len(fr[0])-1] != "market: invalid combination" {
			t.Errorf("failed runs %q", fr)
		}
	}
}
