package ppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// The toy problems of the learning tests, and the glue that drives a Learner and a
// Buffer through them: the same calls the environment glue makes.

// toyConfig is a config sized for the toy problems: small networks, a larger learning
// rate than CleanRL's Atari default.
func toyConfig() Config {
	c := DefaultConfig()
	c.LearningRate = 3e-3
	c.Hidden = []int{32, 32}
	return c
}

// ---------------------------------------------------------------------------------------
// A masked contextual bandit.

// bandit: nCtx contexts, shown one-hot; nAct actions, each legal with probability 0.6
// (at least one); the reward of action a in context c is payoff[c][a], fixed. Every
// decision is a one-tick episode that terminates.
type bandit struct {
	nCtx, nAct int
	payoff     [][]float64
	r          *rand.Rand
}

func newBandit(seed uint64) *bandit {
	b := &bandit{nCtx: 4, nAct: 6, r: rng.New(seed, "toy.bandit")}
	pr := rng.New(seed, "toy.bandit.payoff")
	for c := 0; c < b.nCtx; c++ {
		row := make([]float64, b.nAct)
		for a := range row {
			row[a] = pr.Float64()
		}
		b.payoff = append(b.payoff, row)
	}
	return b
}

// draw fills one observation and mask and returns the context.
func (b *bandit) draw(obs []float32, mask []bool) int {
	c := b.r.IntN(b.nCtx)
	clear(obs)
	obs[c] = 1
	legal := false
	for a := range mask {
		mask[a] = b.r.Float64() < 0.6
		legal = legal || mask[a]
	}
	if !legal {
		mask[b.r.IntN(b.nAct)] = true
	}
	return c
}

// best and mean return the best and the average payoff over the legal actions.
func (b *bandit) best(c int, mask []bool) (best, mean float64) {
	n := 0
	best = math.Inf(-1)
	for a, ok := range mask {
		if ok {
			best = max(best, b.payoff[c][a])
			mean += b.payoff[c][a]
			n++
		}
	}
	return best, mean / float64(n)
}

// runBandit trains l for iters updates of width×steps decisions and returns the mean
// reward of each rollout. It checks on the way that no masked action is ever sampled.
func runBandit(t testing.TB, l *Learner, env *bandit, buf *Buffer, act *rand.Rand, width, steps, iters int) []float64 {
	t.Helper()
	d, k := l.ObsDim(), l.NumActions()
	obs := make([]float32, width*d)
	masks := make([]bool, width*k)
	ctx := make([]int, width)
	actions := make([]int, width)
	logps := make([]float32, width)
	values := make([]float32, width)
	var means []float64
	tick := int64(0)
	for it := 0; it < iters; it++ {
		var sum float64
		for s := 0; s < steps; s++ {
			for i := 0; i < width; i++ {
				ctx[i] = env.draw(obs[i*d:(i+1)*d], masks[i*k:(i+1)*k])
			}
			if err := l.Act(obs, masks, width, act, actions, logps, values); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < width; i++ {
				a := actions[i]
				if !masks[i*k+a] {
					t.Fatalf("sampled masked action %d", a)
				}
				if err := buf.Add(i, tick, obs[i*d:(i+1)*d], masks[i*k:(i+1)*k], a, logps[i], values[i]); err != nil {
					t.Fatal(err)
				}
				r := env.payoff[ctx[i]][a]
				sum += r
				if err := buf.Reward(i, tick, r); err != nil {
					t.Fatal(err)
				}
				if err := buf.End(i, tick+1, true, 0); err != nil {
					t.Fatal(err)
				}
			}
			tick++
		}
		if _, err := l.Update(buf); err != nil {
			t.Fatal(err)
		}
		means = append(means, sum/float64(width*steps))
	}
	return means
}

// evalBandit returns the greedy policy's mean reward, the random-legal policy's and the
// optimum's, on n fresh draws.
func evalBandit(t testing.TB, l *Learner, env *bandit, n int) (greedy, random, best float64) {
	t.Helper()
	d, k := l.ObsDim(), l.NumActions()
	obs := make([]float32, n*d)
	masks := make([]bool, n*k)
	ctx := make([]int, n)
	actions := make([]int, n)
	for i := 0; i < n; i++ {
		ctx[i] = env.draw(obs[i*d:(i+1)*d], masks[i*k:(i+1)*k])
	}
	if err := l.Greedy(obs, masks, n, actions); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if !masks[i*k+actions[i]] {
			t.Fatalf("greedy chose masked action %d", actions[i])
		}
		b, m := env.best(ctx[i], masks[i*k:(i+1)*k])
		greedy += env.payoff[ctx[i]][actions[i]] / float64(n)
		random += m / float64(n)
		best += b / float64(n)
	}
	return greedy, random, best
}

// ---------------------------------------------------------------------------------------
// A semi-Markov chain where waiting costs time.

// chain: an agent starts at position 0 and must reach position chainLen. Actions:
//
//	walk (0): one tick, one position forward; arriving gives +1 on that tick.
//	ride (1): legal only at positions 0 and 1; rideTicks ticks, then +1 on the last
//	          tick, at the goal.
//	wait (2): waitTicks ticks, no progress.
//
// The episode terminates at the goal and is truncated after maxTicks ticks. The reward
// is discounted per tick (γ = 0.9): walking from 0 arrives on tick 3, worth
// 0.9³ = 0.729; riding arrives on tick rideTicks-1 = 5, worth 0.9⁵ = 0.59049; waiting
// only delays. Walking is optimal from every position, but a learner that discounted
// per decision rather than per tick would prefer the single-decision ride (1 > 0.9³).
const (
	chainLen   = 4
	rideTicks  = 6
	waitTicks  = 2
	maxTicks   = 20
	chainGamma = 0.9
	walk, ride = 0, 1
)

