package tournament

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/experiments"
)

const okClients = `
clients:
  - {name: budget, strategy: budget}
`

// saveCheckpoint writes a fresh PPO learner for the default config's environment, with
// the spaces obs and act recorded (empty: the environment's own).
func saveCheckpoint(t *testing.T, path, obs, act string) {
	t.Helper()
	cfg := experiments.DefaultConfig()
	o, a, err := experiments.Spaces(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if obs == "" {
		obs = o
	}
	if act == "" {
		act = a
	}
	e, err := env.New(cfg.Settings())
	if err != nil {
		t.Fatal(err)
	}
	l, err := ppo.New("x", cfg.Training.PPO, env.ObsDim, e.NumActions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	meta := map[string]string{checkpoint.MetaObsSpace: obs, checkpoint.MetaActionSpace: act}
	if filepath.Base(path) == "client.safetensors" {
		meta[experiments.MetaRole] = "client"
	}
	if err := l.Save(&b, meta); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	saveCheckpoint(t, filepath.Join(dir, "good.safetensors"), "", "")
	saveCheckpoint(t, filepath.Join(dir, "other-actions.safetensors"), "", "discrete(99) actions:0123456789ab")
	saveCheckpoint(t, filepath.Join(dir, "other-obs.safetensors"), "box(3) features:0123456789ab", "")
	saveCheckpoint(t, filepath.Join(dir, "client.safetensors"), "", "")
	if err := os.MkdirAll(filepath.Join(dir, "run", "checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run", "config.yaml"), []byte("seed: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown strategy", "providers:\n  - name: a\n    strategy: haggler\n" + okClients,
			`t.yaml:3: providers[0].strategy: unknown entrant strategy "haggler"`},
		{"unknown param", "providers:\n  - name: a\n    strategy: cost-plus\n    params: {greed: 2}\n" + okClients,
			`t.yaml:4: providers[0].params.greed: unknown parameter of cost-plus`},
		{"missing checkpoint", "providers:\n  - name: a\n    checkpoint: nope.safetensors\n" + okClients,
			`t.yaml:3: providers[0].checkpoint: missing checkpoint`},
		{"run without checkpoint", "providers:\n  - name: a\n    run: run\n" + okClients,
			`t.yaml:3: providers[0].run: missing checkpoint`},
		{"not a run", "providers:\n  - name: a\n    run: nowhere\n" + okClients,
			`t.yaml:3: providers[0].run: `},
		{"other action space", "providers:\n  - name: a\n    checkpoint: other-actions.safetensors\n" + okClients,
			`t.yaml:3: providers[0].checkpoint: under scheme compute-marketplace: `},
		{"other observation space", "providers:\n  - name: a\n    checkpoint: other-obs.safetensors\n" + okClients,
			`observation space "box(3) features:0123456789ab"`},
		{"other role", "providers:\n  - name: a\n    checkpoint: client.safetensors\n" + okClients,
			`t.yaml:3: providers[0].checkpoint: under scheme compute-marketplace: client.safetensors: a client policy (group "x"), not a provider one`},
		{"empty role", "providers:\n  - {name: a, strategy: cost-plus}\nclients: []\n",
			`t.yaml:3: clients: no client entrants`},
		{"missing role", "providers:\n  - {name: a, strategy: cost-plus}\n",
			`clients: no client entrants`},
		{"unknown key", "providers:\n  - {name: a, strategy: cost-plus, colour: red}\n" + okClients,
			`t.yaml:2: providers[0].colour: unknown key "colour"`},
		{"two kinds", "providers:\n  - {name: a, strategy: cost-plus, checkpoint: good.safetensors}\n" + okClients,
			`t.yaml:2: providers[0].strategy: an entrant is exactly one of`},
		{"duplicate name", "providers:\n  - {name: budget, strategy: cost-plus}\n" + okClients,
			`t.yaml:5: clients[0].name: "budget" names two entrants (the other is providers[0])`},
		{"bad name", "providers:\n  - {name: A!, strategy: cost-plus}\n" + okClients,
			`t.yaml:2: providers[0].name: must be 1 to 64`},
		{"unknown scenario", "scenarios: [baseline, moon-landing]\nproviders:\n  - {name: a, strategy: cost-plus}\n" + okClients,
			`t.yaml:1: scenarios: `},
		{"empty schemes", "schemes: []\nproviders:\n  - {name: a, strategy: cost-plus}\n" + okClients,
			`t.yaml:1: schemes: empty list`},
		{"bad metric", "rating: {metric: luck}\nproviders:\n  - {name: a, strategy: cost-plus}\n" + okClients,
			`t.yaml:1: rating.metric: must be one of`},
		{"no matchup", "matchups: [mixed]\nproviders:\n  - {name: a, strategy: cost-plus}\n" + okClients,
			`matchups: no matchup to play`},
		{"episodes", "episodes: 1\nproviders:\n  - {name: a, strategy: cost-plus}\n" + okClients,
			`t.yaml:1: episodes: must be in [2, 10000]`},
		{"second document", "providers: []\n---\nclients: []\n", `t.yaml:2: `},
		{"anchor", "providers:\n  - &a {name: a, strategy: cost-plus}\nclients:\n  - *a\n", `anchors and aliases`},
		{"empty file", "", `t.yaml:1: providers: empty tournament file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "t.yaml")
			tr, err := Parse(file, []byte(tc.src))
			if err == nil {
				_, err = tr.Sweep()
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to contain %q", msg, tc.want)
			}
			if strings.Count(msg, "\n") > 0 && tc.name != "second document" {
				t.Logf("multi-line error: %q", msg)
			}
		})
	}
	// A checkpoint of the environment's spaces is accepted.
	tr, err := Parse(filepath.Join(dir, "t.yaml"), []byte("providers:\n  - {name: a, checkpoint: good.safetensors}\n"+okClients))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Sweep(); err != nil {
		t.Fatalf("good checkpoint: %v", err)
	}
}
