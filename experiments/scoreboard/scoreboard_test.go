package scoreboard

import (
	"slices"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
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
	doc := "a\n" + MarkdownBegin + "\nold\n" + MarkdownEnd + "\nb\n"
	got, err := Splice(doc, MarkdownBegin+"\nnew\n"+MarkdownEnd+"\n")
	if err != nil || got != "a\n"+MarkdownBegin+"\nnew\n"+MarkdownEnd+"\nb\n" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := Splice("no markers", "x"); err == nil {
		t.Fatal("no markers: no error")
	}
}
