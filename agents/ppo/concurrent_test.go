package ppo

import (
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// Running the critic's passes beside the actor's (Act and Update with the go backend)
// gives bit-identical parameters and rollouts to running everything in series.
func TestConcurrentMatchesSerial(t *testing.T) {
	run := func(serial bool) (means []float64, actor, critic []float32) {
		env := newBandit(1)
		l, err := New("bandit", toyConfig(), env.nCtx, env.nAct, 1)
		if err != nil {
			t.Fatal(err)
		}
		l.serial = serial
		if l.concurrent() == serial {
			t.Fatalf("serial=%v but concurrent()=%v", serial, l.concurrent())
		}
		means = runBandit(t, l, env, l.NewBuffer(), rng.New(1, "act"), 2*minConcurrentBatch, 4, 6)
		a, c := l.Params()
		for _, p := range a {
			actor = append(actor, p.Data...)
		}
		for _, p := range c {
			critic = append(critic, p.Data...)
		}
		return means, actor, critic
	}
	m0, a0, c0 := run(true)
	m1, a1, c1 := run(false)
	same := func(what string, x, y []float32) {
		t.Helper()
		if len(x) != len(y) || len(x) == 0 {
			t.Fatalf("%s: %d and %d values", what, len(x), len(y))
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Fatalf("%s[%d]: serial %v, concurrent %v", what, i, x[i], y[i])
			}
		}
	}
	same("actor", a0, a1)
	same("critic", c0, c1)
	if len(m0) != len(m1) {
		t.Fatalf("%d and %d rollout means", len(m0), len(m1))
	}
	for i := range m0 {
		if m0[i] != m1[i] {
			t.Fatalf("rollout %d: serial mean %v, concurrent %v", i, m0[i], m1[i])
		}
	}
	// The check has teeth: training moved the parameters away from the initial ones.
	env := newBandit(1)
	fresh, err := New("bandit", toyConfig(), env.nCtx, env.nAct, 1)
	if err != nil {
		t.Fatal(err)
	}
	fa, _ := fresh.Params()
	if fa[0].Data[0] == a0[0] && fa[0].Data[1] == a0[1] {
		t.Fatal("training did not change the actor: the comparison shows nothing")
	}
}
