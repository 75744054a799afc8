package experiments

// The driver steps the runner's vectorized environment one step at a time for a caller
// outside Go (the C ABI in cabi/ and the Python package over it): the agents of the
// population's learning groups are the caller's, every other agent is played in Go by
// its group's scripted policy, as in training.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
)

// Who a Driver's caller controls (DriverOptions.Control).
const (
	// ControlLearning: the agents of the population's learning groups (ppo and dsr); the
	// other groups play their scripted policies in Go, and a learning group with a
	// scripted protocol has its protocol steps answered in Go too (as in training).
	ControlLearning = "learning"
	// ControlAll: every agent, every decision (the population is not used).
	ControlAll = "all"
)

// DriverOptions configures a Driver.
type DriverOptions struct {
	// NumEnvs is the number of environments stepped side by side (at least 1).
	NumEnvs int
	// Workers is the number of goroutines stepping them (results do not depend on it).
	Workers int
	// Control is ControlLearning (the default, "") or ControlAll.
	Control string
}

// DriverRow is one of the caller's decisions: entry Entry of environment Env's batch,
// agent Agent, with the reward it accrued since its previous row (rewards of the
// entries answered in Go on its behalf are carried to its next row, so an agent's row
// rewards add up to its rewards in the environment).
type DriverRow struct {
	Env    int
	Entry  int
	Agent  market.AgentID
	Reward float64
}

// Driver steps cfg's market for a caller that answers the decisions of the agents it
// controls: Reset, then Rows (the caller's decisions of every environment at once),
// then Step with one action per row, until Done. Environment k of an episode started by
// Reset(seed) runs under seed+k. It is not safe for concurrent use.
type Driver struct {
	r       *runner
	all     bool
	ext     []bool      // per group: the caller's
	carry   [][]float64 // per env, per agent: reward of entries answered in Go, not yet handed out
	rows    []DriverRow
	batches []*env.Batch
	live    int
	done    bool
	began   bool
}

