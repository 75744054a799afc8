package market

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/scheme"
)

// GPUSpec is what the engine needs to know of a catalog GPU model. The caller (package
// env) builds the list from the world's hardware catalog; a GPU model id in
// scheme.Terms.GPUModel is its index in Setup.GPUs plus one (0 means any model).
type GPUSpec struct {
	Model    string
	MemoryGB float64
	PowerW   float64
}

// Setup is everything New needs: the market and scheme sections of the config and the
// parts of the world the engine refers to by name (the GPU models and the electricity
// locations) or takes from a scenario. The market does not import the world: the caller
// resolves these.
type Setup struct {
	Engine EngineConfig
	Scheme scheme.Config
	// GPUs are the catalog's GPU models.
	GPUs []GPUSpec
	// CPUWattsPerCore is the draw of one busy CPU core (data.CPUWattsPerCore).
	CPUWattsPerCore float64
	// Locations are the electricity locations, in the order of Exo.Elec.
	Locations []string
	// ChurnPerDay is the probability per provider per day of leaving (a new provider
	// joins in its place); DemandMultiplier multiplies every client's job arrival rate.
	// Scenarios set them (data.ScenarioParams); 0 and 1 are neutral.
	ChurnPerDay      float64
	DemandMultiplier float64
}

// Exo is the exogenous state of one tick, as the caller passes it to BeginTick: token
// prices, the fee markets and electricity prices per location. The market copies what
// it needs; the caller may reuse the value.
type Exo struct {
	// PriceUSD is the USD price of one whole token of each asset.
	PriceUSD [NumAssets]float64
	// Fees are the tick's fee markets (wei).
	Fees FeeMarket
	// Elec is the electricity price of each location, USD per kWh (may be negative).
	Elec []float64
	// ElecForecast is a forecast of each location's price (what agents may plan with);
	// nil means "the current price".
	ElecForecast []float64
}

// Market errors besides the chain's. Like the chain's, they are bare sentinels.
var (
	ErrNoCapacity   = errors.New("market: provider lacks free capacity for the job")
	ErrBadResponse  = errors.New("market: response does not fit the decision")
	ErrBadSwap      = errors.New("market: bad swap")
	ErrPoolDry      = errors.New("market: the pool lacks the asset to pay out")
	ErrNoCandidates = errors.New("market: no provider can run the job")
	ErrSequence     = errors.New("market: call out of sequence")
)

// Agent kinds beyond the scheme's roles: the utility and the swap pool are accounts on
// the chain but not agents.
const roleNone scheme.Role = scheme.RoleSystem

// provClass is a provider class resolved against the catalog and the locations.
type provClass struct {
	name                string
	gpuModel            uint16
	gpus, cpu, ram      int32
	gpuMem, gpuW, idleW float64
	capex               float64
	locs                []int16
	onchain             bool
	failLo, failHi      float64
	wallet              Wallet
	count               int
	members             []AgentID // active providers of the class (the directory)
}

// cliClass is a client class resolved against the catalog.
type cliClass struct {
	cfg      *ClientClass
	gpuModel uint16
	asset    scheme.Asset
}

// provider is the hot state of one provider, by provider slot.
type provider struct {
	agent      AgentID
	class      int16
	loc        int16
	failTick   float64 // failure rate per tick
	freeGPU    int32
	freeCPU    int32
	freeRAM    int32
	running    int32
	drawW      float64 // current power draw
	bill       float64 // accrued unpaid electricity, USD
	dirPos     int32   // position in its class's directory
	allPos     int32   // position in the list of all active providers
	onchain    bool
	joinedTick int64
}

// client is the state of one client, by client slot.
type client struct {
	agent AgentID
	class int16
	rate  float64 // job arrivals per tick
}

// AgentID is the dense id of an agent; it is also its chain account id.
type AgentID = scheme.AgentID

