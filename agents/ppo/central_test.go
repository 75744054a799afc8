package ppo

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/internal/rng"
)

// luck is the bandit with a hidden draw: each decision also gets z = ±1, which the
// policy never sees, and the reward is payoff[c][a] + luckScale·z. z does not depend on
// the action, so it is pure noise to the policy; a centralized critic given z as its
// state can predict it and take it out of the advantages.
type luck struct {
	*bandit
}

const luckScale = 2

// runLuck trains l on the luck bandit for iters updates of width decisions and returns
// the explained variance of the last update and the greedy policy's mean payoff (without
// the luck) on held-out draws. central gives the learner z as its state.
func runLuck(t *testing.T, l *Learner, central bool, width, iters int) (ev, greedy, best float64) {
	t.Helper()
	env := &luck{bandit: newBandit(1)}
	z := rng.New(1, "toy.luck")
	buf := l.NewBuffer()
	act := rng.New(1, "act")
	d, k := l.ObsDim(), l.NumActions()
	obs, masks := make([]float32, width*d), make([]bool, width*k)
	state := make([]float32, width)
	ctx, actions := make([]int, width), make([]int, width)
	logps, values := make([]float32, width), make([]float32, width)
	var st Stats
	for it := 0; it < iters; it++ {
		for i := 0; i < width; i++ {
			ctx[i] = env.draw(obs[i*d:(i+1)*d], masks[i*k:(i+1)*k])
			state[i] = float32(2*z.IntN(2) - 1)
		}
		var s []float32
		if central {
			s = state
		}
		if err := l.ActState(obs, s, masks, width, act, actions, logps, values); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < width; i++ {
			var si []float32
			if central {
				si = state[i : i+1]
			}
			if err := buf.AddState(i, int64(it), obs[i*d:(i+1)*d], si, masks[i*k:(i+1)*k], actions[i], logps[i], values[i]); err != nil {
				t.Fatal(err)
			}
			if err := buf.Reward(i, int64(it), env.payoff[ctx[i]][actions[i]]+luckScale*float64(state[i])); err != nil {
				t.Fatal(err)
			}
			if err := buf.End(i, int64(it)+1, true, 0); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if st, err = l.Update(buf); err != nil {
			t.Fatal(err)
		}
	}
	greedy, _, best = evalBandit(t, l, heldOut(), 2000)
	return st.Get(MetricExplainedVariance), greedy, best
}

// TestCentralizedCriticSeesTheLuck: on the luck bandit the centralized critic explains
// the returns (their variance is mostly the luck, luckScale² = 4 against the payoffs'
// spread of under 1/12) and the critic without the state cannot; and the policy
// learned with the centralized critic, whose advantages are free of the luck, is at
// least as good as the one learned without it.
func TestCentralizedCriticSeesTheLuck(t *testing.T) {
	env := newBandit(1)
	local, err := New("luck", toyConfig(), env.nCtx, env.nAct, 1)
	if err != nil {
		t.Fatal(err)
	}
	central, err := NewCentralized("luck", toyConfig(), env.nCtx, 1, env.nAct, 1)
	if err != nil {
		t.Fatal(err)
	}
	const width, iters = 64, 40
	evL, gL, best := runLuck(t, local, false, width, iters)
	evC, gC, _ := runLuck(t, central, true, width, iters)
	t.Logf("explained variance: local %.3f, central %.3f; greedy payoff: local %.3f, central %.3f, best %.3f", evL, evC, gL, gC, best)
	if !(evC > 0.8) {
		t.Errorf("the centralized critic explains %.3f of the returns' variance, want > 0.8", evC)
	}
	if !(evL < 0.2) {
		t.Errorf("the local critic explains %.3f of the returns' variance; it cannot see the luck, want < 0.2", evL)
	}
	if gC < gL-0.01 {
		t.Errorf("greedy payoff with the centralized critic %.3f, without %.3f", gC, gL)
	}
}

// TestCentralizedActorIsNews: the actor of a learner with a centralized critic starts
// where New's does (the same seed gives the same actor), so a checkpoint's policy does not
// depend on the critic it was trained with until training moves it.
func TestCentralizedActorIsNews(t *testing.T) {
	a, err := New("g", toyConfig(), 5, 3, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCentralized("g", toyConfig(), 5, 4, 3, 9)
	if err != nil {
		t.Fatal(err)
	}
	pa, ca := a.Params()
	pb, cb := b.Params()
	if !sameParams(pa, pb) {
		t.Fatal("the actors differ")
	}
	if ca[0].Shape[1] != 5 || cb[0].Shape[1] != 9 {
		t.Fatalf("critic input widths %v and %v, want 5 and 5+4", ca[0].Shape, cb[0].Shape)
	}
	if b.StateDim() != 4 || a.StateDim() != 0 {
		t.Fatalf("StateDim %d and %d", a.StateDim(), b.StateDim())
	}
}

// TestCentralizedShapes: the state is checked wherever it is given or needed.
func TestCentralizedShapes(t *testing.T) {
	l, err := NewCentralized("g", toyConfig(), 3, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	obs := []float32{1, 0, 0, 0, 1, 0}
	acts, logps, vals := make([]int, 2), make([]float32, 2), make([]float32, 2)
	r := rng.New(1, "t")
	for name, err := range map[string]error{
		"values without state":   l.Act(obs, nil, 2, r, acts, logps, vals),
		"short state":            l.ActState(obs, []float32{1, 2, 3}, nil, 2, r, acts, logps, vals),
		"value without state":    l.Value(obs, 2, vals),
		"buffer without state":   l.NewBuffer().Add(0, 0, obs[:3], nil, 0, -0.5, 0),
		"buffer with long state": l.NewBuffer().AddState(0, 0, obs[:3], []float32{1, 2, 3}, nil, 0, -0.5, 0),
		"state to a local critic": func() error {
			m, _ := New("g", toyConfig(), 3, 2, 1)
			return m.ValueState(obs, []float32{1, 2, 3, 4}, 2, vals)
		}(),
		"local buffer": func() error {
			m, _ := New("g", toyConfig(), 3, 2, 1)
			b := m.NewBuffer()
			if err := b.Add(0, 0, obs[:3], nil, 0, -0.5, 0); err != nil {
				return err
			}
			if err := b.End(0, 1, true, 0); err != nil {
				return err
			}
			_, err := l.Update(b)
			return err
		}(),
	} {
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v, want ErrShape", name, err)
		}
	}
	// Acting without values needs no state: the actor never reads it.
	if err := l.Act(obs, nil, 2, r, acts, logps, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.ActState(obs, []float32{1, 2, 3, 4}, nil, 2, r, acts, logps, vals); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCentralized("g", toyConfig(), 3, -1, 2, 1); !errors.Is(err, ErrShape) {
		t.Errorf("negative state size: %v", err)
	}
}

// TestCentralizedCheckpoint: a learner with a centralized critic saves and loads with its
// state size (the loaded one gives the same values), a learner without one refuses its
// checkpoint, and InitFrom warm-starts the actor of either kind from the other, with a
// fresh critic.
func TestCentralizedCheckpoint(t *testing.T) {
	l, err := NewCentralized("g", toyConfig(), 4, 2, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	runLuckState(t, l)
	var buf bytes.Buffer
	if err := l.Save(&buf, nil); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	got, err := Load(bytes.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.StateDim() != 2 {
		t.Fatalf("loaded StateDim %d, want 2", got.StateDim())
	}
	obs := []float32{1, 0, 0, 0, 0, 1, 0, 0}
	state := []float32{1, -1, -1, 1}
	v1, v2 := make([]float32, 2), make([]float32, 2)
	if err := l.ValueState(obs, state, 2, v1); err != nil {
		t.Fatal(err)
	}
	if err := got.ValueState(obs, state, 2, v2); err != nil {
		t.Fatal(err)
	}
	if v1[0] != v2[0] || v1[1] != v2[1] {
		t.Fatalf("values %v after a round trip, %v before", v2, v1)
	}
	local, err := New("g", toyConfig(), 4, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.Restore(bytes.NewReader(file), nil); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Fatalf("restoring a centralized critic's checkpoint into a local learner: %v, want ErrMismatch", err)
	}
	// Warm starts across critics: the actor is copied, the critic starts fresh.
	if err := local.InitFrom(bytes.NewReader(file), nil); err != nil {
		t.Fatal(err)
	}
	la, lc := local.Params()
	ca, _ := l.Params()
	fresh, _ := New("g", toyConfig(), 4, 3, 7)
	_, fc := fresh.Params()
	if !sameParams(la, ca) || !sameParams(lc, fc) {
		t.Fatal("InitFrom a centralized checkpoint: want its actor and a fresh critic")
	}
	var lbuf bytes.Buffer
	if err := local.Save(&lbuf, nil); err != nil {
		t.Fatal(err)
	}
	c2, _ := NewCentralized("g", toyConfig(), 4, 2, 3, 8)
	if err := c2.InitFrom(bytes.NewReader(lbuf.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	if a2, _ := c2.Params(); !sameParams(a2, ca) {
		t.Fatal("InitFrom a local checkpoint: the actor was not copied")
	}
	// Another actor is still refused.
	other, _ := NewCentralized("g", toyConfig(), 5, 2, 3, 7)
	if err := other.InitFrom(bytes.NewReader(file), nil); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Fatalf("InitFrom with another observation size: %v, want ErrMismatch", err)
	}
}

// runLuckState takes a few updates on random decisions so the parameters and the
// optimizer state are not the initial ones.
func runLuckState(t *testing.T, l *Learner) {
	t.Helper()
	r := rng.New(2, "t")
	b := l.NewBuffer()
	d, s := l.ObsDim(), l.StateDim()
	for it := 0; it < 3; it++ {
		for i := 0; i < 8; i++ {
			obs, state := make([]float32, d), make([]float32, s)
			obs[r.IntN(d)] = 1
			for j := range state {
				state[j] = float32(r.NormFloat64())
			}
			a, lp, v := make([]int, 1), make([]float32, 1), make([]float32, 1)
			if err := l.ActState(obs, state, nil, 1, r, a, lp, v); err != nil {
				t.Fatal(err)
			}
			if err := b.AddState(i, int64(it), obs, state, nil, a[0], lp[0], v[0]); err != nil {
				t.Fatal(err)
			}
			if err := b.Reward(i, int64(it), math.Abs(float64(state[0]))); err != nil {
				t.Fatal(err)
			}
			if err := b.End(i, int64(it)+1, true, 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.Update(b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCentralizedConcurrentMatchesSerial: with a centralized critic too, running the
// critic's passes beside the actor's gives the parameters of a serial run, bit for bit.
func TestCentralizedConcurrentMatchesSerial(t *testing.T) {
	run := func(serial bool) (actor, critic []float32) {
		env := newBandit(1)
		l, err := NewCentralized("luck", toyConfig(), env.nCtx, 1, env.nAct, 1)
		if err != nil {
			t.Fatal(err)
		}
		l.serial = serial
		runLuck(t, l, true, 2*minConcurrentBatch, 4)
		a, c := l.Params()
		for _, p := range a {
			actor = append(actor, p.Data...)
		}
		for _, p := range c {
			critic = append(critic, p.Data...)
		}
		return actor, critic
	}
	a0, c0 := run(true)
	a1, c1 := run(false)
	for i := range a0 {
		if math.Float32bits(a0[i]) != math.Float32bits(a1[i]) {
			t.Fatalf("actor[%d]: serial %v, concurrent %v", i, a0[i], a1[i])
		}
	}
	for i := range c0 {
		if math.Float32bits(c0[i]) != math.Float32bits(c1[i]) {
			t.Fatalf("critic[%d]: serial %v, concurrent %v", i, c0[i], c1[i])
		}
	}
}

// TestCentralizedActAllocs: acting with a centralized critic allocates nothing once its
// scratch has grown, as Act does.
func TestCentralizedActAllocs(t *testing.T) {
	l, err := NewCentralized("g", toyConfig(), 4, 3, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 32
	obs, state := make([]float32, n*4), make([]float32, n*3)
	actions, logps, values := make([]int, n), make([]float32, n), make([]float32, n)
	r := rng.New(1, "t")
	act := func() {
		if err := l.ActState(obs, state, nil, n, r, actions, logps, values); err != nil {
			t.Fatal(err)
		}
	}
	act()
	if a := testing.AllocsPerRun(20, act); a != 0 {
		t.Fatalf("%v allocations per ActState", a)
	}
}

// TestLoadForgedStateSize: a checkpoint whose state size does not match its critic's
// tensors, or is not a positive size, is refused before anything is built.
func TestLoadForgedStateSize(t *testing.T) {
	c := DefaultConfig()
	c.Hidden = []int{4}
	l, _ := NewCentralized("forged", c, 3, 2, 2, 1)
	file := saved(t, l, nil)
	for _, n := range []string{"3", "0", "-2", "70000", "x"} {
		if _, err := Load(bytes.NewReader(forged(t, file, MetaStateSize, "2", n)), nil); err == nil {
			t.Errorf("state size 2 -> %s: loaded", n)
		}
	}
	if _, err := Load(bytes.NewReader(file), nil); err != nil {
		t.Fatalf("the unforged file: %v", err)
	}
}
