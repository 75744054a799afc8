package ppo

import (
	"fmt"
	"math"
)

// Decision states in a Buffer.
const (
	open       uint8 = iota // waiting for the agent's next decision or the episode's end
	linked                  // the agent decided again: next holds that decision
	terminated              // the episode ended in a terminal state: no bootstrap
	truncated               // the episode was cut off: bootstrap from boot
)

// MaxAgentKey bounds the agent keys a Buffer accepts (keys index a slice).
const MaxAgentKey = 1 << 24

// Buffer is the rollout storage of one policy group, with semi-Markov credit assignment:
// decisions are events, each agent of the group produces its own sequence of them, and
// what happens between two decisions of an agent is credited to the earlier one.
//
// The environment glue drives it with three calls, in tick order per agent:
//
//   - Add(agent, tick, obs, mask, action, logp, value) when the agent decides. It stores
//     the decision and closes the agent's previous one, whose successor it becomes: the
//     elapsed time dt = tick - (its tick) follows from the ticks.
//   - Reward(agent, tick, r) for a reward the agent receives at tick: it is added to the
//     agent's open decision, discounted to that decision's tick, γ^(tick - τ) r, so an
//     interval's reward R_t is the SMDP reward Σ_k γ^k r_{τ+k} (Sutton, Precup and Singh
//     1999, eq. 1). The reward for tick τ itself, reported after the decisions of tick
//     τ, is undiscounted, as r_{t+1} in an MDP. A reward with no open decision (before the
//     agent's first decision of an episode) has nothing to be credited to and is counted
//     in Dropped.
//   - End(agent, tick, terminal, lastValue) when the agent's episode ends, tick being
//     the time of the final observation (the tick after the last reward): terminal
//     means a terminal state (no bootstrap); otherwise the episode was truncated and
//     the decision bootstraps from γ^dt lastValue, the critic's value of the final
//     observation (Learner.Value). An agent with no open decision is ignored.
//
// Ticks are given rather than elapsed times so that the glue need not report every
// zero-reward tick: dt comes from the ticks. Learner.Update learns from the finished
// decisions (closed by a successor or an end) and then drops them; open decisions stay
// for the next rollout, whose Add or End will close them. Agent keys are small
// non-negative integers the glue chooses (e.g. env index × agents per env + agent).
//
// The buffer holds only what has happened: a checkpoint does not save it, so resume
// training from a state where no decision is open (between episodes) to continue exactly.
type Buffer struct {
	obsDim, nActions int
	stateDim         int // a centralized critic's state floats per decision (Learner.NewBuffer)
	gamma            float64

	// One entry per decision, in the order Add was called.
	agent   []int32
	tick    []int64
	obs     []float32 // obsDim per decision
	states  []float32 // stateDim per decision
	masks   []bool    // nActions per decision
	actions []int32
	logps   []float32
	values  []float32
	rewards []float64 // Σ γ^(tick_r - tick) r over the rewards credited so far
	dt      []int64   // ticks to the successor or the end (when not open)
	next    []int32   // the successor's index when linked
	state   []uint8
	boot    []float32 // bootstrap value when truncated
	adv     []float64 // filled by Learner.advantages
	ret     []float64

	openAt  []int32 // per agent key: index of its open decision, or -1
	nOpen   int
	dropped int64
}

// NewBuffer returns an empty buffer for obsDim observation floats, nActions actions and
// the discount cfg.Gamma. Learner.NewBuffer is the usual way to get one.
func NewBuffer(cfg Config, obsDim, nActions int) (*Buffer, error) {
	if obsDim < 1 || nActions < 1 {
		return nil, fmt.Errorf("%w: need at least one observation and one action, got %d and %d", ErrShape, obsDim, nActions)
	}
	if !(cfg.Gamma >= 0 && cfg.Gamma <= 1) {
		return nil, fmt.Errorf("ppo: buffer: gamma must be in [0, 1], got %g", cfg.Gamma)
	}
	return &Buffer{obsDim: obsDim, nActions: nActions, gamma: cfg.Gamma}, nil
}

// Len returns the number of decisions held, open or finished.
func (b *Buffer) Len() int { return len(b.state) }

