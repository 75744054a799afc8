package ppo

// PPO with a clipped surrogate objective (Schulman, Wolski, Dhariwal, Radford, Klimov
// 2017, "Proximal Policy Optimization Algorithms"), generalized advantage estimation
// (Schulman, Moritz, Levine, Jordan, Abbeel 2016, "High-Dimensional Continuous Control
// Using Generalized Advantage Estimation") and CleanRL's implementation choices (Huang,
// Dossa, Raffin, Kanervisto, Wang 2022, "The 37 Implementation Details of Proximal
// Policy Optimization"; CleanRL ppo.py), extended to semi-Markov decisions (the buffer in
// buffer.go) and masked categorical actions (Huang and Ontañón 2022).
//
// The file reads top to bottom: the hyperparameters, the learner, acting, the advantage
// estimate, the update, and the per-sample losses with their gradients.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
)

// ---------------------------------------------------------------------------------------
// Hyperparameters

// Config holds every PPO hyperparameter. DefaultConfig gives CleanRL's defaults
// (ppo.py); the YAML keys are CleanRL's argument names.
type Config struct {
	// LearningRate is Adam's step size (CleanRL: 2.5e-4).
	LearningRate float64 `yaml:"learning_rate" json:"learning_rate"`
	// AnnealLR decays the learning rate linearly from LearningRate before the first
	// update to LearningRate/TotalUpdates before the last, as CleanRL does
	// (frac = 1 - (update-1)/num_iterations). It needs TotalUpdates.
	AnnealLR bool `yaml:"anneal_lr" json:"anneal_lr"`
	// TotalUpdates is the number of Update calls the run will make, for the anneals; it
	// may be 0 when AnnealLR and AnnealEnt are false. Updates beyond it use a learning
	// rate (and an entropy weight) of 0.
	TotalUpdates int `yaml:"total_updates" json:"total_updates"`
	// Gamma is the discount per tick (CleanRL: 0.99). A decision whose successor comes dt
	// ticks later is discounted by Gamma^dt.
	Gamma float64 `yaml:"gamma" json:"gamma"`
	// GAELambda is the GAE λ per tick (CleanRL: 0.95); the trace decays by
	// (Gamma·GAELambda)^dt between decisions dt ticks apart (see Learner.advantages).
	GAELambda float64 `yaml:"gae_lambda" json:"gae_lambda"`
	// NumMinibatches splits each update's decisions into this many minibatches of
	// sizes differing by at most one (CleanRL: 4).
	NumMinibatches int `yaml:"num_minibatches" json:"num_minibatches"`
	// UpdateEpochs is the number of passes over the decisions per update (CleanRL: 4).
	UpdateEpochs int `yaml:"update_epochs" json:"update_epochs"`
	// NormAdv normalizes the advantages per minibatch to mean 0 and standard deviation 1
	// (CleanRL: true).
	NormAdv bool `yaml:"norm_adv" json:"norm_adv"`
	// ClipCoef is the surrogate clipping ε (CleanRL: 0.2), also the value clip range.
	ClipCoef float64 `yaml:"clip_coef" json:"clip_coef"`
	// ClipVLoss clips the value loss as CleanRL does (CleanRL: true).
	ClipVLoss bool `yaml:"clip_vloss" json:"clip_vloss"`
	// EntCoef weighs the entropy bonus (CleanRL: 0.01).
	EntCoef float64 `yaml:"ent_coef" json:"ent_coef"`
	// AnnealEnt decays the entropy weight linearly from EntCoef to 0 over TotalUpdates,
	// with the learning rate's schedule (frac = 1 - (update-1)/TotalUpdates): explore
	// early, commit late (not in CleanRL). It needs TotalUpdates.
	AnnealEnt bool `yaml:"anneal_ent" json:"anneal_ent"`
	// InitKL weighs a penalty InitKL·KL(π || π₀) on the divergence of the policy from an
	// anchor π₀ (SetAnchor; hivegym's trainer anchors a group to the policy it started
	// from, its init checkpoint when it has one): KL-regularized fine-tuning, as in
	// Jaques et al. 2017 ("Sequence Tutor") and Jacob et al. 2022 ("piKL", regularizing
	// negotiation policies toward an anchor), so a warm-started policy changes where the
	// reward says it must and keeps its behaviour elsewhere. 0 (the default, CleanRL)
	// disables it.
	InitKL float64 `yaml:"init_kl" json:"init_kl"`
	// VFCoef weighs the value loss (CleanRL: 0.5).
	VFCoef float64 `yaml:"vf_coef" json:"vf_coef"`
	// MaxGradNorm clips the global gradient norm of actor and critic together (CleanRL:
	// 0.5); 0 disables clipping.
	MaxGradNorm float64 `yaml:"max_grad_norm" json:"max_grad_norm"`
	// TargetKL stops an update early, after an epoch whose last minibatch had an
	// approximate KL divergence above it (CleanRL: None); 0 disables the stop.
	TargetKL float64 `yaml:"target_kl" json:"target_kl"`
	// AdamEps is Adam's ε (CleanRL: 1e-5).
	AdamEps float64 `yaml:"adam_eps" json:"adam_eps"`
	// Hidden are the hidden layer widths of both the actor and the critic, separate
	// networks as in CleanRL (CleanRL: 64, 64).
	Hidden []int `yaml:"hidden" json:"hidden"`
	// Activation is the hidden nonlinearity, "tanh" (CleanRL) or "relu".
	Activation nn.Activation `yaml:"activation" json:"activation"`
	// Backend names the network backend (nn.Lookup): "go" (default) or "torch".
	Backend string `yaml:"backend" json:"backend"`
}

