package dsr

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strconv"

	"github.com/hivegym/hivegym/agents/checkpoint"
)

// Algorithm is the value of checkpoint.MetaAlgorithm in a DSR checkpoint.
const Algorithm = "dsr"

// Metadata keys of a DSR checkpoint beyond the shared checkpoint.Meta* keys.
const (
	// MetaConfig is the JSON of the learner's Config.
	MetaConfig = "hivegym.dsr.config"
	// MetaSeed is the learner's seed, decimal.
	MetaSeed = "hivegym.dsr.seed"
	// MetaParams is the number of weights, decimal.
	MetaParams = "hivegym.dsr.params"
)

// Tensor names. Per-agent tensors have the agent count as their leading dimension.
const (
	tensorTheta    = "dsr.theta"           // F64 [P]
	tensorSteps    = "dsr.steps"           // I64 scalar
	tensorPosition = "dsr.agent.position"  // F64 [n]: F_{t-1}
	tensorDPos     = "dsr.agent.dposition" // F64 [n, P]: dF_{t-1}/dθ
	tensorWindow   = "dsr.agent.window"    // F64 [n, Window]: scaled returns, newest first
	tensorMoments  = "dsr.agent.moments"   // F64 [n, 3]: A, B, the feature scale's mean r²
	tensorAgentN   = "dsr.agent.steps"     // I64 [n]

	// The score-function variant's state (only in its checkpoints).
	tensorBaseline = "dsr.baseline"      // F64 scalar: b
	tensorTrace    = "dsr.agent.trace"   // F64 [n, P]: e_{t-1}
	tensorScore    = "dsr.agent.score"   // F64 [n, P]: the waiting decision's score
	tensorPending  = "dsr.agent.pending" // F64 [n, 2]: 1 if a decision waits, its F_t
	tensorGroupMom = "dsr.group.moments" // F64 [G, 2]: A, B of each group key's returns
	tensorGroupN   = "dsr.group.steps"   // I64 [G]
	tensorGroupEps = "dsr.group.eps"     // F64 [G, P]: the perturbation in flight
	tensorGroupPnd = "dsr.group.pending" // F64 [G, 2]: 1 if a perturbation waits for credit; 1 if the next is its mirror
)

// ErrPending is returned by Save while an agent has a decision waiting for Feedback.
var ErrPending = errors.New("dsr: a decision is waiting for feedback")

// Hash returns the hex SHA-256 of the config's Go syntax (fmt's %#v: every field, in
// declaration order, floats in their shortest exact form), which checkpoints record as
// hivegym.config_hash. Equal configs, however they were read, hash equal; it works on
// invalid configs too (NaN fields included).
func (c Config) Hash() string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%#v", c)))
	return hex.EncodeToString(sum[:])
}

// Meta returns the metadata Save writes: format and version, algorithm "dsr", the
// observation space ("dsr(window=m,extra=e)"), the action space ("box(1)": a position in
// [-1, 1]), the step count, the config hash, and the Config, seed and weight count under
// MetaConfig, MetaSeed and MetaParams.
func (l *Learner) Meta() map[string]string {
	cfg, err := json.Marshal(l.cfg)
	if err != nil {
		panic("dsr: config does not encode as JSON: " + err.Error())
	}
	return map[string]string{
		checkpoint.MetaFormat:      checkpoint.FormatName,
		checkpoint.MetaVersion:     checkpoint.FormatVersion,
		checkpoint.MetaAlgorithm:   Algorithm,
		checkpoint.MetaObsSpace:    fmt.Sprintf("dsr(window=%d,extra=%d)", l.cfg.Window, l.cfg.Extra),
		checkpoint.MetaActionSpace: "box(1)",
		checkpoint.MetaStep:        strconv.FormatInt(l.steps, 10),
		checkpoint.MetaConfigHash:  l.cfg.Hash(),
		MetaConfig:                 string(cfg),
		MetaSeed:                   strconv.FormatUint(l.seed, 10),
		MetaParams:                 strconv.Itoa(len(l.theta)),
	}
}

