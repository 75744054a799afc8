package market

import (
	"math"

	"github.com/hivegym/hivegym/scheme"
)

// Stats are the market's running counters for an episode (since Reset).
type Stats struct {
	Ticks int64
	// Jobs.
	JobsArrived   int64 // jobs that arrived
	JobsRequested int64 // jobs the client requested (sent to candidates)
	JobsDeclined  int64 // jobs the client dropped
	JobsExpired   int64 // jobs postponed past max_wait_ticks
	NoCandidates  int64 // jobs no provider could run (no class fits, or none free)
	JobsUnmatched int64 // requested jobs whose every thread ended without a deal
	// Threads and messages.
	Threads            int64
	Messages           int64                       // accepted messages, system events included
	ByType             [16]int64                   // accepted messages by scheme.MsgType
	Rejected           int64                       // agent messages the scheme or the chain refused
	SystemRejected     int64                       // system events refused (a thread that ended meanwhile, a late escrow)
	AutoRejected       int64                       // engine-sent messages refused (a delivery after the job deadline)
	Superseded         int64                       // answers to a thread that ended earlier in the same round
	Auto               int64                       // messages the engine sent on an agent's behalf
	Decisions          int64                       // decisions answered
	ByKind             [numDecisionKinds + 1]int64 // decisions answered by kind
	Deals              int64                       // offers accepted
	Started            int64                       // jobs started (attestation:start)
	Completed          int64                       // settled with the result approved
	ValidationRejected int64                       // settled with the result rejected
	Failed             int64                       // jobs failed (reliability, churn, job deadline)
	Timeouts           int64                       // threads terminated by a deadline or the idle timeout
	CollateralMissing  int64                       // collateral_missing messages
	Slashes            int64                       // collateral slashed
	LockFailed         int64                       // escrow lock transactions that reverted
	EscrowSkipped      int64                       // accepts sent without a lock (cheating clients)
	// Money.
	DealUSD       float64 // value of accepted deals at their price, USD
	GPUHoursDealt float64
	GPUDealUSD    float64
	CPUHoursDealt float64 // core-hours of CPU-only deals
	CPUDealUSD    float64
	ValueUSD      float64 // job value realized by clients (approved results)
	GasTxs        int64   // on-chain transactions charged
	GasByKind     [NumTxKinds]int64
	GasGwei       int64
	GasUSD        float64
	GasWaived     int64   // settlements whose claimant could not pay the gas
	ElecUSD       float64 // electricity accrued by providers
	ElecPaidUSD   float64 // electricity bills paid
	Swaps         int64
	SwapsRejected int64
	Holds         int64
	// Capacity, summed per tick, for utilization.
	BusyGPUTicks, GPUTicks, BusyCPUTicks, CPUTicks float64
	// Population changes (provider churn).
	Joins, Leaves int64
}

// DealRate is deals per job requested.
func (s *Stats) DealRate() float64 { return ratio(float64(s.Deals), float64(s.JobsRequested)) }

// MeanGPUHourUSD is the volume-weighted mean deal price per GPU-hour, USD.
func (s *Stats) MeanGPUHourUSD() float64 { return ratio(s.GPUDealUSD, s.GPUHoursDealt) }

// MeanCoreHourUSD is the volume-weighted mean price per core-hour of CPU-only deals.
func (s *Stats) MeanCoreHourUSD() float64 { return ratio(s.CPUDealUSD, s.CPUHoursDealt) }

// GPUUtilization is the mean fraction of the active providers' GPUs running jobs.
func (s *Stats) GPUUtilization() float64 { return ratio(s.BusyGPUTicks, s.GPUTicks) }

