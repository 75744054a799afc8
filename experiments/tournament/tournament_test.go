package tournament

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
)

// flatWorld keeps token prices still, so that an agent's return is what it earned
// negotiating, and episodes short.
const flatWorld = `
base:
  env:
    episode_ticks: 144
  world:
    eth: {sigma: 0.000001, jumps: {rate_per_year: 0}}
    hive: {correlation: 1}
`

// dominance is a tournament where cost-plus providers (margin 0.3, and a twin) must beat
// a provider that rejects every request: facing budget clients, which concede up to
// their value, cost-plus closes deals at a margin over its cost, the rejecter closes
// none and pays for its idle machines.
const dominance = "name: dominance\nseed: 1\nepisodes: 3\n" + flatWorld + `
providers:
  - name: cp-30
    strategy: cost-plus
    params: {margin: 0.3}
  - name: cp-30-twin
    strategy: cost-plus
    params: {margin: 0.3}
  - name: rejecter
    strategy: rejecter
clients:
  - name: budget
    strategy: budget
  - name: conceder
    strategy: conceder
`

func writeTest(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// play runs shard (zero: all) of the tournament in file into the store at path.
func play(t *testing.T, file, path string, shard sweep.Shard) (*Tournament, *sweep.Sweep, *store.Store) {
	t.Helper()
	tr, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := tr.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sum, err := sweep.Execute(context.Background(), sw, st, tr.RunFunc(), sweep.Options{Workers: 2, Shard: shard})
	if err != nil || sum.Failed > 0 {
		t.Fatalf("execute: %v, summary %+v", err, sum)
	}
	return tr, sw, st
}

func rating(t *testing.T, res *Results, name string) RatingRow {
	t.Helper()
	for _, r := range res.Ratings {
		if r.Entrant == name {
			return r
		}
	}
	t.Fatalf("no rating for %s", name)
	return RatingRow{}
}

func TestDominantEntrant(t *testing.T) {
	dir := t.TempDir()
	file := writeTest(t, dir, "dominance.yaml", dominance)
	tr, sw, st := play(t, file, filepath.Join(dir, "runs.db"), sweep.Shard{})
	res, err := tr.Results(context.Background(), sw, st, [2]string{"cp-30", "rejecter"})
	if err != nil {
		t.Fatal(err)
	}
	cp, twin, rej := rating(t, res, "cp-30"), rating(t, res, "cp-30-twin"), rating(t, res, "rejecter")
	if !(cp.Rating > rej.Rating && twin.Rating > rej.Rating) {
		t.Errorf("ratings cp-30 %g, twin %g, rejecter %g: the rejecter should be last", cp.Rating, twin.Rating, rej.Rating)
	}
	if !(rej.CI95[1] < cp.Rating && rej.CI95[1] < twin.Rating) {
		t.Errorf("the rejecter's interval %v reaches the cost-plus ratings %g, %g", rej.CI95, cp.Rating, twin.Rating)
	}
	for _, pair := range [][2]RatingRow{{cp, twin}, {twin, cp}} {
		if !(pair[0].CI95[0] <= pair[1].Rating && pair[1].Rating <= pair[0].CI95[1]) {
			t.Errorf("%s's interval %v does not contain its twin %s's rating %g", pair[0].Entrant, pair[0].CI95, pair[1].Entrant, pair[1].Rating)
		}
	}
	// Payoff signs, head-to-head: cost-plus earns, the rejecter loses and deals never.
	for _, client := range []string{"budget", "conceder"} {
		if m := find(res.HeadToHead, "cp-30", client, "provider", experiments.MetricCumulativeReturn); !(m.Mean > 0 && m.CI95[0] > 0) {
			t.Errorf("cp-30 vs %s: provider return %+v, want positive", client, m)
		}
		if m := find(res.HeadToHead, "rejecter", client, "provider", experiments.MetricCumulativeReturn); !(m.Mean < 0) {
			t.Errorf("rejecter vs %s: provider return %+v, want negative", client, m)
		}
		if m := find(res.HeadToHead, "rejecter", client, "market", experiments.MarketDealRate); m.Mean != 0 {
			t.Errorf("rejecter vs %s: deal rate %v, want 0", client, m.Mean)
		}
	}
	// The paired difference cp-30 - rejecter is positive against every client, in both
	// kinds of matchup.
	if len(res.Compare) == 0 {
		t.Fatal("no paired comparisons")
	}
	for _, c := range res.Compare {
		if c.Metric == experiments.MetricCumulativeReturn && !(c.Value.CI95[0] > 0) {
			t.Errorf("%s %s vs %s: difference %+v, want an interval above 0", c.Kind, c.Entrant, c.Opponent, c.Value)
		}
	}
	if res.Units != 3 || len(res.Scenarios) != 1 || len(res.Schemes) != 1 {
		t.Errorf("units %d, scenarios %v, schemes %v", res.Units, res.Scenarios, res.Schemes)
	}
}

// Shards 0/2 and 1/2 merged give the results of the unsharded tournament, byte for
// byte, and two unsharded runs agree.
func TestShardsMergeEqualUnsharded(t *testing.T) {
	dir := t.TempDir()
	src := "name: small\nseed: 5\nepisodes: 2\nschemes: [compute-marketplace, coophive-apiary]\n" + flatWorld + `
providers:
  - {name: cp, strategy: cost-plus}
  - {name: rnd, strategy: random-legal}
clients:
  - {name: budget, strategy: budget}
`
	file := writeTest(t, dir, "small.yaml", src)
	results := func(tr *Tournament, sw *sweep.Sweep, st *store.Store) string {
		res, err := tr.Results(context.Background(), sw, st, [2]string{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	whole := results(play(t, file, filepath.Join(dir, "whole.db"), sweep.Shard{}))
	again := results(play(t, file, filepath.Join(dir, "again.db"), sweep.Shard{}))
	if whole != again {
		t.Errorf("two runs differ:\n%s\n%s", whole, again)
	}
	tr, sw, s0 := play(t, file, filepath.Join(dir, "s0.db"), sweep.Shard{Index: 0, Count: 2})
	_, _, s1 := play(t, file, filepath.Join(dir, "s1.db"), sweep.Shard{Index: 1, Count: 2})
	if _, err := tr.Results(context.Background(), sw, s0, [2]string{}); err == nil || !strings.Contains(err.Error(), "not done") {
		t.Errorf("results of one shard: err %v, want incomplete", err)
	}
	merged, err := store.Open(filepath.Join(dir, "merged.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	if _, err := store.Merge(context.Background(), merged, s0, s1); err != nil {
		t.Fatal(err)
	}
	if got := results(tr, sw, merged); got != whole {
		t.Errorf("merged shards differ from the unsharded tournament:\n%s\n%s", got, whole)
	}
	var res Results
	if err := json.Unmarshal([]byte(whole), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Ratings) != 2 || math.IsNaN(float64(res.Ratings[0].Rating)) {
		t.Errorf("ratings %+v", res.Ratings)
	}
}
