package dsr

// Direct reinforcement with the differential Sharpe ratio: Moody, Wu, Liao and Saffell
// (1998), "Performance functions and reinforcement learning for trading systems and
// portfolios", Journal of Forecasting 17; Moody and Saffell (2001), "Learning to trade via
// direct reinforcement", IEEE Transactions on Neural Networks 12(4). Equation numbers
// below are the 2001 paper's.
//
// The file reads top to bottom: hyperparameters, the learner and its per-agent state,
// the step (decide, trade, learn), and the derivative of D_t.

import (
	"errors"
	"fmt"
	"math"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
)

// ---------------------------------------------------------------------------------------
// Hyperparameters

// Config holds every hyperparameter of the learner.
type Config struct {
	// Eta is the adaptation rate η of the moving moments A_t, B_t behind the
	// differential Sharpe ratio (eq. 14), in (0, 1). 1/η is the effective memory in steps.
	Eta float64 `yaml:"eta" json:"eta"`
	// LearningRate is ρ of the online gradient ascent θ_t = θ_{t-1} + ρ dD_t/dθ.
	LearningRate float64 `yaml:"learning_rate" json:"learning_rate"`
	// Cost is the transaction cost δ per unit change of position, in return units: the
	// trading return is the paper's additive-profit return with μ = 1,
	// R_t = F_{t-1} r_t - δ|F_t - F_{t-1}|.
	Cost float64 `yaml:"cost" json:"cost"`
	// Window is the number m of lagged returns r_t, ..., r_{t-m+1} among the features.
	Window int `yaml:"window" json:"window"`
	// Extra is the number of features the caller adds per step (prices, gas, forecasts).
	Extra int `yaml:"extra" json:"extra"`
	// NormEta, if positive, scales each return feature by the square root of an
	// exponential moving average of r² with this rate (the scale before r_t enters it),
	// so the weights see returns of order one whatever the asset's volatility; 0 uses
	// raw returns.
	NormEta float64 `yaml:"norm_eta" json:"norm_eta"`
	// InitScale is the standard deviation of the initial weights (normal, from the
	// seed). Moody and Saffell start from small random weights: with θ = 0 every position
	// is 0, every trading return 0, and the Sharpe ratio has no gradient to start from
	// (the "doing nothing" fixed point).
	InitScale float64 `yaml:"init_scale" json:"init_scale"`
	// WarmUp is the number of steps per agent before its first weight update: positions
	// are taken and the moments A, B (and the feature scale) fill up, so D_t does not
	// spike on a cold estimate.
	WarmUp int `yaml:"warm_up" json:"warm_up"`
	// MaxGradNorm, if positive, clips the L2 norm of each step's dD_t/dθ.
	MaxGradNorm float64 `yaml:"max_grad_norm" json:"max_grad_norm"`

	// Gradient selects the learning rule: GradientRRL ("rrl", or empty: the default),
	// Moody and Saffell's recurrent reinforcement learning, which needs the
	// derivatives of the return in the decision; or GradientScore ("score"), the
	// score-function (REINFORCE) variant for decisions whose return has no known
	// derivative, such as a price the market answers (score.go).
	Gradient string `yaml:"gradient" json:"gradient,omitempty"`
	// Sigma is the score-function variant's exploration: the standard deviation of the
	// Gaussian pre-activation a_t ~ N(θ·z_t, σ²), F_t = tanh(a_t); 0 takes DefaultSigma.
	Sigma float64 `yaml:"sigma" json:"sigma,omitempty"`
	// Trace is the score-function variant's eligibility-trace decay λ in [0, 1): a
	// step's D_t is credited to the decisions before it with weight λ^k; 0 credits the
	// decision just before it only.
	Trace float64 `yaml:"trace" json:"trace,omitempty"`
	// BaselineEta is the rate of the score-function variant's baseline, a moving mean
	// of D_t over the group's steps; 0 takes Eta.
	BaselineEta float64 `yaml:"baseline_eta" json:"baseline_eta,omitempty"`
}

// Learning rules (Config.Gradient).
const (
	GradientRRL   = "rrl"
	GradientScore = "score"
)

// DefaultSigma is the score-function variant's exploration when Config.Sigma is 0.
const DefaultSigma = 0.3

// Score reports whether the config selects the score-function variant.
func (c Config) Score() bool { return c.Gradient == GradientScore }

// sigma and baselineEta resolve the score-function variant's zero defaults.
func (c Config) sigma() float64 {
	if c.Sigma > 0 {
		return c.Sigma
	}
	return DefaultSigma
}