// CPUUtilization is the mean fraction of the active providers' cores running jobs.
func (s *Stats) CPUUtilization() float64 { return ratio(s.BusyCPUTicks, s.CPUTicks) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// Stats returns the episode's counters so far.
func (m *Market) Stats() Stats { return m.stats }

// riskAcc accumulates an agent's per-tick returns online, for the risk metrics of
// specs/metrics.md without storing the series: the count, the sums of the returns and of
// their squares shifted by the first return (the shifted-data variance of Chan, Golub
// and LeVeque, "Algorithms for computing the sample variance", Am. Stat. 37(3), 1983,
// which stays accurate because returns barely move around their first value and needs
// no division per update), the downside sum of squares below 0, and the wealth index
// with its running peak for the drawdown. An exactly constant series is flagged, so its
// deviation is exactly zero as specs/metrics.md asks.
type riskAcc struct {
	n     int64
	first float64
	sum   float64 // sum of (r - first)
	sumsq float64 // sum of (r - first)^2
	down2 float64 // sum of min(r, 0)^2
	idx   float64 // wealth index, starts at 1
	peak  float64
	mdd   float64
	varys bool // some return differs from the first
}

func newRiskAcc() riskAcc { return riskAcc{idx: 1, peak: 1} }

func (a *riskAcc) add(r float64) {
	if a.n == 0 {
		a.first = r
	}
	a.n++
	d := r - a.first
	a.sum += d
	a.sumsq += d * d
	a.varys = a.varys || d != 0
	// min(r, 0)^2 without a branch: the sign bit selects r^2.
	a.down2 += r * r * float64(math.Float64bits(r)>>63)
	a.idx *= 1 + r
	if a.idx > a.peak {
		a.peak = a.idx
	} else if a.idx < a.peak*(1+a.mdd) {
		a.mdd = a.idx/a.peak - 1
	}
}

func (a *riskAcc) mean() float64 { return a.first + a.sum/float64(a.n) }

// Risk are one agent's risk metrics over the episode (specs/metrics.md, with the
// risk-free rate and the MAR at 0), annualized with the periods per year of the tick.
type Risk struct {
	Ticks            int64
	CumulativeReturn float64
	Sharpe           float64
	Sortino          float64
	MaxDrawdown      float64
}

func (a *riskAcc) risk(periodsPerYear float64) Risk {
	r := Risk{Ticks: a.n, CumulativeReturn: a.idx - 1, MaxDrawdown: a.mdd, Sharpe: math.NaN(), Sortino: math.NaN()}
	if a.n == 0 {
		r.CumulativeReturn, r.MaxDrawdown = math.NaN(), math.NaN()
		return r
	}
	if a.n >= 2 {
		mean := a.mean()
		sd := 0.0
		if a.varys {
			n := float64(a.n)
			sd = math.Sqrt(math.Max(a.sumsq-a.sum*a.sum/n, 0) / (n - 1))
		}
		switch {
		case sd > 0:
			r.Sharpe = mean / sd * math.Sqrt(periodsPerYear)
		case mean > 0:
			r.Sharpe = math.Inf(1)
		case mean < 0:
			r.Sharpe = math.Inf(-1)
		}
		dr := math.Sqrt(a.down2/float64(a.n)) * math.Sqrt(periodsPerYear)
		switch {
		case dr > 0:
			r.Sortino = mean * periodsPerYear / dr
		case mean > 0:
			r.Sortino = math.Inf(1)
		}
	}
	return r
}

// PeriodsPerYear is the annualization factor of the tick (365-day years).
func (m *Market) PeriodsPerYear() float64 { return float64(m.tph) * 24 * 365 }

// Risk returns agent a's risk metrics so far.
func (m *Market) Risk(a AgentID) Risk { return m.risk[a].risk(m.PeriodsPerYear()) }

// RoleMetrics are the mean metrics of the agents of one role: every agent that was in
// the market during the episode counts; a mean is over the agents whose metric is
// finite (Finite counts them for the Sharpe ratio).
type RoleMetrics struct {
	Agents           int
	MeanWealthUSD    float64 // at the end
	MeanChangeUSD    float64 // wealth at the end minus at the start (or at joining)
	CumulativeReturn float64
	Sharpe           float64
	Sortino          float64
	MaxDrawdown      float64
	FiniteSharpe     int
}

// RoleMetrics summarizes the agents of role r.
func (m *Market) RoleMetrics(r scheme.Role) RoleMetrics {
	var out RoleMetrics
	var sum [4]float64
	var cnt [4]int
	f := m.PeriodsPerYear()
	for a := 0; a < m.agentIDs; a++ {
		if m.role[a] != r {
			continue
		}
		out.Agents++
		out.MeanWealthUSD += m.wealth[a]
		out.MeanChangeUSD += m.wealth[a] - m.wealth0[a]
		k := m.risk[a].risk(f)
		for i, x := range [4]float64{k.CumulativeReturn, k.Sharpe, k.Sortino, k.MaxDrawdown} {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				sum[i] += x
				cnt[i]++
			}
		}
	}
	if out.Agents == 0 {
		nan := math.NaN()
		return RoleMetrics{MeanWealthUSD: nan, MeanChangeUSD: nan, CumulativeReturn: nan, Sharpe: nan, Sortino: nan, MaxDrawdown: nan}
	}
	out.MeanWealthUSD /= float64(out.Agents)
	out.MeanChangeUSD /= float64(out.Agents)
	vals := [4]*float64{&out.CumulativeReturn, &out.Sharpe, &out.Sortino, &out.MaxDrawdown}
	for i, p := range vals {
		*p = ratio(sum[i], float64(cnt[i]))
	}
	out.FiniteSharpe = cnt[1]
	return out
}

