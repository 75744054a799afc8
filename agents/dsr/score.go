package dsr

// The score-function variant (Config.Gradient "score"). Moody and Saffell's gradient
// needs ∂R_t/∂F_t: for a position that is the asset's return, but for a price it would be
// the derivative of the market's answer (the deals a higher ask loses, the margin it
// gains), which nobody can write down. The likelihood-ratio, or score-function,
// estimator (Williams 1992, "Simple statistical gradient-following algorithms for
// connectionist reinforcement learning", Machine Learning 8) needs only the return: the
// learner draws its decision from a distribution and moves θ along the gradient of the
// decision's log-probability, scaled by how much better than usual the reward that
// followed was. Here the reward is the differential Sharpe ratio D_t, so the learner
// ascends the moving Sharpe ratio as the RRL learner does, without differentiating the
// return. With an eligibility trace it is Baxter and Bartlett's GPOMDP
// ("Infinite-horizon policy-gradient estimation", JAIR 15, 2001) on D_t.
//
// One step, for agent a:
//
//	a_t ~ N(μ_t, σ²),  μ_t = θ · z_t,  F_t = tanh(a_t)          (Explore)
//	∇θ log π(a_t | z_t) = (a_t - μ_t) / σ² · z_t
//	e_t = λ e_{t-1} + ∇θ log π(a_t | z_t)                        (at its Feedback)
//	θ  += ρ (D_t - b) e_t,   b += η_b (D_t - b)
//
// with D_t the differential Sharpe ratio of the return R_t that Feedback reports for the
// decision, b the baseline (a moving mean of D over the group's steps, which lowers the
// estimator's variance without biasing it), λ = Trace, σ = Sigma, η_b = BaselineEta,
// and the gradient norm clipped at MaxGradNorm. z_t holds F_{t-1} as an input (the
// policy sees its previous decision); the gradient treats it as given, as REINFORCE
// treats any part of the state.

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrRule reports a call that the config's learning rule does not have (Explore in the
// RRL learner).
var ErrRule = errors.New("dsr: not available with this learning rule")

// Explore is the score-function variant's decision: it draws a_t ~ N(θ·z_t, σ²) from
// rnd for agent's features z_t (as Decide builds them from r and extra), records the
// score ∇θ log π(a_t | z_t) for the Feedback that must follow, and returns
// F_t = tanh(a_t).
func (l *Learner) Explore(agentKey int, r float64, extra []float64, rnd *rand.Rand) (float64, error) {
	if !l.cfg.Score() {
		return 0, fmt.Errorf("%w: Explore needs gradient %q, got %q", ErrRule, GradientScore, l.cfg.Gradient)
	}
	if rnd == nil {
		return 0, fmt.Errorf("%w: Explore without a random source", ErrInput)
	}
	st, mu, err := l.begin(agentKey, r, extra)
	if err != nil {
		return 0, err
	}
	sigma := l.cfg.sigma()
	eps := rnd.NormFloat64()
	a := mu + sigma*eps
	k := eps / sigma // (a - μ) / σ²
	for i, x := range st.z {
		st.score[i] = k * x
	}
	st.f, st.pending = math.Tanh(a), true
	return st.f, nil
}

// scoreFeedback is the score-function step for an agent whose decision earned D_t = d:
// the trace takes the decision's score, and past the agent's warm-up θ moves by
// ρ (d - b) e and the baseline b toward d.
func (l *Learner) scoreFeedback(st *agent, d float64) {
	lambda := l.cfg.Trace
	for i := range st.trace {
		st.trace[i] = lambda*st.trace[i] + st.score[i]
	}
	clear(st.score)
	if st.n < int64(l.cfg.WarmUp) {
		return
	}
	adv := d - l.baseline
	for i, e := range st.trace {
		l.grad[i] = adv * e
	}
	l.ascend()
	l.baseline += l.cfg.baselineEta() * (d - l.baseline)
}

