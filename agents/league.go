package agents

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/fieldpath"
)

// KindLeague is a group played by a pool of opponents, one drawn per episode (league
// training, fictitious self-play): frozen snapshots of a learning group, trained
// checkpoints and scripted strategies (GroupConfig.League).
const KindLeague = "league"

// Pool sampling schemes (LeagueConfig.Sampling).
const (
	// SampleUniform draws each episode's opponent in proportion to the pool weights:
	// with snapshots of the learner, fictitious self-play (Heinrich, Lanctot and Silver
	// 2015), which plays the average of the learner's past policies.
	SampleUniform = "uniform"
	// SamplePrioritized multiplies the weights by a priority that favours the opponents
	// the learners do worst against (prioritized fictitious self-play, Vinyals et al.
	// 2019, AlphaStar), by rank: see PoolSampler.
	SamplePrioritized = "prioritized"
)

// RandomLegal names the random-legal policy (KindRandom) as a pool entry's strategy.
const RandomLegal = "random-legal"

// LeagueConfig is a league group's pool (YAML key "league" of a group of kind league).
type LeagueConfig struct {
	// Sampling is uniform (the default) or prioritized.
	Sampling string `yaml:"sampling,omitempty"`
	// Pool lists the opponents.
	Pool []PoolEntry `yaml:"pool"`
}

// PoolEntry is one opponent of a league pool: exactly one of Snapshot, Checkpoint and
// Strategy is set.
type PoolEntry struct {
	// Name names the opponent in league.csv (default: the strategy, the snapshot's group,
	// or the checkpoint file's name without extension); a snapshot taken at iteration N
	// is "<name>@N".
	Name string `yaml:"name,omitempty"`
	// Snapshot names a ppo group of the population with the league group's role: the
	// pool holds frozen copies of its policy taken every Every iterations (at iteration
	// 0 too), the latest Keep of them (0: all).
	Snapshot string `yaml:"snapshot,omitempty"`
	Every    int    `yaml:"every,omitempty"`
	Keep     int    `yaml:"keep,omitempty"`
	// Checkpoint is a PPO checkpoint file (relative to the working directory), played
	// with the network of the run it came from.
	Checkpoint string `yaml:"checkpoint,omitempty"`
	// Strategy, Params and Opening are a scripted opponent, as in a scripted group;
	// strategy random-legal is the random-legal policy.
	Strategy string             `yaml:"strategy,omitempty"`
	Params   map[string]float64 `yaml:"params,omitempty"`
	Opening  float64            `yaml:"opening,omitempty"`
	// Weight is the entry's sampling weight (default 1); a snapshot entry's weight is
	// shared by its snapshots.
	Weight *float64 `yaml:"weight,omitempty"`
}