// DefaultConfig returns CleanRL's PPO defaults, with one difference: AnnealLR is off,
// because the number of updates belongs to the run (set anneal_lr and total_updates
// together to anneal as CleanRL does).
func DefaultConfig() Config {
	return Config{
		LearningRate:   2.5e-4,
		Gamma:          0.99,
		GAELambda:      0.95,
		NumMinibatches: 4,
		UpdateEpochs:   4,
		NormAdv:        true,
		ClipCoef:       0.2,
		ClipVLoss:      true,
		EntCoef:        0.01,
		VFCoef:         0.5,
		MaxGradNorm:    0.5,
		AdamEps:        1e-5,
		Hidden:         []int{64, 64},
		Activation:     nn.Tanh,
		Backend:        "go",
	}
}

// Validate reports every invalid field, with fieldpath paths relative to the config.
func (c Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fieldpath.Errorf(path, format, args...))
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !finite(c.LearningRate) || c.LearningRate < 0 {
		bad("learning_rate", "must be finite and >= 0, got %g", c.LearningRate)
	}
	if c.TotalUpdates < 0 {
		bad("total_updates", "must be >= 0, got %d", c.TotalUpdates)
	}
	if (c.AnnealLR || c.AnnealEnt) && c.TotalUpdates < 1 {
		bad("total_updates", "must be >= 1 when anneal_lr or anneal_ent is true, got %d", c.TotalUpdates)
	}
	if !(c.Gamma >= 0 && c.Gamma <= 1) {
		bad("gamma", "must be in [0, 1], got %g", c.Gamma)
	}
	if !(c.GAELambda >= 0 && c.GAELambda <= 1) {
		bad("gae_lambda", "must be in [0, 1], got %g", c.GAELambda)
	}
	if c.NumMinibatches < 1 {
		bad("num_minibatches", "must be >= 1, got %d", c.NumMinibatches)
	}
	if c.UpdateEpochs < 1 {
		bad("update_epochs", "must be >= 1, got %d", c.UpdateEpochs)
	}
	if !finite(c.ClipCoef) || !(c.ClipCoef > 0 && c.ClipCoef < 1) {
		bad("clip_coef", "must be in (0, 1), got %g", c.ClipCoef)
	}
	for _, f := range []struct {
		path string
		v    float64
	}{{"ent_coef", c.EntCoef}, {"init_kl", c.InitKL}, {"vf_coef", c.VFCoef}, {"max_grad_norm", c.MaxGradNorm}, {"target_kl", c.TargetKL}} {
		if !finite(f.v) || f.v < 0 {
			bad(f.path, "must be finite and >= 0, got %g", f.v)
		}
	}
	if !finite(c.AdamEps) || c.AdamEps <= 0 {
		bad("adam_eps", "must be finite and positive, got %g", c.AdamEps)
	}
	for i, h := range c.Hidden {
		if h < 1 || h > 1<<16 {
			bad("hidden["+strconv.Itoa(i)+"]", "must be in [1, 65536], got %d", h)
		}
	}
	if c.Activation != nn.Tanh && c.Activation != nn.ReLU {
		bad("activation", "must be %q or %q, got %q", nn.Tanh, nn.ReLU, c.Activation)
	}
	if _, err := nn.Lookup(c.Backend); err != nil {
		bad("backend", "%v", err)
	}
	return errors.Join(errs...)
}

// Hash returns the hex SHA-256 of the config's Go syntax (fmt's %#v: every field, in
// declaration order, floats in their shortest exact form), which checkpoints record as
// hivegym.config_hash. Equal configs, however they were read, hash equal; it works on
// invalid configs too (NaN fields included).
func (c Config) Hash() string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%#v", c)))
	return hex.EncodeToString(sum[:])
}

func (c Config) clone() Config {
	c.Hidden = append([]int(nil), c.Hidden...)
	return c
}

// ---------------------------------------------------------------------------------------
// The learner

// Errors the learner and the buffer return.
var (
	// ErrShape reports a slice whose length does not match the batch and the spaces.
	ErrShape = errors.New("ppo: shape mismatch")
	// ErrEmpty reports an Update with no finished decision in the buffer.
	ErrEmpty = errors.New("ppo: no finished decision to learn from")
	// ErrOrder reports a tick earlier than the agent's open decision.
	ErrOrder = errors.New("ppo: tick goes back in time")
	// ErrAction reports an action outside [0, actions) or one its mask forbids.
	ErrAction = errors.New("ppo: illegal action")
)

// Learner is PPO for one policy group: one actor (action logits) and one critic (state
// value), separate MLPs as in CleanRL, shared by every agent of the group (parameter
// sharing), with one Adam optimizer over both. Several groups learn side by side with
// one Learner and one Buffer each (independent learners).
//
// A learner built by NewCentralized has a centralized critic, as in MAPPO (Yu, Velu,
// Vinitsky, Gao, Wang, Bayen, Wu 2022, "The Surprising Effectiveness of PPO in
// Cooperative Multi-Agent Games"): the critic reads the agent's observation followed by
// StateDim floats of state the actor never sees (MAPPO's agent-specific global state),
// given beside the observations to ActState, ValueState and Buffer.AddState. The actor,
// and so the policy a checkpoint plays, is the same as without it.
//
// A Learner is not safe for concurrent use.
type Learner struct {
	cfg      Config
	name     string
	seed     uint64
	obsDim   int
	stateDim int // the critic's extra input (NewCentralized); 0: the critic reads obs
	nActions int
	backend  nn.Backend
	actor    nn.Module
	critic   nn.Module
	opt      nn.Optimizer
	updates  int64    // Update calls completed
	samples  int64    // decisions trained on
	entCoef  float64  // the entropy weight of the current update
	anchor   *Learner // the policy InitKL pulls toward (SetAnchor), or nil

	// The critic's half of Act and of each minibatch, run beside the actor's (see
	// concurrent); side is started at the first use.
	side   *sidecar
	job    criticJob
	serial bool // tests: never run the critic beside the actor

	// Scratch, grown to the largest batch seen and reused: no allocation in a steady state.
	dist     nn.Categorical
	adist    nn.Categorical // the anchor's distribution of the same decision
	logits   []float32
	idx      []int // the finished decisions of the buffer being learned from
	mbObs    []float32
	mbCritic []float32 // the minibatch's critic input, [obs | state] rows (stateDim > 0)
	actIn    []float32 // an ActState or ValueState call's critic input (stateDim > 0)
	mbLogits []float32
	mbAnchor []float32 // the anchor's logits of the minibatch
	mbValues []float32
	dLogits  []float32
	dValues  []float32
	mbAdv    []float64
}

