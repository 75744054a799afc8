package experiments

// League training: a group of kind league is played, each episode, by an opponent drawn
// from its pool (agents.LeagueConfig): frozen snapshots of a ppo group taken every N
// iterations, PPO checkpoints and scripted strategies. The trainer keeps the pool: it
// adds a snapshot at the start of every iteration a snapshot entry is due (iteration 0
// included: the initial policy), saves it as checkpoints/<group>-<iteration>.safetensors
// (the same bytes as that iteration's regular checkpoint), draws each environment's
// opponent from a stream named by the run seed and the iteration, and, after the
// rollout, records in league.csv whom each environment played and the learners' score
// there (their agents' mean episodic reward, unscaled), which the prioritized sampler
// ranks. A resumed run rebuilds the pool and the sampler by replaying the snapshot files
// and league.csv up to the checkpoint's iteration, so it continues bit-identically.
// Evaluation plays the final pool, drawing each episode's opponent by the pool weights.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
)

// LeaguePool is a league group's pool of opponents and what it needs to sample them.
type LeaguePool struct {
	gc      agents.GroupConfig
	policy  *agents.League
	member  []poolMember // parallel to policy.Members
	sampler agents.PoolSampler
	w       []float64
	picks   []int
}

type poolMember struct {
	entry int // index in the pool config
	iter  int // a snapshot's iteration, -1 for the other entries
}

// Names returns the pool's members, in sampling order.
func (p *LeaguePool) Names() []string { return append([]string(nil), p.policy.Names...) }

// newLeaguePool builds the fixed members of league group gc (checkpoints and
// strategies, in pool order); snapshots come with addSnapshot.
func newLeaguePool(cfg *Config, gi int) (*LeaguePool, error) {
	gc := cfg.Population[gi]
	p := &LeaguePool{gc: gc, policy: &agents.League{}}
	p.sampler.Prioritized = gc.League.Sampling == agents.SamplePrioritized
	for i := range gc.League.Pool {
		e := &gc.League.Pool[i]
		name := e.EntryName()
		var pol agents.Policy
		switch {
		case e.Snapshot != "":
			continue
		case e.Checkpoint != "":
			l, err := LoadPPOCheckpoint(e.Checkpoint, gc.Name+"/"+name, gc.Role, *cfg)
			if err != nil {
				var ee *Error
				if errors.As(err, &ee) {
					ee.Msg += fmt.Sprintf(" (population[%d].league.pool[%d].checkpoint)", gi, i)
				}
				return nil, err
			}
			pol = &agents.PPOPolicy{Learner: l, Greedy: cfg.Training.Greedy}
		default:
			sg := e.Group(&gc, gc.Name)
			var err error
			if pol, err = scriptedPolicy(&sg); err != nil {
				return nil, err
			}
		}
		p.policy.Add(name, pol)
		p.member = append(p.member, poolMember{entry: i, iter: -1})
	}
	return p, nil
}

// due reports whether snapshot entry i takes a snapshot at iteration it.
func (p *LeaguePool) due(i, it int) bool {
	e := &p.gc.League.Pool[i]
	return e.Snapshot != "" && it%e.Every == 0
}

// addSnapshot adds entry i's snapshot of iteration it, dropping the entry's oldest
// beyond its keep.
func (p *LeaguePool) addSnapshot(i, it int, l *ppo.Learner, greedy bool) {
	e := &p.gc.League.Pool[i]
	p.policy.Add(e.EntryName()+"@"+strconv.Itoa(it), &agents.PPOPolicy{Learner: l, Greedy: greedy})
	p.member = append(p.member, poolMember{entry: i, iter: it})
	p.sampler.Resize(len(p.member))
	if e.Keep == 0 {
		return
	}
	var mine []int
	for m, pm := range p.member {
		if pm.entry == i {
			mine = append(mine, m)
		}
	}
	if len(mine) > e.Keep {
		m := mine[0]
		p.policy.Remove(m)
		p.sampler.Remove(m)
		p.member = append(p.member[:m], p.member[m+1:]...)
	}
}

// weights returns the members' sampling weights: an entry's weight, shared equally by a
// snapshot entry's snapshots.
func (p *LeaguePool) weights() []float64 {
	n := map[int]int{}
	for _, pm := range p.member {
		n[pm.entry]++
	}
	p.w = p.w[:0]
	for _, pm := range p.member {
		w := p.gc.League.Pool[pm.entry].W()
		if pm.iter >= 0 {
			w /= float64(n[pm.entry])
		}
		p.w = append(p.w, w)
	}
	return p.w
}

// draw picks the member of each of k environments from r, with s's priorities.
func (p *LeaguePool) draw(s *agents.PoolSampler, r *rand.Rand, k int) {
	w := p.weights()
	p.picks = p.picks[:0]
	for range k {
		p.picks = append(p.picks, s.Sample(w, r))
	}
	p.policy.SetPicks(p.picks)
}

func (p *LeaguePool) memberIndex(name string) int {
	for m, n := range p.policy.Names {
		if n == name {
			return m
		}
	}
	return -1
}