func (c Config) baselineEta() float64 {
	if c.BaselineEta > 0 {
		return c.BaselineEta
	}
	return c.Eta
}

// DefaultConfig returns settings in the range of Moody and Saffell's experiments:
// η = 0.01, ρ = 0.01, no transaction cost, 8 lagged returns, features normalized at
// rate 0.01, initial weights of scale 0.1, 100 warm-up steps, gradients clipped at 10.
func DefaultConfig() Config {
	return Config{Eta: 0.01, LearningRate: 0.01, Window: 8, NormEta: 0.01, InitScale: 0.1, WarmUp: 100, MaxGradNorm: 10}
}

// Validate reports every invalid field, with fieldpath paths relative to the config.
func (c Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) { errs = append(errs, fieldpath.Errorf(path, format, args...)) }
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !(c.Eta > 0 && c.Eta < 1) {
		bad("eta", "must be in (0, 1), got %g", c.Eta)
	}
	if !finite(c.LearningRate) || c.LearningRate < 0 {
		bad("learning_rate", "must be finite and >= 0, got %g", c.LearningRate)
	}
	if !finite(c.Cost) || c.Cost < 0 {
		bad("cost", "must be finite and >= 0, got %g", c.Cost)
	}
	if c.Window < 0 || c.Window > 1<<12 {
		bad("window", "must be in [0, 4096], got %d", c.Window)
	}
	if c.Extra < 0 || c.Extra > 1<<12 {
		bad("extra", "must be in [0, 4096], got %d", c.Extra)
	}
	if !(c.NormEta >= 0 && c.NormEta < 1) {
		bad("norm_eta", "must be in [0, 1) (0 disables), got %g", c.NormEta)
	}
	if !finite(c.InitScale) || c.InitScale < 0 {
		bad("init_scale", "must be finite and >= 0, got %g", c.InitScale)
	}
	if c.WarmUp < 0 {
		bad("warm_up", "must be >= 0, got %d", c.WarmUp)
	}
	if !finite(c.MaxGradNorm) || c.MaxGradNorm < 0 {
		bad("max_grad_norm", "must be finite and >= 0 (0 disables), got %g", c.MaxGradNorm)
	}
	switch c.Gradient {
	case "", GradientRRL, GradientScore:
	default:
		bad("gradient", "must be %s or %s, got %q", GradientRRL, GradientScore, c.Gradient)
	}
	if !finite(c.Sigma) || c.Sigma < 0 || c.Sigma > 10 {
		bad("sigma", "must be in [0, 10] (0: %g), got %g", DefaultSigma, c.Sigma)
	}
	if !(c.Trace >= 0 && c.Trace < 1) {
		bad("trace", "must be in [0, 1), got %g", c.Trace)
	}
	if !(c.BaselineEta >= 0 && c.BaselineEta < 1) {
		bad("baseline_eta", "must be in [0, 1) (0: eta), got %g", c.BaselineEta)
	}
	return errors.Join(errs...)
}

// NumParams is the number of weights: Window + Extra feature weights, the weight u of
// the previous position, and the bias.
func (c Config) NumParams() int { return c.Window + c.Extra + 2 }

// ---------------------------------------------------------------------------------------
// The learner

// Errors the learner returns.
var (
	// ErrInput reports a non-finite return or feature, or a feature slice of the wrong
	// length.
	ErrInput = errors.New("dsr: bad input")
	// ErrSequence reports Feedback without a Decide before it, or Decide twice.
	ErrSequence = errors.New("dsr: call sequence")
)

// MaxAgentKey bounds the agent keys (they index a slice).
const MaxAgentKey = 1 << 20

// Learner is the recurrent direct-reinforcement trader of Moody and Saffell for one
// policy group: one weight vector θ shared by every agent of the group (parameter
// sharing), a recurrent state per agent. Agent a's decision at step t is
//
//	F_t = tanh(θ · z_t),   z_t = [x_t, F_{t-1}, 1]
//
// with x_t the last Window returns (scaled, see Config.NormEta) and the caller's Extra
// features, F in [-1, 1] a position (short to long), an allocation or a bounded price
// adjustment. It learns online, one gradient ascent step on the differential Sharpe
// ratio D_t per step (see Feedback).
//
// A Learner is not safe for concurrent use.
type Learner struct {
	cfg    Config
	seed   uint64
	theta  []float64
	agents []agent
	steps  int64 // Feedback calls, all agents
	// baseline is the score-function variant's moving mean of D_t (score.go).
	baseline float64
	// groups are the score-function variant's group keys (Perturb, Credit).
	groups []group

	// Scratch, reused.
	grad []float64
}