// Save writes the weights and every agent's recurrent state and moments as a
// safetensors checkpoint, with Meta() and the entries of extra added or overriding, so
// that a restored learner continues exactly. The RRL learner refuses while a decision
// waits for Feedback (ErrPending); the score-function variant's decisions wait for
// their return across periods (a price held until the next one), so its checkpoint
// keeps them, with the traces and the baseline.
func (l *Learner) Save(w io.Writer, extra map[string]string) error {
	n, p, m := len(l.agents), len(l.theta), l.cfg.Window
	score := l.cfg.Score()
	pos := make([]float64, n)
	dpos := make([]float64, 0, n*p)
	win := make([]float64, 0, n*m)
	mom := make([]float64, 0, 3*n)
	steps := make([]int64, n)
	var trace, scores, pend []float64
	for i := range l.agents {
		st := &l.agents[i]
		if st.pending && !score {
			return fmt.Errorf("dsr: save: agent %d: %w", i, ErrPending)
		}
		pos[i], steps[i] = st.prevF, st.n
		dpos = append(dpos, st.dPrevF...)
		win = append(win, st.window...)
		mom = append(mom, st.a, st.b, st.v)
		if score {
			trace = append(trace, st.trace...)
			scores = append(scores, st.score...)
			flag := 0.0
			if st.pending {
				flag = 1
			}
			pend = append(pend, flag, st.f)
		}
	}
	ts := []checkpoint.Tensor{
		checkpoint.F64Tensor(tensorTheta, []int{p}, l.theta),
		checkpoint.I64Tensor(tensorSteps, nil, []int64{l.steps}),
		checkpoint.F64Tensor(tensorPosition, []int{n}, pos),
		checkpoint.F64Tensor(tensorDPos, []int{n, p}, dpos),
		checkpoint.F64Tensor(tensorWindow, []int{n, m}, win),
		checkpoint.F64Tensor(tensorMoments, []int{n, 3}, mom),
		checkpoint.I64Tensor(tensorAgentN, []int{n}, steps),
	}
	if score {
		ng := len(l.groups)
		gm, geps, gp := make([]float64, 0, 2*ng), make([]float64, 0, ng*p), make([]float64, 2*ng)
		gn := make([]int64, ng)
		for i := range l.groups {
			g := &l.groups[i]
			gm = append(gm, g.a, g.b)
			geps = append(geps, g.eps...)
			gn[i] = g.n
			if g.pending {
				gp[2*i] = 1
			}
			if g.mirror {
				gp[2*i+1] = 1
			}
		}
		ts = append(ts,
			checkpoint.F64Tensor(tensorBaseline, nil, []float64{l.baseline}),
			checkpoint.F64Tensor(tensorTrace, []int{n, p}, trace),
			checkpoint.F64Tensor(tensorScore, []int{n, p}, scores),
			checkpoint.F64Tensor(tensorPending, []int{n, 2}, pend),
			checkpoint.F64Tensor(tensorGroupMom, []int{ng, 2}, gm),
			checkpoint.I64Tensor(tensorGroupN, []int{ng}, gn),
			checkpoint.F64Tensor(tensorGroupEps, []int{ng, p}, geps),
			checkpoint.F64Tensor(tensorGroupPnd, []int{ng, 2}, gp))
	}
	meta := l.Meta()
	maps.Copy(meta, extra)
	if err := checkpoint.Save(w, ts, meta); err != nil {
		return fmt.Errorf("dsr: save: %w", err)
	}
	return nil
}

// Restore loads a checkpoint into l. It refuses, with an error wrapping
// checkpoint.ErrMismatch naming every difference, a checkpoint of another algorithm or
// with another observation space (window and extra features), or whose metadata
// differs from want. It restores the weights, the agents' states, the step count and
// the seed; the hyperparameters stay l's own. On error l is unchanged.
func (l *Learner) Restore(r io.Reader, want map[string]string) error {
	ts, meta, err := checkpoint.LoadFinite(r)
	if err != nil {
		return fmt.Errorf("dsr: restore: %w", err)
	}
	return l.restore(ts, meta, want)
}

