package experiments

// Evaluation: the trained policy groups, and each named baseline swapped in for the same
// agents, on the same fresh episodes. Episode seeds are held out: they come from the
// evaluation seed under a stream name training never uses, and a seed that a training
// episode of the config used is skipped. Per policy group and episode the metric is the
// mean over the group's agents of the agent's metric on its per-tick returns
// (specs/metrics.md, with the config's risk-free rate, MAR and eta); across episodes,
// the mean and its Student-t 95% interval (internal/confint).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/metrics"
	"github.com/hivegym/hivegym/scheme"
)

// BaselineRandom is the random-legal baseline's name in --baselines.
const BaselineRandom = "random"

// evalEnvs is the number of evaluation episodes run side by side. It is a constant, not
// the number of workers, so that results do not depend on the machine.
const evalEnvs = 4

// maxThreads bounds the sample of threads.jsonl.
const maxThreads = 200

// EvalOptions are the knobs of an evaluation.
type EvalOptions struct {
	// Episodes is the number of held-out episodes per policy (default 10).
	Episodes int
	// Seed derives the held-out episode seeds.
	Seed uint64
	// Baselines are swapped in for every learning group they fit: "random" (the
	// random-legal policy) or a strategy name (cost-plus fits providers only, budget
	// clients only).
	Baselines []string
	// Trained holds the learners of the learning groups.
	Trained *Trained
	// Out is the run directory to write into; "" writes nothing.
	Out string
	// Workers steps the environments (results do not depend on it).
	Workers int
	// Progress, when set, is called after each episode with the episodes done and the
	// total (over every policy).
	Progress func(done, total int)
}

// EvalResult is what an evaluation reports.
type EvalResult struct {
	Doc MetricsDoc
	// Samples are the per-episode values behind Doc, one per group of Doc.Groups in the
	// same order: what paired comparisons (Compare) are computed from.
	Samples []GroupSamples
	// Market holds the trained population's market outcomes per episode, in seed
	// order (MarketMetrics: deal rate, price per GPU-hour, value share; NaN for an
	// episode not run).
	Market map[string][]float64
	// Actions are the trained learning groups' action histograms over the episodes
	// (actions.csv).
	Actions []ActionHistogram
	// Pricing summarizes the reservation factors the trained dsr pricing groups decided
	// (agents.DSRPolicy), in population order.
	Pricing     []PricingSummary
	Seeds       []uint64
	Interrupted bool
}

// PricingSummary is the distribution of a dsr pricing group's reservation factors over
// its decisions in evaluation: each agent's factor for a period (1: the strategy
// itself; above 1 a provider asks more, a client bids less).
type PricingSummary struct {
	Group               string
	Decisions           int
	Mean, P10, P50, P90 float64
}

// pricingSummaries summarizes the trained variant's dsr pricing groups.
func (ev *evaluator) pricingSummaries() []PricingSummary {
	var out []PricingSummary
	for g, p := range ev.pricers {
		if p == nil {
			continue
		}
		xs := slices.Clone(ev.factors[g])
		slices.Sort(xs)
		s := PricingSummary{Group: ev.cfg.Population[g].Name, Decisions: len(xs), Mean: math.NaN(), P10: math.NaN(), P50: math.NaN(), P90: math.NaN()}
		if n := len(xs); n > 0 {
			var sum float64
			for _, x := range xs {
				sum += x
			}
			rank := func(q float64) float64 { return xs[min(n-1, int(math.Ceil(q*float64(n)))-1)] } // nearest rank
			s.Mean, s.P10, s.P50, s.P90 = sum/float64(n), rank(0.1), rank(0.5), rank(0.9)
		}
		out = append(out, s)
	}
	return out
}

// ActionHistogram counts a learning group's discrete actions in evaluation: every
// decision its policy took (protocol steps the scripted rules answer are not the
// policy's and are not counted).
type ActionHistogram struct {
	Group   string
	Total   int64
	Actions []ActionCount // every action, in index order
}

// ActionCount is one action of a histogram; Share is Count / Total (NaN when Total is 0).
type ActionCount struct {
	Index int
	Name  string
	Count int64
	Share float64
}

// GroupSamples are one reported group's per-episode values.
type GroupSamples struct {
	// Name is the group's name in the results: the population group's name for a
	// trained (or scripted) group, group/baseline for a baseline swapped in for it.
	Name string
	// Group is the population group; Baseline the baseline swapped in ("" for none).
	Group, Baseline string
	Role            string
	// Learning is true for a group the trained population's learners play.
	Learning bool
	// Values[m][i] is metric EvalMetrics[m] on episode i (seed Seeds[i]); NaN when no
	// agent of the group had a finite value, or when the episode did not run (an
	// interrupted evaluation).
	Values [][]float64
}

// Market outcomes of an episode (EvalResult.Market).
const (
	// MarketDealRate is deals over jobs requested.
	MarketDealRate = "deal_rate"
	// MarketPricePerGPUHour is the USD value of GPU deals over their GPU-hours.
	MarketPricePerGPUHour = "price_per_gpu_hour"
	// MarketValueShare is the USD value of the deals at their price over the job value
	// the clients realized: the providers' share of the surplus the trades created
	// (1: the providers take it all; above 1: clients paid more than they got).
	MarketValueShare = "value_share"
)