// agent is one agent's recurrent state.
type agent struct {
	prevF  float64   // F_{t-1}
	dPrevF []float64 // dF_{t-1}/dθ
	window []float64 // scaled returns, newest first
	a, b   float64   // the moving moments A_{t-1}, B_{t-1} of its trading returns (eq. 14)
	v      float64   // moving mean of r², for the feature scale
	n      int64     // steps taken
	// The decision in flight between Decide and Feedback.
	pending bool
	z       []float64 // z_t
	f       float64   // F_t
	dF      []float64 // dF_t/dθ (RRL)
	score   []float64 // ∇θ log π(a_t | z_t) (score-function variant; zero for a greedy decision)
	// trace is the score-function variant's eligibility trace e_{t-1}.
	trace []float64
}

// New returns a learner whose initial weights are normal with standard deviation
// cfg.InitScale, drawn from the internal/rng stream "dsr.init" of seed.
func New(cfg Config, seed uint64) (*Learner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dsr: invalid config: %w", err)
	}
	p := cfg.NumParams()
	l := &Learner{cfg: cfg, seed: seed, theta: make([]float64, p), grad: make([]float64, p)}
	r := rng.New(seed, "dsr.init")
	for i := range l.theta {
		l.theta[i] = cfg.InitScale * r.NormFloat64()
	}
	return l, nil
}

// Config returns the learner's hyperparameters.
func (l *Learner) Config() Config { return l.cfg }

// Theta returns a copy of the weights: Window return weights (newest first), Extra
// feature weights, the weight u of the previous position, the bias.
func (l *Learner) Theta() []float64 { return append([]float64(nil), l.theta...) }

// Steps returns the number of steps taken, over all agents.
func (l *Learner) Steps() int64 { return l.steps }

// Agents returns one more than the largest agent key seen.
func (l *Learner) Agents() int { return len(l.agents) }

// Sharpe returns agent's moving Sharpe ratio S_t = A_t / (K sqrt(B_t - A_t²)),
// K = sqrt((1 - η/2)/(1 - η)) (specs/metrics.md), per period; NaN before its variance
// estimate is positive or for an unknown agent.
func (l *Learner) Sharpe(agentKey int) float64 {
	if agentKey < 0 || agentKey >= len(l.agents) {
		return math.NaN()
	}
	st := &l.agents[agentKey]
	v := st.b - st.a*st.a
	if !(v > 0) {
		return math.NaN()
	}
	eta := l.cfg.Eta
	return st.a / (math.Sqrt((1-eta/2)/(1-eta)) * math.Sqrt(v))
}

// Position returns agent's current position F (0 for an unknown agent).
func (l *Learner) Position(agentKey int) float64 {
	if agentKey < 0 || agentKey >= len(l.agents) {
		return 0
	}
	return l.agents[agentKey].prevF
}

func (l *Learner) state(key int) (*agent, error) {
	if key < 0 || key >= MaxAgentKey {
		return nil, fmt.Errorf("%w: agent key %d outside [0, %d)", ErrInput, key, MaxAgentKey)
	}
	for len(l.agents) <= key {
		l.agents = append(l.agents, l.newAgent())
	}
	return &l.agents[key], nil
}

// newAgent returns a fresh agent state with its slices made.
func (l *Learner) newAgent() agent {
	p := len(l.theta)
	st := agent{
		dPrevF: make([]float64, p), window: make([]float64, l.cfg.Window),
		z: make([]float64, p), dF: make([]float64, p),
	}
	if l.cfg.Score() {
		st.score, st.trace = make([]float64, p), make([]float64, p)
	}
	return st
}

// ---------------------------------------------------------------------------------------
// One step: decide, trade, learn

// Outcome is what one step produced for an agent.
type Outcome struct {
	// Position is the new position F_t in [-1, 1].
	Position float64
	// Return is the trading return R_t = F_{t-1} r_t - δ|F_t - F_{t-1}|.
	Return float64
	// DSR is the differential Sharpe ratio D_t of Return (eq. 16), 0 during the moments'
	// warm-up.
	DSR float64
}

// Step is one period of the trader, for the asset return r_t (a simple return, or a
// price change) just observed and the caller's extra features: it decides the new
// position F_t (Decide), books the trading return R_t = F_{t-1} r_t - δ|F_t - F_{t-1}| of
// the position held over the period, and, past the warm-up, takes one gradient
// ascent step on D_t (Feedback with the trading return's derivatives
// ∂R_t/∂F_t = -δ sgn(F_t - F_{t-1}), ∂R_t/∂F_{t-1} = r_t + δ sgn(F_t - F_{t-1})).
func (l *Learner) Step(agentKey int, r float64, extra []float64) (Outcome, error) {
	return l.step(agentKey, r, extra, true)
}