// leagueRow is one line of league.csv: in iteration Iteration (1-based), environment
// Env's league group Group played member Opponent, and the learners scored Score.
type leagueRow struct {
	Iteration, Env  int
	Group, Opponent string
	Score           float64
}

const leagueHeader = "iteration,env,group,opponent,score"

// initLeagues builds the trainer's league pools.
func (t *trainer) initLeagues() error {
	for g := range t.pop {
		if t.pop[g].Kind != agents.KindLeague {
			continue
		}
		p, err := newLeaguePool(&t.cfg, g)
		if err != nil {
			return err
		}
		t.leagues = append(t.leagues, p)
		t.leagueOf = append(t.leagueOf, g)
		t.r.policies[g] = p.policy
	}
	return nil
}

// groupIndex returns the population index of the group named name.
func (t *trainer) groupIndex(name string) int {
	for g := range t.pop {
		if t.pop[g].Name == name {
			return g
		}
	}
	return -1
}

// snapshots adds the snapshots due at iteration it (before its rollout), from the
// learners as they are, and saves them unless only replaying (load: from the files).
func (t *trainer) snapshots(it int, load bool) error {
	saved := map[int]bool{}
	for _, p := range t.leagues {
		for i := range p.gc.League.Pool {
			if !p.due(i, it) {
				continue
			}
			src := t.groupIndex(p.gc.League.Pool[i].Snapshot)
			var b []byte
			path := filepath.Join(t.opts.Out, "checkpoints", t.pop[src].Name+"-"+strconv.Itoa(it)+".safetensors")
			if load {
				var err error
				if b, err = os.ReadFile(path); err != nil {
					return &Error{File: path, Msg: "cannot resume the league: snapshot " + readErrMsg(err)}
				}
			} else {
				var buf bytes.Buffer
				meta := t.checkpointMeta()
				meta[MetaIteration] = strconv.Itoa(it)
				if err := t.ppoPol[src].Learner.Save(&buf, meta); err != nil {
					return err
				}
				b = buf.Bytes()
				if t.opts.Out != "" && !saved[src] {
					if err := writeFileAtomic(path, b); err != nil {
						return err
					}
					saved[src] = true
				}
			}
			l, err := t.cfg.Training.newLearner(t.pop[src].Name, t.cfg.Training.ppoConfig(), t.r.nAct, 0)
			if err != nil {
				return err
			}
			if err := l.Restore(bytes.NewReader(b), t.checkpointMeta()); err != nil {
				return &Error{File: path, Msg: "snapshot: " + err.Error()}
			}
			p.addSnapshot(i, it, l, t.cfg.Training.Greedy)
		}
	}
	return nil
}

// drawLeagues picks every league group's opponent in each environment of iteration it.
func (t *trainer) drawLeagues(it int) {
	for _, p := range t.leagues {
		r := rng.New(t.cfg.Seed, "train.league."+p.gc.Name+"."+strconv.Itoa(it))
		p.draw(&p.sampler, r, t.cfg.Training.NumEnvs)
	}
}

// observeLeagues records the rollout of iteration it (0-based): per environment, the
// learners' mean episodic reward, for the sampler and league.csv.
func (t *trainer) observeLeagues(it int) {
	for _, p := range t.leagues {
		for k, m := range p.picks {
			score := 0.0
			if t.envN[k] > 0 {
				score = t.envRet[k] / float64(t.envN[k])
			}
			p.sampler.Observe(m, score)
			t.leagueRows = append(t.leagueRows, leagueRow{Iteration: it + 1, Env: k, Group: p.gc.Name, Opponent: p.policy.Names[m], Score: score})
		}
	}
}

// restoreLeagues rebuilds the pools at iteration start: the snapshots of iterations
// before it from their files, the sampler from league.csv's rows up to it.
func (t *trainer) restoreLeagues(start int) error {
	if len(t.leagues) == 0 {
		return nil
	}
	path := filepath.Join(t.opts.Out, "league.csv")
	rows, err := readLeague(path)
	if err != nil {
		return err
	}
	next := 0
	for it := 0; it < start; it++ {
		if err := t.snapshots(it, true); err != nil {
			return err
		}
		for ; next < len(rows) && rows[next].Iteration == it+1; next++ {
			row := rows[next]
			pi := -1
			for j, p := range t.leagues {
				if p.gc.Name == row.Group {
					pi = j
				}
			}
			if pi < 0 {
				return &Error{File: path, Line: next + 2, Msg: fmt.Sprintf("no league group %q in the config", row.Group)}
			}
			p := t.leagues[pi]
			m := p.memberIndex(row.Opponent)
			if m < 0 {
				return &Error{File: path, Line: next + 2, Msg: fmt.Sprintf("%q is not in group %s's pool at iteration %d", row.Opponent, row.Group, row.Iteration)}
			}
			p.sampler.Observe(m, row.Score)
			t.leagueRows = append(t.leagueRows, row)
		}
		if want := len(t.leagues) * t.cfg.Training.NumEnvs * (it + 1); len(t.leagueRows) != want {
			return &Error{File: path, Msg: fmt.Sprintf("%d rows up to iteration %d, want %d (league groups x num_envs per iteration)", len(t.leagueRows), it+1, want)}
		}
	}
	return nil
}

