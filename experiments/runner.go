package experiments

// The runner steps a vectorized environment with a population's policies: it is what
// training and evaluation share. Each step it gathers, for every policy group, the
// decision rows of all environments, lets the group act on them in one call (one
// forward pass for a learned group), scatters the actions back and steps every
// environment. Callers see every batch entry through hooks, before the group acts
// (rewards, ends) and after (the action taken).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
)

// keyStride bounds the agent ids of one environment in the learners' agent keys:
// key = env index x keyStride + agent id.
const keyStride = 1 << 15

// runner holds a vectorized env and one policy per group.
type runner struct {
	cfg      Config
	pop      agents.Population
	vec      *env.Vec
	assign   *agents.Assignment
	policies []agents.Policy
	nAct     int

	groupOf [][]int16 // per env, per agent id: the group index; -2 not yet known
	obs     []agents.Obs
	outs    [][]env.Action
	acts    [][]env.Action
	rowOf   [][]int32      // per env, per entry: the row in its group's Obs, -1 none, -2 direct
	direct  [][]env.Action // per env, per entry: a scripted protocol step's action
	proto   []bool         // per group: protocol steps are scripted
	streams []*rand.Rand
}

// newRunner builds k environments of cfg (episode length ticks) stepped by workers
// goroutines.
func newRunner(cfg Config, k, workers, ticks int) (*runner, error) {
	s := cfg.Settings()
	if ticks > 0 {
		s.Env.EpisodeTicks = ticks
	}
	vec, err := env.NewVec(s, k, workers)
	if err != nil {
		return nil, err
	}
	np, nc := 0, 0
	for _, p := range cfg.Market.Providers {
		np += p.Count
	}
	for _, c := range cfg.Market.Clients {
		nc += c.Count
	}
	assign, err := agents.NewAssignment(cfg.Population, np, nc)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, pop: cfg.Population, vec: vec, assign: assign, nAct: vec.Envs[0].NumActions(),
		groupOf: make([][]int16, k), rowOf: make([][]int32, k), acts: make([][]env.Action, k), direct: make([][]env.Action, k),
		obs: make([]agents.Obs, len(cfg.Population)), outs: make([][]env.Action, len(cfg.Population)),
		policies: make([]agents.Policy, len(cfg.Population)), streams: make([]*rand.Rand, len(cfg.Population))}
	for g := range cfg.Population {
		r.proto = append(r.proto, cfg.Population[g].ScriptedProtocol())
	}
	return r, nil
}

// scriptedPolicy builds the policy of a scripted or random group.
func scriptedPolicy(g *agents.GroupConfig) (agents.Policy, error) {
	switch g.Kind {
	case agents.KindRandom:
		return agents.NewRandomPolicy(), nil
	case agents.KindScripted:
		return agents.NewScripted(g.Name, g.StrategyName(), g.Params, g.Opening)
	}
	if g.Kind == agents.KindLeague {
		return nil, fmt.Errorf("experiments: group %s is a league group: league pools play in training and evaluation (hivegym train, eval), not here", g.Name)
	}
	return nil, fmt.Errorf("experiments: group %s of kind %s has no scripted policy", g.Name, g.Kind)
}

// group returns the group index of agent a in env k.
func (r *runner) group(k int, m *market.Market, a market.AgentID) int {
	row := r.groupOf[k]
	for len(row) <= int(a) {
		row = append(row, -2)
	}
	r.groupOf[k] = row
	if row[a] == -2 {
		row[a] = int16(r.assign.Group(m.Role(a), agents.AgentNumber(m.Name(a))))
	}
	return int(row[a])
}

// episodeHooks are a caller's view of a round of episodes.
type episodeHooks struct {
	// begin is called after env k was reset.
	begin func(k int, e *env.Env)
	// entry is called for every entry i of env k's batch b, before the groups act; g is
	// its group (-1: none).
	entry func(k int, e *env.Env, b *env.Batch, i, g int) error
	// acted is called for every group after it acted on its rows.
	acted func(g int, o *agents.Obs, out []env.Action) error
	// done is called once env k's episode ended (after its last batch's entries).
	done func(k int, e *env.Env) error
	// step is called after every step of the vectorized env.
	step func() error
}