func (l *Learner) restore(ts []checkpoint.Tensor, meta, want map[string]string) error {
	req := map[string]string{
		checkpoint.MetaAlgorithm: Algorithm,
		checkpoint.MetaObsSpace:  l.Meta()[checkpoint.MetaObsSpace],
		MetaParams:               strconv.Itoa(len(l.theta)),
	}
	maps.Copy(req, want)
	if err := checkpoint.CheckMeta(meta, req); err != nil {
		return fmt.Errorf("dsr: restore: %w", err)
	}
	seed, err := strconv.ParseUint(meta[MetaSeed], 10, 64)
	if err != nil {
		return fmt.Errorf("dsr: restore: %w: bad %s %q", checkpoint.ErrFormat, MetaSeed, meta[MetaSeed])
	}
	byName := make(map[string]checkpoint.Tensor, len(ts))
	for _, t := range ts {
		byName[t.Name] = t
	}
	p, m := len(l.theta), l.cfg.Window
	f64 := func(name string, shape ...int) ([]float64, error) {
		t, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%w: no tensor %s", checkpoint.ErrFormat, name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("%w: %s has shape %v, want %v", checkpoint.ErrMismatch, name, t.Shape, shape)
		}
		return t.Float64s()
	}
	i64 := func(name string, shape ...int) ([]int64, error) {
		t, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%w: no tensor %s", checkpoint.ErrFormat, name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("%w: %s has shape %v, want %v", checkpoint.ErrMismatch, name, t.Shape, shape)
		}
		return t.Int64s()
	}
	theta, err := f64(tensorTheta, p)
	if err != nil {
		return fmt.Errorf("dsr: restore: %w", err)
	}
	steps, err := i64(tensorSteps)
	if err != nil {
		return fmt.Errorf("dsr: restore: %w", err)
	}
	posT, ok := byName[tensorPosition]
	if !ok || len(posT.Shape) != 1 || posT.Shape[0] > MaxAgentKey {
		return fmt.Errorf("dsr: restore: %w: missing or misshapen %s", checkpoint.ErrFormat, tensorPosition)
	}
	n := posT.Shape[0]
	pos, err1 := f64(tensorPosition, n)
	dpos, err2 := f64(tensorDPos, n, p)
	win, err3 := f64(tensorWindow, n, m)
	mom, err4 := f64(tensorMoments, n, 3)
	agentN, err5 := i64(tensorAgentN, n)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return fmt.Errorf("dsr: restore: %w", err)
	}
	var baseline, trace, scores, pend, gm, geps, gp []float64
	var gn []int64
	if l.cfg.Score() {
		ng := 0
		if t, ok := byName[tensorGroupN]; ok && len(t.Shape) == 1 && t.Shape[0] <= MaxGroupKey {
			ng = t.Shape[0]
		}
		var err1, err2, err3, err4, err5, err6, err7, err8 error
		baseline, err1 = f64(tensorBaseline)
		trace, err2 = f64(tensorTrace, n, p)
		scores, err3 = f64(tensorScore, n, p)
		pend, err4 = f64(tensorPending, n, 2)
		gm, err5 = f64(tensorGroupMom, ng, 2)
		gn, err6 = i64(tensorGroupN, ng)
		geps, err7 = f64(tensorGroupEps, ng, p)
		gp, err8 = f64(tensorGroupPnd, ng, 2)
		if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
			return fmt.Errorf("dsr: restore: %w (a checkpoint of the score-function variant, gradient %q, was expected)", err, GradientScore)
		}
	} else if _, ok := byName[tensorTrace]; ok {
		return fmt.Errorf("dsr: restore: %w: a checkpoint of the score-function variant (gradient %q) for an RRL learner", checkpoint.ErrMismatch, GradientScore)
	}
	for _, xs := range [][]float64{theta, pos, dpos, win, mom, baseline, trace, scores, pend, gm, geps, gp} {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("dsr: restore: %w: non-finite state", checkpoint.ErrFormat)
			}
		}
	}
	agents := make([]agent, n)
	for i := range agents {
		st := l.newAgent()
		st.prevF = pos[i]
		copy(st.dPrevF, dpos[i*p:(i+1)*p])
		copy(st.window, win[i*m:(i+1)*m])
		st.a, st.b, st.v, st.n = mom[3*i], mom[3*i+1], mom[3*i+2], agentN[i]
		if l.cfg.Score() {
			copy(st.trace, trace[i*p:(i+1)*p])
			copy(st.score, scores[i*p:(i+1)*p])
			st.pending, st.f = pend[2*i] != 0, pend[2*i+1]
		}
		agents[i] = st
	}
	copy(l.theta, theta)
	l.agents, l.steps, l.seed = agents, steps[0], seed
	var groups []group
	if l.cfg.Score() {
		l.baseline = baseline[0]
		groups = make([]group, len(gn))
		for i := range groups {
			groups[i] = group{a: gm[2*i], b: gm[2*i+1], n: gn[i], pending: gp[2*i] != 0, mirror: gp[2*i+1] != 0,
				eps: append([]float64(nil), geps[i*p:(i+1)*p]...)}
		}
	}
	l.groups = groups
	return nil
}

// Load builds a learner from a checkpoint alone (its Config and seed come from the
// metadata). want is checked as in Restore.
func Load(r io.Reader, want map[string]string) (*Learner, error) {
	ts, meta, err := checkpoint.LoadFinite(r)
	if err != nil {
		return nil, fmt.Errorf("dsr: load: %w", err)
	}
	if meta[checkpoint.MetaAlgorithm] != Algorithm {
		return nil, fmt.Errorf("dsr: load: %w: %s is %q, want %q", checkpoint.ErrMismatch,
			checkpoint.MetaAlgorithm, meta[checkpoint.MetaAlgorithm], Algorithm)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta[MetaConfig]), &cfg); err != nil {
		return nil, fmt.Errorf("dsr: load: %w: bad %s: %v", checkpoint.ErrFormat, MetaConfig, err)
	}
	seed, err := strconv.ParseUint(meta[MetaSeed], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("dsr: load: %w: bad %s: %v", checkpoint.ErrFormat, MetaSeed, err)
	}
	l, err := New(cfg, seed)
	if err != nil {
		return nil, fmt.Errorf("dsr: load: %w", err)
	}
	if err := l.restore(ts, meta, want); err != nil {
		return nil, err
	}
	return l, nil
}
