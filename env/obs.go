package env

import (
	"math"

	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// The observation vector: ObsDim float32 features, the same layout for every agent
// (docs/env.md lists them). Features an agent cannot see are zero (Space.Hidden).
const (
	FeatKindRespond = iota // one-hot decision kind
	FeatKindOpen
	FeatKindTreasury
	FeatRoleClient // one-hot role
	FeatRoleProvider
	FeatInRequest // one-hot incoming message type
	FeatInOffer
	FeatInAccept
	FeatInCollateralMissing
	FeatInEscrowLocked
	FeatState0                    // one-hot thread state, 11 features from here (scheme.State order)
	FeatRounds        = iota + 10 // rounds / max_rounds (after the 11 state features)
	FeatOfferLeft                 // ticks to the offer deadline / offer window, in [0, 4]
	FeatSlack                     // (job deadline - now - duration) / duration, in [-1, 4]
	FeatJobHours                  // ln(1 + hours)
	FeatJobGPUs                   // ln(1 + GPUs)
	FeatJobCores                  // ln(1 + cores)
	FeatRefUSDh                   // ln(1 + reference USD per hour): a provider's cost, a client's value
	FeatIncomingRel               // incoming price / reference, in [0, 10]
	FeatMineRel                   // the agent's last price / reference
	FeatFirstRel                  // the thread's first price (the request) / reference
	FeatCollateralRel             // collateral / job cost, in [0, 10]
	FeatEscrowOnChain             // the client's payment is in escrow (a public chain read)
	FeatWaited                    // ln(1 + ticks this decision was postponed)
	FeatWealth                    // ln(1 + wealth USD)
	FeatShareUSDC                 // wallet share of wealth per asset
	FeatShareETH
	FeatShareHIVE
	FeatHeldShare  // own funds in escrow / wealth
	FeatExtraShare // off-ledger USD (realized job value, minus unpaid electricity) / wealth
	FeatGasRunway  // ln(1 + ETH held in USD / an attestation's gas in USD)
	FeatETHLog     // ln(ETH price / ETH price at genesis)
	FeatHIVELog    // ln(HIVE price / HIVE price at genesis)
	FeatGasUSD     // ln(1 + 1000 x an attestation's gas in USD)
	FeatElec       // electricity price at the provider's location, USD/kWh (off-chain)
	FeatElecFc     // its EWMA forecast (off-chain)
	FeatElecSD     // the forecast's standard deviation (off-chain)
	FeatFreeGPU    // free GPU fraction of the provider's machine
	FeatFreeCPU    // free core fraction
	FeatRunning    // ln(1 + jobs running)
	FeatRepCompleted
	FeatRepFailed
	FeatRepCancelled
	FeatRepSlashed // the counterparty's reputation counts, ln(1 + n)
	FeatLastError  // the agent's last refusal code / number of codes (0: none)
	FeatOnchain    // 1 for an IoT-class provider
	FeatProgress   // tick / episode ticks
	// What a negotiator reads from the thread's history and the market (appended, so the
	// features above keep their indices).
	FeatOppPrevRel    // the counterparty's price before its latest one / reference
	FeatOppConcession // the counterparty's latest concession toward the agent / reference, in [-2, 2]
	FeatIdleLeft      // ticks to the thread's idle timeout / idle_timeout, in [0, 1]
	FeatMarketRel     // the market's recent clearing price for a job of this size / reference, in [0, 10]
	FeatMarketDeals   // the market's recent deal rate (deals per request), in [0, 1]
	ObsDim
)

// offchainFeatures are what an IoT-class provider (and every client) does not see.
var offchainFeatures = []int{FeatElec, FeatElecFc, FeatElecSD}

// FeatureNames names the features in order (docs and debugging).
var FeatureNames = func() [ObsDim]string {
	var n [ObsDim]string
	base := map[int]string{
		FeatKindRespond: "kind_respond", FeatKindOpen: "kind_open", FeatKindTreasury: "kind_treasury",
		FeatRoleClient: "role_client", FeatRoleProvider: "role_provider",
		FeatInRequest: "in_request", FeatInOffer: "in_offer", FeatInAccept: "in_accept",
		FeatInCollateralMissing: "in_collateral_missing", FeatInEscrowLocked: "in_escrow_locked",
		FeatRounds: "rounds", FeatOfferLeft: "offer_left", FeatSlack: "slack", FeatJobHours: "job_hours",
		FeatJobGPUs: "job_gpus", FeatJobCores: "job_cores", FeatRefUSDh: "ref_usd_h", FeatIncomingRel: "incoming_rel",
		FeatMineRel: "mine_rel", FeatFirstRel: "first_rel", FeatCollateralRel: "collateral_rel",
		FeatEscrowOnChain: "escrow_on_chain", FeatWaited: "waited", FeatWealth: "wealth",
		FeatShareUSDC: "share_usdc", FeatShareETH: "share_eth", FeatShareHIVE: "share_hive",
		FeatHeldShare: "held_share", FeatExtraShare: "extra_share", FeatGasRunway: "gas_runway",
		FeatETHLog: "eth_log", FeatHIVELog: "hive_log", FeatGasUSD: "gas_usd", FeatElec: "elec",
		FeatElecFc: "elec_forecast", FeatElecSD: "elec_forecast_sd", FeatFreeGPU: "free_gpu",
		FeatFreeCPU: "free_cpu", FeatRunning: "running", FeatRepCompleted: "rep_completed",
		FeatRepFailed: "rep_failed", FeatRepCancelled: "rep_cancelled", FeatRepSlashed: "rep_slashed",
		FeatLastError: "last_error", FeatOnchain: "onchain", FeatProgress: "progress",
		FeatOppPrevRel: "opp_prev_rel", FeatOppConcession: "opp_concession", FeatIdleLeft: "idle_left",
		FeatMarketRel: "market_rel", FeatMarketDeals: "market_deal_rate",
	}
	for i := range n {
		if s, ok := base[i]; ok {
			n[i] = s
		} else {
			n[i] = "state_" + scheme.State(i-FeatState0).String()
		}
	}
	return n
}()

func clamp(x, lo, hi float64) float64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x < lo:
		return lo
	case x > hi:
		return hi
	}
	return x
}

