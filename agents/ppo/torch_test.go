//go:build torch

package ppo

import (
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	_ "github.com/hivegym/hivegym/agents/torchnn" // registers the "torch" backend
)

// The learner tests on the libtorch backend (go test -tags torch): the same toy
// problems must be learned.
func TestTorchLearnBandit(t *testing.T) { learnBandit(t, "torch") }

func TestTorchLearnChain(t *testing.T) { learnChain(t, "torch") }

// From identical initial weights, one update on the same rollout moves both backends'
// parameters to within float32 rounding of each other.
func TestTorchMatchesGoOneUpdate(t *testing.T) {
	env := newBandit(2)
	run := func(backend string) *Learner {
		cfg := toyConfig()
		cfg.Backend = backend
		l, err := New("parity", cfg, env.nCtx, env.nAct, 2)
		if err != nil {
			t.Fatal(err)
		}
		runBandit(t, l, newBandit(2), l.NewBuffer(), nil2rand(), 32, 4, 1)
		return l
	}
	g, c := run("go"), run("torch")
	ga, gc := g.Params()
	ta, tc := c.Params()
	for _, pair := range [][2][]nn.Param{{ga, ta}, {gc, tc}} {
		for i := range pair[0] {
			for j, x := range pair[0][i].Data {
				if y := pair[1][i].Data[j]; abs32(x-y) > 1e-4 {
					t.Fatalf("%s[%d]: go %g, torch %g", pair[0][i].Name, j, x, y)
				}
			}
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