// EntryName returns the entry's name, its default filled in.
func (e *PoolEntry) EntryName() string {
	switch {
	case e.Name != "":
		return e.Name
	case e.Snapshot != "":
		return e.Snapshot
	case e.Checkpoint != "":
		base := e.Checkpoint[strings.LastIndexAny(e.Checkpoint, `/\`)+1:]
		return strings.TrimSuffix(base, ".safetensors")
	}
	return e.Strategy
}

// W returns the entry's weight (default 1).
func (e *PoolEntry) W() float64 {
	if e.Weight == nil {
		return 1
	}
	return *e.Weight
}

// Group returns the scripted group the entry plays as (Strategy set), named name, with
// the league group's role and protocol.
func (e *PoolEntry) Group(slot *GroupConfig, name string) GroupConfig {
	g := GroupConfig{Name: name, Role: slot.Role, Kind: KindScripted, Strategy: e.Strategy,
		Params: e.Params, Opening: e.Opening, Protocol: slot.Protocol, Share: 1}
	if e.Strategy == RandomLegal {
		g = GroupConfig{Name: name, Role: slot.Role, Kind: KindRandom, Protocol: slot.Protocol, Share: 1}
	}
	return g
}

func (l *LeagueConfig) clone() *LeagueConfig {
	if l == nil {
		return nil
	}
	out := &LeagueConfig{Sampling: l.Sampling, Pool: slices.Clone(l.Pool)}
	for i := range out.Pool {
		e := &out.Pool[i]
		if e.Params != nil {
			m := make(map[string]float64, len(e.Params))
			for k, v := range e.Params {
				m[k] = v
			}
			e.Params = m
		}
		if e.Weight != nil {
			w := *e.Weight
			e.Weight = &w
		}
	}
	return out
}

// validateLeague checks a league group's pool against the population; paths are
// relative to the group.
func (p Population) validateLeague(g *GroupConfig) error {
	var errs []error
	add := func(key, format string, args ...any) { errs = append(errs, fieldpath.Errorf(key, format, args...)) }
	if g.Strategy != "" || len(g.Params) > 0 || g.Opening != 0 {
		add("strategy", "a league group has no strategy, params or opening (its pool entries do)")
	}
	l := g.League
	if l == nil || len(l.Pool) == 0 {
		add("league.pool", "a league group needs a pool of at least one opponent")
		return errors.Join(errs...)
	}
	switch l.Sampling {
	case "", SampleUniform, SamplePrioritized:
	default:
		add("league.sampling", "must be %s or %s, got %q", SampleUniform, SamplePrioritized, l.Sampling)
	}
	names := map[string]bool{}
	for i := range l.Pool {
		e := &l.Pool[i]
		at := "league.pool[" + strconv.Itoa(i) + "]."
		set := 0
		for _, s := range []string{e.Snapshot, e.Checkpoint, e.Strategy} {
			if s != "" {
				set++
			}
		}
		if set != 1 {
			add(at+"snapshot", "set exactly one of snapshot, checkpoint and strategy (%d set)", set)
			continue
		}
		if name := e.EntryName(); !validName(name) {
			add(at+"name", "must be 1 to 64 lower-case letters, digits, '-' or '_', got %q", name)
		} else if names[name] {
			add(at+"name", "%q names two pool entries (give one of them a name)", name)
		} else {
			names[name] = true
		}
		if e.Weight != nil && !(*e.Weight > 0 && *e.Weight <= 1e6) {
			add(at+"weight", "must be in (0, 1e6], got %g", *e.Weight)
		}
		if e.Snapshot == "" && (e.Every != 0 || e.Keep != 0) {
			add(at+"every", "every and keep belong to snapshot entries")
		}
		if e.Strategy == "" && (len(e.Params) > 0 || e.Opening != 0) {
			add(at+"params", "params and opening belong to strategy entries")
		}
		switch {
		case e.Snapshot != "":
			src := slices.IndexFunc(p, func(x GroupConfig) bool { return x.Name == e.Snapshot })
			switch {
			case src < 0:
				add(at+"snapshot", "%q is not a group of the population", e.Snapshot)
			case p[src].Kind != KindPPO:
				add(at+"snapshot", "group %s is a %s group; snapshots are of ppo groups", e.Snapshot, p[src].Kind)
			case p[src].Role != g.Role:
				add(at+"snapshot", "group %s is a %s group; this league group plays %ss", e.Snapshot, p[src].Role, g.Role)
			}
			if e.Every < 1 {
				add(at+"every", "a snapshot entry needs every >= 1 (iterations between snapshots), got %d", e.Every)
			}
			if e.Keep < 0 {
				add(at+"keep", "must be >= 0 (0: keep every snapshot), got %d", e.Keep)
			}
		case e.Strategy == RandomLegal:
			if len(e.Params) > 0 || e.Opening != 0 {
				add(at+"params", "random-legal has no params or opening")
			}
		case e.Strategy != "":
			sg := e.Group(g, "x")
			if err := sg.checkStrategy(); err != nil {
				errs = append(errs, fieldpath.Under(strings.TrimSuffix(at, "."), err))
			}
			if e.Opening != 0 && (!(e.Opening > 0) || e.Opening > 100) {
				add(at+"opening", "must be in (0, 100] (0: the default), got %g", e.Opening)
			}
		}
	}
	return errors.Join(errs...)
}

// League is the policy of a league group: a pool of member policies, of which one plays
// each environment's episode (Pick, set by the caller before the episode starts). Act
// splits the rows by their environment's member and lets each member act on its rows,
// in member order, drawing from the same stream.
type League struct {
	// Names and Members are the pool's opponents.
	Names   []string
	Members []Policy
	// Pick[k] is the member that plays environment k's episode.
	Pick []int

	sub  []Obs
	outs [][]env.Action
	rows [][]int
}

// Add appends a member.
func (l *League) Add(name string, p Policy) {
	l.Names = append(l.Names, name)
	l.Members = append(l.Members, p)
}

// Remove drops member i.
func (l *League) Remove(i int) {
	l.Names = slices.Delete(l.Names, i, i+1)
	l.Members = slices.Delete(l.Members, i, i+1)
}

// SetPicks sets the member of each environment.
func (l *League) SetPicks(picks []int) { l.Pick = append(l.Pick[:0], picks...) }

// Act implements Policy.
func (l *League) Act(o *Obs, r *rand.Rand, out []env.Action) error {
	if len(out) != o.N {
		return fmt.Errorf("agents: %d actions for %d rows", len(out), o.N)
	}
	n := len(l.Members)
	for len(l.sub) < n {
		l.sub, l.outs, l.rows = append(l.sub, Obs{}), append(l.outs, nil), append(l.rows, nil)
	}
	for m := 0; m < n; m++ {
		l.sub[m].Reset(o.ObsDim, o.NumActions)
		l.rows[m] = l.rows[m][:0]
	}
	for i := 0; i < o.N; i++ {
		k := o.EnvIndex[i]
		if k >= len(l.Pick) || l.Pick[k] < 0 || l.Pick[k] >= n {
			return fmt.Errorf("agents: league: no pool member picked for environment %d", k)
		}
		m := l.Pick[k]
		l.sub[m].addRow(o, i)
		l.rows[m] = append(l.rows[m], i)
	}
	for m := 0; m < n; m++ {
		s := &l.sub[m]
		if s.N == 0 {
			continue
		}
		l.outs[m] = slices.Grow(l.outs[m][:0], s.N)[:s.N]
		if err := l.Members[m].Act(s, r, l.outs[m]); err != nil {
			return fmt.Errorf("pool member %s: %w", l.Names[m], err)
		}
		for j, i := range l.rows[m] {
			out[i] = l.outs[m][j]
		}
	}
	return nil
}

// BeginEpisode implements EpisodeStarter: it tells every member that keeps state.
func (l *League) BeginEpisode(k int, seed uint64) {
	for _, p := range l.Members {
		if s, ok := p.(EpisodeStarter); ok {
			s.BeginEpisode(k, seed)
		}
	}
}

// addRow appends row i of src.
func (o *Obs) addRow(src *Obs, i int) {
	o.N++
	if src.Encoded() {
		d, k := src.ObsDim, src.NumActions
		o.Vec = append(o.Vec, src.Vec[i*d:(i+1)*d]...)
		o.Masks = append(o.Masks, src.Masks[i*k:(i+1)*k]...)
	}
	o.Decisions = append(o.Decisions, src.Decisions[i])
	o.Envs = append(o.Envs, src.Envs[i])
	o.EnvIndex = append(o.EnvIndex, src.EnvIndex[i])
	o.Entry = append(o.Entry, src.Entry[i])
}

// PoolSampler draws a league's opponents. Uniform sampling draws member m with
// probability w_m / Σ w. Prioritized sampling tracks, per member, an exponential moving
// average (rate ScoreRate) of the learners' score in the episodes it played, and draws
// m with probability proportional to w_m x f_m: the members not played yet have f = 1;
// the P played ones, ranked by their average from the lowest (rank 0, the opponent the
// learners do worst against) up, have f = (P - rank) / P. Ranks rather than the scores
// themselves keep the priority free of the reward's scale (PFSP's f over win rates
// needs a win, which a market does not define); ties rank in member order.
type PoolSampler struct {
	Prioritized bool
	score       []float64
	played      []bool
	p           []float64
	order       []int
}

// ScoreRate is the rate of the prioritized sampler's moving averages.
const ScoreRate = 0.25

// Resize keeps the stats of the first n members (members are appended and removed in
// step with the pool: Remove first).
func (s *PoolSampler) Resize(n int) {
	for len(s.score) < n {
		s.score, s.played = append(s.score, 0), append(s.played, false)
	}
	s.score, s.played = s.score[:n], s.played[:n]
}

// Remove drops member i's stats.
func (s *PoolSampler) Remove(i int) {
	if i < len(s.score) {
		s.score, s.played = slices.Delete(s.score, i, i+1), slices.Delete(s.played, i, i+1)
	}
}

// Observe records the learners' score in an episode against member m.
func (s *PoolSampler) Observe(m int, score float64) {
	s.Resize(max(len(s.score), m+1))
	if !s.played[m] {
		s.score[m], s.played[m] = score, true
		return
	}
	s.score[m] += ScoreRate * (score - s.score[m])
}

// Probs writes the sampling probabilities of members with weights w into dst (len(w)).
func (s *PoolSampler) Probs(w []float64, dst []float64) {
	s.Resize(len(w))
	copy(dst, w)
	if s.Prioritized {
		s.order = s.order[:0]
		for m := range w {
			if s.played[m] {
				s.order = append(s.order, m)
			}
		}
		slices.SortStableFunc(s.order, func(a, b int) int {
			switch {
			case s.score[a] < s.score[b]:
				return -1
			case s.score[a] > s.score[b]:
				return 1
			}
			return 0
		})
		np := float64(len(s.order))
		for rank, m := range s.order {
			dst[m] *= (np - float64(rank)) / np
		}
	}
	sum := 0.0
	for _, x := range dst {
		sum += x
	}
	for m := range dst {
		dst[m] /= sum
	}
}

// Sample draws a member of weights w from r (one Float64 draw).
func (s *PoolSampler) Sample(w []float64, r *rand.Rand) int {
	s.p = slices.Grow(s.p[:0], len(w))[:len(w)]
	s.Probs(w, s.p)
	u := r.Float64()
	acc := 0.0
	for m, p := range s.p {
		acc += p
		if u < acc {
			return m
		}
	}
	return len(w) - 1
}