func log1p(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return math.Log1p(x)
}

// encode writes decision d's observation into v (len ObsDim). It does not allocate.
func (e *Env) encode(d *market.Decision, v []float32) {
	clear(v)
	m := e.m
	a := d.Agent
	set := func(i int, x float64) { v[i] = float32(x) }
	switch d.Kind {
	case market.DecideRespond:
		set(FeatKindRespond, 1)
	case market.DecideOpen:
		set(FeatKindOpen, 1)
	case market.DecideTreasury:
		set(FeatKindTreasury, 1)
	}
	role := m.Role(a)
	if role == scheme.RoleClient {
		set(FeatRoleClient, 1)
	} else if role == scheme.RoleProvider {
		set(FeatRoleProvider, 1)
	}
	now := m.Tick()
	sc := m.SchemeConfig()
	// The job or thread the decision is about.
	var terms scheme.Terms
	var th scheme.Thread
	haveThread := false
	switch d.Kind {
	case market.DecideRespond:
		switch d.Incoming.Type {
		case scheme.MsgRequest:
			set(FeatInRequest, 1)
		case scheme.MsgOffer:
			set(FeatInOffer, 1)
		case scheme.MsgAccept:
			set(FeatInAccept, 1)
		case scheme.MsgCollateralMissing:
			set(FeatInCollateralMissing, 1)
		case scheme.MsgEscrowLocked:
			set(FeatInEscrowLocked, 1)
		}
		if t, ok := m.Thread(d.Thread); ok {
			th, haveThread = t, true
			terms = th.Terms
			set(FeatState0+int(th.State), 1)
			set(FeatRounds, float64(th.Rounds)/float64(sc.MaxRounds))
			if m.EscrowOnChain(d.Thread) {
				set(FeatEscrowOnChain, 1)
			}
		}
	case market.DecideOpen:
		terms = m.JobTerms(d.Job, 1)
	}
	if d.Kind == market.DecideRespond || d.Kind == market.DecideOpen {
		set(FeatOfferLeft, clamp(float64(terms.OfferDeadline-now)/float64(sc.OfferWindow), 0, 4))
		if terms.Duration > 0 {
			set(FeatSlack, clamp(float64(terms.JobDeadline-now-terms.Duration)/float64(terms.Duration), -1, 4))
		}
		set(FeatJobHours, log1p(float64(terms.Duration)/float64(m.TicksPerHour())))
		set(FeatJobGPUs, log1p(float64(terms.GPUCount)))
		set(FeatJobCores, log1p(float64(terms.CPUCores)))
		ref := e.reference(d, &terms)
		set(FeatRefUSDh, log1p(ref))
		if ref > 0 {
			rel := func(units int64) float64 { return clamp(m.UnitUSD(units, terms.Asset)/ref, 0, 10) }
			if d.Kind == market.DecideRespond {
				set(FeatIncomingRel, rel(d.Incoming.Terms.PricePerHour))
			}
			if haveThread {
				var hist [market.HistoryLen]market.PricePoint
				h := m.History(d.Thread, hist[:0])
				mine := role == scheme.RoleProvider
				for i := len(h) - 1; i >= 0; i-- {
					if h[i].FromProvider == mine {
						set(FeatMineRel, rel(h[i].Price))
						break
					}
				}
				if len(h) > 0 {
					set(FeatFirstRel, rel(h[0].Price))
				}
				// The counterparty's two latest prices: where it stood before, and how far
				// its latest price moved toward the agent (up for a client paying a
				// provider, down for a provider asking a client).
				last, prev, n := int64(0), int64(0), 0
				for i := len(h) - 1; i >= 0 && n < 2; i-- {
					if h[i].FromProvider != mine {
						if n == 0 {
							last = h[i].Price
						} else {
							prev = h[i].Price
						}
						n++
					}
				}
				if n == 2 {
					set(FeatOppPrevRel, rel(prev))
					step := m.UnitUSD(last-prev, terms.Asset) / ref
					if !mine {
						step = -step
					}
					set(FeatOppConcession, clamp(step, -2, 2))
				}
			}
			if mp := e.marketPrice(&terms); mp > 0 {
				set(FeatMarketRel, clamp(mp/ref, 0, 10))
			}
		}
		if cost, ok := m.JobCostUnits(&terms); ok && cost > 0 && haveThread {
			set(FeatCollateralRel, clamp(float64(terms.Collateral)/float64(cost), 0, 10))
		}
		set(FeatWaited, log1p(float64(d.Waited)))
		if idle := sc.IdleTimeout; idle > 0 && haveThread && th.State < scheme.StateRunning {
			set(FeatIdleLeft, clamp(float64(th.LastActivity+idle-now)/float64(idle), 0, 1))
		}
	}
	if !math.IsNaN(e.mkt.dealRate) {
		set(FeatMarketDeals, clamp(e.mkt.dealRate, 0, 1))
	}
	// The agent's wallet.
	w := m.WealthUSD(a)
	set(FeatWealth, log1p(w))
	bal, held := m.Wallet(a), m.Held(a)
	if w > 0 {
		var heldUSD float64
		for x := market.Asset(0); x < market.NumAssets; x++ {
			usd := m.UnitUSD(bal[x], scheme.Asset(x))
			heldUSD += m.UnitUSD(held[x], scheme.Asset(x))
			set(FeatShareUSDC+int(x), clamp(usd/w, 0, 1))
		}
		set(FeatHeldShare, clamp(heldUSD/w, 0, 1))
		set(FeatExtraShare, clamp((w-walletUSD(m, bal)-heldUSD)/w, -1, 1))
	}
	gas := m.GasUSD(market.TxAttestation)
	if gas > 0 {
		set(FeatGasRunway, log1p(m.UnitUSD(bal[market.ETH], scheme.AssetETH)/gas))
	}
	set(FeatETHLog, math.Log(m.PriceUSD(market.ETH)/m.InitialPriceUSD(market.ETH)))
	set(FeatHIVELog, math.Log(m.PriceUSD(market.HIVE)/m.InitialPriceUSD(market.HIVE)))
	set(FeatGasUSD, log1p(1000*gas))
	if mc, ok := m.Machine(a); ok {
		if !mc.Onchain {
			p, _ := m.Electricity(a)
			set(FeatElec, p)
			set(FeatElecFc, e.exo.ElecForecast[mc.Location])
			set(FeatElecSD, e.fcSD[mc.Location])
		} else {
			set(FeatOnchain, 1)
		}
		if mc.GPUs > 0 {
			set(FeatFreeGPU, float64(mc.FreeGPUs)/float64(mc.GPUs))
		}
		set(FeatFreeCPU, float64(mc.FreeCPUCores)/float64(mc.CPUCores))
		set(FeatRunning, log1p(float64(mc.Running)))
	}
	if haveThread {
		other := th.Client
		if a == th.Client {
			other = th.Provider
		}
		rep := m.Reputation(other)
		set(FeatRepCompleted, log1p(float64(rep.Completed)))
		set(FeatRepFailed, log1p(float64(rep.Failed)))
		set(FeatRepCancelled, log1p(float64(rep.Cancelled)))
		set(FeatRepSlashed, log1p(float64(rep.Slashed)))
	}
	set(FeatLastError, float64(m.LastErrorCode(a))/float64(market.NumErrorCodes))
	set(FeatProgress, float64(now)/float64(e.s.Env.EpisodeTicks))
}