// Market is the marketplace engine: agents, jobs, negotiation threads, the chain, and
// the tick loop of DESIGN.md "One tick". It is not safe for concurrent use; a
// vectorized environment gives each worker its own Market.
type Market struct {
	set   Setup
	cfg   *EngineConfig
	sc    scheme.Config
	sch   scheme.Scheme // the run's scheme (signatures as configured)
	trial scheme.Scheme // the same rules without signatures, for dry runs
	keys  keyring
	priv  []ed25519.PrivateKey
	tph   int64
	tickH float64
	tpd   float64 // ticks per day

	pclass []provClass
	cclass []cliClass
	gpuIdx map[string]uint16

	chain *Chain
	sched GasSchedule
	seed  uint64
	tick  int64
	phase uint8

	// Exogenous state of the tick.
	px       [NumAssets]float64 // USD per whole token
	pxUnit   [NumAssets]float64 // USD per base unit
	gas      GasPrice
	gasGwei  [NumTxKinds]int64
	gasUSD   [NumTxKinds]float64
	elec     []float64
	elecFc   []float64
	initPx   [NumAssets]float64
	locNames []string

	// Per agent (by AgentID == AccountID).
	role     []scheme.Role
	num      []int32 // index within the role: p-N, c-N
	slot     []int32 // provider or client slot
	alive    []bool
	held     []Balances // own funds in escrow (payment or collateral)
	extra    []float64  // USD outside the ledger: realized job value (clients), -unpaid electricity (providers)
	wealth   []float64
	wealth0  []float64
	lastErr  []uint8
	stamp    []uint32
	risk     []riskAcc
	nProv    int32
	nCli     int32
	utility  AgentID
	pool     AgentID
	names    []string // trace names, built only when tracing
	agentIDs int      // number of ids in use

	prov      []provider
	cli       []client
	activeAll []AgentID // all active providers
	arrivals  alias
	rates     []float64

	threads     []liveThread
	freeThreads []int32
	tslot       []int32 // by ThreadID: slot in threads, -1 when ended
	jobs        []job
	freeJobs    []int32

	events   eventHeap
	evSeq    uint32
	outbox   []scheme.Message
	inbox    []scheme.Message
	queue    []Decision
	round    []Decision
	deferred []Decision
	roundNo  uint32
	ready    bool
	frames   [6]sendFrame
	depth    int
	resps    []Response
	checkBuf []scheme.Effect
	checkLT  liveThread
	checkMsg scheme.Message
	cand     []AgentID
	departed []AgentID

	// Capacity in use and in total, for utilization.
	busyGPU, capGPU, busyCPU, capCPU float64

	// dealHook, when set (tests), sees every accepted deal.
	dealHook func(provider, client AgentID, job int32, usdPerHour float64, t *scheme.Terms)
	// outcomes, when non-nil (tests), receives Apply's verdict on each response of a
	// round: outAccepted, outRefused, outSuperseded or outNoCandidates.
	outcomes *[]int8

	rArr, rJob, rDisc, rFail, rVal, rChurn, rPop *rand.Rand

	tr    *TraceWriter
	stats Stats
}

// Phases of the tick loop.
const (
	phaseIdle    uint8 = iota // after Reset or EndTick
	phaseTick                 // between BeginTick and EndTick
	phaseUnready              // before the first Reset
)

// keyring gives the scheme the agents' public keys (signatures ed25519).
type keyring struct{ pub []ed25519.PublicKey }

func (k *keyring) PublicKey(id scheme.AgentID) ed25519.PublicKey {
	if id < 0 || int(id) >= len(k.pub) {
		return nil
	}
	return k.pub[id]
}