// MarketMetrics lists the market outcomes in a fixed order.
var MarketMetrics = []string{MarketDealRate, MarketPricePerGPUHour, MarketValueShare}

// variant is one population evaluated: the config's (trained) or one with a baseline
// swapped in.
type variant struct {
	name     string // "" for the trained population, else the --baselines entry
	baseline string // the baseline's name ("" for the trained population)
	pop      agents.Population
	report   []int    // groups reported, in order
	names    []string // their names in the results
}

// Eval evaluates cfg's population with the trained learners against the baselines. It
// stops at an episode boundary when ctx is cancelled, writes what it has and returns
// ctx's error.
func Eval(ctx context.Context, cfg Config, opts EvalOptions) (*EvalResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Episodes <= 0 {
		opts.Episodes = 10
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	vars, err := variants(cfg.Population, opts.Baselines)
	if err != nil {
		return nil, err
	}
	seeds := heldOutSeeds(&cfg, opts.Seed, opts.Episodes)
	res := &EvalResult{Seeds: seeds}
	ev := &evaluator{cfg: cfg, opts: opts, vars: vars, seeds: seeds}
	ev.samples = make([][][]float64, len(vars))
	ev.mkt, ev.threads = make([][]marketRow, len(vars)), make([]*threadSampler, len(vars))
	ev.actions = make([][]int64, len(cfg.Population))
	ev.pricers = make([]*agents.DSRPolicy, len(cfg.Population))
	ev.factors = make([][]float64, len(cfg.Population))
	ev.market = map[string][]float64{}
	for _, name := range MarketMetrics {
		ev.market[name] = nanSlice(len(seeds))
	}
	for v := range vars {
		ev.samples[v] = make([][]float64, len(vars[v].report)*len(EvalMetrics))
		for i := range ev.samples[v] {
			ev.samples[v][i] = nanSlice(len(seeds))
		}
	}
	if opts.Out != "" {
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			return nil, err
		}
	}
	runErr := ev.run(ctx)
	if runErr != nil && ctx.Err() == nil {
		return nil, runErr
	}
	res.Interrupted = runErr != nil
	res.Doc = ev.doc()
	res.Samples = ev.groupSamples()
	res.Actions = ev.actionHistograms()
	res.Pricing = ev.pricingSummaries()
	res.Market = ev.market
	if opts.Out != "" {
		if err := ev.write(res); err != nil {
			return res, err
		}
	}
	return res, runErr
}

// CheckBaselines reports whether every baseline is known and fits a learning group of
// pop (the error Eval would return).
func CheckBaselines(pop agents.Population, baselines []string) error {
	_, err := variants(pop, baselines)
	return err
}

// BaselineFits reports whether baseline (random or a strategy name) may stand in for a
// group of role: cost-plus fits providers only, budget clients only, the others both.
func BaselineFits(baseline, role string) bool {
	switch baseline {
	case "cost-plus":
		return role == agents.RoleProvider
	case "budget":
		return role == agents.RoleClient
	}
	return true
}

// BaselinesFor returns every baseline that fits a group of role, in the strategy
// registry's order: the scripted strategies of agents/strategy, with "random" meaning
// the random-legal policy (BaselineRandom).
func BaselinesFor(role string) []string {
	var out []string
	for _, n := range strategy.Names() {
		if BaselineFits(n, role) {
			out = append(out, n)
		}
	}
	return out
}

// ParseBaseline splits a --baselines entry: "boulware" (every learning group it fits)
// or "providers=boulware" (only the learning group providers).
func ParseBaseline(spec string) (group, baseline string) {
	if g, b, ok := strings.Cut(spec, "="); ok {
		return strings.TrimSpace(g), strings.TrimSpace(b)
	}
	return "", strings.TrimSpace(spec)
}

