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
	// The same config given with -c plays the run's league pool too (it once exited with
	// "no league pool for group rivals"), and scores the same.
	code, outC, errOut := runCLI(t, "eval", dir, "-c", filepath.Join(dir, "config.yaml"), "--episodes", "2", "--seed", "3")
	if code != exitOK || outC != out {
		t.Fatalf("eval -c: exit %d: %s %s\nwant\n%s", code, outC, errOut, out)
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

// TestTrainInitCLI warm-starts a ppo group from a trained run's checkpoint, and checks
// that an init on a group that does not learn, a missing init file and a checkpoint of
// another action space each exit 2 naming the file, line and key.
func TestTrainInitCLI(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if code, _, errOut := runCLI(t, "train", "-c", writeFile(t, "tiny.yaml", tinyYAML), "--out", src); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	ckpt := filepath.Join(src, "checkpoints", "providers-latest.safetensors")
	initPop := strings.Replace(leaguePop, "    kind: ppo\n    share: 0.5\n", "    kind: ppo\n    share: 0.5\n    init: "+ckpt+"\n", 1)
	if initPop == leaguePop {
		t.Fatal("the population has no ppo group to warm-start")
	}
	dir := filepath.Join(t.TempDir(), "warm")
	if code, _, errOut := runCLI(t, "train", "-c", writeFile(t, "warm.yaml", tinyYAML+initPop), "--out", dir); code != exitOK {
		t.Fatalf("train with init: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil || !strings.Contains(string(b), "init: "+ckpt) {
		t.Errorf("the run's config.yaml does not record the init checkpoint: %v", err)
	}

	// A client checkpoint: the clients' action space, not the providers'.
	clients := tinyYAML + `
population:
  - name: providers
    role: provider
    kind: scripted
    strategy: cost-plus
    share: 1
  - name: clients
    role: client
    kind: ppo
    share: 1
`
	csrc := filepath.Join(t.TempDir(), "csrc")
	if code, _, errOut := runCLI(t, "train", "-c", writeFile(t, "c.yaml", clients), "--out", csrc); code != exitOK {
		t.Fatalf("train clients: exit %d: %s", code, errOut)
	}
	bad := []struct{ old, new, want string }{
		{"    strategy: budget\n", "    strategy: budget\n    init: " + ckpt + "\n", "population[2].init: only a ppo group starts from a checkpoint"},
		{"    init: " + ckpt + "\n", "    init: nowhere.safetensors\n", "population[0].init: nowhere.safetensors: no such file"},
		{"    init: " + ckpt + "\n", "    init: " + filepath.Join(csrc, "checkpoints", "clients-latest.safetensors") + "\n", `a client policy (group "clients"), not a provider one`},
	}
	for _, c := range bad {
		src := strings.Replace(tinyYAML+initPop, c.old, c.new, 1)
		out := filepath.Join(t.TempDir(), "bad")
		code, stdout, stderr := runCLI(t, "train", "-c", writeFile(t, "warm.yaml", src), "--out", out)
		wantOneErrorLine(t, code, stdout, stderr, c.want)
		if !strings.Contains(stderr, "warm.yaml:") {
			t.Errorf("%q: the error does not name the file and line: %s", c.new, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%q: the run directory was created", c.new)
		}
	}
}