// Observe completes agent's step with its return R_t without learning: the moments
// and the agent's state advance as in Feedback, the weights, the trace and the
// baseline stay (evaluation). It returns D_t.
func (l *Learner) Observe(agentKey int, ret float64) (float64, error) {
	if agentKey < 0 || agentKey >= len(l.agents) || !l.agents[agentKey].pending {
		return 0, fmt.Errorf("%w: observe for agent %d without a decision", ErrSequence, agentKey)
	}
	if math.IsNaN(ret) || math.IsInf(ret, 0) {
		return 0, fmt.Errorf("%w: return %g", ErrInput, ret)
	}
	st := &l.agents[agentKey]
	clear(st.score)
	return l.feedback(st, ret, 0, 0, false)
}

// Forget starts agent afresh for a new episode: a decision waiting for its return is
// dropped, and the previous position, its derivative and the trace are cleared. The
// moments, the return window and its scale stay (they estimate the returns'
// distribution, which does not restart). An unknown agent is left alone.
func (l *Learner) Forget(agentKey int) {
	if agentKey < 0 || agentKey >= len(l.agents) {
		return
	}
	st := &l.agents[agentKey]
	st.pending, st.prevF, st.f = false, 0, 0
	clear(st.dPrevF)
	clear(st.score)
	clear(st.trace)
}

// Baseline returns the score-function variant's baseline b (0 in the RRL learner).
func (l *Learner) Baseline() float64 { return l.baseline }

// ---------------------------------------------------------------------------------------
// Exploring as a group: parameter-space noise

// A group of agents that compete with each other for the same counterparties (the
// providers a request goes to) teaches an action-space learner to undercut: an agent
// whose draw asks less than its peers takes their deals, so its D_t is high, and the
// shared weights move toward asking less, although the group as a whole earns less
// when all of them do. Exploring in the weights instead, one perturbation ε ~ N(0, I)
// per group and period that every member decides with, and crediting it with the D_t
// of the group's aggregate return, estimates the gradient of the group's objective:
//
//	θ' = θ + σ ε                                   (Perturb; each agent: F = tanh(θ' · z))
//	θ += ρ (D_t - b) ε / σ,   b += η_b (D_t - b)   (Credit, D_t of the group's return)
//
// the Gaussian-smoothing (evolution-strategies) gradient of Salimans, Ho, Chen, Sidor and
// Sutskever (2017), "Evolution strategies as a scalable alternative to reinforcement
// learning", with parameter-space exploration as in Plappert et al. (2018),
// "Parameter space noise for exploration", ICLR. Each group key has its own moments
// A, B of the group's returns. Perturbations come in mirrored pairs, ε then -ε
// (antithetic sampling, as Salimans et al. do): over a pair the two updates sum to
// ρ (D⁺ - D⁻) ε / σ, so what the two periods share (the market's state, the noise of
// the revaluations) cancels.

// MaxGroupKey bounds the group keys of Perturb and Credit.
const MaxGroupKey = 1 << 12

// group is one group key's state: the moments of its returns and the perturbation in
// flight.
type group struct {
	a, b    float64
	n       int64
	pending bool
	// mirror makes the next perturbation -ε (antithetic sampling).
	mirror bool
	eps    []float64
}

func (l *Learner) groupState(key int) (*group, error) {
	if !l.cfg.Score() {
		return nil, fmt.Errorf("%w: group exploration needs gradient %q, got %q", ErrRule, GradientScore, l.cfg.Gradient)
	}
	if key < 0 || key >= MaxGroupKey {
		return nil, fmt.Errorf("%w: group key %d outside [0, %d)", ErrInput, key, MaxGroupKey)
	}
	for len(l.groups) <= key {
		l.groups = append(l.groups, group{eps: make([]float64, len(l.theta))})
	}
	return &l.groups[key], nil
}