// variants returns the trained population and one per baseline. A baseline is a name
// (swapped in for every learning group it fits at once) or group=name (swapped in for
// that learning group only, the others keep their trained policies).
func variants(pop agents.Population, baselines []string) ([]variant, error) {
	v0 := variant{pop: pop}
	for g := range pop {
		v0.report = append(v0.report, g)
		v0.names = append(v0.names, pop[g].Name)
	}
	out := []variant{v0}
	seen := map[string]bool{}
	named := map[string]string{} // reported name -> the baseline entry that reports it
	for _, spec := range baselines {
		spec = strings.TrimSpace(spec)
		if spec == "" || seen[spec] {
			continue
		}
		seen[spec] = true
		target, b := ParseBaseline(spec)
		if b == "" || (strings.Contains(spec, "=") && target == "") {
			return nil, &Error{File: "--baselines", Msg: fmt.Sprintf("baseline %q: want a name or group=name", spec)}
		}
		if b != BaselineRandom {
			if _, err := strategy.ByName(b, strategy.Params{Rand: rand.New(rand.NewPCG(0, 0))}); err != nil {
				return nil, &Error{File: "--baselines", Msg: fmt.Sprintf("unknown baseline %q (valid: random, the random-legal policy, or a strategy: %s)", b, strings.Join(strategy.Names(), ", "))}
			}
		}
		if target != "" {
			var learning []string
			found := false
			for g := range pop {
				if pop[g].Learning() {
					learning = append(learning, pop[g].Name)
					if pop[g].Name == target {
						found = true
						if !BaselineFits(b, pop[g].Role) {
							return nil, &Error{File: "--baselines", Msg: fmt.Sprintf("baseline %q does not fit group %s (a %s group)", spec, target, pop[g].Role)}
						}
					}
				}
			}
			if !found {
				return nil, &Error{File: "--baselines", Msg: fmt.Sprintf("baseline %q: %q is not a learning group of the population (learning groups: %s)", spec, target, strings.Join(learning, ", "))}
			}
		}
		v := variant{name: spec, baseline: b, pop: pop.Clone()}
		for g := range v.pop {
			gc := &v.pop[g]
			if !gc.Learning() || !BaselineFits(b, gc.Role) || (target != "" && gc.Name != target) {
				continue
			}
			share, count, proto := gc.Share, gc.Count, gc.ScriptedProtocol()
			if b == BaselineRandom {
				*gc = agents.GroupConfig{Name: gc.Name, Role: gc.Role, Kind: agents.KindRandom}
			} else {
				*gc = agents.GroupConfig{Name: gc.Name, Role: gc.Role, Kind: agents.KindScripted, Strategy: b}
			}
			gc.Share, gc.Count = share, count
			if proto {
				gc.Protocol = agents.ProtocolScripted
			}
			name := gc.Name + "/" + b
			if other, dup := named[name]; dup {
				return nil, &Error{File: "--baselines", Msg: fmt.Sprintf("baselines %q and %q both report %s: give one of them", other, spec, name)}
			}
			named[name] = spec
			v.report = append(v.report, g)
			v.names = append(v.names, name)
		}
		if len(v.report) == 0 {
			return nil, &Error{File: "--baselines", Msg: fmt.Sprintf("baseline %q fits no learning group of the population", b)}
		}
		out = append(out, v)
	}
	return out, nil
}

// heldOutSeeds derives n episode seeds from seed, in [0, 2^63), skipping any seed a
// training episode of cfg used.
func heldOutSeeds(cfg *Config, seed uint64, n int) []uint64 {
	train := map[uint64]bool{}
	for it := 0; it < cfg.Training.Iterations; it++ {
		for k := 0; k < cfg.Training.NumEnvs; k++ {
			train[episodeSeed(cfg.Seed, "train.episode", it, k)] = true
		}
	}
	var out []uint64
	for j := 0; len(out) < n; j++ {
		// Below 2^63, so readers that parse seeds as signed integers take them.
		s := episodeSeed(seed, "eval.episode", 0, j) &^ (1 << 63)
		if !train[s] {
			out = append(out, s)
		}
	}
	return out
}

// evaluator is one evaluation's state.
type evaluator struct {
	cfg   Config
	opts  EvalOptions
	vars  []variant
	seeds []uint64
	// samples[v][gi*len(EvalMetrics)+mi] are the per-episode values of variant v's
	// reported group gi and metric mi, indexed by episode (NaN until it finished).
	samples [][][]float64
	// market[name][ep] is the trained variant's market outcome name in episode ep.
	market  map[string][]float64
	rows    []episodeRow
	classes []classRow
	equity  []equityRow
	// mkt[v] and threads[v] are variant v's market rows and thread sample.
	mkt     [][]marketRow
	series  *seriesRec
	threads []*threadSampler
	// actions[g][a] counts trained group g's choices of discrete action a.
	actions [][]int64
	pricers []*agents.DSRPolicy // per group: the trained variant's dsr pricing policy
	factors [][]float64         // per group: its reservation factors, held-out episodes only
	done    int
}

type episodeRow struct {
	ep     int
	group  string
	metric string
	value  float64
	order  int
}

// classRow is the mean of metric over the agents of one class (a provider's machine
// class, a client's class) in one reported group and episode (classes.csv).
type classRow struct {
	ep     int
	group  string
	class  string
	agents int
	metric int // index into EvalMetrics
	value  float64
	order  int
}

type equityRow struct {
	ep     int
	tick   int64
	group  string
	wealth float64
	order  int
}

type marketRow struct {
	ep                    int
	tick                  int64
	deals, requests       int64
	dealRate, price, util float64
	gasUSD                float64
	timeouts, slashes     int64
}

// tickRec collects one environment's per-tick data during an episode. Its tick method
// runs on the environment's worker goroutine (env.Env.SetStop), so it touches only its
// own state.
type tickRec struct {
	e         *env.Env
	r         *runner
	j         int
	reportIdx []int
	names     []string
	groups    []int // per agent id: reported group index, -1 none
	lastW     []float64
	w0        []float64
	rets      [][]float64 // per agent id: its per-tick returns
	bucket    int64
	ep        int
	prev      market.Stats
	equity    []equityRow
	mkt       []marketRow
	sumW      []float64
	nW        []int
}

func (ev *evaluator) run(ctx context.Context) error {
	total := len(ev.vars) * len(ev.seeds)
	for v := range ev.vars {
		if err := ev.runVariant(ctx, v, total); err != nil {
			return err
		}
	}
	return nil
}