// writeLeague writes league.csv from the rows recorded so far.
func (t *trainer) writeLeague() error {
	if len(t.leagues) == 0 {
		return nil
	}
	c, err := createCSV(filepath.Join(t.opts.Out, "league.csv"), leagueHeader)
	if err != nil {
		return err
	}
	for _, r := range t.leagueRows {
		c.row(r.Iteration, r.Env, r.Group, r.Opponent, r.Score)
	}
	return c.close()
}

// readLeague reads league.csv (a missing file is no rows).
func readLeague(path string) ([]leagueRow, error) {
	var out []leagueRow
	err := readRunCSV(path, leagueHeader, func(line int, parts []string) error {
		it, err1 := strconv.Atoi(parts[0])
		k, err2 := strconv.Atoi(parts[1])
		v, err3 := strconv.ParseFloat(parts[4], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return &Error{File: path, Line: line, Msg: "bad iteration, env or score"}
		}
		out = append(out, leagueRow{Iteration: it, Env: k, Group: parts[2], Opponent: parts[3], Score: v})
		return nil
	})
	return out, err
}

// loadLeagues builds the final pools of cfg's league groups for evaluation from run
// directory dir: the fixed members, and the snapshots taken before iteration it, from
// their files.
func loadLeagues(dir string, cfg *Config, it, nAct int, want map[string]string) (map[string]*LeaguePool, error) {
	out := map[string]*LeaguePool{}
	for g := range cfg.Population {
		if cfg.Population[g].Kind != agents.KindLeague {
			continue
		}
		p, err := newLeaguePool(cfg, g)
		if err != nil {
			return nil, err
		}
		for s := 0; s < it; s++ {
			for i := range p.gc.League.Pool {
				if !p.due(i, s) {
					continue
				}
				src := p.gc.League.Pool[i].Snapshot
				path := filepath.Join(dir, "checkpoints", src+"-"+strconv.Itoa(s)+".safetensors")
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, &Error{File: path, Msg: "league snapshot " + readErrMsg(err)}
				}
				l, err := cfg.Training.newLearner(src, cfg.Training.ppoConfig(), nAct, 0)
				if err != nil {
					return nil, err
				}
				if err := l.Restore(bytes.NewReader(b), want); err != nil {
					return nil, &Error{File: path, Msg: err.Error()}
				}
				p.addSnapshot(i, s, l, cfg.Training.Greedy)
			}
		}
		out[p.gc.Name] = p
	}
	return out, nil
}

// evalDraw picks the opponent of each of k environments in evaluation round round: by
// the pool weights (no priorities), from a stream named by the evaluation seed, the
// group and the round, so every variant of an evaluation meets the same opponents.
func (p *LeaguePool) evalDraw(seed uint64, round, k int) {
	var s agents.PoolSampler
	p.draw(&s, rng.New(seed, "eval.league."+p.gc.Name+"."+strconv.Itoa(round)), k)
}

// initFrom warm-starts learner l of ppo group g from the group's init checkpoint.
func initFrom(l *ppo.Learner, cfg *Config, g int) error {
	path := cfg.Population[g].Init
	_, b, err := ReadPPOCheckpoint(path, cfg.Population[g].Role, *cfg)
	if err == nil {
		err = l.InitFrom(bytes.NewReader(b), nil)
		if err != nil {
			err = &Error{File: path, Msg: err.Error()}
		}
	}
	var ee *Error
	if errors.As(err, &ee) {
		ee.Msg += fmt.Sprintf(" (population[%d].init)", g)
	}
	return err
}

// CheckCheckpoints checks the checkpoints cfg's population names (a ppo group's init,
// league pool entries): each must be a PPO policy file of cfg's observation and action
// spaces, trained for the group's role (ReadPPOCheckpoint). Problems are
// *fieldpath.Error values whose paths name the keys
// ("population[1].league.pool[2].checkpoint"), for Locate.
func CheckCheckpoints(cfg Config) error {
	var errs []error
	check := func(path, role, key string) {
		if _, _, err := ReadPPOCheckpoint(path, role, cfg); err != nil {
			errs = append(errs, fieldpath.Errorf(key, "%v", err))
		}
	}
	for g := range cfg.Population {
		gc := &cfg.Population[g]
		if gc.Init != "" {
			check(gc.Init, gc.Role, fmt.Sprintf("population[%d].init", g))
		}
		if gc.Kind != agents.KindLeague || gc.League == nil {
			continue
		}
		for i := range gc.League.Pool {
			if e := &gc.League.Pool[i]; e.Checkpoint != "" {
				check(e.Checkpoint, gc.Role, fmt.Sprintf("population[%d].league.pool[%d].checkpoint", g, i))
			}
		}
	}
	return errors.Join(errs...)
}