// Perturb draws group key's perturbation ε ~ N(0, I) from rnd, or, every other call,
// takes the mirror -ε of the previous one (drawing nothing); it records it for the
// Credit that must follow and returns θ + σ ε in dst (grown to the weights' length).
func (l *Learner) Perturb(groupKey int, rnd *rand.Rand, dst []float64) ([]float64, error) {
	g, err := l.groupState(groupKey)
	if err != nil {
		return dst, err
	}
	if rnd == nil {
		return dst, fmt.Errorf("%w: Perturb without a random source", ErrInput)
	}
	if g.pending {
		return dst, fmt.Errorf("%w: group %d perturbed twice without credit", ErrSequence, groupKey)
	}
	if cap(dst) < len(l.theta) {
		dst = make([]float64, len(l.theta))
	}
	dst = dst[:len(l.theta)]
	sigma := l.cfg.sigma()
	for i, w := range l.theta {
		if g.mirror {
			g.eps[i] = -g.eps[i]
		} else {
			g.eps[i] = rnd.NormFloat64()
		}
		dst[i] = w + sigma*g.eps[i]
	}
	g.pending, g.mirror = true, !g.mirror
	return dst, nil
}

// Credit completes group key's step with the group's return R_t over the period its
// perturbation was held: D_t from the group's moments (eq. 16), past the warm-up (in
// the group's steps) θ moves by ρ (D_t - b) ε / σ (its norm clipped at MaxGradNorm)
// and the baseline toward D_t; then the moments take R_t. It returns D_t.
func (l *Learner) Credit(groupKey int, ret float64) (float64, error) {
	if groupKey < 0 || groupKey >= len(l.groups) || !l.groups[groupKey].pending {
		return 0, fmt.Errorf("%w: credit for group %d without a perturbation", ErrSequence, groupKey)
	}
	if math.IsNaN(ret) || math.IsInf(ret, 0) {
		return 0, fmt.Errorf("%w: return %g", ErrInput, ret)
	}
	g := &l.groups[groupKey]
	d := diffSharpe(g.a, g.b, ret)
	if g.n >= int64(l.cfg.WarmUp) {
		adv, sigma := d-l.baseline, l.cfg.sigma()
		for i, e := range g.eps {
			l.grad[i] = adv * e / sigma
		}
		l.ascend()
		l.baseline += l.cfg.baselineEta() * (d - l.baseline)
	}
	eta := l.cfg.Eta
	g.a += eta * (ret - g.a)
	g.b += eta * (ret*ret - g.b)
	g.pending = false
	g.n++
	l.steps++
	return d, nil
}

// ForgetGroup drops group key's perturbation in flight (a new episode), and the next
// is a fresh draw rather than its mirror; the moments stay. An unknown key is left
// alone.
func (l *Learner) ForgetGroup(groupKey int) {
	if groupKey >= 0 && groupKey < len(l.groups) {
		l.groups[groupKey].pending, l.groups[groupKey].mirror = false, false
	}
}

// DecideAt is the score-function learner's decision for agent with the weights theta
// (a perturbation from Perturb) instead of its own: F_t = tanh(theta · z_t), with z_t
// built as in Decide. No score is recorded (the group's Credit learns); an Observe (or
// a Feedback, which then learns nothing from the agent) must follow before the agent's
// next decision.
func (l *Learner) DecideAt(agentKey int, r float64, extra, theta []float64) (float64, error) {
	if !l.cfg.Score() {
		return 0, fmt.Errorf("%w: DecideAt needs gradient %q, got %q", ErrRule, GradientScore, l.cfg.Gradient)
	}
	if len(theta) != len(l.theta) {
		return 0, fmt.Errorf("%w: %d weights, want %d", ErrInput, len(theta), len(l.theta))
	}
	st, _, err := l.begin(agentKey, r, extra)
	if err != nil {
		return 0, err
	}
	var act float64
	for i, w := range theta {
		act += w * st.z[i]
	}
	clear(st.score)
	st.f, st.pending = math.Tanh(act), true
	return st.f, nil
}
