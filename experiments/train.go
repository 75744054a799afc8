package experiments

// Training, CleanRL style: the loop below reads top to bottom. Each iteration runs one
// episode in each of num_envs environments side by side (the rollout), with one forward
// pass per policy group per environment step; the learning groups' rollouts are credited
// semi-Markov style (agents/ppo.Buffer: the rewards an agent accrues between two of its
// decisions go to the earlier one); then every PPO group takes one update, the curves get
// one row per group and metric, and every checkpoint_every iterations (and at the end)
// the learners are saved. Iterations are whole episodes so that an iteration boundary
// holds no open decision and no environment state: a learner checkpoint and the
// iteration number are the whole state, and a resumed run is bit-identical to an
// uninterrupted one (episode seeds and action streams derive from the run seed and the
// iteration number).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
	"go.yaml.in/yaml/v3"
)

// TrainingConfig is the training section (YAML key "training"); every key is
// documented in default.yaml.
type TrainingConfig struct {
	// Iterations is the number of training iterations; each runs one episode per env.
	Iterations int `yaml:"iterations"`
	// NumEnvs is the number of environments run side by side: episodes per iteration.
	NumEnvs int `yaml:"num_envs"`
	// EpisodeTicks is the rollout length: the ticks of a training episode (0: the env
	// section's episode_ticks).
	EpisodeTicks int `yaml:"episode_ticks"`
	// Workers is the number of goroutines stepping the environments (results do not
	// depend on it).
	Workers int `yaml:"workers"`
	// CheckpointEvery saves the learners every this many iterations (and at the end).
	CheckpointEvery int `yaml:"checkpoint_every"`
	// Reward is what the learners are credited: "env" (the env section's reward, as the
	// env computes it), "pnl" (each tick's change in USD wealth less the revaluation of
	// what the agent held at the tick before: what the agent earned and paid, without
	// the token price moves it did not trade) or "pnl_return" (pnl over the wealth of the
	// tick before: a return, the same scale for every agent).
	Reward string `yaml:"reward"`
	// RewardScale multiplies the rewards before the learners see them (curves report
	// them unscaled).
	RewardScale float64 `yaml:"reward_scale"`
	// TeamReward mixes each learning agent's pnl reward with its group's: every tick an
	// agent of a learning group is credited (1 - TeamReward) x its own pnl (or
	// pnl_return) plus TeamReward x the mean of its group's agents' (those in the market
	// at the episode's start). 0 is independent learning; 1 is one reward per group, the
	// quantity evaluation scores a group on (its agents' mean). Needs reward pnl or
	// pnl_return.
	TeamReward float64 `yaml:"team_reward"`
	// BookedReward shapes the pnl reward with the book value of the agent's agreed,
	// unsettled contracts (market.Market.Booked) as a potential (Ng, Harada and Russell
	// 1999): every tick adds γΦ_t - Φ_{t-1}, γ the ppo discount, so a deal is credited
	// when it is struck rather than when it settles, hours and dozens of the agent's
	// decisions later. Potential-based shaping leaves the optimal policies unchanged
	// (exactly with reward pnl; with pnl_return the term is divided by the tick's wealth
	// as the pnl is). Needs reward pnl or pnl_return. On by default (docs/training.md
	// has the evidence).
	BookedReward bool `yaml:"booked_reward"`
	// CentralCritic gives every ppo group a centralized critic (MAPPO; ppo.NewCentralized):
	// its value function reads, besides the agent's observation, env.StateDim features of
	// the market the policy does not see (the counterparty's reservation, wallet and
	// machine; the two roles' wealth; the market's free capacity). The policy is the same
	// network as without it, so its checkpoints play wherever the others do.
	CentralCritic bool `yaml:"central_critic"`
	// Greedy makes evaluation take each trained policy's most probable action instead
	// of sampling it.
	Greedy bool `yaml:"greedy_eval"`
	// Device is where the networks run: cpu, or cuda (torch backend with CUDA only).
	Device string `yaml:"device"`
	// PPO holds the hyperparameters of every ppo group (agents/ppo.Config); its backend
	// key selects the network backend (go, or torch in builds with -tags torch).
	PPO ppo.Config `yaml:"ppo"`
	// DSR holds the settings of every dsr group: what its learner decides and the
	// learner's hyperparameters (agents.DSRSettings, agents/dsr.Config).
	DSR agents.DSRSettings `yaml:"dsr"`
}

// Training rewards (TrainingConfig.Reward).
const (
	RewardEnv       = "env"
	RewardPnL       = "pnl"
	RewardPnLReturn = "pnl_return"
)

// DefaultTrainingConfig returns the shipped training defaults (default.yaml says why).
func DefaultTrainingConfig() TrainingConfig {
	p := ppo.DefaultConfig()
	p.LearningRate = 3e-4
	p.Gamma = 0.995
	p.GAELambda = 0.95
	p.NumMinibatches = 64
	p.UpdateEpochs = 2
	p.EntCoef = 0.01
	d := dsr.DefaultConfig()
	d.WarmUp = 3
	return TrainingConfig{
		Iterations: 30, NumEnvs: 2, EpisodeTicks: 0, Workers: 2, CheckpointEvery: 10,
		Reward: RewardPnLReturn, RewardScale: 1000, BookedReward: true, CentralCritic: true, Greedy: true, Device: "cpu", PPO: p, DSR: agents.DSRSettings{Config: d},
	}
}

