package scoreboard

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/hivegym/hivegym/scheme"
)

// TestShippedScoreboard checks that the shipped scoreboard covers every scenario, both
// schemes, the three role setups and three seeds, and that each setup's population has
// the right groups learning.
func TestShippedScoreboard(t *testing.T) {
	b, err := LoadFile("../scoreboards/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Scenarios, data.Scenarios()) || !slices.Equal(b.Schemes, scheme.Names()) ||
		!slices.Equal(b.Setups, Setups) || len(b.Seeds) != 3 || b.Episodes != 20 {
		t.Fatalf("board %+v", b)
	}
	if n := b.Sweep.NumRuns(); n != 6*2*3*3 {
		t.Fatalf("%d runs, want 108", n)
	}
	runs := b.Sweep.Runs(sweep.Shard{})
	cells := b.Cells()
	want := map[string]string{SetupProviders: "ppo,scripted", SetupClients: "scripted,ppo", SetupBoth: "ppo,ppo"}
	for _, r := range runs {
		if r.Err != nil {
			t.Fatalf("run %d: %v", r.Index, r.Err)
		}
		c := cells[r.Index/len(b.Seeds)]
		var kinds []string
		for _, g := range r.Config.Population {
			kinds = append(kinds, g.Kind)
		}
		if strings.Join(kinds, ",") != want[c.Setup] || r.Config.World.Scenario.Name != c.Scenario || r.Config.Scheme.Scheme != c.Scheme ||
			r.Seed != b.Seeds[r.Index%len(b.Seeds)] {
			t.Fatalf("run %d (%s): cell %+v, kinds %v, scenario %s, scheme %s", r.Index, r.Name, c, kinds,
				r.Config.World.Scenario.Name, r.Config.Scheme.Scheme)
		}
		if r.Config.Training.Iterations != experiments.DefaultConfig().Training.Iterations {
			t.Fatalf("run %d does not train with the default budget", r.Index)
		}
	}
	// A learning group turned scripted gets its role's default strategy.
	pop := SetupPopulation(agents.DefaultPopulation(), SetupClients, agents.KindPPO)
	if pop[0].Kind != agents.KindScripted || pop[0].Strategy != "cost-plus" || pop[1].Kind != agents.KindPPO || pop[1].Protocol != agents.ProtocolScripted {
		t.Fatalf("clients setup %+v", pop)
	}
}

func TestSplice(t *testing.T) {
	a, b := MarkdownBegin("a")+"\nold a\n"+MarkdownEnd("a")+"\n", MarkdownBegin("b")+"\nold b\n"+MarkdownEnd("b")+"\n"
	// Prose that quotes a marker inside a line is not a marker.
	quote := "the markers `" + MarkdownBegin("b") + "` and `" + MarkdownEnd("b") + "` below\n"
	doc := quote + a + "y\n" + b + "z\n"
	got, err := Splice(doc, "b", MarkdownBegin("b")+"\nnew\n"+MarkdownEnd("b")+"\n")
	if err != nil || got != quote+a+"y\n"+MarkdownBegin("b")+"\nnew\n"+MarkdownEnd("b")+"\nz\n" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{"no markers", a, quote, MarkdownEnd("b") + "\n" + MarkdownBegin("b"), MarkdownBegin("b") + " x\n" + MarkdownEnd("b")} {
		if _, err := Splice(bad, "b", "x"); err == nil || !strings.Contains(err.Error(), MarkdownBegin("b")) {
			t.Fatalf("%q: error %v", bad, err)
		}
	}
}

// TestResultsByHand fills a store with hand-made run results and checks the strongest
// baseline, the pooling over seeds, the seeds above zero and the target against
// numbers worked out by hand.
func TestResultsByHand(t *testing.T) {
	dir := t.TempDir()
	src := "name: hand\nscenarios: [baseline]\nroles: [providers]\nseeds: [1, 2, 3]\neval:\n  baselines: [random, boulware]\n"
	b, err := Load(filepath.Join(dir, "hand.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, sharpe3 := range []float64{0.1, 1.1} {
		st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
		if err != nil {
			t.Fatal(err)
		}
		// Per seed: boulware's mean cumulative return 0.02 (random's 0.01), the paired
		// differences against boulware: cum. return 0.010, 0.012, 0.011 (each interval
		// above zero); Sharpe 1, 1.2 and sharpe3 (the third's interval reaching below zero).
		cum := []float64{0.010, 0.012, 0.011}
		sh := []float64{1, 1.2, sharpe3}
		shLo := []float64{0.5, 0.1, -0.5}
		for s, r := range b.Sweep.Runs(sweep.Shard{}) {
			if err := st.Add(ctx, store.Run{ID: r.ID, Sweep: r.Sweep, Index: r.Index, Name: r.Name, Params: r.Params,
				Config: r.ConfigYAML, Seed: r.Seed, Status: store.StatusPending}); err != nil {
				t.Fatal(err)
			}
			var ms []store.Metric
			put := func(key, name string, v float64) {
				ms = append(ms, store.Metric{Scope: store.ScopeGroup, Key: key, Role: "provider", Name: name, Value: v})
			}
			put("providers", "cumulative_return", 0.03)
			put("providers", "sharpe", 2)
			for _, bl := range []struct {
				name          string
				cr, dcr       float64
				dsh, dshLo    float64
				wins, n, ties float64
			}{{"random", 0.01, 0.02, 1, 0.2, 20, 20, 0}, {"boulware", 0.02, cum[s], sh[s], shLo[s], 15, 20, 1}} {
				key := "providers/" + bl.name
				put(key, "cumulative_return", bl.cr)
				put(key, "sharpe", 1)
				for _, d := range []struct {
					m            string
					mean, lo, hi float64
				}{{"cumulative_return", bl.dcr, bl.dcr / 2, bl.dcr * 2}, {"sharpe", bl.dsh, bl.dshLo, bl.dsh + 1}} {
					put(key, "diff."+d.m+".mean", d.mean)
					put(key, "diff."+d.m+".lo", d.lo)
					put(key, "diff."+d.m+".hi", d.hi)
					put(key, "diff."+d.m+".sd", 0.1)
					put(key, "diff."+d.m+".n", bl.n)
					put(key, "diff."+d.m+".wins", bl.wins)
					put(key, "diff."+d.m+".losses", bl.n-bl.wins-bl.ties)
					put(key, "diff."+d.m+".ties", bl.ties)
				}
			}
			if err := st.Finish(ctx, r.ID, store.Result{Status: store.StatusDone, Metrics: ms}); err != nil {
				t.Fatal(err)
			}
		}
		doc, err := b.Results(ctx, st)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Rows) != 1 || doc.Done != 3 {
			t.Fatalf("rows %d done %d", len(doc.Rows), doc.Done)
		}
		r := doc.Rows[0]
		bl := r.StrongestRow()
		if r.Strongest != "boulware" || bl == nil || r.SeedsAbove != 2 {
			t.Fatalf("strongest %q, seeds above %d", r.Strongest, r.SeedsAbove)
		}
		// Cum. return: mean 0.011, sd 0.001, t(0.975, 2) = 4.302652729749464.
		p := bl.Pooled["cumulative_return"]
		hw := 4.302652729749464 * 0.001 / math.Sqrt(3)
		if math.Abs(float64(p.Mean)-0.011) > 1e-15 || math.Abs(float64(p.CI95[0])-(0.011-hw)) > 1e-12 ||
			p.Wins != 45 || p.Ties != 3 || p.Episodes != 60 || p.SeedsAbove != 3 {
			t.Fatalf("pooled cum. return %+v, want 0.011 ± %g", p, hw)
		}
		// Sharpe with 0.1: mean 0.7667, sd 0.5859, half-width 1.456: the pooled interval
		// reaches below zero, no target. With 1.1: mean 1.1, sd 0.1, lower bound 0.852.
		q := bl.Pooled["sharpe"]
		if want := sharpe3 > 1; r.Meets != want || (float64(q.CI95[0]) > 0) != want {
			t.Fatalf("sharpe3 %g: meets %v, pooled Sharpe %+v", sharpe3, r.Meets, q)
		}
	}
}

// TestRoleScoreboardsAreTheShippedOnesSubsets: experiments/scoreboards/providers.yaml and
// clients.yaml (whose tables docs/training.md shows) each run exactly one role setup's cells
// of the shipped scoreboard, each seed with the same resolved config.
func TestRoleScoreboardsAreTheShippedOnesSubsets(t *testing.T) {
	full, err := LoadFile("../scoreboards/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		scenario, scheme string
		seed             uint64
	}
	fullCells := full.Cells()
	for _, f := range []struct{ file, setup string }{{"providers.yaml", SetupProviders}, {"clients.yaml", SetupClients}} {
		file, setup := f.file, f.setup
		sub, err := LoadFile("../scoreboards/" + file)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sub.Setups, []string{setup}) || !slices.Equal(sub.Seeds, full.Seeds) || sub.Episodes != full.Episodes {
			t.Fatalf("%s: board %+v", file, sub)
		}
		want := map[key]experiments.Config{}
		for _, r := range full.Sweep.Runs(sweep.Shard{}) {
			if c := fullCells[r.Index/len(full.Seeds)]; c.Setup == setup {
				want[key{c.Scenario, c.Scheme, r.Seed}] = r.Config
			}
		}
		subCells := sub.Cells()
		runs := sub.Sweep.Runs(sweep.Shard{})
		if len(runs) != len(want) || len(runs) != 6*2*3 {
			t.Fatalf("%s: %d runs, the shipped scoreboard has %d %s runs", file, len(runs), len(want), setup)
		}
		for _, r := range runs {
			c := subCells[r.Index/len(sub.Seeds)]
			w, ok := want[key{c.Scenario, c.Scheme, r.Seed}]
			if !ok || !reflect.DeepEqual(r.Config, w) {
				t.Fatalf("%s: run %d (%s): not the shipped scoreboard's %s run", file, r.Index, r.Name, setup)
			}
		}
	}
}