// New returns a learner for a group called name (it names the random streams and the
// checkpoint) whose agents see obsDim floats and choose among nActions actions. The
// initial weights are drawn from streams of seed and name, so groups built from one seed
// start independent and the same (seed, name) always gives the same learner.
func New(name string, cfg Config, obsDim, nActions int, seed uint64) (*Learner, error) {
	return NewCentralized(name, cfg, obsDim, 0, nActions, seed)
}

// NewCentralized returns a learner as New does whose critic also reads stateDim floats
// of state per decision after the observation (a centralized critic; see Learner).
// stateDim 0 is New. The actor, its initial weights included, is New's.
func NewCentralized(name string, cfg Config, obsDim, stateDim, nActions int, seed uint64) (*Learner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ppo: invalid config: %w", err)
	}
	if obsDim < 1 || nActions < 1 || stateDim < 0 || stateDim > 1<<16 {
		return nil, fmt.Errorf("ppo: need at least one observation and one action and at most 65536 state floats, got %d, %d and %d: %w", obsDim, nActions, stateDim, ErrShape)
	}
	l := &Learner{cfg: cfg.clone(), name: name, seed: seed, obsDim: obsDim, stateDim: stateDim, nActions: nActions}
	be, err := nn.Lookup(cfg.Backend)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	l.backend = be
	if l.actor, l.critic, l.opt, err = l.build(); err != nil {
		return nil, err
	}
	return l, nil
}

// specs returns the actor's and the critic's architectures: CleanRL's, with
// orthogonal initialization of gain sqrt(2) for hidden layers, 0.01 for the logits and 1
// for the value.
func (l *Learner) specs() (actor, critic nn.MLPSpec) {
	actor = nn.PolicySpec("actor", l.obsDim, l.cfg.Hidden, l.nActions)
	critic = nn.ValueSpec("critic", l.obsDim+l.stateDim, l.cfg.Hidden)
	actor.Activation, critic.Activation = l.cfg.Activation, l.cfg.Activation
	return actor, critic
}

// build makes freshly initialized networks and their optimizer.
func (l *Learner) build() (actor, critic nn.Module, opt nn.Optimizer, err error) {
	aSpec, cSpec := l.specs()
	seeds := rng.New(l.seed, "ppo."+l.name+".init")
	if actor, err = l.backend.NewMLP(aSpec, seeds.Uint64()); err != nil {
		return nil, nil, nil, fmt.Errorf("ppo: actor: %w", err)
	}
	if critic, err = l.backend.NewMLP(cSpec, seeds.Uint64()); err != nil {
		return nil, nil, nil, fmt.Errorf("ppo: critic: %w", err)
	}
	adam := nn.AdamConfig{LR: l.cfg.LearningRate, Beta1: 0.9, Beta2: 0.999, Eps: l.cfg.AdamEps, MaxGradNorm: l.cfg.MaxGradNorm}
	if opt, err = l.backend.NewAdam(adam, actor, critic); err != nil {
		return nil, nil, nil, fmt.Errorf("ppo: optimizer: %w", err)
	}
	return actor, critic, opt, nil
}

// SetAnchor makes a the policy the InitKL penalty pulls l toward (nil: none). a must have
// l's observation and action sizes; l only reads a's actor, in Update, and a must not
// change while l trains (a frozen copy: a learner built and loaded as l was at the start).
func (l *Learner) SetAnchor(a *Learner) error {
	if a != nil && (a.obsDim != l.obsDim || a.nActions != l.nActions) {
		return fmt.Errorf("%w: anchor for %d observations and %d actions; learner has %d and %d",
			ErrShape, a.obsDim, a.nActions, l.obsDim, l.nActions)
	}
	l.anchor = a
	return nil
}

// Config returns a copy of the learner's hyperparameters.
func (l *Learner) Config() Config { return l.cfg.clone() }

// Name returns the group name the learner was built with.
func (l *Learner) Name() string { return l.name }

// ObsDim returns the observation size.
func (l *Learner) ObsDim() int { return l.obsDim }

// StateDim returns the size of the centralized critic's state input (0: none).
func (l *Learner) StateDim() int { return l.stateDim }

// NumActions returns the number of actions.
func (l *Learner) NumActions() int { return l.nActions }

// Updates returns the number of completed Update calls.
func (l *Learner) Updates() int64 { return l.updates }

// Samples returns the number of decisions the learner has trained on.
func (l *Learner) Samples() int64 { return l.samples }

// Params returns copies of the actor's and the critic's parameters.
func (l *Learner) Params() (actor, critic []nn.Param) { return l.actor.Params(), l.critic.Params() }

// NewBuffer returns an empty rollout buffer for this learner's spaces and discount.
func (l *Learner) NewBuffer() *Buffer {
	b, err := NewBuffer(l.cfg, l.obsDim, l.nActions)
	if err != nil {
		panic("ppo: internal error: " + err.Error()) // New validated the same values
	}
	b.stateDim = l.stateDim
	return b
}