// Open returns the number of decisions still waiting for their successor or end.
func (b *Buffer) Open() int { return b.nOpen }

// Finished returns the number of decisions an Update would learn from.
func (b *Buffer) Finished() int { return len(b.state) - b.nOpen }

// Dropped returns the number of rewards that arrived while their agent had no open
// decision.
func (b *Buffer) Dropped() int64 { return b.dropped }

// HasOpen reports whether agent has an open decision.
func (b *Buffer) HasOpen(agent int) bool {
	return agent >= 0 && agent < len(b.openAt) && b.openAt[agent] >= 0
}

// Reset drops every decision, open ones included (for a fresh start).
func (b *Buffer) Reset() {
	b.truncate(0)
	b.openAt = b.openAt[:0]
	b.nOpen = 0
}

func (b *Buffer) truncate(n int) {
	b.agent, b.tick, b.actions, b.logps, b.values = b.agent[:n], b.tick[:n], b.actions[:n], b.logps[:n], b.values[:n]
	b.rewards, b.dt, b.next, b.state, b.boot = b.rewards[:n], b.dt[:n], b.next[:n], b.state[:n], b.boot[:n]
	b.adv, b.ret = b.adv[:n], b.ret[:n]
	b.obs, b.masks, b.states = b.obs[:n*b.obsDim], b.masks[:n*b.nActions], b.states[:n*b.stateDim]
}

func (b *Buffer) checkAgent(agent int) error {
	if agent < 0 || agent >= MaxAgentKey {
		return fmt.Errorf("ppo: agent key %d outside [0, %d)", agent, MaxAgentKey)
	}
	return nil
}

// openOf returns the index of agent's open decision, or -1.
func (b *Buffer) openOf(agent int) int {
	if agent < len(b.openAt) {
		return int(b.openAt[agent])
	}
	return -1
}

func finite32(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// Add records a decision of agent at tick: its observation (ObsDim floats, copied), its
// mask (NumActions flags, copied; nil means every action legal), the action taken, its
// log-probability and the critic's value, as Learner.Act returned them. It closes the
// agent's open decision, if any, with this one as its successor. It returns an error,
// and changes nothing, for wrong lengths, a non-finite input, an action the mask
// forbids, or a tick earlier than the agent's open decision.
func (b *Buffer) Add(agent int, tick int64, obs []float32, mask []bool, action int, logp, value float32) error {
	return b.AddState(agent, tick, obs, nil, mask, action, logp, value)
}

// AddState is Add for the buffer of a learner with a centralized critic: state holds the
// decision's StateDim floats (copied), as given to Learner.ActState.
func (b *Buffer) AddState(agent int, tick int64, obs, state []float32, mask []bool, action int, logp, value float32) error {
	if err := b.checkAgent(agent); err != nil {
		return err
	}
	if len(obs) != b.obsDim {
		return fmt.Errorf("%w: observation has %d floats, want %d", ErrShape, len(obs), b.obsDim)
	}
	if len(state) != b.stateDim {
		return fmt.Errorf("%w: state has %d floats, want %d", ErrShape, len(state), b.stateDim)
	}
	for j, x := range state {
		if !finite32(x) {
			return fmt.Errorf("ppo: state[%d] is %g", j, x)
		}
	}
	if mask != nil && len(mask) != b.nActions {
		return fmt.Errorf("%w: mask has %d entries, want %d", ErrShape, len(mask), b.nActions)
	}
	if action < 0 || action >= b.nActions || (mask != nil && !mask[action]) {
		return fmt.Errorf("%w: action %d (of %d) for agent %d", ErrAction, action, b.nActions, agent)
	}
	for j, x := range obs {
		if !finite32(x) {
			return fmt.Errorf("ppo: observation[%d] is %g", j, x)
		}
	}
	if !finite32(logp) || logp > 0 || !finite32(value) {
		return fmt.Errorf("ppo: log-probability %g or value %g is not usable", logp, value)
	}
	prev := b.openOf(agent)
	if prev >= 0 && tick < b.tick[prev] {
		return fmt.Errorf("%w: agent %d decides at tick %d after deciding at tick %d", ErrOrder, agent, tick, b.tick[prev])
	}
	i := len(b.state)
	if prev >= 0 {
		b.state[prev], b.next[prev], b.dt[prev] = linked, int32(i), tick-b.tick[prev]
		b.nOpen--
	}
	b.agent = append(b.agent, int32(agent))
	b.tick = append(b.tick, tick)
	b.obs = append(b.obs, obs...)
	b.states = append(b.states, state...)
	if mask == nil {
		for range b.nActions {
			b.masks = append(b.masks, true)
		}
	} else {
		b.masks = append(b.masks, mask...)
	}
	b.actions = append(b.actions, int32(action))
	b.logps = append(b.logps, logp)
	b.values = append(b.values, value)
	b.rewards = append(b.rewards, 0)
	b.dt = append(b.dt, 0)
	b.next = append(b.next, -1)
	b.state = append(b.state, open)
	b.boot = append(b.boot, 0)
	b.adv = append(b.adv, 0)
	b.ret = append(b.ret, 0)
	for len(b.openAt) <= agent {
		b.openAt = append(b.openAt, -1)
	}
	b.openAt[agent] = int32(i)
	b.nOpen++
	return nil
}

// Reward credits r, received by agent at tick, to the agent's open decision made at
// tick τ <= tick, as γ^(tick-τ) r. With no open decision it counts the reward in Dropped
// and returns nil. A non-finite r or a tick before τ is an error.
func (b *Buffer) Reward(agent int, tick int64, r float64) error {
	if err := b.checkAgent(agent); err != nil {
		return err
	}
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return fmt.Errorf("ppo: reward %g for agent %d", r, agent)
	}
	i := b.openOf(agent)
	if i < 0 {
		b.dropped++
		return nil
	}
	if tick < b.tick[i] {
		return fmt.Errorf("%w: reward at tick %d for agent %d, whose decision is at tick %d", ErrOrder, tick, agent, b.tick[i])
	}
	b.rewards[i] += math.Pow(b.gamma, float64(tick-b.tick[i])) * r
	return nil
}