func (ev *evaluator) runVariant(ctx context.Context, v int, total int) error {
	vr := &ev.vars[v]
	cfg := ev.cfg
	cfg.Population = vr.pop
	k := min(evalEnvs, len(ev.seeds))
	r, err := newRunner(cfg, k, ev.opts.Workers, 0)
	if err != nil {
		return err
	}
	var leagues []*LeaguePool
	for g := range vr.pop {
		gc := &vr.pop[g]
		switch gc.Kind {
		case agents.KindPPO:
			l := ev.opts.Trained.PPO[gc.Name]
			if l == nil {
				return fmt.Errorf("experiments: no trained learner for group %s", gc.Name)
			}
			r.policies[g] = &agents.PPOPolicy{Learner: l, Greedy: cfg.Training.Greedy}
		case agents.KindDSR:
			l := ev.opts.Trained.DSR[gc.Name]
			if l == nil {
				return fmt.Errorf("experiments: no trained learner for group %s", gc.Name)
			}
			p, err := agents.NewDSRPolicy(gc, cfg.Training.DSR, 0)
			if err != nil {
				return err
			}
			p.Learner = l
			r.policies[g] = p
			if v == 0 && p.Settings.Pricing() {
				ev.pricers[g] = p
			}
		case agents.KindLeague:
			var pool *LeaguePool
			if ev.opts.Trained != nil {
				pool = ev.opts.Trained.Leagues[gc.Name]
			}
			if pool == nil {
				return fmt.Errorf("experiments: no league pool for group %s", gc.Name)
			}
			r.policies[g] = pool.policy
			leagues = append(leagues, pool)
		default:
			if r.policies[g], err = scriptedPolicy(gc); err != nil {
				return err
			}
		}
	}
	reportIdx := make([]int, len(vr.pop))
	for i := range reportIdx {
		reportIdx[i] = -1
	}
	for i, g := range vr.report {
		reportIdx[g] = i
	}
	recs := make([]*tickRec, k)
	ticks := int64(cfg.Env.EpisodeTicks)
	bucket := max(1, (ticks+199)/200)
	for j := range recs {
		recs[j] = &tickRec{e: r.vec.Envs[j], bucket: bucket, names: vr.names}
		rec := recs[j]
		r.vec.Envs[j].SetStop(func() bool { rec.tick(); return false })
	}
	var streams []*rand.Rand
	for round := 0; round*k < len(ev.seeds); round++ {
		lo, hi := round*k, min((round+1)*k, len(ev.seeds))
		seeds := make([]uint64, k)
		for j := range seeds {
			// Envs past the last seed rerun the last one; their results are dropped.
			seeds[j] = ev.seeds[min(lo+j, hi-1)]
		}
		streams = streamsFor(ev.opts.Seed, "eval.act."+vr.name+"."+strconv.Itoa(round), vr.pop, streams)
		for _, p := range leagues {
			p.evalDraw(ev.opts.Seed, round, k)
		}
		var tw *market.TraceWriter
		if round == 0 && ev.opts.Out != "" {
			ev.threads[v] = &threadSampler{max: maxThreads, e: r.vec.Envs[0], threads: map[int64]*threadRec{}}
			tw = market.NewTraceWriter(ev.threads[v], market.TraceMeta{Seed: seeds[0], Ticks: int(ticks), Policy: "eval"})
			r.vec.Envs[0].SetTrace(tw)
			if v == 0 {
				ev.series = &seriesRec{}
			}
		}
		h := episodeHooks{
			begin: func(j int, e *env.Env) {
				recs[j].begin(r, j, reportIdx, lo+j)
				if j == 0 && ev.series != nil && v == 0 && round == 0 {
					ev.series.add(e)
				}
			},
			done: func(j int, e *env.Env) error {
				recs[j].tick()
				if lo+j >= hi {
					return nil
				}
				ev.finish(v, recs[j], lo+j)
				ev.done++
				if ev.opts.Progress != nil {
					ev.opts.Progress(ev.done, total)
				}
				return nil
			},
		}
		if v == 0 {
			h.acted = func(g int, o *agents.Obs, out []env.Action) error {
				if !vr.pop[g].Learning() {
					return nil
				}
				if p := ev.pricers[g]; p != nil {
					for _, x := range p.Decided {
						if lo+x.Env < hi { // not a rerun env past the last seed
							ev.factors[g] = append(ev.factors[g], x.Factor)
						}
					}
					p.Decided = p.Decided[:0]
				}
				if ev.actions[g] == nil {
					ev.actions[g] = make([]int64, r.nAct)
				}
				for i := range o.N {
					if lo+o.EnvIndex[i] >= hi || out[i].Structured {
						continue // a rerun env past the last seed, or not a discrete action
					}
					if a := int(out[i].Index); a >= 0 && a < len(ev.actions[g]) {
						ev.actions[g][a]++
					}
				}
				return nil
			}
		}
		if v == 0 && round == 0 && ev.series != nil {
			env0 := r.vec.Envs[0]
			rec0 := recs[0]
			env0.SetStop(func() bool { rec0.tick(); ev.series.add(env0); return false })
		}
		err := r.episodes(ctx, seeds, streams, h)
		if tw != nil {
			r.vec.Envs[0].SetTrace(nil)
			if ferr := tw.Flush(); ferr != nil && err == nil {
				err = ferr
			}
			env0, rec0 := r.vec.Envs[0], recs[0]
			env0.SetStop(func() bool { rec0.tick(); return false })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// begin starts recording env j's episode ep.
func (t *tickRec) begin(r *runner, j int, reportIdx []int, ep int) {
	t.r, t.j, t.reportIdx = r, j, reportIdx
	m := t.e.Market()
	t.ep = ep
	n := m.NumAgents()
	t.groups = t.groups[:0]
	t.lastW, t.w0 = resizeF64(t.lastW, n), resizeF64(t.w0, n)
	for a := 0; a < n; a++ {
		gi := -1
		if g := r.group(j, m, market.AgentID(a)); g >= 0 {
			gi = reportIdx[g]
		}
		t.groups = append(t.groups, gi)
		t.lastW[a] = m.WealthUSD(market.AgentID(a))
		t.w0[a] = t.lastW[a]
	}
	for len(t.rets) < n {
		t.rets = append(t.rets, nil)
	}
	for a := range t.rets {
		t.rets[a] = t.rets[a][:0]
	}
	t.prev = m.Stats()
	t.equity, t.mkt = t.equity[:0], t.mkt[:0]
	t.sumW, t.nW = resizeF64(t.sumW, len(t.names)), make([]int, len(t.names))
}

func resizeF64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// agentGroup returns agent a's reported group index, extending the table for agents that
// joined during the episode.
func (t *tickRec) agentGroup(m *market.Market, a int) int {
	for len(t.groups) <= a {
		b := len(t.groups)
		gi := -1
		if g := t.r.group(t.j, m, market.AgentID(b)); g >= 0 {
			gi = t.reportIdx[g]
		}
		t.groups = append(t.groups, gi)
		w := m.InitialWealthUSD(market.AgentID(b))
		t.lastW = append(t.lastW, w)
		t.w0 = append(t.w0, w)
		if len(t.rets) <= b {
			t.rets = append(t.rets, nil)
		}
		t.rets[b] = t.rets[b][:0]
	}
	return t.groups[a]
}

// tick records the tick that just ended: every tracked agent's return, and at the end
// of a bucket the groups' mean normalized wealth and the market's statistics.
func (t *tickRec) tick() {
	m := t.e.Market()
	now := m.Tick()
	endBucket := (now+1)%t.bucket == 0
	if endBucket {
		clear(t.sumW)
		clear(t.nW)
	}
	for a := 0; a < m.NumAgents(); a++ {
		gi := t.agentGroup(m, a)
		if gi < 0 {
			continue
		}
		id := market.AgentID(a)
		w := m.WealthUSD(id)
		if m.Alive(id) {
			if prev := t.lastW[a]; prev > 0 {
				t.rets[a] = append(t.rets[a], w/prev-1)
			}
			if endBucket && t.w0[a] > 0 {
				t.sumW[gi] += w / t.w0[a]
				t.nW[gi]++
			}
		}
		t.lastW[a] = w
	}
	if !endBucket && now+1 < int64(t.e.Settings().Env.EpisodeTicks) {
		return
	}
	for gi, name := range t.names {
		x := math.NaN()
		if t.nW[gi] > 0 {
			x = t.sumW[gi] / float64(t.nW[gi])
		}
		t.equity = append(t.equity, equityRow{ep: t.ep, tick: now, group: name, wealth: x, order: gi})
	}
	s := m.Stats()
	p := &t.prev
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return math.NaN()
		}
		return a / b
	}
	deals, reqs := s.Deals-p.Deals, s.JobsRequested-p.JobsRequested
	t.mkt = append(t.mkt, marketRow{ep: t.ep, tick: now, deals: deals, requests: reqs,
		dealRate: ratio(float64(deals), float64(reqs)),
		price:    ratio(s.GPUDealUSD-p.GPUDealUSD, s.GPUHoursDealt-p.GPUHoursDealt),
		util:     ratio(s.BusyGPUTicks-p.BusyGPUTicks, s.GPUTicks-p.GPUTicks),
		gasUSD:   s.GasUSD - p.GasUSD, timeouts: s.Timeouts - p.Timeouts, slashes: s.Slashes - p.Slashes})
	t.prev = s
}

// finish turns env rec's finished episode ep into samples of variant v.
func (ev *evaluator) finish(v int, rec *tickRec, ep int) {
	vr := &ev.vars[v]
	opts := metrics.Options{PeriodsPerYear: rec.e.Market().PeriodsPerYear(), RiskFree: ev.cfg.Metrics.RiskFree,
		MAR: ev.cfg.Metrics.MAR, Eta: ev.cfg.Metrics.Eta}
	nm := len(EvalMetrics)
	sums := make([]float64, len(vr.report)*nm)
	cnts := make([]int, len(vr.report)*nm)
	// Per group and agent class, the same means over that class's agents (classes.csv),
	// in the order the classes first appear among the agents.
	type classSum struct {
		gi, agents int
		class      string
		sums       []float64
		cnts       []int
	}
	type classKey struct {
		gi    int
		class string
	}
	var classes []*classSum
	index := map[classKey]*classSum{}
	m := rec.e.Market()
	for a, gi := range rec.groups {
		if gi < 0 || len(rec.rets[a]) == 0 {
			continue
		}
		s := metrics.Summarize(rec.rets[a], opts)
		var cs *classSum
		if cl := m.ClassName(market.AgentID(a)); cl != "" {
			k := classKey{gi, cl}
			if cs = index[k]; cs == nil {
				cs = &classSum{gi: gi, class: cl, sums: make([]float64, nm), cnts: make([]int, nm)}
				index[k] = cs
				classes = append(classes, cs)
			}
			cs.agents++
		}
		for mi, x := range [...]float64{s.CumulativeReturn, s.Sharpe, s.Sortino, s.MaxDrawdown, s.DSRFinal} {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				sums[gi*nm+mi] += x
				cnts[gi*nm+mi]++
				if cs != nil {
					cs.sums[mi] += x
					cs.cnts[mi]++
				}
			}
		}
	}
	for _, cs := range classes {
		for mi := range EvalMetrics {
			x := math.NaN()
			if cs.cnts[mi] > 0 {
				x = cs.sums[mi] / float64(cs.cnts[mi])
			}
			ev.classes = append(ev.classes, classRow{ep: ep, group: vr.names[cs.gi], class: cs.class, agents: cs.agents,
				metric: mi, value: x, order: ev.groupOrder(v, cs.gi)})
		}
	}
	for gi := range vr.report {
		for mi, name := range EvalMetrics {
			x := math.NaN()
			if c := cnts[gi*nm+mi]; c > 0 {
				x = sums[gi*nm+mi] / float64(c)
			}
			// By episode index: environments of a round finish in any order.
			ev.samples[v][gi*nm+mi][ep] = x
			ev.rows = append(ev.rows, episodeRow{ep: ep, group: vr.names[gi], metric: name, value: x, order: ev.groupOrder(v, gi)*nm + mi})
		}
	}
	for _, row := range rec.equity {
		row.order = ev.groupOrder(v, row.order)
		ev.equity = append(ev.equity, row)
	}
	ev.mkt[v] = append(ev.mkt[v], rec.mkt...)
	if v == 0 {
		st := rec.e.Market().Stats()
		ratio := func(a, b float64) float64 {
			if b == 0 {
				return math.NaN()
			}
			return a / b
		}
		ev.market[MarketDealRate][ep] = ratio(float64(st.Deals), float64(st.JobsRequested))
		ev.market[MarketPricePerGPUHour][ep] = ratio(st.GPUDealUSD, st.GPUHoursDealt)
		ev.market[MarketValueShare][ep] = ratio(st.DealUSD, st.ValueUSD)
	}
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// groupOrder is the position of variant v's reported group gi among every reported group.
func (ev *evaluator) groupOrder(v, gi int) int {
	n := 0
	for i := 0; i < v; i++ {
		n += len(ev.vars[i].report)
	}
	return n + gi
}

// doc builds metrics.json.
func (ev *evaluator) doc() MetricsDoc {
	var d MetricsDoc
	nm := len(EvalMetrics)
	for v := range ev.vars {
		vr := &ev.vars[v]
		for gi, g := range vr.report {
			gc := &vr.pop[g]
			mg := MetricsGroup{Name: vr.names[gi], Role: gc.Role, Kind: gc.ReportKind(), Metrics: map[string]Interval{}}
			for mi, name := range EvalMetrics {
				mg.Metrics[name] = IntervalOf(ev.samples[v][gi*nm+mi])
			}
			d.Groups = append(d.Groups, mg)
		}
	}
	return d
}

// groupSamples copies the per-episode values out, in Doc.Groups order.
func (ev *evaluator) groupSamples() []GroupSamples {
	var out []GroupSamples
	nm := len(EvalMetrics)
	for v := range ev.vars {
		vr := &ev.vars[v]
		for gi, g := range vr.report {
			gc := &vr.pop[g]
			gs := GroupSamples{Name: vr.names[gi], Group: gc.Name, Baseline: vr.baseline, Role: gc.Role,
				Learning: v == 0 && gc.Learning(), Values: make([][]float64, nm)}
			for mi := range nm {
				gs.Values[mi] = slices.Clone(ev.samples[v][gi*nm+mi])
			}
			out = append(out, gs)
		}
	}
	return out
}

// write writes the run directory's eval files.
func (ev *evaluator) write(res *EvalResult) error {
	dir := ev.opts.Out
	if err := WriteMetricsJSON(dir, res.Doc); err != nil {
		return err
	}
	sortRows(ev.rows, func(a, b episodeRow) bool {
		if a.ep != b.ep {
			return a.ep < b.ep
		}
		return a.order < b.order
	})
	c, err := createCSV(filepath.Join(dir, "episodes.csv"), "seed,group,metric,value")
	if err != nil {
		return err
	}
	for _, r := range ev.rows {
		c.row(ev.seeds[r.ep], r.group, r.metric, r.value)
	}
	if err := c.close(); err != nil {
		return err
	}
	sortRows(ev.classes, func(a, b classRow) bool {
		if a.ep != b.ep {
			return a.ep < b.ep
		}
		if a.order != b.order {
			return a.order < b.order
		}
		if a.class != b.class {
			return a.class < b.class
		}
		return a.metric < b.metric
	})
	if c, err = createCSV(filepath.Join(dir, "classes.csv"), "seed,group,class,agents,metric,value"); err != nil {
		return err
	}
	for _, r := range ev.classes {
		c.row(ev.seeds[r.ep], r.group, r.class, r.agents, EvalMetrics[r.metric], r.value)
	}
	if err := c.close(); err != nil {
		return err
	}
	sortRows(ev.equity, func(a, b equityRow) bool {
		if a.ep != b.ep {
			return a.ep < b.ep
		}
		if a.tick != b.tick {
			return a.tick < b.tick
		}
		return a.order < b.order
	})
	if c, err = createCSV(filepath.Join(dir, "equity.csv"), "seed,tick,group,wealth"); err != nil {
		return err
	}
	for _, r := range ev.equity {
		c.row(ev.seeds[r.ep], r.tick, r.group, r.wealth)
	}
	if err := c.close(); err != nil {
		return err
	}
	for v := range ev.vars {
		vdir := dir
		if v > 0 {
			vdir = filepath.Join(dir, "baselines", ev.vars[v].name)
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				return err
			}
		}
		if err := ev.writeMarket(filepath.Join(vdir, "market.csv"), ev.mkt[v]); err != nil {
			return err
		}
		if ev.threads[v] != nil {
			if err := ev.threads[v].write(filepath.Join(vdir, "threads.jsonl")); err != nil {
				return err
			}
		}
	}
	if ev.series != nil && len(ev.series.times) > 0 {
		if err := WriteSeriesCSV(filepath.Join(dir, "series.csv"), ev.series.cols, ev.series.times, ev.series.vals); err != nil {
			return err
		}
	}
	if c, err = createCSV(filepath.Join(dir, "actions.csv"), "group,action,index,count,share"); err != nil {
		return err
	}
	for _, h := range res.Actions {
		for _, a := range h.Actions {
			c.row(h.Group, a.Name, a.Index, a.Count, a.Share)
		}
	}
	if err := c.close(); err != nil {
		return err
	}
	return nil
}

