// Package metrics computes risk metrics of a series of per-period simple returns
// r_t = W_t/W_{t-1} - 1, in batch (cumulative and annual return, annual volatility,
// Sharpe, Sortino, downside risk, maximum drawdown, Calmar) and online (the differential
// Sharpe ratio and the differential downside deviation ratio), as specs/metrics.md
// defines them.
//
// # Batch conventions
//
// The batch metrics follow empyrical (Quantopian, github.com/quantopian/empyrical, and
// its maintained fork empyrical-reloaded, stats.py), the reference implementation most
// quants use, so the numbers agree with theirs up to rounding:
//
//   - NaN entries are missing values. Mean, standard deviation and downside risk drop
//     them; the cumulative return multiplies only the non-NaN 1+r_t; the drawdown path
//     treats a NaN row as a zero return. The annual return (CAGR) counts every row,
//     NaN rows included, when it converts N periods into N/F years.
//   - Standard deviations use ddof=1 and a two-pass algorithm. An exactly constant
//     series (all non-NaN values bitwise equal and finite) has zero deviation, so its
//     Sharpe ratio is +Inf or -Inf by the sign of the mean, and NaN when the mean is 0,
//     never a huge finite number left over from rounding.
//   - "Fewer than 2" follows empyrical: fewer than 2 rows gives NaN for the volatility,
//     Sharpe and Sortino ratios; the volatility and Sharpe ratio also need 2 non-NaN
//     values (a ddof=1 deviation of one value is undefined), while the Sortino ratio is
//     defined from one non-NaN value in 2 rows, as in empyrical.
//   - Empty input (no rows) gives NaN everywhere. A series whose rows are all NaN has
//     cumulative and annual return 0 and maximum drawdown 0 (empyrical's nanprod and
//     cum_returns treat the missing rows as flat), and NaN for the metrics that need
//     an observation.
//   - The maximum drawdown prepends V_0 = 1 to the wealth path, so a loss in the first
//     period counts. It is <= 0 and, for a non-empty series, never NaN.
//   - Calmar is NaN when there is no drawdown and, as in empyrical, when the ratio
//     overflows to an infinity.
//   - A periods-per-year factor F that is not positive and finite makes every metric
//     that uses it NaN (the functions return a float64, not an error; callers validate
//     their options first).
//
// No function allocates or copies its input; each makes one or two passes over it.
// [Summarize] computes every metric in two passes and returns bitwise the same numbers
// as the individual functions.
//
// # Online estimators
//
// [DifferentialSharpe] is the differential Sharpe ratio of Moody, Wu, Liao and Saffell,
// "Performance functions and reinforcement learning for trading systems and
// portfolios", Journal of Forecasting 17 (1998), in the notation of Moody and Saffell,
// "Learning to trade via direct reinforcement", IEEE Transactions on Neural Networks
// 12(4) (2001), eqs. 14-16: exponential moving estimates A_t, B_t of the first and
// second moments of the returns, and D_t, the first-order sensitivity of the moving
// Sharpe ratio to the adaptation rate eta, so that eta*sum(D_t) approximates the change
// in the Sharpe ratio and D_t serves as an additive per-step reward.
// [DifferentialDownside] is the differential downside deviation ratio of the same 2001
// paper, eqs. 19-24, which penalizes only losses.
//
// Both estimators skip a non-finite return: Update(NaN), Update(+Inf) and Update(-Inf)
// return 0 and leave the state unchanged, so one missing value neither stops nor
// poisons a reward stream. (The batch metrics, following empyrical, treat ±Inf as data.)
// D_t is 0 during warm-up, while the variance estimate is not positive (or its 3/2
// power underflows to zero). Right after warm-up D_t can spike; WarmStart sets the
// moments from a burn-in sample and the Clip field bounds the returned D_t.
//
// Used as a reward, a pure risk-adjusted signal such as D_t has a known failure mode:
// a policy that never trades has zero returns, hence D_t = 0 forever, and may score
// better than one that explores and takes losses on the way; a zero-variance stream
// never leaves warm-up. Reward designers mix in a return term or penalize inactivity;
// see specs/metrics.md, "Used as rewards".
//
// # What this package must not do
//
// It imports only the standard library and nothing of hivegym; it does no I/O, keeps no
// global state, draws no random numbers and never panics on any input values. Reading
// return files and printing reports belong to experiments and cmd/hivegym.
package metrics
