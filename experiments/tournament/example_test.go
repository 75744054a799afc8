package tournament

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// The shipped example's files stay valid as the formats evolve: the tournament parses
// with the entrants, schemes and scenarios its README describes, and the two training
// configs pass the config checks. The runs it names exist only after run.sh trains
// them, so the tournament is parsed in a copy of the tree with stand-in runs.
func TestShippedExample(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "tournaments")
	src, err := os.ReadFile(filepath.Join(dir, "tournament.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	file := filepath.Join(root, "examples", "tournaments", "tournament.yaml")
	for run, group := range map[string]string{"default": "providers", "league": "providers", "clients": "clients"} {
		cfg := []byte("seed: 1\n")
		if run != "default" {
			if cfg, err = os.ReadFile(filepath.Join(dir, run+".yaml")); err != nil {
				t.Fatal(err)
			}
		}
		rd := filepath.Join(root, "runs", "tournaments", run)
		if err := os.MkdirAll(filepath.Join(rd, "checkpoints"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rd, "config.yaml"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		saveCheckpoint(t, filepath.Join(rd, "checkpoints", group+"-latest.safetensors"), "", "")
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	names := func(r int) []string {
		var out []string
		for _, e := range tr.Entrants[r] {
			out = append(out, e.Name)
		}
		return out
	}
	if got, want := names(0), []string{"default", "league", "cost-plus", "boulware", "conceder", "tit-for-tat", "kalman", "random-legal"}; !slices.Equal(got, want) {
		t.Errorf("providers %v, want %v", got, want)
	}
	if got, want := names(1), []string{"budget", "boulware-c", "conceder-c", "tit-for-tat-c", "accepter", "trained"}; !slices.Equal(got, want) {
		t.Errorf("clients %v, want %v", got, want)
	}
	if len(tr.Schemes) != 2 || len(tr.Scenarios) != 2 {
		t.Errorf("schemes %v, scenarios %v: want both schemes and two scenarios", tr.Schemes, tr.Scenarios)
	}
	// 8 x 6 head-to-head pairs; a mixed market per entrant of the other role, in every
	// rotation of the sharing role's entrants: 6 x 8 for the providers, 8 x 6 for the
	// clients.
	if want := 8*6 + 6*8 + 8*6; len(tr.Matchups) != want {
		t.Errorf("%d matchups, want %d", len(tr.Matchups), want)
	}
	for _, f := range []string{"league.yaml", "clients.yaml"} {
		cfg, err := experiments.LoadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