// writeMarket writes one variant's market.csv.
func (ev *evaluator) writeMarket(path string, rows []marketRow) error {
	sortRows(rows, func(a, b marketRow) bool {
		if a.ep != b.ep {
			return a.ep < b.ep
		}
		return a.tick < b.tick
	})
	c, err := createCSV(path, "seed,tick,deals,requests,deal_rate,price_per_gpu_hour,utilization,gas_usd,timeouts,slashes")
	if err != nil {
		return err
	}
	for _, r := range rows {
		c.row(ev.seeds[r.ep], r.tick, r.deals, r.requests, r.dealRate, r.price, r.util, r.gasUSD, r.timeouts, r.slashes)
	}
	return c.close()
}

// actionHistograms returns the trained learning groups' action counts, groups in
// population order, actions in index order (every action, chosen or not).
func (ev *evaluator) actionHistograms() []ActionHistogram {
	var out []ActionHistogram
	var e *env.Env
	for g, counts := range ev.actions {
		if counts == nil {
			continue
		}
		if e == nil {
			var err error
			if e, err = env.New(ev.cfg.Settings()); err != nil {
				return nil
			}
		}
		var total int64
		for _, n := range counts {
			total += n
		}
		h := ActionHistogram{Group: ev.cfg.Population[g].Name, Total: total}
		for a, n := range counts {
			share := math.NaN()
			if total > 0 {
				share = float64(n) / float64(total)
			}
			h.Actions = append(h.Actions, ActionCount{Index: a, Name: e.ActionName(a), Count: n, Share: share})
		}
		out = append(out, h)
	}
	return out
}