// New validates the setup and returns a market. Call Reset before the first tick.
// Errors are *fieldpath.Error values with paths relative to the market section (or
// "scheme..." for the scheme section).
func New(s Setup) (*Market, error) {
	if err := s.Engine.Validate(); err != nil {
		return nil, err
	}
	if err := s.Engine.CheckRefs(s.GPUs, s.Locations); err != nil {
		return nil, err
	}
	if err := s.Scheme.Validate(); err != nil {
		return nil, fieldpath.Under("scheme", err)
	}
	if err := s.Engine.CheckScheme(s.Scheme); err != nil {
		return nil, err
	}
	if err := s.Engine.CheckScenario(s.ChurnPerDay, s.DemandMultiplier, s.Scheme.TicksPerHour); err != nil {
		return nil, err
	}
	if !(s.CPUWattsPerCore >= 0) {
		return nil, fieldpath.Errorf("cpu_watts_per_core", "must be >= 0, got %g", s.CPUWattsPerCore)
	}
	m := &Market{set: s, sc: s.Scheme, phase: phaseUnready}
	m.cfg = &m.set.Engine
	m.tph = s.Scheme.TicksPerHour
	m.tickH = 1 / float64(m.tph)
	m.tpd = 24 * float64(m.tph)
	m.locNames = append([]string(nil), s.Locations...)
	m.elec = make([]float64, len(s.Locations))
	m.elecFc = make([]float64, len(s.Locations))
	m.gpuIdx = map[string]uint16{}
	for i, g := range s.GPUs {
		m.gpuIdx[g.Model] = uint16(i + 1)
	}
	locIdx := map[string]int16{}
	for i, l := range s.Locations {
		locIdx[l] = int16(i)
	}
	for i := range m.cfg.Providers {
		p := &m.cfg.Providers[i]
		pc := provClass{name: p.Name, gpus: int32(p.GPUs), cpu: int32(p.CPUCores), ram: int32(p.RAMGB),
			idleW: p.IdlePowerW, capex: p.CapexUSDPerHour, onchain: p.Observation == ObserveOnchain,
			failLo: p.FailuresPerHour.Min, failHi: p.FailuresPerHour.Max, wallet: p.Wallet, count: p.Count}
		if p.GPUModel != "" {
			pc.gpuModel = m.gpuIdx[p.GPUModel]
			g := s.GPUs[pc.gpuModel-1]
			pc.gpuMem, pc.gpuW = g.MemoryGB, g.PowerW
		}
		for _, l := range p.Locations {
			pc.locs = append(pc.locs, locIdx[l])
		}
		m.pclass = append(m.pclass, pc)
	}
	for i := range m.cfg.Clients {
		c := &m.cfg.Clients[i]
		cc := cliClass{cfg: c, asset: scheme.AssetUSDC}
		if c.PaymentAsset == "HIVE" {
			cc.asset = scheme.AssetHIVE
		}
		if c.GPUModel != "" {
			cc.gpuModel = m.gpuIdx[c.GPUModel]
		}
		m.cclass = append(m.cclass, cc)
	}
	m.sched = m.cfg.Gas.Schedule()
	var err error
	if m.chain, err = NewChain(Config{Gas: m.sched}); err != nil {
		return nil, fieldpath.Under("gas", err)
	}
	m.sched = m.chain.GasSchedule() // an all-zero schedule becomes the chain's default
	trialCfg := s.Scheme
	trialCfg.Signatures = scheme.SignaturesNone
	if m.trial, err = scheme.New(trialCfg, nil); err != nil {
		return nil, fieldpath.Under("scheme", err)
	}
	if s.Scheme.Signatures == scheme.SignaturesEd25519 {
		if m.sch, err = scheme.New(s.Scheme, &m.keys); err != nil {
			return nil, fieldpath.Under("scheme", err)
		}
	} else {
		m.sch = m.trial
	}
	return m, nil
}

// Scheme returns the scheme the market runs.
func (m *Market) Scheme() scheme.Scheme { return m.sch }

// SchemeConfig returns the scheme section the market was built with.
func (m *Market) SchemeConfig() scheme.Config { return m.sc }

// Chain returns the market's chain (read it; do not write to it).
func (m *Market) Chain() *Chain { return m.chain }

// Tick returns the current tick (-1 after Reset, before the first BeginTick).
func (m *Market) Tick() int64 { return m.tick }

