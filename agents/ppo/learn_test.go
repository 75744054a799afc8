package ppo

import (
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// heldOut is the bandit of seed 1 (same payoffs) with draws from a separate stream.
func heldOut() *bandit {
	b := newBandit(1)
	b.r = rng.New(99, "held-out")
	return b
}

// A masked contextual bandit: the greedy policy goes from about the random-legal
// average to within 10% of the optimum, and the rollouts' mean reward rises.
func TestLearnBandit(t *testing.T) { learnBandit(t, "go") }

func learnBandit(t *testing.T, backend string) {
	env := newBandit(1)
	cfg := toyConfig()
	cfg.Backend = backend
	l, err := New("bandit", cfg, env.nCtx, env.nAct, 1)
	if err != nil {
		t.Fatal(err)
	}
	g0, rnd, best := evalBandit(t, l, heldOut(), 2000)
	means := runBandit(t, l, env, l.NewBuffer(), rng.New(1, "act"), 64, 4, 60)
	g1, _, _ := evalBandit(t, l, heldOut(), 2000)
	t.Logf("held-out mean reward: random-legal %.4f, optimum %.4f, greedy before %.4f, after %.4f; rollouts %.4f -> %.4f",
		rnd, best, g0, g1, means[0], means[len(means)-1])
	target := rnd + 0.9*(best-rnd)
	if g0 >= target {
		t.Fatalf("the untrained policy already scores %.4f >= %.4f: the test shows nothing", g0, target)
	}
	if g1 < target {
		t.Errorf("trained greedy policy scores %.4f, want >= %.4f (random %.4f, optimum %.4f)", g1, target, rnd, best)
	}
	first, last := mean(means[:5]), mean(means[len(means)-5:])
	if last < first+0.5*(best-first) {
		t.Errorf("rollout mean reward %.4f -> %.4f did not close half the gap to the optimum %.4f", first, last, best)
	}
}

// The semi-Markov chain: with rewards and bootstraps discounted by elapsed ticks the
// learner walks (0.9³ = 0.729, the optimum) instead of riding (0.9⁵ = 0.59049).
func TestLearnChain(t *testing.T) { learnChain(t, "go") }

func learnChain(t *testing.T, backend string) {
	cfg := toyConfig()
	cfg.Gamma, cfg.Backend = chainGamma, backend
	l, err := New("chain", cfg, chainObsDim, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := chainRun(t, l, l.NewBuffer(), rng.New(1, "act"), 16, 4000, 256, false)
	greedy := mean(chainRun(t, l, nil, nil, 1, 40, 0, false))
	first, last := mean(r[:200]), mean(r[len(r)-200:])
	t.Logf("sampled return %.4f -> %.4f over %d episodes; greedy %.5f", first, last, len(r), greedy)
	walkAll := math.Pow(chainGamma, chainLen-1)
	if math.Abs(greedy-walkAll) > 1e-12 {
		t.Errorf("greedy return %.6f, want the optimum 0.9^3 = %.6f", greedy, walkAll)
	}
	if !(first < 0.65 && last > 0.70) {
		t.Errorf("sampled return %.4f -> %.4f, want it to rise from below 0.65 to above 0.70", first, last)
	}
}

// The control: the same learner told decision counts instead of ticks (per-decision
// discounting) prefers the single long ride, worth 1 per decision but 0.9⁵ in time. So
// the chain does tell the two apart, and TestLearnChain's result comes from the dt.
func TestLearnChainPerDecisionControl(t *testing.T) {
	cfg := toyConfig()
	cfg.Gamma = chainGamma
	l, err := New("chain", cfg, chainObsDim, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	chainRun(t, l, l.NewBuffer(), rng.New(1, "act"), 16, 4000, 256, true)
	greedy := mean(chainRun(t, l, nil, nil, 1, 40, 0, false))
	if ride := math.Pow(chainGamma, rideTicks-1); math.Abs(greedy-ride) > 1e-12 {
		t.Errorf("per-decision learner's greedy return %.6f, want the ride's 0.9^5 = %.6f", greedy, ride)
	}
}
