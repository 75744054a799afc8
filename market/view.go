package market

import (
	"errors"
	"math"

	"github.com/hivegym/hivegym/scheme"
)

// The read-only views an agent may consult when it decides: its own state, the public
// chain, the tick's prices. They do not allocate.

// errCodes lists the errors an agent can be told about, by code (LastError); code 0 is
// "no error".
var errCodes = []error{
	nil,
	scheme.ErrBadMessage, scheme.ErrWrongThread, scheme.ErrForgedSystem, scheme.ErrNotParty,
	scheme.ErrBadSignature, scheme.ErrTerminal, scheme.ErrStaleSeq, scheme.ErrWrongRole,
	scheme.ErrWrongState, scheme.ErrBadTerms, scheme.ErrPastDeadline, scheme.ErrTooManyRounds,
	scheme.ErrNoEscrow,
	ErrInsufficientFunds, ErrInsufficientGas, ErrPastDeadline, ErrNoCapacity, ErrBadResponse,
	ErrBadSwap, ErrPoolDry, ErrNoCandidates, errLockRejected,
}

// NumErrorCodes is the number of error codes LastErrorCode can return (0 included).
var NumErrorCodes = len(errCodes)

func errCode(err error) uint8 {
	for i := 1; i < len(errCodes); i++ {
		if errors.Is(err, errCodes[i]) {
			return uint8(i)
		}
	}
	return uint8(len(errCodes) - 1)
}

// LastError returns the error of agent a's latest refused message, swap or lock
// transaction, nil if none yet. The agent learns of a refusal through it.
func (m *Market) LastError(a AgentID) error { return errCodes[m.lastErr[a]] }

// LastErrorCode is LastError as a small integer (0: none), for observation vectors.
func (m *Market) LastErrorCode(a AgentID) int { return int(m.lastErr[a]) }

// Departed returns the providers that left the market this tick (provider churn). The
// slice is reused.
func (m *Market) Departed() []AgentID { return m.departed }

// Wallet returns agent a's balances.
func (m *Market) Wallet(a AgentID) Balances {
	b, _ := m.chain.Balances(AccountID(a))
	return b
}

// Held returns agent a's own funds held in escrow (payment or collateral).
func (m *Market) Held(a AgentID) Balances { return m.held[a] }

// PriceUSD returns the tick's USD price of one whole token of asset.
func (m *Market) PriceUSD(asset Asset) float64 { return m.px[asset] }

// InitialPriceUSD returns the USD price of asset at genesis.
func (m *Market) InitialPriceUSD(asset Asset) float64 { return m.initPx[asset] }

// UnitUSD converts base units of asset to USD at the tick's price.
func (m *Market) UnitUSD(units int64, asset scheme.Asset) float64 {
	return float64(units) * m.pxUnit[asset]
}

// USDUnits converts USD to base units of asset at the tick's price (rounded to the
// nearest unit, at least 1 for a positive amount).
func (m *Market) USDUnits(usd float64, asset scheme.Asset) int64 {
	x := usd / m.pxUnit[asset]
	if !(x < 1<<62) {
		return 1 << 62
	}
	u := int64(math.Round(x))
	if u < 1 && usd > 0 {
		u = 1
	}
	return u
}

// GasUSD returns what one transaction of kind k costs this tick, in USD.
func (m *Market) GasUSD(k TxKind) float64 { return m.gasUSD[k] }

// GasGwei returns what one transaction of kind k costs this tick, in gwei (ETH base units).
func (m *Market) GasGwei(k TxKind) int64 { return m.gasGwei[k] }

// Reputation returns agent a's public deal history (from the chain).
func (m *Market) Reputation(a AgentID) Reputation { return m.chain.Reputation(AccountID(a)) }

// Thread returns thread id's current state; ok is false once the thread has ended.
func (m *Market) Thread(id scheme.ThreadID) (scheme.Thread, bool) {
	lt := m.live(id)
	if lt == nil {
		return scheme.Thread{}, false
	}
	return lt.th, true
}

// ThreadOpened returns the tick thread id was opened (its request), or -1.
func (m *Market) ThreadOpened(id scheme.ThreadID) int64 {
	lt := m.live(id)
	if lt == nil {
		return -1
	}
	return lt.opened
}

// PricePoint is one price of a thread's history: a request or an offer.
type PricePoint struct {
	Price        int64 // per hour, base units of the thread's asset
	FromProvider bool
}

// History appends the thread's latest prices (at most HistoryLen, oldest first) to dst.
func (m *Market) History(id scheme.ThreadID, dst []PricePoint) []PricePoint {
	lt := m.live(id)
	if lt == nil {
		return dst
	}
	for i := uint8(0); i < lt.histN; i++ {
		dst = append(dst, PricePoint{Price: lt.hist[i], FromProvider: lt.histFrom&(1<<i) != 0})
	}
	return dst
}

