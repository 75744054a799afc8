package ppo

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// gaeLearner returns a learner with γ = 0.9 and λ = 0.8 and spaces of 1 float, 2 actions.
func gaeLearner(t *testing.T, gamma, lambda float64) (*Learner, *Buffer) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Gamma, cfg.GAELambda = gamma, lambda
	l, err := New("gae", cfg, 1, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	return l, l.NewBuffer()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// add records a decision of agent at tick with value v (observation, action and
// log-probability do not matter to GAE).
func add(t *testing.T, b *Buffer, agent int, tick int64, v float32) {
	t.Helper()
	must(t, b.Add(agent, tick, []float32{float32(tick)}, nil, 0, -0.5, v))
}

// A hand-computed trajectory with γ = 0.9, λ = 0.8 (γλ = 0.72), four interleaved
// agents, dt > 1, a terminated end, a truncated end, a successor still open at update
// time, two decisions on one tick (dt = 0) and a reward with no decision to credit.
func TestGAEHandComputed(t *testing.T) {
	l, b := gaeLearner(t, 0.9, 0.8)

	// Agent 0: decides at ticks 0 (V 1.0), 2 (V 2.0), 5 (V 0.5); terminates at tick 6.
	// Rewards: 1 at tick 0 and 2 at tick 1 (decision 0), 1 at tick 4 (decision 1),
	// -1 at tick 5 (decision 2).
	// Agent 1: decides at ticks 1 (V 0.3) and 4 (V -0.2); truncated at tick 7 with the
	// final observation's value 1.5. Rewards: 0.5 at tick 3, 2 at tick 4 (after its
	// decision of tick 4, so it belongs to that one), 1 at tick 6.
	// Agent 2: decides at tick 3 (V 1.0) and tick 5 (V 2.0), the latter still open at the
	// update. Reward 1 at tick 3.
	// Agent 3: decides twice on tick 2 (V 0.4, then V 0.6) and terminates at tick 3.
	// Reward 1 at tick 2 after both decisions.
	// Agent 4 gets a reward at tick 0 but never decides: dropped.
	add(t, b, 0, 0, 1.0) // index 0
	must(t, b.Reward(0, 0, 1))
	must(t, b.Reward(4, 0, 7))
	add(t, b, 1, 1, 0.3) // index 1
	must(t, b.Reward(0, 1, 2))
	add(t, b, 0, 2, 2.0) // index 2
	add(t, b, 3, 2, 0.4) // index 3
	add(t, b, 3, 2, 0.6) // index 4
	must(t, b.Reward(3, 2, 1))
	add(t, b, 2, 3, 1.0) // index 5
	must(t, b.Reward(1, 3, 0.5))
	must(t, b.Reward(2, 3, 1))
	must(t, b.End(3, 3, true, 99)) // terminal: the 99 must be ignored
	add(t, b, 1, 4, -0.2)          // index 6
	must(t, b.Reward(0, 4, 1))
	must(t, b.Reward(1, 4, 2))
	add(t, b, 0, 5, 0.5) // index 7
	add(t, b, 2, 5, 2.0) // index 8, stays open
	must(t, b.Reward(0, 5, -1))
	must(t, b.End(0, 6, true, 0))
	must(t, b.Reward(1, 6, 1))
	must(t, b.End(1, 7, false, 1.5))

	if b.Len() != 9 || b.Open() != 1 || b.Finished() != 8 || b.Dropped() != 1 {
		t.Fatalf("len %d open %d finished %d dropped %d, want 9 1 8 1", b.Len(), b.Open(), b.Finished(), b.Dropped())
	}
	l.advantages(b)

	// Agent 0 (γ^1 = 0.9, γ^2 = 0.81, γ^3 = 0.729; (γλ)^1 = 0.72, (γλ)^2 = 0.5184,
	// (γλ)^3 = 0.373248):
	//   decision at 5: R = -1, terminated.      δ = -1 - 0.5 = -1.5;         A = -1.5
	//   decision at 2: R = 0.9² · 1 = 0.81, dt 3.
	//                  δ = 0.81 + 0.729 · 0.5 - 2 = -0.8255
	//                  A = -0.8255 + 0.373248 · (-1.5) = -1.385372
	//   decision at 0: R = 1 + 0.9 · 2 = 2.8, dt 2.
	//                  δ = 2.8 + 0.81 · 2 - 1 = 3.42
	//                  A = 3.42 + 0.5184 · (-1.385372) = 2.7018231552
	// Agent 1:
	//   decision at 4: R = 2 + 0.9² · 1 = 2.81, truncated at 7 (dt 3).
	//                  δ = 2.81 + 0.729 · 1.5 + 0.2 = 4.1035;                 A = 4.1035
	//   decision at 1: R = 0.9² · 0.5 = 0.405, dt 3.
	//                  δ = 0.405 + 0.729 · (-0.2) - 0.3 = -0.0408
	//                  A = -0.0408 + 0.373248 · 4.1035 = 1.490823168
	// Agent 2:
	//   decision at 3: R = 1, successor open (dt 2): bootstrap from its value, A' = 0.
	//                  δ = 1 + 0.81 · 2 - 1 = 1.62;                            A = 1.62
	// Agent 3:
	//   second decision at 2: R = 1, terminated. δ = 1 - 0.6 = 0.4;             A = 0.4
	//   first decision at 2: R = 0, dt 0.  δ = 0 + 1 · 0.6 - 0.4 = 0.2
	//                  A = 0.2 + 1 · 0.4 = 0.6
	want := []struct {
		adv, v float64
	}{
		{2.7018231552, 1.0}, {1.490823168, 0.3}, {-1.385372, 2.0}, {0.6, 0.4}, {0.4, 0.6},
		{1.62, 1.0}, {4.1035, -0.2}, {-1.5, 0.5},
	}
	for i, w := range want {
		// The values went through float32: compare with a float32-sized tolerance.
		if math.Abs(b.adv[i]-w.adv) > 1e-6 {
			t.Errorf("decision %d: advantage %.10f, want %.10f", i, b.adv[i], w.adv)
		}
		if math.Abs(b.ret[i]-(w.adv+w.v)) > 1e-6 {
			t.Errorf("decision %d: return %.10f, want %.10f", i, b.ret[i], w.adv+w.v)
		}
	}

	// The update learns from the 8 finished decisions and keeps the open one, which a
	// later End closes.
	st, err := l.Update(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples != 8 || b.Len() != 1 || b.Open() != 1 || !b.HasOpen(2) {
		t.Fatalf("after the update: %d samples, buffer len %d, open %d", st.Samples, b.Len(), b.Open())
	}
	must(t, b.Reward(2, 5, 3))
	must(t, b.End(2, 8, true, 0))
	l.advantages(b)
	// R = 3 (undiscounted: same tick as the decision), terminated: A = 3 - 2 = 1.
	if b.Finished() != 1 || math.Abs(b.adv[0]-1) > 1e-12 {
		t.Errorf("carried decision: finished %d, advantage %g, want 1 and 1", b.Finished(), b.adv[0])
	}
}

// rewardEvent is a reward r an agent received at tick.
type rewardEvent struct {
	tick int64
	r    float64
}

type endEvent struct {
	tick     int64
	terminal bool
	boot     float64
}

// randomEpisodes fills b with random interleaved episodes of five agents (random dt,
// including 0, random rewards, terminated or truncated ends) and returns the rewards
// each agent received and how its episode ended.
func randomEpisodes(t *testing.T, b *Buffer, r *rand.Rand) (rewards map[int][]rewardEvent, ends map[int]endEvent) {
	t.Helper()
	const agents = 5
	rewards, ends = map[int][]rewardEvent{}, map[int]endEvent{}
	next := make([]int64, agents)
	for a := range next {
		next[a] = int64(r.IntN(3))
	}
	for tick := int64(0); tick < 30; tick++ {
		for a := 0; a < agents; a++ {
			for next[a] == tick { // possibly several decisions on one tick
				add(t, b, a, tick, float32(r.NormFloat64()))
				next[a] = tick + int64(r.IntN(4))
			}
		}
		for a := 0; a < agents; a++ {
			if r.IntN(2) == 0 {
				x := r.NormFloat64()
				must(t, b.Reward(a, tick, x))
				rewards[a] = append(rewards[a], rewardEvent{tick, x})
			}
		}
	}
	for a := 0; a < agents; a++ {
		e := endEvent{tick: 30, terminal: a%2 == 0, boot: float64(float32(r.NormFloat64()))}
		must(t, b.End(a, e.tick, e.terminal, float32(e.boot)))
		ends[a] = e
	}
	return rewards, ends
}

// With λ = 1, GAE is the discounted return minus the value: for a decision at tick τ,
// Σ over the agent's later rewards of γ^(tick_r - τ) r, plus γ^(T - τ) V_boot if
// truncated at T, minus V. This reference reads the raw rewards and ticks and uses no
// recursion. With λ = 0, A is the one-interval TD error δ.
func TestGAEAgainstMonteCarlo(t *testing.T) {
	const gamma = 0.95
	for seed := uint64(1); seed <= 5; seed++ {
		l, b := gaeLearner(t, gamma, 1)
		rewards, ends := randomEpisodes(t, b, rng.New(seed, "gae"))
		l.advantages(b)
		for i := range b.state {
			a, tau := int(b.agent[i]), b.tick[i]
			var g float64
			for _, ev := range rewards[a] {
				// Rewards are reported after the decisions of their tick, so every reward
				// from the decision's own tick on is in its future.
				if ev.tick >= tau {
					g += math.Pow(gamma, float64(ev.tick-tau)) * ev.r
				}
			}
			if e := ends[a]; !e.terminal {
				g += math.Pow(gamma, float64(e.tick-tau)) * e.boot
			}
			if want := g - float64(b.values[i]); math.Abs(b.adv[i]-want) > 1e-9*(1+math.Abs(want)) {
				t.Fatalf("seed %d decision %d (agent %d, tick %d): A %.12f, Monte Carlo %.12f", seed, i, a, tau, b.adv[i], want)
			}
		}
	}
	for seed := uint64(1); seed <= 5; seed++ {
		l, b := gaeLearner(t, gamma, 0)
		randomEpisodes(t, b, rng.New(seed, "gae"))
		l.advantages(b)
		delta := func(i int) float64 {
			var boot float64
			switch b.state[i] {
			case linked:
				boot = float64(b.values[b.next[i]])
			case truncated:
				boot = float64(b.boot[i])
			}
			return b.rewards[i] + math.Pow(gamma, float64(b.dt[i]))*boot - float64(b.values[i])
		}
		for i := range b.state {
			// λ is per tick: a successor on the same tick (dt = 0) passes its advantage
			// on undiminished, (γλ)^0 = 1, so A sums the δ of the same-tick chain.
			want := delta(i)
			for j := i; b.state[j] == linked && b.dt[j] == 0; {
				j = int(b.next[j])
				want += delta(j)
			}
			if math.Abs(b.adv[i]-want) > 1e-12 {
				t.Fatalf("λ=0, decision %d: A %.12f, δ %.12f", i, b.adv[i], want)
			}
		}
	}
}

// With dt = 1 everywhere and one agent, the advantages are CleanRL's GAE loop, written
// here as ppo.py writes it (nextnonterminal, lastgaelam).
func TestGAEMatchesCleanRL(t *testing.T) {
	const gamma, lambda, n = 0.99, 0.95, 40
	l, b := gaeLearner(t, gamma, lambda)
	r := rng.New(1, "cleanrl")
	rewards := make([]float64, n)
	values := make([]float64, n)
	dones := make([]bool, n) // dones[t]: the episode terminated after step t
	for i := 0; i < n; i++ {
		values[i] = float64(float32(r.NormFloat64()))
		rewards[i] = r.NormFloat64()
		dones[i] = r.IntN(8) == 0
	}
	dones[n-1] = false
	nextValue := float64(float32(0.7)) // CleanRL's bootstrap at the rollout's end
	for i := 0; i < n; i++ {
		add(t, b, 0, int64(i), float32(values[i]))
		must(t, b.Reward(0, int64(i), rewards[i]))
		if dones[i] {
			must(t, b.End(0, int64(i+1), true, 0))
		}
	}
	must(t, b.End(0, n, false, float32(nextValue)))
	l.advantages(b)

	adv := make([]float64, n)
	lastgaelam := 0.0
	for i := n - 1; i >= 0; i-- {
		var nextnonterminal, nextvalues float64
		if i == n-1 {
			nextnonterminal, nextvalues = 1, nextValue
		} else {
			nextnonterminal, nextvalues = 1, values[i+1]
			if dones[i] {
				nextnonterminal = 0
			}
		}
		delta := rewards[i] + gamma*nextvalues*nextnonterminal - values[i]
		lastgaelam = delta + gamma*lambda*nextnonterminal*lastgaelam
		adv[i] = lastgaelam
	}
	for i := range adv {
		if math.Abs(b.adv[i]-adv[i]) > 1e-12 {
			t.Fatalf("step %d: A %.12f, CleanRL %.12f", i, b.adv[i], adv[i])
		}
	}
}

func TestBufferErrors(t *testing.T) {
	_, b := gaeLearner(t, 0.9, 0.8)
	obs := []float32{0}
	cases := []struct {
		name string
		err  error
	}{
		{"negative agent", b.Add(-1, 0, obs, nil, 0, -1, 0)},
		{"huge agent", b.Add(MaxAgentKey, 0, obs, nil, 0, -1, 0)},
		{"short obs", b.Add(0, 0, nil, nil, 0, -1, 0)},
		{"long mask", b.Add(0, 0, obs, []bool{true, true, true}, 0, -1, 0)},
		{"action out of range", b.Add(0, 0, obs, nil, 2, -1, 0)},
		{"masked action", b.Add(0, 0, obs, []bool{false, true}, 0, -1, 0)},
		{"NaN observation", b.Add(0, 0, []float32{float32(math.NaN())}, nil, 0, -1, 0)},
		{"positive log-probability", b.Add(0, 0, obs, nil, 0, 0.5, 0)},
		{"infinite value", b.Add(0, 0, obs, nil, 0, -1, float32(math.Inf(1)))},
		{"NaN reward", b.Reward(0, 0, math.NaN())},
		{"reward for a negative agent", b.Reward(-3, 0, 1)},
		{"end for a negative agent", b.End(-3, 0, true, 0)},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// With no open decision, End does nothing and a reward is dropped.
	must(t, b.End(0, 5, false, 1))
	must(t, b.Reward(0, 5, 1))
	if b.Len() != 0 || b.Dropped() != 1 {
		t.Fatalf("failed calls changed the buffer: len %d, dropped %d", b.Len(), b.Dropped())
	}
	add(t, b, 0, 10, 0)
	if err := b.Add(0, 9, obs, nil, 0, -1, 0); !errors.Is(err, ErrOrder) {
		t.Errorf("decision back in time: %v", err)
	}
	if err := b.Reward(0, 9, 1); !errors.Is(err, ErrOrder) {
		t.Errorf("reward back in time: %v", err)
	}
	if err := b.End(0, 9, true, 0); !errors.Is(err, ErrOrder) {
		t.Errorf("end back in time: %v", err)
	}
	if err := b.End(0, 11, false, float32(math.NaN())); err == nil {
		t.Error("NaN bootstrap accepted")
	}
	if b.Len() != 1 || b.Open() != 1 {
		t.Fatalf("failed calls changed the buffer: len %d, open %d", b.Len(), b.Open())
	}
	l, _ := gaeLearner(t, 0.9, 0.8)
	if _, err := l.Update(b); !errors.Is(err, ErrEmpty) {
		t.Errorf("update with only an open decision: %v", err)
	}
	other, _ := gaeLearner(t, 0.5, 0.8)
	must(t, b.End(0, 11, true, 0))
	if _, err := other.Update(b); !errors.Is(err, ErrShape) {
		t.Errorf("update with a buffer of another gamma: %v", err)
	}
	b.Reset()
	if b.Len() != 0 || b.HasOpen(0) {
		t.Error("Reset left decisions")
	}
}

// Explained variance by hand: returns 1, 2, 3 and values 1, 2, 2 leave residuals 0, 0, 1;
// Var(returns) = 2/3, Var(residuals) = 2/9 (population variances), so 1 - (2/9)/(2/3) = 2/3.
func TestExplainedVariance(t *testing.T) {
	b := &Buffer{ret: []float64{1, 2, 3}, values: []float32{1, 2, 2}}
	if got := explainedVariance(b, []int{0, 1, 2}); math.Abs(got-2.0/3) > 1e-15 {
		t.Errorf("explained variance %g, want 2/3", got)
	}
	b.ret = []float64{2, 2, 2}
	if got := explainedVariance(b, []int{0, 1, 2}); !math.IsNaN(got) {
		t.Errorf("constant returns: %g, want NaN", got)
	}
}