// Trade is Step without learning: the weights stay as they are (evaluation). The
// agent's recurrent state and moments advance as in Step.
func (l *Learner) Trade(agentKey int, r float64, extra []float64) (Outcome, error) {
	return l.step(agentKey, r, extra, false)
}

func (l *Learner) step(key int, r float64, extra []float64, learn bool) (Outcome, error) {
	if learn && l.cfg.Score() {
		return Outcome{}, fmt.Errorf("%w: Step is the RRL learner's; the score-function variant learns with Explore and Feedback", ErrRule)
	}
	f, err := l.Decide(key, r, extra)
	if err != nil {
		return Outcome{}, err
	}
	st := &l.agents[key]
	s := sign(f - st.prevF)
	ret := st.prevF*r - l.cfg.Cost*math.Abs(f-st.prevF)
	d, err := l.feedback(st, ret, -l.cfg.Cost*s, r+l.cfg.Cost*s, learn)
	return Outcome{Position: f, Return: ret, DSR: d}, err
}

// Decide computes agent's next position F_t = tanh(θ · [x_t, F_{t-1}, 1]) from the
// return r_t just observed and the extra features, and its derivative
//
//	dF_t/dθ = (1 - F_t²) (z_t + u dF_{t-1}/dθ)
//
// through the recurrence (u is θ's weight on F_{t-1}), and returns F_t. A Feedback
// (or Observe) for the same agent must follow before its next Decide. Use it, with
// Feedback, when the return is not the trading return of Step (a pricing decision
// whose revenue the environment reports). In the score-function variant Decide is the
// greedy decision F_t = tanh(θ·z_t), for evaluation; Explore is the one that learns.
func (l *Learner) Decide(agentKey int, r float64, extra []float64) (float64, error) {
	st, act, err := l.begin(agentKey, r, extra)
	if err != nil {
		return 0, err
	}
	f := math.Tanh(act)
	if l.cfg.Score() {
		clear(st.score)
	} else {
		u, g := l.theta[len(l.theta)-2], 1-f*f
		for i := range st.dF {
			st.dF[i] = g * (st.z[i] + u*st.dPrevF[i])
		}
	}
	st.f, st.pending = f, true
	return f, nil
}

// begin validates a decision's inputs, builds the features z_t of agent's decision
// into its state and returns the state and the activation θ · z_t.
func (l *Learner) begin(agentKey int, r float64, extra []float64) (*agent, float64, error) {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, 0, fmt.Errorf("%w: return %g", ErrInput, r)
	}
	if len(extra) != l.cfg.Extra {
		return nil, 0, fmt.Errorf("%w: %d extra features, want %d", ErrInput, len(extra), l.cfg.Extra)
	}
	for i, x := range extra {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, 0, fmt.Errorf("%w: extra feature %d is %g", ErrInput, i, x)
		}
	}
	st, err := l.state(agentKey)
	if err != nil {
		return nil, 0, err
	}
	if st.pending {
		return nil, 0, fmt.Errorf("%w: agent %d decides twice without feedback", ErrSequence, agentKey)
	}
	// Features: the scaled return enters the window, newest first.
	x := r
	if l.cfg.NormEta > 0 {
		if st.v == 0 {
			st.v = r * r
		}
		if st.v > 0 {
			x = r / math.Sqrt(st.v)
		}
		st.v += l.cfg.NormEta * (r*r - st.v)
	}
	if m := len(st.window); m > 0 {
		copy(st.window[1:], st.window[:m-1])
		st.window[0] = x
	}
	z := st.z
	n := copy(z, st.window)
	n += copy(z[n:], extra)
	z[n], z[n+1] = st.prevF, 1
	var act float64
	for i, w := range l.theta {
		act += w * z[i]
	}
	return st, act, nil
}

// Feedback completes agent's step with its return R_t for the period and the
// derivatives ∂R_t/∂F_t and ∂R_t/∂F_{t-1}: it computes D_t from the moments A_{t-1},
// B_{t-1} (eq. 16), updates them (eq. 14), and past the warm-up moves the shared weights
// by ρ dD_t/dθ (see feedback). It returns D_t. In the score-function variant the
// derivatives are not used (pass 0) and the step is scoreFeedback's.
func (l *Learner) Feedback(agentKey int, ret, dRdF, dRdPrevF float64) (float64, error) {
	if agentKey < 0 || agentKey >= len(l.agents) || !l.agents[agentKey].pending {
		return 0, fmt.Errorf("%w: feedback for agent %d without a decision", ErrSequence, agentKey)
	}
	for _, v := range []float64{ret, dRdF, dRdPrevF} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: return or derivative %g", ErrInput, v)
		}
	}
	return l.feedback(&l.agents[agentKey], ret, dRdF, dRdPrevF, true)
}