// TicksPerHour is the tick resolution the scheme prices with.
func (m *Market) TicksPerHour() int64 { return m.tph }

// NumAgents returns the number of agent ids in use, including the two system accounts
// (the utility and the swap pool), which are not agents (Role reports RoleSystem for
// them). Ids grow when providers join (provider churn).
func (m *Market) NumAgents() int { return m.agentIDs }

// Role returns the role of agent a: RoleClient, RoleProvider, or RoleSystem for the
// utility and pool accounts.
func (m *Market) Role(a AgentID) scheme.Role { return m.role[a] }

// Alive reports whether agent a is in the market (a provider that left is not).
func (m *Market) Alive(a AgentID) bool { return m.alive[a] }

// Name returns the trace name of agent a: "p-N", "c-N", "utility" or "pool".
func (m *Market) Name(a AgentID) string {
	switch {
	case a == m.utility:
		return "utility"
	case a == m.pool:
		return "pool"
	case m.role[a] == scheme.RoleProvider:
		return "p-" + strconv.Itoa(int(m.num[a]))
	}
	return "c-" + strconv.Itoa(int(m.num[a]))
}

// ClassName names the class of agent a (its provider or client class; "" for the
// utility and the pool).
func (m *Market) ClassName(a AgentID) string {
	switch m.role[a] {
	case scheme.RoleProvider:
		return m.pclass[m.prov[m.slot[a]].class].name
	case scheme.RoleClient:
		return m.cclass[m.cli[m.slot[a]].class].cfg.Name
	}
	return ""
}

// streams are the named random streams of a market under a run seed.
func (m *Market) seedStreams(seed uint64) {
	m.rPop = rng.New(seed, "market.population")
	m.rArr = rng.New(seed, "market.arrivals")
	m.rJob = rng.New(seed, "market.jobs")
	m.rDisc = rng.New(seed, "market.discovery")
	m.rFail = rng.New(seed, "market.failures")
	m.rVal = rng.New(seed, "market.validation")
	m.rChurn = rng.New(seed, "market.churn")
}

// Reset starts a new episode under seed: it samples the populations, creates the
// accounts and mints the wallets and the pool's reserves at genesis (tick 0), and
// empties every queue. exo gives the prices at genesis (initial wealth is marked with
// them). With a trace writer set, the genesis line is written. Reset keeps the capacity
// of every slice, so episodes after the first allocate little.
func (m *Market) Reset(seed uint64, exo *Exo) error {
	m.seed = seed
	m.seedStreams(seed)
	m.chain.Reset()
	m.chain.SetEventSink(nil)
	m.tick = 0
	if err := m.setExo(exo); err != nil {
		return err
	}
	m.initPx = m.px
	m.stats = Stats{}
	m.role, m.num, m.slot, m.alive = m.role[:0], m.num[:0], m.slot[:0], m.alive[:0]
	m.held, m.extra, m.wealth, m.wealth0 = m.held[:0], m.extra[:0], m.wealth[:0], m.wealth0[:0]
	m.lastErr, m.stamp, m.risk = m.lastErr[:0], m.stamp[:0], m.risk[:0]
	m.prov, m.cli, m.activeAll, m.rates = m.prov[:0], m.cli[:0], m.activeAll[:0], m.rates[:0]
	m.keys.pub, m.priv, m.names = m.keys.pub[:0], m.priv[:0], m.names[:0]
	m.threads, m.freeThreads, m.tslot = m.threads[:0], m.freeThreads[:0], m.tslot[:0]
	m.jobs, m.freeJobs = m.jobs[:0], m.freeJobs[:0]
	m.events = m.events[:0]
	m.evSeq = 0
	m.outbox, m.inbox, m.queue, m.round, m.deferred = m.outbox[:0], m.inbox[:0], m.queue[:0], m.round[:0], m.deferred[:0]
	m.depth = 0
	m.departed = m.departed[:0]
	m.busyGPU, m.capGPU, m.busyCPU, m.capCPU = 0, 0, 0, 0
	m.roundNo, m.ready = 0, false
	m.nProv, m.nCli, m.agentIDs = 0, 0, 0
	for i := range m.pclass {
		m.pclass[i].members = m.pclass[i].members[:0]
	}

	// Providers, then clients, then the utility and the pool.
	for ci := range m.pclass {
		for range m.pclass[ci].count {
			if _, err := m.addProvider(ci); err != nil {
				return err
			}
		}
	}
	for ci := range m.cclass {
		for range m.cclass[ci].cfg.Count {
			if err := m.addClient(ci); err != nil {
				return err
			}
		}
	}
	var err error
	if m.utility, err = m.addSystem("hivegym/account/utility"); err != nil {
		return err
	}
	if m.pool, err = m.addSystem("hivegym/account/pool"); err != nil {
		return err
	}
	pr := m.cfg.Treasury.Pool
	for a, tokens := range [NumAssets]float64{pr.USDC, pr.ETH, pr.HIVE} {
		if err := m.mint(m.pool, Asset(a), tokens); err != nil {
			return err
		}
	}
	// Job arrivals: one alias table over the clients' rates.
	m.arrivals.build(m.rates)
	for a := range m.agentIDs {
		m.wealth[a] = m.mark(AgentID(a))
		m.wealth0[a] = m.wealth[a]
		m.risk[a] = newRiskAcc()
	}
	if m.tr != nil {
		m.tr.genesis(m)
		m.chain.SetEventSink(m.tr.ledger)
	}
	m.tick = -1
	m.phase = phaseIdle
	return nil
}