// ---------------------------------------------------------------------------------------
// Acting

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// checkBatch validates the shapes of an acting call.
func (l *Learner) checkBatch(obs []float32, masks []bool, batch int) error {
	if batch < 0 || len(obs) != batch*l.obsDim {
		return fmt.Errorf("%w: batch %d needs %d observation floats, got %d", ErrShape, batch, batch*l.obsDim, len(obs))
	}
	if masks != nil && len(masks) != batch*l.nActions {
		return fmt.Errorf("%w: batch %d needs %d mask entries, got %d", ErrShape, batch, batch*l.nActions, len(masks))
	}
	return nil
}

func maskRow(masks []bool, row, k int) []bool {
	if masks == nil {
		return nil
	}
	return masks[row*k : (row+1)*k]
}

// Act samples an action for each of batch agents: obs holds batch rows of ObsDim floats,
// masks batch rows of NumActions legal-action flags (nil: every action legal). It runs
// one forward pass of the actor and, if values is not nil, one of the critic, and writes
// the sampled actions, their log-probabilities (if logps is not nil) and the state
// values (if values is not nil), each of length batch. Actions are drawn row by row with
// one r.Float64() each, never a masked action. A steady state allocates nothing. A
// learner with a centralized critic needs ActState for the values.
func (l *Learner) Act(obs []float32, masks []bool, batch int, r *rand.Rand, actions []int, logps, values []float32) error {
	return l.ActState(obs, nil, masks, batch, r, actions, logps, values)
}

// criticInput returns the critic's input rows for obs and state: obs itself without a
// centralized critic, else [obs | state] rows in l.actIn. state must hold batch rows of
// StateDim floats whenever StateDim > 0.
func (l *Learner) criticInput(obs, state []float32, batch int) ([]float32, error) {
	if l.stateDim == 0 {
		if len(state) != 0 {
			return nil, fmt.Errorf("%w: %d state floats for a learner without a centralized critic", ErrShape, len(state))
		}
		return obs, nil
	}
	if len(state) != batch*l.stateDim {
		return nil, fmt.Errorf("%w: batch %d needs %d state floats, got %d", ErrShape, batch, batch*l.stateDim, len(state))
	}
	d, s := l.obsDim, l.stateDim
	l.actIn = grow(l.actIn, batch*(d+s))
	for i := 0; i < batch; i++ {
		copy(l.actIn[i*(d+s):], obs[i*d:(i+1)*d])
		copy(l.actIn[i*(d+s)+d:(i+1)*(d+s)], state[i*s:(i+1)*s])
	}
	return l.actIn, nil
}

// ActState is Act for a learner with a centralized critic: state holds batch rows of
// StateDim floats, the critic's input beside obs. It may be nil when values is nil (the
// actor never reads it).
func (l *Learner) ActState(obs, state []float32, masks []bool, batch int, r *rand.Rand, actions []int, logps, values []float32) error {
	if err := l.checkBatch(obs, masks, batch); err != nil {
		return err
	}
	cin := obs
	if values != nil {
		var err error
		if cin, err = l.criticInput(obs, state, batch); err != nil {
			return err
		}
	}
	if len(actions) != batch || (logps != nil && len(logps) != batch) || (values != nil && len(values) != batch) {
		return fmt.Errorf("%w: batch %d needs outputs of length %d", ErrShape, batch, batch)
	}
	if r == nil {
		return errors.New("ppo: Act needs a random source (use Greedy for deterministic actions)")
	}
	if batch == 0 {
		return nil
	}
	if values != nil && batch >= minConcurrentBatch && l.concurrent() {
		// The critic's pass is independent of the actor's and of the sampling: it
		// runs beside them, with the same result as in series.
		l.job = criticJob{l: l, obs: cin, values: values, batch: batch}
		l.startCritic()
		errA := l.sample(obs, masks, batch, r, actions, logps)
		errC := l.waitCritic()
		if errA != nil {
			return errA
		}
		if errC != nil {
			return fmt.Errorf("ppo: critic: %w", errC)
		}
		return nil
	}
	if err := l.sample(obs, masks, batch, r, actions, logps); err != nil {
		return err
	}
	if values != nil {
		if err := l.critic.Forward(values, cin, batch); err != nil {
			return fmt.Errorf("ppo: critic: %w", err)
		}
	}
	return nil
}

// sample runs the actor on the batch and draws the actions (and their log-probabilities
// if logps is not nil), row by row with one r.Float64() each.
func (l *Learner) sample(obs []float32, masks []bool, batch int, r *rand.Rand, actions []int, logps []float32) error {
	k := l.nActions
	l.logits = grow(l.logits, batch*k)
	if err := l.actor.Forward(l.logits, obs, batch); err != nil {
		return fmt.Errorf("ppo: actor: %w", err)
	}
	for i := 0; i < batch; i++ {
		if err := l.dist.Set(l.logits[i*k:(i+1)*k], maskRow(masks, i, k)); err != nil {
			return fmt.Errorf("ppo: row %d: %w", i, err)
		}
		a := l.dist.Sample(r)
		actions[i] = a
		if logps != nil {
			logps[i] = float32(l.dist.LogProb(a))
		}
	}
	return nil
}

// Greedy writes the most probable legal action of each row into actions (evaluation
// mode: deterministic, no random source, no critic pass). Shapes as for Act.
func (l *Learner) Greedy(obs []float32, masks []bool, batch int, actions []int) error {
	if err := l.checkBatch(obs, masks, batch); err != nil {
		return err
	}
	if len(actions) != batch {
		return fmt.Errorf("%w: batch %d needs %d actions, got %d", ErrShape, batch, batch, len(actions))
	}
	if batch == 0 {
		return nil
	}
	k := l.nActions
	l.logits = grow(l.logits, batch*k)
	if err := l.actor.Forward(l.logits, obs, batch); err != nil {
		return fmt.Errorf("ppo: actor: %w", err)
	}
	for i := 0; i < batch; i++ {
		if err := l.dist.Set(l.logits[i*k:(i+1)*k], maskRow(masks, i, k)); err != nil {
			return fmt.Errorf("ppo: row %d: %w", i, err)
		}
		actions[i] = l.dist.Mode()
	}
	return nil
}

