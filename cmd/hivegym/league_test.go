package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const leaguePop = `
population:
  - name: providers
    role: provider
    kind: ppo
    share: 0.5
  - name: rivals
    role: provider
    kind: league
    share: 0.5
    league:
      pool:
        - snapshot: providers
          every: 1
        - strategy: boulware
  - name: clients
    role: client
    kind: scripted
    strategy: budget
    share: 1
`

// TestTrainLeagueCLI trains and evaluates a league config from the command line, and
// checks that bad pools exit 2 with one line naming the file, line and key (or the
// checkpoint file), before anything is written.
func TestTrainLeagueCLI(t *testing.T) {
	cfg := writeFile(t, "league.yaml", tinyYAML+leaguePop)
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := runCLI(t, "train", "-c", cfg, "--out", dir); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "league.csv"))
	if err != nil || strings.Count(string(b), "\n") != 1+2*2 {
		t.Fatalf("league.csv: %v %q", err, b)
	}
	code, out, errOut := runCLI(t, "eval", dir, "--episodes", "2", "--seed", "3")
	if code != exitOK || !strings.Contains(out, "rivals") || !strings.Contains(out, "league") {
		t.Fatalf("eval: exit %d: %s %s", code, out, errOut)
	}

	bad := []struct{ old, new, want string }{
		{"        - strategy: boulware\n", "        - strategy: boulware\n          every: 2\n", "league.yaml:51: population[1].league.pool[1].every"},
		{"        - strategy: boulware\n", "        - strategy: boulware\n          colour: red\n", "league.yaml:51: population[1].league.pool[1].colour"},
		{"          every: 1\n", "          every: 1\n          checkpoint: x.safetensors\n", "population[1].league.pool[0].snapshot"},
		{"        - strategy: boulware\n", "        - checkpoint: nowhere.safetensors\n", "league.yaml:50: population[1].league.pool[1].checkpoint: nowhere.safetensors: no such file"},
	}
	for _, c := range bad {
		src := strings.Replace(tinyYAML+leaguePop, c.old, c.new, 1)
		cfg := writeFile(t, "league.yaml", src)
		out := filepath.Join(t.TempDir(), "bad")
		code, stdout, stderr := runCLI(t, "train", "-c", cfg, "--out", out)
		wantOneErrorLine(t, code, stdout, stderr, c.want)
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%q: the run directory was created", c.new)
		}
	}
}