// End closes agent's open decision at the end of its episode: tick is the time of the
// final observation; terminal reports a terminal state (the decision does not
// bootstrap), otherwise lastValue, the critic's value of the final observation, is the
// bootstrap. With no open decision End does nothing and returns nil.
func (b *Buffer) End(agent int, tick int64, terminal bool, lastValue float32) error {
	if err := b.checkAgent(agent); err != nil {
		return err
	}
	i := b.openOf(agent)
	if i < 0 {
		return nil
	}
	if tick < b.tick[i] {
		return fmt.Errorf("%w: episode of agent %d ends at tick %d, before its decision at tick %d", ErrOrder, agent, tick, b.tick[i])
	}
	if !terminal && !finite32(lastValue) {
		return fmt.Errorf("ppo: bootstrap value %g for agent %d", lastValue, agent)
	}
	b.dt[i] = tick - b.tick[i]
	if terminal {
		b.state[i], b.boot[i] = terminated, 0
	} else {
		b.state[i], b.boot[i] = truncated, lastValue
	}
	b.openAt[agent] = -1
	b.nOpen--
	return nil
}

// compact drops the finished decisions and moves the open ones to the front, in order.
func (b *Buffer) compact() {
	d, k, sd := b.obsDim, b.nActions, b.stateDim
	w := 0
	for i, s := range b.state {
		if s != open {
			continue
		}
		b.agent[w], b.tick[w], b.actions[w], b.logps[w], b.values[w] = b.agent[i], b.tick[i], b.actions[i], b.logps[i], b.values[i]
		b.rewards[w], b.dt[w], b.next[w], b.state[w], b.boot[w] = b.rewards[i], 0, -1, open, 0
		copy(b.obs[w*d:(w+1)*d], b.obs[i*d:(i+1)*d])
		copy(b.masks[w*k:(w+1)*k], b.masks[i*k:(i+1)*k])
		copy(b.states[w*sd:(w+1)*sd], b.states[i*sd:(i+1)*sd])
		b.openAt[b.agent[w]] = int32(w)
		w++
	}
	b.truncate(w)
}
