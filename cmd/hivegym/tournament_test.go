package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyTournament = `name: tiny
seed: 2
episodes: 2
base:
  env:
    episode_ticks: 96
providers:
  - {name: cp, strategy: cost-plus}
  - {name: rnd, strategy: random-legal}
clients:
  - {name: budget, strategy: budget}
`

// Bad tournament files exit 2 with one line naming the file, the line and the key.
func TestTournamentBadInput(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"providers:\n  - {name: a, strategy: haggler}\nclients:\n  - {name: b, strategy: budget}\n", ":2: providers[0].strategy: unknown entrant strategy"},
		{"providers:\n  - {name: a, checkpoint: gone.safetensors}\nclients:\n  - {name: b, strategy: budget}\n", ":2: providers[0].checkpoint: missing checkpoint"},
		{"providers:\n  - {name: a, strategy: cost-plus}\nclients: []\n", ":3: clients: no client entrants"},
	} {
		p := writeFile(t, "t.yaml", tc.src)
		code, stdout, stderr := runCLI(t, "tournament", "-c", p, "--out", t.TempDir())
		wantOneErrorLine(t, code, stdout, stderr, p+tc.want)
	}
	p := writeFile(t, "t.yaml", tinyTournament)
	code, stdout, stderr := runCLI(t, "tournament", "-c", p, "--compare", "cp,budget")
	wantOneErrorLine(t, code, stdout, stderr, "--compare", "one role")
}

// The command prints the ratings, writes its files, and --shard plus runs merge plus
// --resume gives the same tournament.json as one run.
func TestTournamentShardsMerge(t *testing.T) {
	p := writeFile(t, "t.yaml", tinyTournament)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	code, stdout, stderr := runCLI(t, "tournament", "-c", p, "--workers", "2", "--out", whole)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "ratings: Bradley-Terry") || !strings.Contains(stdout, "head-to-head, provider cumulative return") {
		t.Errorf("stdout lacks the ratings or the payoff table:\n%s", stdout)
	}
	for i := range 2 {
		out := filepath.Join(dir, "s"+string(rune('0'+i)))
		code, _, stderr := runCLI(t, "tournament", "-c", p, "--shard", string(rune('0'+i))+"/2", "--out", out)
		if code != 0 || !strings.Contains(stderr, "merge the stores") {
			t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
		}
	}
	merged := filepath.Join(dir, "merged")
	if code, _, stderr := runCLI(t, "runs", "merge", "--out", filepath.Join(merged, "runs.db"), filepath.Join(dir, "s0"), filepath.Join(dir, "s1")); code != 0 {
		t.Fatalf("merge: %s", stderr)
	}
	code, stdout, stderr = runCLI(t, "tournament", "-c", p, "--out", merged, "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume on the merged store: exit %d: %s", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("--json: %v", err)
	}
	a, _ := os.ReadFile(filepath.Join(whole, "tournament.json"))
	b, _ := os.ReadFile(filepath.Join(merged, "tournament.json"))
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("merged shards' tournament.json differs from the unsharded one")
	}
	for _, f := range []string{"payoff.csv", "ratings.csv"} {
		if _, err := os.Stat(filepath.Join(whole, f)); err != nil {
			t.Error(err)
		}
	}
}