// sortRows sorts s stably by less (insertion order breaks ties).
func sortRows[T any](s []T, less func(a, b T) bool) {
	// A stable merge sort through the standard library.
	type idx struct {
		v T
		i int
	}
	tmp := make([]idx, len(s))
	for i, v := range s {
		tmp[i] = idx{v, i}
	}
	slices.SortFunc(tmp, func(a, b idx) int {
		switch {
		case less(a.v, b.v):
			return -1
		case less(b.v, a.v):
			return 1
		}
		return a.i - b.i
	})
	for i := range tmp {
		s[i] = tmp[i].v
	}
}

// seriesRec records the world's series of one episode, tick by tick.
type seriesRec struct {
	cols  []data.Column
	times []time.Time
	vals  [][]float64
	row   []float64
	last  int64
	init  bool
}

func (s *seriesRec) add(e *env.Env) {
	w := e.World()
	if !s.init {
		s.cols = w.Columns()
		s.vals = make([][]float64, len(s.cols))
		s.init, s.last = true, -1
	}
	if w.Tick() == s.last {
		return
	}
	s.last = w.Tick()
	s.times = append(s.times, w.Time())
	s.row = w.Values(s.row)
	for i, x := range s.row {
		s.vals[i] = append(s.vals[i], x)
	}
}