// Validate checks the section; paths are relative to it.
func (t *TrainingConfig) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, fieldpath.Errorf(path, format, args...)) }
	if t.Iterations < 1 || t.Iterations > 1<<20 {
		add("iterations", "must be in [1, %d], got %d", 1<<20, t.Iterations)
	}
	if t.NumEnvs < 1 || t.NumEnvs > 256 {
		add("num_envs", "must be in [1, 256], got %d", t.NumEnvs)
	}
	if t.EpisodeTicks < 0 || t.EpisodeTicks > 1<<26 {
		add("episode_ticks", "must be 0 (env.episode_ticks) or in [1, %d], got %d", 1<<26, t.EpisodeTicks)
	}
	if t.Workers < 1 || t.Workers > 1024 {
		add("workers", "must be in [1, 1024], got %d", t.Workers)
	}
	if t.CheckpointEvery < 1 {
		add("checkpoint_every", "must be >= 1, got %d", t.CheckpointEvery)
	}
	if t.Reward != RewardEnv && t.Reward != RewardPnL && t.Reward != RewardPnLReturn {
		add("reward", "must be %s, %s or %s, got %q", RewardEnv, RewardPnL, RewardPnLReturn, t.Reward)
	}
	if !(t.TeamReward >= 0 && t.TeamReward <= 1) {
		add("team_reward", "must be in [0, 1], got %g", t.TeamReward)
	} else if t.TeamReward > 0 && t.Reward == RewardEnv {
		add("team_reward", "needs reward %s or %s (got %s)", RewardPnL, RewardPnLReturn, t.Reward)
	}
	if t.BookedReward && t.Reward == RewardEnv {
		add("booked_reward", "needs reward %s or %s (got %s); it is on by default, so set booked_reward: false to train on reward %s", RewardPnL, RewardPnLReturn, t.Reward, RewardEnv)
	}
	if !(t.RewardScale > 0) || math.IsInf(t.RewardScale, 0) {
		add("reward_scale", "must be a positive number, got %g", t.RewardScale)
	}
	switch t.Device {
	case "cpu", "cuda":
	default:
		add("device", "must be cpu or cuda, got %q", t.Device)
	}
	if t.Device == "cuda" && t.PPO.Backend != "torch" {
		add("device", "cuda needs the torch backend (ppo.backend: torch); the go backend runs on the CPU")
	}
	errs = append(errs, fieldpath.Under("ppo", t.ppoConfig().Validate()), fieldpath.Under("dsr", t.DSR.Validate()))
	return errors.Join(errs...)
}

// ppoConfig is the PPO config the learners get: with a schedule (anneal_lr,
// anneal_ent) and total_updates 0, the schedule runs over training.iterations (one
// update per iteration).
// newLearner returns a ppo learner of this training section for a group called name,
// with nAct actions: with a centralized critic when CentralCritic is set.
func (t *TrainingConfig) newLearner(name string, pc ppo.Config, nAct int, seed uint64) (*ppo.Learner, error) {
	sd := 0
	if t.CentralCritic {
		sd = env.StateDim
	}
	return ppo.NewCentralized(name, pc, env.ObsDim, sd, nAct, seed)
}

func (t *TrainingConfig) ppoConfig() ppo.Config {
	p := t.PPO
	if (p.AnnealLR || p.AnnealEnt) && p.TotalUpdates == 0 {
		p.TotalUpdates = t.Iterations
	}
	return p
}