func walletUSD(m *market.Market, b market.Balances) float64 {
	var s float64
	for x := market.Asset(0); x < market.NumAssets; x++ {
		s += m.UnitUSD(b[x], scheme.Asset(x))
	}
	return s
}

// reference is the decision's reference price per hour, USD: a provider's cost of the
// job, a client's value of it.
func (e *Env) reference(d *market.Decision, t *scheme.Terms) float64 {
	if e.m.Role(d.Agent) == scheme.RoleProvider {
		return e.m.ProviderCostUSD(d.Agent, t)
	}
	return e.m.ClientValueUSD(d.Job)
}

// marketStats follows the market's recent clearing prices: exponentially weighted
// means, over the ticks with deals, of each tick's volume-weighted price per GPU-hour
// (GPU deals) and per core-hour (CPU-only deals), and of the deal rate (deals per job
// requested) over the ticks with requests. NaN until the first such tick.
type marketStats struct {
	prev              market.Stats
	gpuHour, coreHour float64
	dealRate          float64
}

// marketAlpha is the weight of the latest tick in the market's means: about an hour of
// 5-minute ticks of memory.
const marketAlpha = 1.0 / 12

func ewma(mean, x float64) float64 {
	if math.IsNaN(mean) {
		return x
	}
	return mean + marketAlpha*(x-mean)
}