// Value writes the critic's state value of each of batch observations into dst (len
// batch): what Buffer.End needs to bootstrap a truncated episode. A learner with a
// centralized critic needs ValueState.
func (l *Learner) Value(obs []float32, batch int, dst []float32) error {
	return l.ValueState(obs, nil, batch, dst)
}

// ValueState is Value for a learner with a centralized critic: state holds batch rows of
// StateDim floats beside obs.
func (l *Learner) ValueState(obs, state []float32, batch int, dst []float32) error {
	if err := l.checkBatch(obs, nil, batch); err != nil {
		return err
	}
	cin, err := l.criticInput(obs, state, batch)
	if err != nil {
		return err
	}
	if len(dst) != batch {
		return fmt.Errorf("%w: batch %d needs %d values, got %d", ErrShape, batch, batch, len(dst))
	}
	if batch == 0 {
		return nil
	}
	if err := l.critic.Forward(dst, cin, batch); err != nil {
		return fmt.Errorf("ppo: critic: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------------------------------
// Advantages: GAE over semi-Markov decisions

// advantages fills b.adv and b.ret for every finished decision with generalized
// advantage estimation over each agent's own sequence of decisions. For decision t,
// made at tick τ_t, whose successor t+1 (the same agent's next decision) came
// dt_t = τ_{t+1} - τ_t ticks later, with R_t the reward accrued in between, each reward
// discounted to τ_t (Buffer.Reward):
//
//	δ_t = R_t + γ^{dt_t} V(s_{t+1}) (1 - done_t) - V(s_t)
//	A_t = δ_t + (γλ)^{dt_t} (1 - done_t) A_{t+1}
//	return_t = A_t + V(s_t)                       (the critic's target, as CleanRL)
//
// This is the SMDP form of the Bellman equation, where an action lasting dt steps is
// discounted by γ^dt (Bradtke and Duff 1995, "Reinforcement Learning Methods for
// Continuous-Time Markov Decision Problems"; Sutton, Precup and Singh 1999, "Between MDPs
// and semi-MDPs", eq. 1 and the SMDP Q-learning update). With dt = 1 everywhere it is
// CleanRL's GAE exactly.
//
// The trace decays by (γλ)^dt, λ per tick, not by γ^dt·λ (λ per decision). GAE's A_t is
// the exponentially weighted average of k-step advantage estimates, and making the
// weights decay with elapsed time keeps the bias-variance trade-off of a given λ a
// property of the time scale, as γ is: the same λ means the same horizon in ticks for an
// agent that decides every tick and for one that decides every hundred ticks, and
// regrouping an interval into more or fewer decisions does not change how far credit
// reaches. (λ per decision would let rarely-deciding agents look over many more ticks.)
// In particular decisions on the same tick (dt = 0) pass the trace on undiminished,
// (γλ)^0 = 1, even with λ = 0: no time has passed between them.
//
// Ends: a terminated episode does not bootstrap (done_t = 1); a truncated one bootstraps
// from the value of the last observation, γ^{dt} V(s_T), with no trace beyond it; a
// decision whose successor is still open at update time (the rollout cut through the
// agent's sequence) bootstraps from the successor's stored value with A_{t+1} = 0, as
// CleanRL bootstraps at the end of its rollout. Successors always come later in the
// buffer, so one backward pass computes everything.
func (l *Learner) advantages(b *Buffer) {
	g, gl := l.cfg.Gamma, l.cfg.Gamma*l.cfg.GAELambda
	for i := len(b.state) - 1; i >= 0; i-- {
		v := float64(b.values[i])
		dt := float64(b.dt[i])
		var delta, a float64
		switch b.state[i] {
		case open:
			b.adv[i], b.ret[i] = 0, 0
			continue
		case terminated:
			delta = b.rewards[i] - v
			a = delta
		case truncated:
			delta = b.rewards[i] + math.Pow(g, dt)*float64(b.boot[i]) - v
			a = delta
		case linked:
			j := b.next[i]
			delta = b.rewards[i] + math.Pow(g, dt)*float64(b.values[j]) - v
			a = delta + math.Pow(gl, dt)*b.adv[j] // b.adv[j] is 0 if j is still open
		}
		b.adv[i], b.ret[i] = a, a+v
	}
}

// ---------------------------------------------------------------------------------------
// The update

// Metric names, CleanRL's, in the order Stats lists them.
const (
	MetricPolicyLoss        = "losses/policy_loss"
	MetricValueLoss         = "losses/value_loss"
	MetricEntropy           = "losses/entropy"
	MetricOldApproxKL       = "losses/old_approx_kl"
	MetricApproxKL          = "losses/approx_kl"
	MetricClipFrac          = "losses/clipfrac"
	MetricExplainedVariance = "losses/explained_variance"
	MetricLearningRate      = "charts/learning_rate"
	MetricInitKL            = "losses/init_kl"
)

var metricNames = [...]string{
	MetricPolicyLoss, MetricValueLoss, MetricEntropy, MetricOldApproxKL,
	MetricApproxKL, MetricClipFrac, MetricExplainedVariance, MetricLearningRate,
	MetricInitKL,
}

// NumMetrics is the number of metrics an update reports.
const NumMetrics = len(metricNames)

// Metric is one named scalar of an update.
type Metric struct {
	Name  string
	Value float64
}

// Stats is what one Update reports: the metrics under CleanRL's names in a fixed order,
// and the amount of work done.
//
// Unlike CleanRL, which logs the losses and the KL of the last minibatch, the losses,
// entropy, KL estimates and clip fraction are means over every minibatch of the update
// (CleanRL also averages the clip fraction). The explained variance compares the stored
// values with the returns over all decisions, and the learning rate is the one used.
type Stats struct {
	Metrics [NumMetrics]Metric
	// Samples is the number of decisions learned from, Epochs the number of epochs run
	// (fewer than UpdateEpochs after a target-KL stop), Minibatches the number of
	// gradient steps.
	Samples, Epochs, Minibatches int
}

// List returns the metrics as a slice in their fixed order.
func (s *Stats) List() []Metric { return s.Metrics[:] }

// Get returns the value of the metric called name, NaN if there is none.
func (s *Stats) Get(name string) float64 {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	return math.NaN()
}

// Schedule returns the learning rate and the entropy weight the next Update uses:
// CleanRL's linear anneal, frac = 1 - (update-1)/num_iterations, of the learning rate
// with AnnealLR and of the entropy weight with AnnealEnt (otherwise the configured
// values).
func (l *Learner) Schedule() (lr, entCoef float64) {
	lr, entCoef = l.cfg.LearningRate, l.cfg.EntCoef
	frac := 1.0
	if l.cfg.AnnealLR || l.cfg.AnnealEnt {
		frac = max(0, 1-float64(l.updates)/float64(l.cfg.TotalUpdates))
	}
	if l.cfg.AnnealLR {
		lr *= frac
	}
	if l.cfg.AnnealEnt {
		entCoef *= frac
	}
	return lr, entCoef
}

// Update runs one PPO update on the finished decisions of b (those whose successor or
// episode end is known), then drops them from b, keeping the open ones for the next
// rollout. It computes the advantages (advantages), then for UpdateEpochs epochs shuffles
// the decisions with a stream of the seed, the group name and the update count (so a
// resumed run shuffles exactly as an uninterrupted one), splits them into NumMinibatches
// minibatches and takes one clipped Adam step per minibatch on
//
//	loss = policy_loss - EntCoef·entropy + VFCoef·value_loss
//
// over the actor and the critic together. On an error the buffer is left as it was and
// the learner may have taken some steps.
func (l *Learner) Update(b *Buffer) (Stats, error) {
	var st Stats
	if b.obsDim != l.obsDim || b.stateDim != l.stateDim || b.nActions != l.nActions || b.gamma != l.cfg.Gamma {
		return st, fmt.Errorf("%w: buffer for %d observations, %d state floats, %d actions, gamma %g; learner has %d, %d, %d, %g",
			ErrShape, b.obsDim, b.stateDim, b.nActions, b.gamma, l.obsDim, l.stateDim, l.nActions, l.cfg.Gamma)
	}
	l.idx = l.idx[:0]
	for i, s := range b.state {
		if s != open {
			l.idx = append(l.idx, i)
		}
	}
	n := len(l.idx)
	if n == 0 {
		return st, ErrEmpty
	}
	l.advantages(b)

	var lr float64
	lr, l.entCoef = l.Schedule()
	if err := l.opt.SetLR(lr); err != nil {
		return st, fmt.Errorf("ppo: %w", err)
	}

	shuffle := rng.New(l.seed, "ppo."+l.name+".minibatch."+strconv.FormatInt(l.updates, 10))
	nmb := min(l.cfg.NumMinibatches, n)
	var sum [NumMetrics]float64
	for epoch := 0; epoch < l.cfg.UpdateEpochs; epoch++ {
		shuffle.Shuffle(n, func(i, j int) { l.idx[i], l.idx[j] = l.idx[j], l.idx[i] })
		var lastKL float64
		for k := 0; k < nmb; k++ {
			mb := l.idx[k*n/nmb : (k+1)*n/nmb]
			m, err := l.minibatch(b, mb)
			if err != nil {
				return st, err
			}
			for q := range m {
				sum[q] += m[q]
			}
			lastKL = m[4]
			st.Minibatches++
		}
		st.Epochs++
		if l.cfg.TargetKL > 0 && lastKL > l.cfg.TargetKL {
			break
		}
	}

	for q, name := range metricNames {
		st.Metrics[q] = Metric{Name: name, Value: sum[q] / float64(st.Minibatches)}
	}
	st.Metrics[6].Value = explainedVariance(b, l.idx)
	st.Metrics[7].Value = lr
	st.Samples = n
	l.updates++
	l.samples += int64(n)
	b.compact()
	return st, nil
}

// minibatch takes one gradient step on the decisions rows of b and returns the
// minibatch's policy loss, value loss, entropy, old and new approximate KL and clip
// fraction, in metricNames order, and the KL divergence from the anchor in the last entry
// (explained variance and learning rate, between them, are left to Update).
//
// The actor's pass (forward, policy loss and entropy, backward) and the critic's
// (forward, value loss, backward) touch disjoint modules, gradients and scratch, so with
// the go backend they run on two goroutines (see concurrent). Each pass does exactly
// the operations, in exactly the order, of a serial run, so the result is bit-identical
// whatever the scheduling and GOMAXPROCS.
func (l *Learner) minibatch(b *Buffer, rows []int) ([NumMetrics]float64, error) {
	var out [NumMetrics]float64
	m, d, k := len(rows), l.obsDim, l.nActions
	l.mbObs = grow(l.mbObs, m*d)
	l.mbLogits, l.dLogits = grow(l.mbLogits, m*k), grow(l.dLogits, m*k)
	l.mbValues, l.dValues = grow(l.mbValues, m), grow(l.dValues, m)
	l.mbAdv = grow(l.mbAdv, m)
	for r, i := range rows {
		copy(l.mbObs[r*d:(r+1)*d], b.obs[i*d:(i+1)*d])
		l.mbAdv[r] = b.adv[i]
	}
	if s := l.stateDim; s > 0 {
		l.mbCritic = grow(l.mbCritic, m*(d+s))
		for r, i := range rows {
			copy(l.mbCritic[r*(d+s):], b.obs[i*d:(i+1)*d])
			copy(l.mbCritic[r*(d+s)+d:(r+1)*(d+s)], b.states[i*s:(i+1)*s])
		}
	}

	// Advantage normalization per minibatch (CleanRL: (A - mean) / (std + 1e-8), with
	// torch's unbiased std). A minibatch of one decision has no spread and is left as is.
	if l.cfg.NormAdv && m > 1 {
		var mean, ss float64
		for _, a := range l.mbAdv {
			mean += a
		}
		mean /= float64(m)
		for _, a := range l.mbAdv {
			ss += (a - mean) * (a - mean)
		}
		std := math.Sqrt(ss / float64(m-1))
		for r := range l.mbAdv {
			l.mbAdv[r] = (l.mbAdv[r] - mean) / (std + 1e-8)
		}
	}

	l.opt.ZeroGrad()
	var pol [6]float64
	var vLoss float64
	var errA, errC error
	if l.concurrent() {
		l.job = criticJob{l: l, buf: b, rows: rows}
		l.startCritic()
		pol, errA = l.actorPass(b, rows)
		errC = l.waitCritic()
		vLoss = l.job.vLoss
	} else {
		pol, errA = l.actorPass(b, rows)
		if errA == nil {
			vLoss, errC = l.criticPass(b, rows)
		}
	}
	if errA != nil {
		return out, errA
	}
	if errC != nil {
		return out, errC
	}
	if _, err := l.opt.Step(); err != nil {
		return out, fmt.Errorf("ppo: optimizer: %w", err)
	}
	inv := 1 / float64(m)
	out = [NumMetrics]float64{pol[0] * inv, vLoss * inv, pol[1] * inv, pol[2] * inv, pol[3] * inv, pol[4] * inv, 0, 0, pol[5] * inv}
	return out, nil
}

// minConcurrentBatch is the smallest Act batch whose critic pass runs beside the
// actor's: below it, handing it over costs about what it saves.
const minConcurrentBatch = 16

// criticJob is the critic's half of an Act call (values != nil: a forward pass of obs
// into values) or of a minibatch (criticPass on buf and rows, leaving the value loss in
// vLoss).
type criticJob struct {
	l           *Learner
	obs, values []float32
	batch       int
	buf         *Buffer
	rows        []int
	vLoss       float64
	err         error
}

func (j *criticJob) run() {
	if j.values != nil {
		j.err = j.l.critic.Forward(j.values, j.obs, j.batch)
		return
	}
	j.vLoss, j.err = j.l.criticPass(j.buf, j.rows)
}

// sidecar is a long-lived goroutine that runs one criticJob at a time, so that handing
// work over allocates nothing. It holds no reference to a Learner between jobs; a
// cleanup closes jobs, ending the goroutine, once its Learner is unreachable.
type sidecar struct {
	jobs chan *criticJob
	done chan struct{}
}

func (s *sidecar) loop() {
	for j := range s.jobs {
		j.run()
		s.done <- struct{}{}
	}
}

// startCritic hands l.job to the sidecar; waitCritic waits for it and returns its error.
func (l *Learner) startCritic() {
	if l.side == nil {
		s := &sidecar{jobs: make(chan *criticJob), done: make(chan struct{})}
		go s.loop()
		runtime.AddCleanup(l, func(s *sidecar) { close(s.jobs) }, s)
		l.side = s
	}
	l.side.jobs <- &l.job
}

func (l *Learner) waitCritic() error {
	<-l.side.done
	err := l.job.err
	l.job = criticJob{vLoss: l.job.vLoss}
	return err
}

// concurrent reports whether the actor's and the critic's passes may run on two
// goroutines: with the pure-Go backend, whose modules share no state. Other backends
// (torch) keep the serial order.
func (l *Learner) concurrent() bool { return !l.serial && l.backend.Name() == "go" }

// actorPass runs the actor's forward pass on the minibatch in l.mbObs, accumulates the
// clipped surrogate and entropy gradients with respect to the logits (each divided by m,
// the losses being means over the minibatch) and back-propagates them into the actor's
// gradients. It returns the sums over the rows of the policy loss, entropy, old and new
// approximate KL, clipped decisions and KL divergence from the anchor (0 without one).
// It needs the normalized advantages in l.mbAdv.
//
// With an anchor and InitKL > 0 the loss gains InitKL·KL(π || π₀) per decision, the
// divergence of the policy's distribution from the anchor's on the same observation and
// mask (nn.Categorical.AddGradKL), the anchor held fixed.
func (l *Learner) actorPass(b *Buffer, rows []int) (sums [6]float64, err error) {
	m, k := len(rows), l.nActions
	if err := l.actor.Forward(l.mbLogits, l.mbObs, m); err != nil {
		return sums, fmt.Errorf("ppo: actor: %w", err)
	}
	anchored := l.anchor != nil && l.cfg.InitKL > 0
	if anchored {
		l.mbAnchor = grow(l.mbAnchor, m*k)
		if err := l.anchor.actor.Forward(l.mbAnchor, l.mbObs, m); err != nil {
			return sums, fmt.Errorf("ppo: anchor: %w", err)
		}
	}
	var initKL float64
	clip, inv := l.cfg.ClipCoef, 1/float64(m)
	clear(l.dLogits)
	var pgLoss, ent, oldKL, kl, clipped float64
	for r, i := range rows {
		if err := l.dist.Set(l.mbLogits[r*k:(r+1)*k], b.masks[i*k:(i+1)*k]); err != nil {
			return sums, fmt.Errorf("ppo: decision %d: %w", i, err)
		}
		a := int(b.actions[i])
		logRatio := l.dist.LogProb(a) - float64(b.logps[i])
		ratio := math.Exp(logRatio)
		oldKL += -logRatio
		kl += (ratio - 1) - logRatio // Schulman's low-variance estimator, as CleanRL
		if math.Abs(ratio-1) > clip {
			clipped++
		}
		pl, dRatio := surrogate(ratio, l.mbAdv[r], clip)
		pgLoss += pl
		// d ratio / d log π(a) = ratio.
		if err := l.dist.AddGradLogProb(l.dLogits[r*k:(r+1)*k], a, dRatio*ratio*inv); err != nil {
			return sums, fmt.Errorf("ppo: decision %d: %w", i, err)
		}
		ent += l.dist.Entropy()
		// The entropy enters the loss with -EntCoef.
		if err := l.dist.AddGradEntropy(l.dLogits[r*k:(r+1)*k], -l.entCoef*inv); err != nil {
			return sums, fmt.Errorf("ppo: decision %d: %w", i, err)
		}
		if anchored {
			if err := l.adist.Set(l.mbAnchor[r*k:(r+1)*k], b.masks[i*k:(i+1)*k]); err != nil {
				return sums, fmt.Errorf("ppo: decision %d: anchor: %w", i, err)
			}
			d, err := l.dist.AddGradKL(l.dLogits[r*k:(r+1)*k], &l.adist, l.cfg.InitKL*inv)
			if err != nil {
				return sums, fmt.Errorf("ppo: decision %d: anchor: %w", i, err)
			}
			initKL += d
		}
	}
	if err := l.actor.Backward(nil, l.dLogits); err != nil {
		return sums, fmt.Errorf("ppo: actor: %w", err)
	}
	return [6]float64{pgLoss, ent, oldKL, kl, clipped, initKL}, nil
}

// criticPass runs the critic's forward pass on the minibatch in l.mbObs (l.mbCritic,
// with the state, for a centralized critic), computes the (clipped) value loss and its
// gradient with respect to the values, weighted by VFCoef and divided by m, and
// back-propagates it into the critic's gradients. It returns the sum of the value losses
// over the rows.
func (l *Learner) criticPass(b *Buffer, rows []int) (float64, error) {
	m := len(rows)
	in := l.mbObs
	if l.stateDim > 0 {
		in = l.mbCritic
	}
	if err := l.critic.Forward(l.mbValues, in, m); err != nil {
		return 0, fmt.Errorf("ppo: critic: %w", err)
	}
	inv := 1 / float64(m)
	vclip := 0.0
	if l.cfg.ClipVLoss {
		vclip = l.cfg.ClipCoef
	}
	var vLoss float64
	for r, i := range rows {
		vl, dv := valueLoss(float64(l.mbValues[r]), float64(b.values[i]), b.ret[i], vclip)
		vLoss += vl
		l.dValues[r] = float32(l.cfg.VFCoef * dv * inv)
	}
	if err := l.critic.Backward(nil, l.dValues); err != nil {
		return 0, fmt.Errorf("ppo: critic: %w", err)
	}
	return vLoss, nil
}

// explainedVariance is 1 - Var(returns - values) / Var(returns) over the decisions rows
// (CleanRL's, with population variances); NaN when the returns have no variance.
func explainedVariance(b *Buffer, rows []int) float64 {
	n := float64(len(rows))
	var my, mr float64
	for _, i := range rows {
		my += b.ret[i]
		mr += b.ret[i] - float64(b.values[i])
	}
	my, mr = my/n, mr/n
	var vy, vr float64
	for _, i := range rows {
		y, res := b.ret[i]-my, b.ret[i]-float64(b.values[i])-mr
		vy += y * y
		vr += res * res
	}
	if vy == 0 {
		return math.NaN()
	}
	return 1 - vr/vy
}

// ---------------------------------------------------------------------------------------
// Per-sample losses and their gradients

// surrogate returns PPO's clipped surrogate loss for one decision (Schulman et al. 2017,
// eq. 7, negated to be minimized, as CleanRL's pg_loss)
//
//	loss = max(-A·r, -A·clip(r, 1-ε, 1+ε))
//
// and its derivative in the probability ratio r. The derivative is 0 exactly where the
// clip removes the incentive to move r further (the paper's Figure 1): A > 0 and
// r > 1+ε, or A < 0 and r < 1-ε. Everywhere else, the boundaries r = 1±ε included, it is
// the unclipped -A (which is what PyTorch's autograd gives there too: clamp passes the
// gradient on the closed interval and max splits a tie evenly between equal branches).
func surrogate(ratio, adv, clip float64) (loss, dRatio float64) {
	loss = math.Max(-adv*ratio, -adv*math.Max(1-clip, math.Min(ratio, 1+clip)))
	if (adv > 0 && ratio > 1+clip) || (adv < 0 && ratio < 1-clip) {
		return loss, 0
	}
	return loss, -adv
}

// valueLoss returns the value loss of one decision and its derivative in the new value
// v, given the value stored at acting time old and the return target ret. With clip = 0
// it is ½(v - ret)². With clip > 0 it is CleanRL's clipped form
//
//	v_c  = old + clip(v - old, -clip, clip)
//	loss = ½ max((v - ret)², (v_c - ret)²)
//
// whose derivative follows the larger branch (the unclipped one on a tie). The clipped
// branch can only be the larger one when the clamp is active (inside the clip range
// v_c = v), and there v_c does not depend on v: the derivative is 0. So the value moves
// toward its target only while it stays within clip of the stored value or while moving
// toward the target reduces the unclipped error, as in CleanRL.
func valueLoss(v, old, ret, clip float64) (loss, dV float64) {
	lu := (v - ret) * (v - ret)
	if clip <= 0 {
		return 0.5 * lu, v - ret
	}
	vc := old + math.Max(-clip, math.Min(v-old, clip))
	if lc := (vc - ret) * (vc - ret); lc > lu {
		return 0.5 * lc, 0
	}
	return 0.5 * lu, v - ret
}
