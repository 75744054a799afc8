package experiments

import (
	"strings"
	"testing"
)

// The canonical encoding: a struct that gained zero-valued fields (a config key added
// later, left at its zero value) encodes as the struct without them, at any depth; a
// non-zero value of the new field, and zeros inside sequences, still show.
func TestCanonicalYAML(t *testing.T) {
	type innerOld struct {
		Rate float64 `yaml:"rate"`
	}
	type innerNew struct {
		Rate  float64 `yaml:"rate"`
		KL    float64 `yaml:"init_kl"`
		Name  string  `yaml:"name"`
		On    bool    `yaml:"on"`
		Ptr   *int    `yaml:"ptr"`
		Empty struct {
			N int `yaml:"n"`
		} `yaml:"empty"`
	}
	type old struct {
		Seed  uint64     `yaml:"seed"`
		PPO   innerOld   `yaml:"ppo"`
		Items []innerOld `yaml:"items"`
		Mults []float64  `yaml:"mults"`
	}
	type grown struct {
		Seed  uint64     `yaml:"seed"`
		PPO   innerNew   `yaml:"ppo"`
		Items []innerNew `yaml:"items"`
		Mults []float64  `yaml:"mults"`
		Extra int        `yaml:"extra"`
	}
	enc := func(v any) string {
		t.Helper()
		b, err := canonicalYAML(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a := old{Seed: 7, PPO: innerOld{Rate: 0.5}, Items: []innerOld{{Rate: 1}, {}}, Mults: []float64{0, 1.5}}
	b := grown{Seed: 7, PPO: innerNew{Rate: 0.5}, Items: []innerNew{{Rate: 1}, {}}, Mults: []float64{0, 1.5}}
	if enc(a) != enc(b) {
		t.Fatalf("zero-valued new keys changed the encoding:\n%s\nvs\n%s", enc(a), enc(b))
	}
	// Written out by hand: the zero rate of the second item goes, the item stays ({}),
	// and so does the zero multiplier.
	want := "seed: 7\nppo:\n    rate: 0.5\nitems:\n    - rate: 1\n    - {}\nmults:\n    - 0\n    - 1.5\n"
	if got := enc(b); got != want {
		t.Fatalf("encoding:\n%q\nwant\n%q", got, want)
	}
	b.PPO.KL = 0.1
	if !strings.Contains(enc(b), "init_kl: 0.1") || enc(a) == enc(b) {
		t.Fatalf("a non-zero new key is not in the encoding:\n%s", enc(b))
	}
	b.PPO.KL = 0
	b.Items[1].Name = "x"
	if enc(a) == enc(b) {
		t.Fatal("a non-zero key inside a sequence element does not show")
	}
	b.Items[1].Name = ""
	b.Mults[0] = 1
	if enc(a) == enc(b) {
		t.Fatal("a sequence element's value does not show")
	}
}

// HashForCheckpoint changes with what is learned and not with how long or where.
func TestHashForCheckpoint(t *testing.T) {
	base := DefaultConfig()
	h := base.HashForCheckpoint()
	if len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	same := DefaultConfig()
	same.Training.Iterations, same.Training.Workers, same.Training.CheckpointEvery = 999, 7, 3
	same.Training.PPO.Backend, same.Training.Device = "torch", "cuda"
	if same.HashForCheckpoint() != h {
		t.Fatal("run-only keys changed the hash")
	}
	for name, edit := range map[string]func(*Config){
		"init_kl":  func(c *Config) { c.Training.PPO.InitKL = 0.1 },
		"seed":     func(c *Config) { c.Seed++ },
		"ent_coef": func(c *Config) { c.Training.PPO.EntCoef = 0 },
		"num_envs": func(c *Config) { c.Training.NumEnvs++ },
		"scheme":   func(c *Config) { c.Scheme.MaxRounds++ },
		"ticks":    func(c *Config) { c.Env.EpisodeTicks++ },
		"anchor":   func(c *Config) { c.Env.Actions.ReservationAnchor = !c.Env.Actions.ReservationAnchor },
	} {
		c := DefaultConfig()
		edit(&c)
		if c.HashForCheckpoint() == h {
			t.Errorf("%s: the hash did not change", name)
		}
	}
}