// feedback is Feedback on a validated state; learn false skips the weight update.
//
// The gradient is the online approximation of the paper's recurrent reinforcement
// learning (RRL) algorithm: D_t depends on
// θ through R_t only (the moments A_{t-1}, B_{t-1} are held fixed), and R_t through F_t
// and F_{t-1}:
//
//	dD_t/dθ ≈ dD_t/dR_t (∂R_t/∂F_t dF_t/dθ + ∂R_t/∂F_{t-1} dF_{t-1}/dθ)
//
// with dF/dθ from the recurrence of Decide, computed with the weights of each step (the
// real-time recurrent learning approximation).
func (l *Learner) feedback(st *agent, ret, dRdF, dRdPrevF float64, learn bool) (float64, error) {
	a, b := st.a, st.b
	d := diffSharpe(a, b, ret)
	if l.cfg.Score() {
		if learn {
			l.scoreFeedback(st, d)
		}
	} else if learn = learn && st.n >= int64(l.cfg.WarmUp); learn {
		if k := dDdR(a, b, ret); k != 0 {
			for i := range l.grad {
				l.grad[i] = k * (dRdF*st.dF[i] + dRdPrevF*st.dPrevF[i])
			}
			l.ascend()
		} else {
			clear(l.grad)
		}
	}
	// Moving moments (eq. 14), as metrics.DifferentialSharpe updates them.
	eta := l.cfg.Eta
	st.a += eta * (ret - a)
	st.b += eta * (ret*ret - b)
	st.prevF = st.f
	copy(st.dPrevF, st.dF)
	st.pending = false
	st.n++
	l.steps++
	return d, nil
}

// ascend moves the weights by ρ times the step's gradient in l.grad, its L2 norm clipped
// at MaxGradNorm; a non-finite gradient moves nothing. Every learning rule ends its step
// here.
func (l *Learner) ascend() {
	var sq float64
	for _, g := range l.grad {
		sq += g * g
	}
	if math.IsNaN(sq) || math.IsInf(sq, 0) {
		return
	}
	scale := l.cfg.LearningRate
	if norm := math.Sqrt(sq); l.cfg.MaxGradNorm > 0 && norm > l.cfg.MaxGradNorm {
		scale *= l.cfg.MaxGradNorm / norm
	}
	for i := range l.theta {
		l.theta[i] += scale * l.grad[i]
	}
}

// ---------------------------------------------------------------------------------------
// The differential Sharpe ratio and its derivative

// diffSharpe is D_t (eq. 16, specs/metrics.md) from the moments before R_t:
//
//	D_t = (B_{t-1} ΔA_t - ½ A_{t-1} ΔB_t) / (B_{t-1} - A_{t-1}²)^{3/2}
//	ΔA_t = R_t - A_{t-1},  ΔB_t = R_t² - B_{t-1}
//
// and 0 while B_{t-1} - A_{t-1}² <= 0 (or its 3/2 power underflows). The arithmetic is
// metrics.DifferentialSharpe.Update's, operation for operation (the tests compare the
// two); the learner keeps its own moments, rather than a metrics.DifferentialSharpe,
// because a checkpoint must restore A and B exactly and that type does not let them be
// set.
func diffSharpe(a, b, r float64) float64 {
	dA := r - a
	dB := r*r - b
	if v := b - a*a; v > 0 {
		if den := v * math.Sqrt(v); den > 0 {
			return (b*dA - 0.5*a*dB) / den
		}
	}
	return 0
}

// dDdR is the derivative of D_t (eq. 16) in R_t with A_{t-1}, B_{t-1} fixed, as the
// paper uses it for online learning. The denominator does not depend on R_t and the
// numerator B(R - A) - ½A(R² - B) has derivative B - A R, so
//
//	dD_t/dR_t = (B_{t-1} - A_{t-1} R_t) / (B_{t-1} - A_{t-1}²)^{3/2}
//
// 0 during warm-up, where D_t is 0. It is positive for R_t < B/A: a higher return raises
// the Sharpe ratio until returns are so large that their contribution to the variance
// outweighs that to the mean.
func dDdR(a, b, r float64) float64 {
	if v := b - a*a; v > 0 {
		if den := v * math.Sqrt(v); den > 0 {
			return (b - a*r) / den
		}
	}
	return 0
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