// chainObs writes the observation of position p: one-hot position and the episode's
// elapsed time scaled to [0, 1].
func chainObs(dst []float32, p int, elapsed int64) {
	clear(dst)
	dst[p] = 1
	dst[chainLen] = float32(elapsed) / maxTicks
}

func chainMask(dst []bool, p int) {
	dst[0], dst[1], dst[2] = true, p <= 1, true
}

const chainObsDim = chainLen + 1

// chainAgent is one agent's state in the chain.
type chainAgent struct {
	pos        int
	start      int64 // tick the episode started
	busyUntil  int64 // tick of its next decision
	rewardAt   int64 // tick of its pending +1, or -1
	terminalAt int64 // tick its episode terminates, or -1
	ret        float64
	decisions  int64 // decisions made in this episode
}

// chainRun drives width agents through the chain for ticks ticks with l acting by
// sampling (or, with act == nil, greedily), recording every decision in buf (if not
// nil) and updating l whenever buf has rollout finished decisions. It returns the
// discounted returns of the episodes completed. Decisions of different agents fall on
// different ticks, so the batches vary in size.
//
// With perDecision, the buffer is told the agent's decision count instead of the tick
// (a glue that ignores elapsed time): every decision then lasts one "tick" and rewards
// are discounted per decision.
func chainRun(t testing.TB, l *Learner, buf *Buffer, act *rand.Rand, width int, ticks int64, rollout int, perDecision bool) []float64 {
	t.Helper()
	agents := make([]chainAgent, width)
	for i := range agents {
		agents[i] = chainAgent{rewardAt: -1, terminalAt: -1}
	}
	d, k := chainObsDim, 3
	obs := make([]float32, width*d)
	masks := make([]bool, width*k)
	who := make([]int, width)
	actions := make([]int, width)
	logps := make([]float32, width)
	values := make([]float32, width)
	one := make([]float32, 1)
	var returns []float64
	// clock is the time the buffer is told for agent a at tick.
	clock := func(a *chainAgent, tick int64, closing bool) int64 {
		if !perDecision {
			return tick
		}
		if closing {
			return a.decisions // the open decision is number decisions-1: one step later
		}
		return a.decisions - 1
	}
	for tick := int64(0); tick < ticks; tick++ {
		// Episode ends and restarts.
		for i := range agents {
			a := &agents[i]
			end, terminal := false, false
			if a.terminalAt == tick {
				end, terminal = true, true
			} else if tick-a.start >= maxTicks {
				end = true
			}
			if !end {
				continue
			}
			if buf != nil {
				var v float32
				if !terminal {
					chainObs(obs[:d], a.pos, tick-a.start)
					if err := l.Value(obs[:d], 1, one); err != nil {
						t.Fatal(err)
					}
					v = one[0]
				}
				if err := buf.End(i, clock(a, tick, true), terminal, v); err != nil {
					t.Fatal(err)
				}
			}
			returns = append(returns, a.ret)
			*a = chainAgent{start: tick, busyUntil: tick, rewardAt: -1, terminalAt: -1}
		}
		// Decisions of the agents that are free on this tick, in one batch.
		n := 0
		for i := range agents {
			a := &agents[i]
			if a.busyUntil != tick || a.terminalAt >= 0 {
				continue
			}
			chainObs(obs[n*d:(n+1)*d], a.pos, tick-a.start)
			chainMask(masks[n*k:(n+1)*k], a.pos)
			who[n] = i
			n++
		}
		if n > 0 {
			var err error
			if act != nil {
				err = l.Act(obs[:n*d], masks[:n*k], n, act, actions[:n], logps[:n], values[:n])
			} else {
				err = l.Greedy(obs[:n*d], masks[:n*k], n, actions[:n])
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for j := 0; j < n; j++ {
			i, a := who[j], &agents[who[j]]
			if buf != nil {
				if err := buf.Add(i, clock(a, tick, true), obs[j*d:(j+1)*d], masks[j*k:(j+1)*k], actions[j], logps[j], values[j]); err != nil {
					t.Fatal(err)
				}
			}
			a.decisions++
			switch actions[j] {
			case walk:
				a.pos++
				a.busyUntil = tick + 1
				if a.pos == chainLen {
					a.rewardAt, a.terminalAt = tick, tick+1
				}
			case ride:
				if a.pos > 1 {
					t.Fatalf("ride taken at position %d, where it is masked", a.pos)
				}
				a.pos = chainLen
				a.busyUntil = tick + rideTicks
				a.rewardAt, a.terminalAt = tick+rideTicks-1, tick+rideTicks
			default:
				a.busyUntil = tick + waitTicks
			}
		}
		// Rewards of this tick.
		for i := range agents {
			a := &agents[i]
			if a.rewardAt != tick {
				continue
			}
			a.ret += math.Pow(chainGamma, float64(tick-a.start))
			if buf != nil {
				if err := buf.Reward(i, clock(a, tick, false), 1); err != nil {
					t.Fatal(err)
				}
			}
		}
		if buf != nil && buf.Finished() >= rollout {
			if _, err := l.Update(buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return returns
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// nil2rand returns a fixed acting stream for tests that do not care which.
func nil2rand() *rand.Rand { return rng.New(0, "test.act") }