// newAgent appends an agent id with its per-agent state.
func (m *Market) newAgent(role scheme.Role, num, slot int32, name string) (AgentID, error) {
	var seed [32]byte
	if name != "" {
		seed = sha256.Sum256([]byte(name))
	} else {
		for i := 0; i < 4; i++ {
			binary.LittleEndian.PutUint64(seed[8*i:], m.rPop.Uint64())
		}
	}
	var pub ed25519.PublicKey
	var priv ed25519.PrivateKey
	if m.sc.Signatures == scheme.SignaturesEd25519 {
		priv = ed25519.NewKeyFromSeed(seed[:])
		pub = priv.Public().(ed25519.PublicKey)
	} else {
		// No signatures: the address only has to be unique, so the 32 random bytes stand
		// in for a public key (deriving a real one costs about 20 µs an agent).
		pub = append(ed25519.PublicKey(nil), seed[:]...)
	}
	id, err := m.chain.AddAccount(pub)
	if err != nil {
		return 0, fmt.Errorf("market: add account: %w", err)
	}
	if int(id) != m.agentIDs {
		panic("market: account ids out of step with agent ids") // internal invariant
	}
	m.agentIDs++
	m.keys.pub = append(m.keys.pub, pub)
	m.priv = append(m.priv, priv)
	m.role = append(m.role, role)
	m.num = append(m.num, num)
	m.slot = append(m.slot, slot)
	m.alive = append(m.alive, role != roleNone)
	m.held = append(m.held, Balances{})
	m.extra = append(m.extra, 0)
	m.wealth = append(m.wealth, 0)
	m.wealth0 = append(m.wealth0, 0)
	m.lastErr = append(m.lastErr, 0)
	m.stamp = append(m.stamp, 0)
	m.risk = append(m.risk, riskAcc{})
	return AgentID(id), nil
}

func (m *Market) addSystem(name string) (AgentID, error) {
	return m.newAgent(roleNone, -1, -1, name)
}

func (m *Market) mint(a AgentID, asset Asset, tokens float64) error {
	u := toUnits(tokens, asset)
	if u <= 0 {
		return nil
	}
	if err := m.chain.Mint(AccountID(a), asset, u); err != nil {
		return fmt.Errorf("market: mint %s for %s: %w", asset, m.Name(a), err)
	}
	return nil
}

