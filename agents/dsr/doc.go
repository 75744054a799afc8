// Package dsr is hivegym's differential-Sharpe learner: Moody and Saffell's direct
// reinforcement (recurrent reinforcement learning, RRL), which learns a bounded decision
// F_t in [-1, 1] — a position, an allocation between a token and the numéraire, or a
// price adjustment — by online gradient ascent on the differential Sharpe ratio D_t, the
// per-step contribution to the moving Sharpe ratio of the agent's returns
// (Moody, Wu, Liao and Saffell 1998; Moody and Saffell 2001; specs/metrics.md).
//
// # The algorithm
//
// dsr.go reads top to bottom. Each period an agent observes the asset's return r_t and
// its extra features, decides F_t = tanh(θ · [x_t, F_{t-1}, 1]) with x_t its last Window
// (scaled) returns and the extra features, books the trading return
// R_t = F_{t-1} r_t - δ|F_t - F_{t-1}|, computes D_t from the moving moments A, B of its
// returns, and moves θ by ρ dD_t/dθ, where
//
//	dD_t/dθ   ≈ dD_t/dR_t (∂R_t/∂F_t dF_t/dθ + ∂R_t/∂F_{t-1} dF_{t-1}/dθ)
//	dD_t/dR_t = (B_{t-1} - A_{t-1} R_t) / (B_{t-1} - A_{t-1}²)^{3/2}
//	dF_t/dθ   = (1 - F_t²) (z_t + u dF_{t-1}/dθ)
//
// (Step). When the return of a decision is not a trading return — a price that
// earns revenue through the environment — the glue calls Decide, then Feedback with the
// return and its derivatives in F_t and F_{t-1}.
//
// A group of agents shares θ (parameter sharing) and each agent keeps its own recurrent
// state: previous position, dF/dθ, return window, moments. Agents are small integer keys.
//
// # Without a derivative: the score-function variant
//
// RRL needs ∂R_t/∂F_t. For a price that is the market's answer, which has no formula, so
// Config.Gradient "score" (score.go) learns from the return alone: Explore draws
// a_t ~ N(θ·z_t, σ²), F_t = tanh(a_t), and Feedback moves θ by ρ (D_t - b) e_t, e_t the
// eligibility trace of ∇θ log π(a_t | z_t) and b a moving baseline (REINFORCE, Williams
// 1992; with the trace, GPOMDP, Baxter and Bartlett 2001). For a group whose members
// compete with each other, Perturb and Credit explore in the weights instead: one
// perturbation θ + σε (in mirrored pairs ±ε) for every member, credited with the D_t of
// the group's return (evolution strategies, Salimans et al. 2017), so that what is learned
// is what the group gains by moving together, not what one member gains by undercutting
// the others. Decide is then the greedy decision, for evaluation, and Observe completes a
// step without learning.
//
// # Doing nothing
//
// A risk-adjusted reward has a known failure mode (specs/metrics.md, "Used as rewards"):
// doing nothing can be optimal. Here it shows three ways, each handled or documented:
// with θ = 0 every position is 0, every R_t is 0 and D_t has no gradient, so the initial
// weights are random (InitScale); a cold moment estimate makes D_t spike, so learning
// waits WarmUp steps and gradients are clipped (MaxGradNorm); and when transaction
// costs exceed the edge the learner converges to a constant position (turnover near 0),
// which is the correct answer to that problem, not a bug — the tests show turnover
// falling as δ rises.
//
// # Determinism
//
// The initial weights come from the internal/rng stream "dsr.init" of the seed; nothing
// else is random. A checkpoint (Save, Restore, Load) holds the weights and every agent's
// state, so a restored learner continues bit-identically.
//
// # What this package must not do
//
// It knows nothing of the market or the scheme: it sees returns and features as
// float64 and answers with a number in [-1, 1]. It reads no files (Save and Restore take
// an io.Writer and an io.Reader) and never panics on bad input.
package dsr