// mark values agent a in USD: its wallet plus its own funds held in escrow (a client's
// payment until it is paid out, a provider's collateral until it is returned or
// slashed), at the tick's prices, plus what it holds outside the ledger (a client's
// realized job value, minus a provider's unpaid electricity).
func (m *Market) mark(a AgentID) float64 {
	b, _ := m.chain.Balances(AccountID(a))
	h := &m.held[a]
	return float64(b[USDC]+h[USDC])*m.pxUnit[USDC] + float64(b[ETH]+h[ETH])*m.pxUnit[ETH] +
		float64(b[HIVE]+h[HIVE])*m.pxUnit[HIVE] + m.extra[a]
}

// markAll marks every agent and records the tick's return r = W_t / W_{t-1} - 1 of every
// agent in the market: one tight pass over struct-of-arrays state (the chain's balances,
// the funds held in escrow, the off-ledger USD, the wealth and the risk accumulators).
// The utility and pool accounts are marked too (it is cheaper than skipping them) but
// they are not alive, so they record no returns.
func (m *Market) markAll() {
	n := m.agentIDs
	bal := m.chain.AllBalances()[:n]
	held, extra, wealth := m.held[:n], m.extra[:n], m.wealth[:n]
	alive, risk := m.alive[:n], m.risk[:n]
	p0, p1, p2 := m.pxUnit[USDC], m.pxUnit[ETH], m.pxUnit[HIVE]
	for a := range bal {
		b, h := &bal[a], &held[a]
		w := float64(b[USDC]+h[USDC])*p0 + float64(b[ETH]+h[ETH])*p1 + float64(b[HIVE]+h[HIVE])*p2 + extra[a]
		if prev := wealth[a]; alive[a] && prev > 0 {
			risk[a].add(w/prev - 1)
		}
		wealth[a] = w
	}
}

// MarkUSD values agent a now, at the tick's prices (WealthUSD is the value at the last
// mark).
func (m *Market) MarkUSD(a AgentID) float64 { return m.mark(a) }

// WealthUSD returns agent a's wealth in USD at the last mark (EndTick, or Reset).
func (m *Market) WealthUSD(a AgentID) float64 { return m.wealth[a] }

// InitialWealthUSD returns agent a's wealth at genesis (or when it joined).
func (m *Market) InitialWealthUSD(a AgentID) float64 { return m.wealth0[a] }