// EscrowOnChain reports whether the client's payment for thread id is in escrow: a chain
// read, as a provider does before it starts.
func (m *Market) EscrowOnChain(id scheme.ThreadID) bool {
	_, _, ok := m.chain.EscrowOf(ThreadID(id))
	return ok
}

// Job returns the spec of job j (a Decision's Job).
func (m *Market) Job(j int32) JobSpec {
	if j < 0 || int(j) >= len(m.jobs) {
		return JobSpec{}
	}
	return m.jobs[j].spec
}

// Machine is a provider's machine and what of it is free.
type Machine struct {
	Class                            string
	GPUModel                         uint16
	GPUs, CPUCores, RAMGB            int
	FreeGPUs, FreeCPUCores, FreeRAM  int
	GPUMemoryGB, GPUPowerW, IdleW    float64
	Running                          int
	DrawW                            float64
	Location                         int
	FailuresPerHour, CapexUSDPerHour float64
	Onchain                          bool // an IoT-class provider: sees only on-chain data
	UnpaidElectricityUSD             float64
}

// Machine returns provider a's machine; ok is false for a client.
func (m *Market) Machine(a AgentID) (Machine, bool) {
	if m.role[a] != scheme.RoleProvider {
		return Machine{}, false
	}
	p := &m.prov[m.slot[a]]
	pc := &m.pclass[p.class]
	return Machine{Class: pc.name, GPUModel: pc.gpuModel, GPUs: int(pc.gpus), CPUCores: int(pc.cpu), RAMGB: int(pc.ram),
		FreeGPUs: int(p.freeGPU), FreeCPUCores: int(p.freeCPU), FreeRAM: int(p.freeRAM), GPUMemoryGB: pc.gpuMem,
		GPUPowerW: pc.gpuW, IdleW: pc.idleW, Running: int(p.running), DrawW: p.drawW, Location: int(p.loc),
		FailuresPerHour: p.failTick * float64(m.tph), CapexUSDPerHour: pc.capex, Onchain: p.onchain,
		UnpaidElectricityUSD: p.bill}, true
}

// Electricity returns the electricity price at provider a's location this tick and its
// forecast, USD per kWh (0, 0 for a client).
func (m *Market) Electricity(a AgentID) (price, forecast float64) {
	if m.role[a] != scheme.RoleProvider {
		return 0, 0
	}
	l := m.prov[m.slot[a]].loc
	return m.elec[l], m.elecFc[l]
}

// CanRun reports whether provider a has the free capacity for terms t now.
func (m *Market) CanRun(a AgentID, t *scheme.Terms) bool {
	if m.role[a] != scheme.RoleProvider {
		return false
	}
	return m.freeFits(&m.prov[m.slot[a]], t.GPUCount, t.CPUCores, t.RAMGB)
}

// ProviderCostUSD is provider a's cost of one hour of the job in terms t, in USD: the
// electricity of the job's GPUs and cores at the location's current price, the gas of
// the provider's transactions of a deal (collateral lock, sell attestation, and the
// validation and settlement it claims on success) spread over the job's hours, and the
// job's share of the machine's capex (the larger of its GPU and core shares).
func (m *Market) ProviderCostUSD(a AgentID, t *scheme.Terms) float64 {
	if m.role[a] != scheme.RoleProvider || t.Duration <= 0 {
		return math.NaN()
	}
	p := &m.prov[m.slot[a]]
	pc := &m.pclass[p.class]
	hours := float64(t.Duration) / float64(m.tph)
	watts := float64(t.GPUCount)*pc.gpuW + float64(t.CPUCores)*m.set.CPUWattsPerCore
	elec := watts / 1000 * m.elec[p.loc]
	gas := 2*m.gasUSD[TxAttestation] + m.gasUSD[TxSettlement]
	if t.Collateral > 0 {
		gas += m.gasUSD[TxCollateralLock]
	}
	share := 0.0
	if pc.gpus > 0 {
		share = float64(t.GPUCount) / float64(pc.gpus)
	}
	share = math.Max(share, float64(t.CPUCores)/float64(pc.cpu))
	return elec + gas/hours + pc.capex*math.Min(share, 1)
}

// ClientValueUSD is what one hour of job j is worth to its client net of the client's
// gas for a deal (escrow lock and buy attestation), USD: the most it can pay per hour
// without losing money.
func (m *Market) ClientValueUSD(j int32) float64 {
	s := m.Job(j)
	hours := s.Hours(m.tph)
	if !(hours > 0) {
		return math.NaN()
	}
	return (s.ValueUSD - m.gasUSD[TxEscrowLock] - m.gasUSD[TxAttestation]) / hours
}

// JobCostUnits is the escrowed payment of terms t (scheme.JobCost at the market's tick
// resolution); ok is false when it overflows.
func (m *Market) JobCostUnits(t *scheme.Terms) (int64, bool) { return scheme.JobCost(t, m.tph) }