func (m *Market) mintWallet(a AgentID, w *Wallet) error {
	for asset, r := range [NumAssets]Range{w.USDC, w.ETH, w.HIVE} {
		if err := m.mint(a, Asset(asset), r.sample(m.rPop)); err != nil {
			return err
		}
	}
	return nil
}

// addProvider samples a provider of class ci, creates its account and mints its wallet.
func (m *Market) addProvider(ci int) (AgentID, error) {
	pc := &m.pclass[ci]
	slot := int32(len(m.prov))
	a, err := m.newAgent(scheme.RoleProvider, m.nProv, slot, "")
	if err != nil {
		return 0, err
	}
	m.nProv++
	p := provider{agent: a, class: int16(ci), onchain: pc.onchain, joinedTick: m.tick}
	p.loc = pc.locs[m.rPop.IntN(len(pc.locs))]
	p.failTick = Range{pc.failLo, pc.failHi}.sample(m.rPop) / float64(m.tph)
	p.freeGPU, p.freeCPU, p.freeRAM = pc.gpus, pc.cpu, pc.ram
	p.drawW = pc.idleW
	m.capGPU += float64(pc.gpus)
	m.capCPU += float64(pc.cpu)
	p.dirPos = int32(len(pc.members))
	pc.members = append(pc.members, a)
	p.allPos = int32(len(m.activeAll))
	m.activeAll = append(m.activeAll, a)
	m.prov = append(m.prov, p)
	if err := m.mintWallet(a, &pc.wallet); err != nil {
		return 0, err
	}
	return a, nil
}

// addClient samples a client of class ci.
func (m *Market) addClient(ci int) error {
	cc := &m.cclass[ci]
	slot := int32(len(m.cli))
	a, err := m.newAgent(scheme.RoleClient, m.nCli, slot, "")
	if err != nil {
		return err
	}
	m.nCli++
	rate := cc.cfg.JobsPerDay.sample(m.rPop) / m.tpd * m.set.DemandMultiplier
	m.cli = append(m.cli, client{agent: a, class: int16(ci), rate: rate})
	m.rates = append(m.rates, rate)
	return m.mintWallet(a, &cc.cfg.Wallet)
}

// setExo copies the tick's exogenous state and derives the gas prices of the tick.
func (m *Market) setExo(exo *Exo) error {
	if exo == nil {
		return fmt.Errorf("market: nil exogenous state")
	}
	for a := Asset(0); a < NumAssets; a++ {
		p := exo.PriceUSD[a]
		if !(p > 0) || math.IsInf(p, 0) {
			return fmt.Errorf("market: %s price %g USD must be positive and finite", a, p)
		}
		m.px[a] = p
		m.pxUnit[a] = p / float64(a.Unit())
	}
	if len(exo.Elec) != len(m.elec) {
		return fmt.Errorf("market: %d electricity prices for %d locations", len(exo.Elec), len(m.elec))
	}
	copy(m.elec, exo.Elec)
	if exo.ElecForecast != nil {
		if len(exo.ElecForecast) != len(m.elecFc) {
			return fmt.Errorf("market: %d electricity forecasts for %d locations", len(exo.ElecForecast), len(m.elecFc))
		}
		copy(m.elecFc, exo.ElecForecast)
	} else {
		copy(m.elecFc, exo.Elec)
	}
	for i, x := range m.elec {
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(m.elecFc[i]) || math.IsInf(m.elecFc[i], 0) {
			return fmt.Errorf("market: electricity price of %s is not finite", m.locNames[i])
		}
	}
	gp, err := m.sched.Price(exo.Fees)
	if err != nil {
		return fmt.Errorf("market: gas price: %w", err)
	}
	m.gas = gp
	for k := TxKind(0); k < NumTxKinds; k++ {
		q, err := m.sched.Quote(k, &m.gas)
		if err != nil {
			return fmt.Errorf("market: gas quote: %w", err)
		}
		m.gasGwei[k] = q.Total
		m.gasUSD[k] = float64(q.Total) * m.pxUnit[ETH]
	}
	return nil
}