// WriteSeriesCSV writes the world's series as `hivegym series` does: a time column (RFC
// 3339, UTC) and one column per series.
func WriteSeriesCSV(path string, cols []data.Column, times []time.Time, vals [][]float64) error {
	var hdr strings.Builder
	hdr.WriteString("time")
	for _, c := range cols {
		hdr.WriteString(",")
		hdr.WriteString(c.Name)
	}
	c, err := createCSV(path, hdr.String())
	if err != nil {
		return err
	}
	var b []byte
	for k, t := range times {
		b = t.UTC().AppendFormat(b[:0], time.RFC3339)
		for i := range cols {
			b = append(b, ',')
			b = AppendCSVFloat(b, vals[i][k])
		}
		b = append(b, '\n')
		if _, err := c.w.Write(b); err != nil && c.err == nil {
			c.err = err
		}
	}
	return c.close()
}

// threadSampler is the io.Writer of one episode's trace: it keeps the offers and the
// outcome of the first maxThreads threads, for threads.jsonl. Prices are converted to USD
// at the market's prices when the trace is flushed (within the 64 KiB the trace buffers,
// a few ticks at most).
type threadSampler struct {
	max     int
	e       *env.Env
	pending []byte
	threads map[int64]*threadRec
	order   []int64
}

type threadRec struct {
	Thread   string        `json:"thread"`
	Provider string        `json:"provider"`
	Client   string        `json:"client"`
	Outcome  string        `json:"outcome"`
	Reason   string        `json:"reason,omitempty"`   // why a terminated thread ended
	EndedIn  string        `json:"ended_in,omitempty"` // the state it ended from
	EndTick  int64         `json:"end_tick,omitempty"`
	Offers   []threadOffer `json:"offers"`
}