// NewDriver builds the driver's environments.
func NewDriver(cfg Config, opts DriverOptions) (*Driver, error) {
	switch opts.Control {
	case "", ControlLearning, ControlAll:
	default:
		return nil, fmt.Errorf("experiments: control must be %s or %s, got %q", ControlLearning, ControlAll, opts.Control)
	}
	if opts.NumEnvs < 1 {
		return nil, fmt.Errorf("experiments: a driver needs at least one environment, got %d", opts.NumEnvs)
	}
	r, err := newRunner(cfg, opts.NumEnvs, max(opts.Workers, 1), 0)
	if err != nil {
		return nil, err
	}
	d := &Driver{r: r, all: opts.Control == ControlAll, ext: make([]bool, len(cfg.Population)),
		carry: make([][]float64, opts.NumEnvs), done: true}
	for g := range cfg.Population {
		gc := &cfg.Population[g]
		if d.all || gc.Learning() {
			d.ext[g] = true
			continue
		}
		if r.policies[g], err = scriptedPolicy(gc); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// NumEnvs is the number of environments.
func (d *Driver) NumEnvs() int { return len(d.r.vec.Envs) }

// NumActions is the size of the discrete action space.
func (d *Driver) NumActions() int { return d.r.nAct }

// Env returns environment k (read-only use: its batch, market and spaces).
func (d *Driver) Env(k int) *env.Env { return d.r.vec.Envs[k] }

// Batch returns environment k's current batch (nil once its episode is over and it was
// stepped past its last batch).
func (d *Driver) Batch(k int) *env.Batch { return d.batches[k] }

// Rows are the caller's decisions of the current step, environment by environment in
// batch order. The slice is reused by the next Reset or Step.
func (d *Driver) Rows() []DriverRow { return d.rows }

// Done reports whether every environment's episode is over: the rows are the last ones
// (truncated or terminated) and Step may not be called again before Reset.
func (d *Driver) Done() bool { return d.done }

// Controls reports whether the caller controls agent a of environment k.
func (d *Driver) Controls(k int, a market.AgentID) bool {
	g := d.r.group(k, d.r.vec.Envs[k].Market(), a)
	return g >= 0 && d.ext[g]
}

// Reset starts an episode in every environment, environment k under seed+k, and runs
// the market until the caller has a decision.
func (d *Driver) Reset(seed uint64) error {
	r := d.r
	seeds := make([]uint64, len(r.vec.Envs))
	for k := range seeds {
		seeds[k] = seed + uint64(k)
	}
	r.streams = streamsFor(seed, "driver", r.pop, r.streams)
	batches, err := r.vec.Reset(seeds)
	if err != nil {
		return err
	}
	d.batches = batches
	for k := range r.vec.Envs {
		r.groupOf[k] = r.groupOf[k][:0]
		d.carry[k] = d.carry[k][:0]
		for _, p := range r.policies {
			if s, ok := p.(agents.EpisodeStarter); ok {
				s.BeginEpisode(k, seeds[k])
			}
		}
	}
	d.live, d.done, d.began = len(batches), false, true
	return d.collect()
}

// ErrDriverDone is returned by Step once the episode is over.
var ErrDriverDone = errors.New("experiments: the episode is over; call reset")

// Step answers the rows of the current step (acts[j] answers Rows()[j]; a terminated or
// truncated row's action is ignored) and runs the market until the caller has a
// decision again or every episode is over.
func (d *Driver) Step(acts []env.Action) error {
	if !d.began || d.done {
		return ErrDriverDone
	}
	if len(acts) != len(d.rows) {
		return fmt.Errorf("experiments: %d actions for %d rows", len(acts), len(d.rows))
	}
	r := d.r
	for j, row := range d.rows {
		r.acts[row.Env][row.Entry] = acts[j]
	}
	batches, err := r.vec.Step(r.acts)
	if err != nil {
		d.done = true
		return err
	}
	d.batches = batches
	return d.collect()
}

// rowCaller marks a batch entry answered by the driver's caller (runner.rowOf).
const rowCaller = -3

// collect gathers the caller's rows of the current batches and answers every other
// entry in Go; while the caller has nothing to decide it steps the environments itself.
func (d *Driver) collect() error {
	r := d.r
	for {
		d.rows = d.rows[:0]
		for g := range r.obs {
			r.obs[g].Reset(env.ObsDim, r.nAct)
		}
		for k, b := range d.batches {
			if b == nil {
				continue
			}
			e := r.vec.Envs[k]
			m := e.Market()
			for len(d.carry[k]) < m.NumAgents() {
				d.carry[k] = append(d.carry[k], 0)
			}
			rows, direct := r.rowOf[k][:0], r.direct[k][:0]
			for i, a := range b.Agents {
				direct = append(direct, env.Action{})
				g := r.group(k, m, a)
				dec := &b.Decisions[i]
				switch {
				case g >= 0 && d.ext[g] && dec.Kind != 0 && !d.all && r.proto[g] && !agents.Negotiating(dec):
					// A protocol step answered in Go: its reward waits for the agent's next row.
					d.carry[k][a] += b.Rewards[i]
					rows = append(rows, -2)
					direct[i] = env.Action{Structured: true, Response: agents.Protocol(m, dec)}
				case g >= 0 && d.ext[g]:
					d.rows = append(d.rows, DriverRow{Env: k, Entry: i, Agent: a, Reward: d.carry[k][a] + b.Rewards[i]})
					d.carry[k][a] = 0
					rows = append(rows, rowCaller)
				case g < 0 || dec.Kind == 0:
					rows = append(rows, -1)
				case r.proto[g] && !agents.Negotiating(dec):
					rows = append(rows, -2)
					direct[i] = env.Action{Structured: true, Response: agents.Protocol(m, dec)}
				default:
					rows = append(rows, int32(r.obs[g].N))
					r.obs[g].Add(e, k, b, i)
				}
			}
			r.rowOf[k], r.direct[k] = rows, direct
		}
		if err := d.actScripted(r.streams); err != nil {
			d.done = true
			return err
		}
		for k, b := range d.batches {
			acts := r.acts[k][:0]
			if b == nil {
				r.acts[k] = acts
				continue
			}
			for i := range b.Agents {
				var a env.Action
				switch row := r.rowOf[k][i]; {
				case row >= 0:
					a = r.outs[r.group(k, nil, b.Agents[i])][row]
				case row == -2:
					a = r.direct[k][i]
				}
				acts = append(acts, a)
			}
			r.acts[k] = acts
			if b.Done {
				d.live--
			}
		}
		if d.live == 0 {
			d.done = true
			return nil
		}
		if len(d.rows) > 0 {
			return nil
		}
		batches, err := r.vec.Step(r.acts)
		if err != nil {
			d.done = true
			return err
		}
		d.batches = batches
	}
}

// actScripted lets every group the caller does not control act on its rows.
func (d *Driver) actScripted(streams []*rand.Rand) error {
	r := d.r
	for g, p := range r.policies {
		o := &r.obs[g]
		if d.ext[g] || o.N == 0 {
			continue
		}
		if cap(r.outs[g]) < o.N {
			r.outs[g] = make([]env.Action, o.N, 2*o.N)
		}
		r.outs[g] = r.outs[g][:o.N]
		if err := p.Act(o, streams[g], r.outs[g]); err != nil {
			return fmt.Errorf("group %s: %w", r.pop[g].Name, err)
		}
	}
	return nil
}

// RuleEpisode runs one episode in each of opts.NumEnvs environments of cfg natively,
// through the runner that training and evaluation use, with rule answering every
// decision the caller of a Driver with the same options would get (a row's mask and
// agent in, an action index out) and the other groups playing their scripted policies
// from the same streams as the Driver's. It returns, per environment and agent id, the
// sum of the rewards the agent's rows would carry and the agent's final wealth in USD
// (zero for agents the caller does not control). It is the Go side of the determinism
// test of the Python package: the same seed and rule must give the same numbers there.
func RuleEpisode(cfg Config, opts DriverOptions, seed uint64, rule func(a market.AgentID, mask []bool) int) (sums, wealth [][]float64, err error) {
	d, err := NewDriver(cfg, opts) // validates opts and builds the scripted policies
	if err != nil {
		return nil, nil, err
	}
	r := d.r
	for g := range r.policies {
		if d.ext[g] {
			r.policies[g] = rulePolicy(rule)
			if d.all {
				r.proto[g] = false
			}
		}
	}
	k := d.NumEnvs()
	seeds := make([]uint64, k)
	for i := range seeds {
		seeds[i] = seed + uint64(i)
	}
	sums, wealth = make([][]float64, k), make([][]float64, k)
	pending := make([][]float64, k)
	grow := func(s []float64, n int) []float64 {
		for len(s) < n {
			s = append(s, 0)
		}
		return s
	}
	h := episodeHooks{
		entry: func(k int, e *env.Env, b *env.Batch, i, g int) error {
			if g < 0 || !d.ext[g] {
				return nil
			}
			a := b.Agents[i]
			n := e.Market().NumAgents()
			sums[k], pending[k] = grow(sums[k], n), grow(pending[k], n)
			dec := &b.Decisions[i]
			if dec.Kind != 0 && r.proto[g] && !agents.Negotiating(dec) {
				pending[k][a] += b.Rewards[i]
				return nil
			}
			sums[k][a] += pending[k][a] + b.Rewards[i]
			pending[k][a] = 0
			return nil
		},
		done: func(k int, e *env.Env) error {
			m := e.Market()
			sums[k] = grow(sums[k], m.NumAgents())
			wealth[k] = make([]float64, m.NumAgents())
			for a := range wealth[k] {
				if g := r.group(k, m, market.AgentID(a)); g >= 0 && d.ext[g] {
					wealth[k][a] = m.WealthUSD(market.AgentID(a))
				}
			}
			return nil
		},
	}
	streams := streamsFor(seed, "driver", r.pop, nil)
	if err := r.episodes(context.Background(), seeds, streams, h); err != nil {
		return nil, nil, err
	}
	return sums, wealth, nil
}

// rulePolicy answers every row with a rule of its agent and mask.
type rulePolicy func(a market.AgentID, mask []bool) int

func (p rulePolicy) Act(o *agents.Obs, _ *rand.Rand, out []env.Action) error {
	for i := 0; i < o.N; i++ {
		out[i] = env.Action{Index: int32(p(o.Decisions[i].Agent, o.Masks[i*o.NumActions:(i+1)*o.NumActions]))}
	}
	return nil
}

// LegalByAgent is the fixed action rule of the determinism tests: among the legal
// actions of the mask, in index order, the one at position agent mod their number
// (waiting, 0, when none is legal).
func LegalByAgent(a market.AgentID, mask []bool) int {
	n := 0
	for _, ok := range mask {
		if ok {
			n++
		}
	}
	if n == 0 {
		return 0
	}
	want := int(a) % n
	for i, ok := range mask {
		if ok {
			if want == 0 {
				return i
			}
			want--
		}
	}
	return 0
}