// episodes runs one episode in every env, env k under seeds[k], until all are over or
// ctx is cancelled (then it returns ctx's error at a step boundary). streams[g] is
// group g's random stream for this round.
func (r *runner) episodes(ctx context.Context, seeds []uint64, streams []*rand.Rand, h episodeHooks) error {
	batches, err := r.vec.Reset(seeds)
	if err != nil {
		return err
	}
	for k, e := range r.vec.Envs {
		r.groupOf[k] = r.groupOf[k][:0]
		for _, p := range r.policies {
			if s, ok := p.(agents.EpisodeStarter); ok {
				s.BeginEpisode(k, seeds[k])
			}
		}
		if h.begin != nil {
			h.begin(k, e)
		}
	}
	live := len(batches)
	for live > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		for g := range r.obs {
			r.obs[g].Reset(env.ObsDim, r.nAct)
		}
		for k, b := range batches {
			if b == nil {
				continue
			}
			e := r.vec.Envs[k]
			m := e.Market()
			rows := r.rowOf[k][:0]
			direct := r.direct[k][:0]
			for i := range b.Agents {
				direct = append(direct, env.Action{})
				g := r.group(k, m, b.Agents[i])
				if h.entry != nil {
					if err := h.entry(k, e, b, i, g); err != nil {
						return err
					}
				}
				if g < 0 || b.Decisions[i].Kind == 0 {
					rows = append(rows, -1)
					continue
				}
				if r.proto[g] && !agents.Negotiating(&b.Decisions[i]) {
					rows = append(rows, -2)
					direct[i] = env.Action{Structured: true, Response: agents.Protocol(m, &b.Decisions[i])}
					continue
				}
				rows = append(rows, int32(r.obs[g].N))
				r.obs[g].Add(e, k, b, i)
			}
			r.rowOf[k], r.direct[k] = rows, direct
		}
		for g, p := range r.policies {
			o := &r.obs[g]
			if o.N == 0 {
				continue
			}
			if cap(r.outs[g]) < o.N {
				r.outs[g] = make([]env.Action, o.N, 2*o.N)
			}
			r.outs[g] = r.outs[g][:o.N]
			if err := p.Act(o, streams[g], r.outs[g]); err != nil {
				return fmt.Errorf("group %s: %w", r.pop[g].Name, err)
			}
			if h.acted != nil {
				if err := h.acted(g, o, r.outs[g]); err != nil {
					return err
				}
			}
		}
		for k, b := range batches {
			if b == nil {
				r.acts[k] = r.acts[k][:0]
				continue
			}
			acts := r.acts[k][:0]
			for i := range b.Agents {
				var a env.Action
				switch row := r.rowOf[k][i]; {
				case row >= 0:
					g := r.group(k, nil, b.Agents[i])
					a = r.outs[g][row]
				case row == -2:
					a = r.direct[k][i]
				}
				acts = append(acts, a)
			}
			r.acts[k] = acts
			if b.Done {
				live--
				if h.done != nil {
					if err := h.done(k, r.vec.Envs[k]); err != nil {
						return err
					}
				}
			}
		}
		if live == 0 {
			break
		}
		if batches, err = r.vec.Step(r.acts); err != nil {
			return err
		}
		if h.step != nil {
			if err := h.step(); err != nil {
				return err
			}
		}
	}
	return nil
}

// agentCounts counts, per group, the agents of env k's market (those that were in it
// during the episode).
func (r *runner) agentCounts(k int, dst []int) []int {
	dst = append(dst[:0], make([]int, len(r.pop))...)
	m := r.vec.Envs[k].Market()
	for a := 0; a < m.NumAgents(); a++ {
		if g := r.group(k, m, market.AgentID(a)); g >= 0 {
			dst[g]++
		}
	}
	return dst
}

// streamsFor returns one random stream per group named prefix.group.
func streamsFor(seed uint64, prefix string, pop agents.Population, dst []*rand.Rand) []*rand.Rand {
	dst = dst[:0]
	for _, g := range pop {
		dst = append(dst, rng.New(seed, prefix+"."+g.Name))
	}
	return dst
}

// episodeSeed is the seed of episode j of a round named name.
func episodeSeed(seed uint64, name string, round, j int) uint64 {
	return rng.New(seed, name+"."+strconv.Itoa(round)+"."+strconv.Itoa(j)).Uint64()
}