type threadOffer struct {
	Round int     `json:"round"`
	Tick  int64   `json:"tick"`
	From  string  `json:"from"`
	Price float64 `json:"price_per_hour_usd"`
}

type traceLine struct {
	Tick   int64  `json:"tick"`
	Kind   string `json:"kind"`
	Thread string `json:"thread"`
	Type   string `json:"type"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	OK     *bool  `json:"ok"`
	Terms  *struct {
		Price int64  `json:"price_per_hour"`
		Asset string `json:"asset"`
	} `json:"terms"`
}

var threadKey = []byte(`"thread":"t-`)

func (s *threadSampler) Write(p []byte) (int, error) {
	s.pending = append(s.pending, p...)
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			break
		}
		s.line(s.pending[:i])
		s.pending = s.pending[i+1:]
	}
	return len(p), nil
}

func (s *threadSampler) line(b []byte) {
	if !bytes.Contains(b[:min(len(b), 40)], []byte(`"kind":"message"`)) && !bytes.Contains(b[:min(len(b), 40)], []byte(`"kind":"state"`)) {
		return
	}
	i := bytes.Index(b, threadKey)
	if i < 0 {
		return
	}
	j := i + len(threadKey)
	k := j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	id, err := strconv.ParseInt(string(b[j:k]), 10, 64)
	if err != nil {
		return
	}
	rec := s.threads[id]
	if rec == nil && len(s.order) >= s.max {
		return
	}
	var l traceLine
	if json.Unmarshal(b, &l) != nil {
		return
	}
	if rec == nil {
		if l.Kind != "message" || l.Type != "request" {
			return
		}
		rec = &threadRec{Thread: l.Thread, Client: l.From, Provider: l.To, Outcome: "open", Offers: []threadOffer{}}
		s.threads[id] = rec
		s.order = append(s.order, id)
	}
	switch l.Kind {
	case "message":
		if (l.Type == "request" || l.Type == "offer") && l.OK != nil && *l.OK && l.Terms != nil {
			from := "provider"
			if strings.HasPrefix(l.From, "c-") {
				from = "client"
			}
			a, err := market.ParseAsset(l.Terms.Asset)
			price := math.NaN()
			if err == nil {
				price = s.e.Market().UnitUSD(l.Terms.Price, scheme.Asset(a))
			}
			rec.Offers = append(rec.Offers, threadOffer{Round: len(rec.Offers), Tick: l.Tick, From: from, Price: price})
		}
	case "state":
		switch l.To {
		case "Settled", "Failed", "Terminated":
			rec.Outcome, rec.EndedIn, rec.EndTick = strings.ToLower(l.To), l.From, l.Tick
			if l.To == "Terminated" {
				rec.Reason = l.Reason
			}
		}
	}
}

func (s *threadSampler) write(path string) error {
	var b bytes.Buffer
	for _, id := range s.order {
		line, err := json.Marshal(s.threads[id])
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return writeFileAtomic(path, b.Bytes())
}

// WriteEvalRun writes run.json of an evaluation.
func WriteEvalRun(dir string, cfg *Config, res *EvalResult, evalErr error) error {
	status, msg := StatusDone, ""
	switch {
	case res != nil && res.Interrupted:
		status = StatusInterrupted
	case evalErr != nil:
		status, msg = StatusFailed, evalErr.Error()
	}
	info := RunInfo{Kind: "eval", Name: filepath.Base(dir), Seed: cfg.Seed, Ticks: cfg.Env.EpisodeTicks, Status: status, Error: msg}
	if res != nil {
		info.Episodes = len(res.Seeds)
		counts := map[string]int{}
		for _, g := range runGroups(cfg) {
			counts[g.Name] = g.Agents
		}
		for _, g := range res.Doc.Groups {
			base, _, _ := strings.Cut(g.Name, "/")
			info.Groups = append(info.Groups, RunGroup{Name: g.Name, Role: g.Role, Kind: g.Kind, Agents: counts[base]})
		}
	}
	return WriteRunJSON(dir, info)
}