func (s *marketStats) reset(m *market.Market) {
	s.prev = m.Stats()
	s.gpuHour, s.coreHour, s.dealRate = math.NaN(), math.NaN(), math.NaN()
}

// update folds in the tick that just ended.
func (s *marketStats) update(m *market.Market) {
	st := m.Stats()
	p := &s.prev
	if h := st.GPUHoursDealt - p.GPUHoursDealt; h > 0 {
		s.gpuHour = ewma(s.gpuHour, (st.GPUDealUSD-p.GPUDealUSD)/h)
	}
	if h := st.CPUHoursDealt - p.CPUHoursDealt; h > 0 {
		s.coreHour = ewma(s.coreHour, (st.CPUDealUSD-p.CPUDealUSD)/h)
	}
	if r := st.JobsRequested - p.JobsRequested; r > 0 {
		s.dealRate = ewma(s.dealRate, float64(st.Deals-p.Deals)/float64(r))
	}
	s.prev = st
}

// marketPrice is the market's recent clearing price per hour, USD, of a job of terms'
// size (its GPUs at the GPU-hour price, or its cores at the core-hour price); 0 when
// the market has cleared no such deal yet.
func (e *Env) marketPrice(t *scheme.Terms) float64 {
	var x float64
	if t.GPUCount > 0 {
		x = e.mkt.gpuHour * float64(t.GPUCount)
	} else {
		x = e.mkt.coreHour * float64(t.CPUCores)
	}
	if math.IsNaN(x) {
		return 0
	}
	return x
}