// startingPolicy returns a new learner for ppo group g as training starts it: the
// seeded initial weights, or the group's init checkpoint.
func (t *trainer) startingPolicy(g int) (*ppo.Learner, error) {
	gc := &t.pop[g]
	l, err := t.cfg.Training.newLearner(gc.Name, t.cfg.Training.ppoConfig(), t.r.nAct, rng.New(t.cfg.Seed, "train.init").Uint64())
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", gc.Name, err)
	}
	if gc.Init != "" {
		if err := initFrom(l, &t.cfg, g); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// episodeTicks returns the training episode length of cfg.
func (c *Config) trainTicks() int {
	if c.Training.EpisodeTicks > 0 {
		return c.Training.EpisodeTicks
	}
	return c.Env.EpisodeTicks
}

// HashForCheckpoint returns the hex SHA-256 of the resolved config's canonical YAML
// (canonicalYAML) with the keys that do not change what is learned cleared
// (training.iterations, workers, checkpoint_every, greedy_eval, device and
// ppo.backend): checkpoints record it, and resuming refuses a checkpoint trained under
// another config. The canonical form leaves out zero-valued keys, so a config key added
// later whose zero value keeps the old behaviour (training.ppo.init_kl: 0,
// env.actions.reservation_anchor: false) does not orphan the checkpoints trained before
// it.
func (c *Config) HashForCheckpoint() string {
	x := *c
	x.Training.Iterations, x.Training.Workers, x.Training.CheckpointEvery, x.Training.Greedy = 0, 0, 0, false
	x.Training.PPO.Backend, x.Training.Device = "", ""
	b, err := canonicalYAML(x)
	if err != nil {
		panic("experiments: config does not encode as YAML: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalYAML encodes v as YAML without the mapping keys whose value is a zero scalar
// (0, false, "", null) or a mapping left empty by that rule, at any depth (inside
// sequences too; sequence elements themselves are kept, since their positions mean
// something). Two values of one type that differ only in such keys cannot differ at
// all, as the decoder fills absent keys with zeros, so the encoding still tells every
// pair of distinct values apart.
func canonicalYAML(v any) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	pruneZeroKeys(&n)
	return yaml.Marshal(&n)
}

// pruneZeroKeys removes, in place, the zero-valued keys of every mapping under n, and
// reports whether n itself is zero (a zero scalar, or a mapping with no keys left).
func pruneZeroKeys(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return true
		case "!!bool":
			return n.Value == "false"
		case "!!str":
			return n.Value == ""
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			return err == nil && f == 0
		}
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !pruneZeroKeys(n.Content[i+1]) {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
		return len(kept) == 0
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			pruneZeroKeys(c)
		}
	}
	return false
}

// Curve metric names every group reports each iteration, before a PPO group's update
// metrics (ppo.Stats.List order).
const (
	// CurveEpisodicReturn is the mean over the group's agents of the sum of their
	// rewards in an episode, averaged over the iteration's episodes.
	CurveEpisodicReturn = "charts/episodic_return"
	// CurveDecisions is the number of decisions the group's agents took in the iteration.
	CurveDecisions = "charts/decisions"
)

// CurvePoint is one row of curves.csv.
type CurvePoint struct {
	Iteration int
	Group     string
	Metric    string
	Value     float64
}

// IterationReport is what the progress callback receives after each iteration.
type IterationReport struct {
	// Iteration counts the iterations done (1-based), of Iterations.
	Iteration, Iterations int
	// Decisions counts the environment decisions of the iteration (every agent).
	Decisions int64
	// Returns is each group's mean episodic return, in config order.
	Returns []float64
}

// TrainOptions are the knobs of a training run beyond the config.
type TrainOptions struct {
	// Out is the run directory (docs/run-dir.md); "" trains in memory and writes nothing.
	Out string
	// Resume continues the run in Out from its latest checkpoint.
	Resume bool
	// Progress, when set, is called after every iteration.
	Progress func(IterationReport)
	// Curve, when set, receives every curve point as it is recorded.
	Curve func(CurvePoint) error
}

// TrainResult is what a training run reports.
type TrainResult struct {
	Dir         string
	Iterations  int   // iterations done, resumed ones included
	Decisions   int64 // environment decisions in this call
	Interrupted bool
	// Trained holds the learners at the end, for evaluation.
	Trained *Trained
	// Checkpoints lists the files written by this call, in order.
	Checkpoints []string
}

// Trained is the learned part of a population: a learner per learning group.
type Trained struct {
	PPO map[string]*ppo.Learner
	DSR map[string]*dsr.Learner
	// Leagues holds the pool of each league group, as it stood at the end of training.
	Leagues map[string]*LeaguePool
	// Iteration is the iteration the learners were saved or trained at.
	Iteration int
}

// trainer is one training run's state.
type trainer struct {
	cfg      Config
	opts     TrainOptions
	r        *runner
	pop      agents.Population
	ppoPol   []*agents.PPOPolicy // per group, nil unless ppo
	bufs     []*ppo.Buffer
	dsrPol   []*agents.DSRPolicy
	pending  [][]endRow // per group: truncated entries waiting for a value
	ret      []float64  // per group: rewards this iteration
	agentsN  []int      // per group: agent-episodes this iteration
	dec      []int64    // per group: decisions this iteration
	counts   []int
	curves   []CurvePoint
	hash     string
	obsSp    string
	actSp    string
	scale    float64
	values   []float32
	endObs   []float32
	endState []float32
	pnl      []*pnlAcc // per env, with the pnl reward
	// League groups (league.go): their pools, population indexes and league.csv rows;
	// envRet and envN are each env's learning-group rewards and agents this iteration.
	leagues    []*LeaguePool
	leagueOf   []int
	leagueRows []leagueRow
	envRet     []float64
	envN       []int
}

// pnlAcc accrues the pnl reward of every agent of one environment, tick by tick (it runs
// on the environment's worker goroutine, through env.Env.SetStop):
//
//	pnl_t = (W_t - W_{t-1}) - Σ_x H_{x,t-1} (u_{x,t} - u_{x,t-1})
//
// with W the agent's USD wealth at the tick's mark, H_x its holdings of asset x (wallet
// and own funds in escrow, base units) and u_x the USD price of a base unit: the change
// in wealth less the revaluation of what it held.
type pnlAcc struct {
	e       *env.Env
	acc     []float64
	prevW   []float64
	prevBal []market.Balances
	px      [market.NumAssets]float64
	final   bool
	// relative divides each tick's pnl by the wealth of the tick before (pnl_return).
	relative bool
	// team is the weight of the group's mean in a learning agent's reward; group holds
	// each agent's learning group (-1: none, or an agent that joined mid-episode), set
	// by reset; sum and n are the groups' per-tick sums and sizes, tickPnL the tick's
	// own rewards.
	team    float64
	group   []int
	sum     []float64
	n       []int
	tickPnL []float64
	// booked adds the shaping term gamma x phi_t - phi_{t-1} to each tick's pnl, phi
	// being the agent's booked contracts (market.Market.Booked); phi holds the tick's,
	// prevPhi the tick before's.
	booked       bool
	gamma        float64
	phi, prevPhi []float64
}

func (p *pnlAcc) holdings(m *market.Market, a market.AgentID) market.Balances {
	b, h := m.Wallet(a), m.Held(a)
	for x := range b {
		b[x] += h[x]
	}
	return b
}

func (p *pnlAcc) reset() {
	m := p.e.Market()
	n := m.NumAgents()
	p.acc, p.prevW, p.prevBal = resizeF64(p.acc, n), resizeF64(p.prevW, n), p.prevBal[:0]
	for a := 0; a < n; a++ {
		p.acc[a] = 0
		p.prevW[a] = m.WealthUSD(market.AgentID(a))
		p.prevBal = append(p.prevBal, p.holdings(m, market.AgentID(a)))
	}
	for x := range p.px {
		p.px[x] = m.UnitUSD(1, scheme.Asset(x))
	}
	p.final = false
	if p.booked {
		p.prevPhi = m.Booked(p.prevPhi)
	}
}

// setGroups records each agent's learning group (groupOf(a), -1 for none) for the team
// reward; call it after reset, on the caller's goroutine.
func (p *pnlAcc) setGroups(ngroups int, groupOf func(a market.AgentID) int) {
	if p.team == 0 {
		return
	}
	n := len(p.acc)
	p.group, p.tickPnL = p.group[:0], resizeF64(p.tickPnL, n)
	for a := 0; a < n; a++ {
		p.group = append(p.group, groupOf(market.AgentID(a)))
	}
	p.sum, p.n = resizeF64(p.sum, ngroups), append(p.n[:0], make([]int, ngroups)...)
	clear(p.sum)
}

func (p *pnlAcc) tick() {
	m := p.e.Market()
	// du holds each asset's price move u_{x,t} - u_{x,t-1}; moved lists the assets
	// whose price moved. A term of an asset whose price did not move is ±0, and adding
	// ±0 to the sum, which starts at +0 and so is never -0, leaves it unchanged: the
	// sum over moved assets only is the same float64.
	var u, du [market.NumAssets]float64
	var moved [market.NumAssets]int
	nm := 0
	for x := range u {
		u[x] = m.UnitUSD(1, scheme.Asset(x))
		du[x] = u[x] - p.px[x]
		if du[x] != 0 {
			moved[nm] = x
			nm++
		}
	}
	if p.booked {
		p.phi = m.Booked(p.phi)
		for len(p.prevPhi) < len(p.phi) {
			p.prevPhi = append(p.prevPhi, 0)
		}
	}
	for a := 0; a < m.NumAgents(); a++ {
		id := market.AgentID(a)
		if a >= len(p.acc) { // joined this tick
			p.acc = append(p.acc, 0)
			p.prevW = append(p.prevW, m.WealthUSD(id))
			p.prevBal = append(p.prevBal, p.holdings(m, id))
			continue
		}
		if !m.Alive(id) {
			continue
		}
		w := m.WealthUSD(id)
		reval := 0.0
		prev := &p.prevBal[a]
		for _, x := range moved[:nm] {
			reval += float64(prev[x]) * du[x]
		}
		pnl := w - p.prevW[a] - reval
		if p.booked {
			pnl += p.gamma*p.phi[a] - p.prevPhi[a]
		}
		if p.relative {
			if p.prevW[a] > 0 {
				pnl /= p.prevW[a]
			} else {
				pnl = 0
			}
		}
		if p.team > 0 && a < len(p.group) && p.group[a] >= 0 {
			p.tickPnL[a] = pnl
			p.sum[p.group[a]] += pnl
			p.n[p.group[a]]++
		} else {
			p.acc[a] += pnl
		}
		p.prevW[a] = w
		p.prevBal[a] = p.holdings(m, id)
	}
	p.px = u
	if p.booked {
		p.phi, p.prevPhi = p.prevPhi, p.phi
	}
	if p.team > 0 {
		p.mix(func(a int) bool { return m.Alive(market.AgentID(a)) })
	}
}

// mix credits the tick's team rewards: (1 - team) x own + team x the group's mean, for
// the agents of learning groups still in the market.
func (p *pnlAcc) mix(alive func(a int) bool) {
	for a, g := range p.group {
		if g < 0 || !alive(a) || p.n[g] == 0 {
			continue
		}
		p.acc[a] += (1-p.team)*p.tickPnL[a] + p.team*p.sum[g]/float64(p.n[g])
	}
	clear(p.sum)
	clear(p.n)
}

type endRow struct {
	key   int
	tick  int64
	obs   [env.ObsDim]float32
	state [env.StateDim]float32 // with a centralized critic
}

// Train trains the learning groups of cfg's population (the ppo and dsr groups) against
// the others, as the top of this file describes, and writes the run directory. It stops
// at an iteration boundary when ctx is cancelled: the learners of the last completed
// iteration are checkpointed, run.json says "interrupted", and the error is ctx's.
func Train(ctx context.Context, cfg Config, opts TrainOptions) (res *TrainResult, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc := &cfg.Training
	t := &trainer{cfg: cfg, opts: opts, pop: cfg.Population, hash: cfg.HashForCheckpoint(), scale: tc.RewardScale}
	if t.r, err = newRunner(cfg, tc.NumEnvs, tc.Workers, cfg.trainTicks()); err != nil {
		return nil, err
	}
	t.obsSp, t.actSp = spaces(t.r.vec.Envs[0])
	if tc.CentralCritic {
		for _, e := range t.r.vec.Envs {
			e.SetState(true)
		}
	}
	if tc.Reward == RewardPnL || tc.Reward == RewardPnLReturn {
		for _, e := range t.r.vec.Envs {
			p := &pnlAcc{e: e, relative: tc.Reward == RewardPnLReturn, team: tc.TeamReward, booked: tc.BookedReward, gamma: tc.PPO.Gamma}
			t.pnl = append(t.pnl, p)
			e.SetStop(func() bool { p.tick(); return false })
		}
	}
	n := len(t.pop)
	t.ppoPol, t.bufs, t.dsrPol = make([]*agents.PPOPolicy, n), make([]*ppo.Buffer, n), make([]*agents.DSRPolicy, n)
	t.pending, t.ret, t.agentsN, t.dec = make([][]endRow, n), make([]float64, n), make([]int, n), make([]int64, n)
	pcfg := tc.ppoConfig()
	for g := range t.pop {
		gc := &t.pop[g]
		switch gc.Kind {
		case agents.KindPPO:
			l, err := t.startingPolicy(g)
			if err != nil {
				return nil, err
			}
			if pcfg.InitKL > 0 {
				// The anchor of the init_kl penalty: a frozen second copy of the policy the
				// group starts from, built the same way (so a resumed run rebuilds it).
				a, err := t.startingPolicy(g)
				if err != nil {
					return nil, err
				}
				if err := l.SetAnchor(a); err != nil {
					return nil, fmt.Errorf("group %s: %w", gc.Name, err)
				}
			}
			t.ppoPol[g] = &agents.PPOPolicy{Learner: l}
			t.bufs[g] = l.NewBuffer()
			t.r.policies[g] = t.ppoPol[g]
		case agents.KindDSR:
			p, err := agents.NewDSRPolicy(gc, tc.DSR, rng.New(cfg.Seed, "train.init.dsr."+gc.Name).Uint64())
			if err != nil {
				return nil, err
			}
			p.Learn = true
			t.dsrPol[g] = p
			t.r.policies[g] = p
		case agents.KindLeague:
			// initLeagues, below.
		default:
			if t.r.policies[g], err = scriptedPolicy(gc); err != nil {
				return nil, err
			}
		}
	}

	if err := t.initLeagues(); err != nil {
		return nil, err
	}
	t.envRet, t.envN = make([]float64, tc.NumEnvs), make([]int, tc.NumEnvs)

	start := 0
	if opts.Out != "" {
		if err := os.MkdirAll(filepath.Join(opts.Out, "checkpoints"), 0o755); err != nil {
			return nil, err
		}
		if opts.Resume {
			if start, err = t.restore(); err != nil {
				return nil, err
			}
			if err := t.restoreLeagues(start); err != nil {
				return nil, err
			}
		} else if _, err := os.Stat(filepath.Join(opts.Out, "run.json")); err == nil {
			return nil, &Error{File: opts.Out, Msg: "the run directory already holds a run (use --resume to continue it, or another --out)"}
		}
		if err := WriteConfigYAML(opts.Out, cfg, "The resolved config of this `hivegym train` run (seed included)."); err != nil {
			return nil, err
		}
	}
	res = &TrainResult{Dir: opts.Out, Iterations: start}
	defer func() {
		res.Trained = t.trained(res.Iterations)
		if opts.Out == "" {
			return
		}
		status, msg := StatusDone, ""
		switch {
		case res.Interrupted:
			status = StatusInterrupted
		case err != nil:
			status, msg = StatusFailed, err.Error()
		}
		if werr := t.writeRun(res, status, msg); werr != nil && err == nil {
			err = werr
		}
	}()

	var streams []*rand.Rand
	for it := start; it < tc.Iterations; it++ {
		seeds := make([]uint64, tc.NumEnvs)
		for k := range seeds {
			seeds[k] = episodeSeed(cfg.Seed, "train.episode", it, k)
		}
		streams = streamsFor(cfg.Seed, "train.act."+strconv.Itoa(it), t.pop, streams)
		if err := t.snapshots(it, false); err != nil {
			return res, err
		}
		t.drawLeagues(it)
		decisions, err := t.rollout(ctx, seeds, streams)
		if err != nil {
			t.discard()
			if ctx.Err() != nil {
				res.Interrupted = true
				// Checkpoint the last completed iteration (again, if it was saved: the
				// bytes are the same), so there is always one to resume from.
				err = t.checkpoint(res, it)
				if err == nil {
					err = ctx.Err()
				}
			}
			return res, err
		}
		res.Decisions += decisions
		t.observeLeagues(it)
		if err := t.update(it + 1); err != nil {
			return res, err
		}
		res.Iterations = it + 1
		if (it+1)%tc.CheckpointEvery == 0 || it+1 == tc.Iterations {
			if err := t.checkpoint(res, it+1); err != nil {
				return res, err
			}
		}
		if opts.Progress != nil {
			rep := IterationReport{Iteration: it + 1, Iterations: tc.Iterations, Decisions: decisions}
			for g := range t.pop {
				rep.Returns = append(rep.Returns, t.meanReturn(g))
			}
			opts.Progress(rep)
		}
	}
	return res, nil
}

// spaces returns the canonical descriptions of the observation and action spaces that
// checkpoints record: sizes and a hash of the feature and action names.
func spaces(e *env.Env) (obs, act string) {
	h := sha256.Sum256([]byte(strings.Join(env.FeatureNames[:], ",")))
	obs = fmt.Sprintf("box(%d) features:%s", env.ObsDim, hex.EncodeToString(h[:6]))
	names := make([]string, e.NumActions())
	for i := range names {
		names[i] = e.ActionName(i)
	}
	h = sha256.Sum256([]byte(strings.Join(names, ",")))
	act = fmt.Sprintf("discrete(%d) actions:%s", e.NumActions(), hex.EncodeToString(h[:6]))
	return obs, act
}

// rollout runs one episode per env and fills the buffers; it returns the number of
// decisions taken.
func (t *trainer) rollout(ctx context.Context, seeds []uint64, streams []*rand.Rand) (int64, error) {
	clear(t.ret)
	clear(t.agentsN)
	clear(t.dec)
	clear(t.envRet)
	clear(t.envN)
	var total int64
	h := episodeHooks{
		begin: func(k int, e *env.Env) {
			if t.pnl != nil {
				t.pnl[k].reset()
				m := e.Market()
				t.pnl[k].setGroups(len(t.pop), func(a market.AgentID) int {
					if g := t.r.group(k, m, a); g >= 0 && t.pop[g].Learning() {
						return g
					}
					return -1
				})
			}
		},
		entry: func(k int, e *env.Env, b *env.Batch, i, g int) error {
			rew := b.Rewards[i]
			if t.pnl != nil {
				p := t.pnl[k]
				if b.Done && !p.final {
					p.tick() // the last tick: the env asks no stop after it
					p.final = true
				}
				a := int(b.Agents[i])
				for len(p.acc) <= a {
					p.acc, p.prevW, p.prevBal = append(p.acc, 0), append(p.prevW, 0), append(p.prevBal, market.Balances{})
				}
				rew, p.acc[a] = p.acc[a], 0
			}
			if g < 0 {
				return nil
			}
			t.ret[g] += rew
			if t.pop[g].Learning() {
				t.envRet[k] += rew
			}
			if b.Decisions[i].Kind != 0 {
				t.dec[g]++
				total++
			}
			buf := t.bufs[g]
			if buf == nil {
				return nil
			}
			key := k*keyStride + int(b.Agents[i])
			if rew != 0 {
				if err := buf.Reward(key, b.Tick, rew*t.scale); err != nil {
					return err
				}
			}
			switch {
			case b.Terminated[i]:
				return buf.End(key, b.Tick, true, 0)
			case b.Truncated[i]:
				row := endRow{key: key, tick: b.Tick}
				copy(row.obs[:], b.Observation(i))
				copy(row.state[:], b.StateOf(i))
				t.pending[g] = append(t.pending[g], row)
			}
			return nil
		},
		acted: func(g int, o *agents.Obs, out []env.Action) error {
			p, buf := t.ppoPol[g], t.bufs[g]
			if p == nil {
				return nil
			}
			d, na, sd := o.ObsDim, o.NumActions, p.Learner.StateDim()
			states := o.States()
			for j := 0; j < o.N; j++ {
				key := o.EnvIndex[j]*keyStride + int(o.Decisions[j].Agent)
				tick := o.Envs[j].Market().Tick()
				var state []float32
				if sd > 0 {
					state = states[j*sd : (j+1)*sd]
				}
				if err := buf.AddState(key, tick, o.Vec[j*d:(j+1)*d], state, o.Masks[j*na:(j+1)*na], p.Actions[j], p.Logps[j], p.Values[j]); err != nil {
					return err
				}
			}
			return nil
		},
		done: func(k int, e *env.Env) error {
			t.counts = t.r.agentCounts(k, t.counts)
			for g, c := range t.counts {
				t.agentsN[g] += c
				if t.pop[g].Learning() {
					t.envN[k] += c
				}
			}
			return t.flushEnds(k)
		},
	}
	if err := t.r.episodes(ctx, seeds, streams, h); err != nil {
		return total, err
	}
	return total, nil
}

// flushEnds closes the truncated decisions of env k: one critic pass per group over
// their final observations, then Buffer.End with the values as bootstraps.
func (t *trainer) flushEnds(k int) error {
	for g, rows := range t.pending {
		if len(rows) == 0 {
			continue
		}
		keep := rows[:0]
		t.endObs, t.endState = t.endObs[:0], t.endState[:0]
		central := t.ppoPol[g].Learner.StateDim() > 0
		var mine []endRow
		for _, row := range rows {
			if row.key/keyStride == k {
				mine = append(mine, row)
				t.endObs = append(t.endObs, row.obs[:]...)
				if central {
					t.endState = append(t.endState, row.state[:]...)
				}
			} else {
				keep = append(keep, row)
			}
		}
		if len(mine) > 0 {
			if cap(t.values) < len(mine) {
				t.values = make([]float32, len(mine))
			}
			t.values = t.values[:len(mine)]
			if err := t.ppoPol[g].Learner.ValueState(t.endObs, t.endState, len(mine), t.values); err != nil {
				return err
			}
			for j, row := range mine {
				if err := t.bufs[g].End(row.key, row.tick, false, t.values[j]); err != nil {
					return err
				}
			}
		}
		t.pending[g] = keep
	}
	return nil
}

// discard drops an unfinished rollout.
func (t *trainer) discard() {
	for g := range t.pop {
		if t.bufs[g] != nil {
			t.bufs[g].Reset()
		}
		t.pending[g] = t.pending[g][:0]
	}
}

func (t *trainer) meanReturn(g int) float64 {
	if t.agentsN[g] == 0 {
		return math.NaN()
	}
	return t.ret[g] / float64(t.agentsN[g])
}

// update runs one update per PPO group and records the iteration's curves.
func (t *trainer) update(it int) error {
	for g := range t.pop {
		name := t.pop[g].Name
		if err := t.curve(it, name, CurveEpisodicReturn, t.meanReturn(g)); err != nil {
			return err
		}
		if err := t.curve(it, name, CurveDecisions, float64(t.dec[g])); err != nil {
			return err
		}
		if t.bufs[g] == nil {
			continue
		}
		if t.bufs[g].Open() != 0 {
			return fmt.Errorf("experiments: internal error: group %s has %d open decisions after a rollout", name, t.bufs[g].Open())
		}
		if t.bufs[g].Finished() == 0 {
			continue // the group's agents took no decision this iteration
		}
		st, err := t.ppoPol[g].Learner.Update(t.bufs[g])
		if err != nil {
			return fmt.Errorf("group %s: %w", name, err)
		}
		for _, m := range st.List() {
			if err := t.curve(it, name, m.Name, m.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *trainer) curve(it int, group, metric string, v float64) error {
	p := CurvePoint{Iteration: it, Group: group, Metric: metric, Value: v}
	t.curves = append(t.curves, p)
	if t.opts.Curve != nil {
		return t.opts.Curve(p)
	}
	return nil
}

// Metadata keys hivegym's trainer adds to checkpoints.
const (
	// MetaIteration is the number of training iterations done when the file was saved.
	MetaIteration = "hivegym.train.iteration"
	// MetaRole is the role of the group the policy was trained as (provider or client);
	// loading it for the other role is refused (ReadPPOCheckpoint).
	MetaRole = "hivegym.role"
)

// checkpointMeta is what every checkpoint of the run records and what a load checks.
func (t *trainer) checkpointMeta() map[string]string {
	return map[string]string{
		checkpoint.MetaConfigHash:  t.hash,
		checkpoint.MetaObsSpace:    t.obsSp,
		checkpoint.MetaActionSpace: t.actSp,
	}
}

// checkpoint saves every learner as <group>-<it>.safetensors and <group>-latest, and
// rewrites curves.csv.
func (t *trainer) checkpoint(res *TrainResult, it int) error {
	if t.opts.Out == "" {
		return nil
	}
	dir := filepath.Join(t.opts.Out, "checkpoints")
	meta := t.checkpointMeta()
	meta[MetaIteration] = strconv.Itoa(it)
	for g := range t.pop {
		var buf bytes.Buffer
		meta[MetaRole] = t.pop[g].Role
		switch {
		case t.ppoPol[g] != nil:
			if err := t.ppoPol[g].Learner.Save(&buf, meta); err != nil {
				return err
			}
		case t.dsrPol[g] != nil:
			if err := t.dsrPol[g].Learner.Save(&buf, meta); err != nil {
				return err
			}
		default:
			continue
		}
		name := t.pop[g].Name
		for _, f := range []string{name + "-" + strconv.Itoa(it) + ".safetensors", name + "-latest.safetensors"} {
			path := filepath.Join(dir, f)
			if err := writeFileAtomic(path, buf.Bytes()); err != nil {
				return err
			}
			res.Checkpoints = append(res.Checkpoints, path)
		}
	}
	if err := t.writeLeague(); err != nil {
		return err
	}
	return t.writeCurves()
}

// writeCurves writes curves.csv from the points recorded so far.
func (t *trainer) writeCurves() error {
	c, err := createCSV(filepath.Join(t.opts.Out, "curves.csv"), curvesHeader)
	if err != nil {
		return err
	}
	for _, p := range t.curves {
		c.row(p.Iteration, p.Group, p.Metric, p.Value)
	}
	return c.close()
}

// writeRun writes run.json.
func (t *trainer) writeRun(res *TrainResult, status, msg string) error {
	info := RunInfo{Kind: "train", Name: filepath.Base(t.opts.Out), Seed: t.cfg.Seed, Ticks: t.cfg.trainTicks(),
		Episodes: res.Iterations * t.cfg.Training.NumEnvs, Status: status, Error: msg}
	info.Groups = runGroups(&t.cfg)
	return WriteRunJSON(t.opts.Out, info)
}

// runGroups lists the population's groups with their agent counts in a market of cfg
// (before churn).
func runGroups(cfg *Config) []RunGroup {
	np, nc := 0, 0
	for _, p := range cfg.Market.Providers {
		np += p.Count
	}
	for _, c := range cfg.Market.Clients {
		nc += c.Count
	}
	counts := make([]int, len(cfg.Population))
	if a, err := agents.NewAssignment(cfg.Population, np, nc); err == nil {
		for n := 0; n < np; n++ {
			counts[a.Group(scheme.RoleProvider, n)]++
		}
		for n := 0; n < nc; n++ {
			counts[a.Group(scheme.RoleClient, n)]++
		}
	}
	var out []RunGroup
	for g := range cfg.Population {
		gc := &cfg.Population[g]
		out = append(out, RunGroup{Name: gc.Name, Role: gc.Role, Kind: gc.ReportKind(), Agents: counts[g]})
	}
	return out
}

// trained returns the learners at iteration it.
func (t *trainer) trained(it int) *Trained {
	tr := &Trained{PPO: map[string]*ppo.Learner{}, DSR: map[string]*dsr.Learner{}, Leagues: map[string]*LeaguePool{}, Iteration: it}
	for _, p := range t.leagues {
		tr.Leagues[p.gc.Name] = p
	}
	for g := range t.pop {
		if t.ppoPol[g] != nil {
			tr.PPO[t.pop[g].Name] = t.ppoPol[g].Learner
		}
		if t.dsrPol[g] != nil {
			tr.DSR[t.pop[g].Name] = t.dsrPol[g].Learner
		}
	}
	return tr
}

// restore loads the latest checkpoints of the run in Out into the learners and the
// curves up to their iteration, and returns that iteration (0 when the run has no
// checkpoint yet).
func (t *trainer) restore() (int, error) {
	dir := filepath.Join(t.opts.Out, "checkpoints")
	it := -1
	want := t.checkpointMeta()
	for g := range t.pop {
		if t.ppoPol[g] == nil && t.dsrPol[g] == nil {
			continue
		}
		path := filepath.Join(dir, t.pop[g].Name+"-latest.safetensors")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			if it > 0 {
				return 0, &Error{File: path, Msg: "missing: the other groups have checkpoints"}
			}
			it = 0
			continue
		}
		if err != nil {
			return 0, err
		}
		_, meta, err := checkpoint.Load(bytes.NewReader(b))
		if err != nil {
			return 0, &Error{File: path, Msg: err.Error()}
		}
		n, err := strconv.Atoi(meta[MetaIteration])
		if err != nil || n < 0 {
			return 0, &Error{File: path, Msg: fmt.Sprintf("no valid %s in the checkpoint", MetaIteration)}
		}
		if it >= 0 && n != it {
			return 0, &Error{File: path, Msg: fmt.Sprintf("iteration %d, the other groups' checkpoints are at %d", n, it)}
		}
		it = n
		if t.ppoPol[g] != nil {
			err = t.ppoPol[g].Learner.Restore(bytes.NewReader(b), want)
		} else {
			err = t.dsrPol[g].Learner.Restore(bytes.NewReader(b), want)
		}
		if err != nil {
			return 0, &Error{File: path, Msg: "cannot resume: " + err.Error()}
		}
	}
	if it < 0 {
		it = 0
	}
	if it > t.cfg.Training.Iterations {
		return 0, &Error{File: dir, Msg: fmt.Sprintf("the checkpoints are at iteration %d, past training.iterations %d", it, t.cfg.Training.Iterations)}
	}
	pts, err := readCurves(filepath.Join(t.opts.Out, "curves.csv"))
	if err != nil {
		return 0, err
	}
	for _, p := range pts {
		if p.Iteration <= it {
			t.curves = append(t.curves, p)
		}
	}
	return it, nil
}

// curvesHeader is the header line of curves.csv.
const curvesHeader = "iteration,group,metric,value"

// readCurves reads curves.csv (a missing file is no points).
func readCurves(path string) ([]CurvePoint, error) {
	var out []CurvePoint
	err := readRunCSV(path, curvesHeader, func(line int, parts []string) error {
		it, err1 := strconv.Atoi(parts[0])
		v, err2 := strconv.ParseFloat(parts[3], 64)
		if err1 != nil || err2 != nil {
			return &Error{File: path, Line: line, Msg: "bad iteration or value"}
		}
		out = append(out, CurvePoint{Iteration: it, Group: parts[1], Metric: parts[2], Value: v})
		return nil
	})
	return out, err
}

// readRunCSV reads a CSV file a run writes itself (no quoting: its fields hold no
// commas): the first line must be header, and row is called with the line number and
// the fields of every later line, which must be as many as the header's. A missing
// file is no rows.
func readRunCSV(path, header string, row func(line int, fields []string) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	n := strings.Count(header, ",") + 1
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			if sc.Text() != header {
				return &Error{File: path, Line: 1, Msg: "want the header " + header}
			}
			continue
		}
		parts := strings.Split(sc.Text(), ",")
		if len(parts) != n {
			return &Error{File: path, Line: line, Msg: fmt.Sprintf("want %d columns: %s", n, header)}
		}
		if err := row(line, parts); err != nil {
			return err
		}
	}
	return sc.Err()
}

// LoadTrained loads the latest checkpoint of every learning group of cfg's population
// from run directory dir (and its league groups' snapshots) for evaluation, checking
// that each fits cfg: its observation and action spaces, and a ppo group's role
// (LoadPPOCheckpoint), as a tournament's entrants are checked. The config hash is not
// compared: what the policies were trained with does not change how they act, and a
// run trained before a config key was added evaluates as it did. Resuming a run
// compares it (the trainer).
func LoadTrained(dir string, cfg Config) (*Trained, error) {
	e, err := env.New(cfg.Settings())
	if err != nil {
		return nil, err
	}
	obsSp, actSp := spaces(e)
	want := map[string]string{checkpoint.MetaObsSpace: obsSp, checkpoint.MetaActionSpace: actSp}
	tr := &Trained{PPO: map[string]*ppo.Learner{}, DSR: map[string]*dsr.Learner{}, Iteration: -1}
	for g := range cfg.Population {
		gc := &cfg.Population[g]
		if !gc.Learning() {
			continue
		}
		path := filepath.Join(dir, "checkpoints", gc.Name+"-latest.safetensors")
		if _, err := os.Stat(path); err != nil {
			return nil, &Error{File: path, Msg: fmt.Sprintf("%s: no checkpoint for learning group %q of the config (train the run first, or give a config whose learning groups are the run's)", readErrMsg(err), gc.Name)}
		}
		var meta map[string]string
		if gc.Kind == agents.KindPPO {
			ck, b, err := ReadPPOCheckpoint(path, gc.Role, cfg)
			if err != nil {
				return nil, err
			}
			if tr.PPO[gc.Name], err = ck.learner(gc.Name, b, e.NumActions(), cfg.Training.PPO.Backend); err != nil {
				return nil, err
			}
			meta = ck.Meta
		} else {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, &Error{File: path, Msg: readErrMsg(err)}
			}
			if _, meta, err = checkpoint.Load(bytes.NewReader(b)); err != nil {
				return nil, &Error{File: path, Msg: err.Error()}
			}
			l, err := dsr.Load(bytes.NewReader(b), want)
			if err != nil {
				return nil, &Error{File: path, Msg: err.Error()}
			}
			if err := dsrFits(l, cfg.Training.DSR); err != nil {
				return nil, &Error{File: path, Msg: fmt.Sprintf("group %s: %v", gc.Name, err)}
			}
			tr.DSR[gc.Name] = l
		}
		n, _ := strconv.Atoi(meta[MetaIteration])
		if tr.Iteration < 0 || n < tr.Iteration {
			tr.Iteration = n
		}
	}
	if tr.Leagues, err = loadLeagues(dir, &cfg, tr.Iteration, e.NumActions(), want); err != nil {
		return nil, err
	}
	return tr, nil
}

// dsrFits checks that a loaded dsr learner is one the settings would train: the same
// learning rule and inputs (a treasury trader's checkpoint cannot price, nor the reverse).
func dsrFits(l *dsr.Learner, s agents.DSRSettings) error {
	got, want := l.Config(), s.Learner()
	decides := func(c dsr.Config) string {
		if c.Score() {
			return agents.DSRDecidesPricing
		}
		return agents.DSRDecidesTreasury
	}
	if got.Score() != want.Score() || got.Extra != want.Extra || got.Window != want.Window {
		return fmt.Errorf("the checkpoint's dsr learner decides %s (window %d, %d extra features), the config's (training.dsr) decides %s (window %d, %d extra features)",
			decides(got), got.Window, got.Extra, decides(want), want.Window, want.Extra)
	}
	return nil
}
