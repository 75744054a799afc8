package market

import (
	"errors"
	"fmt"
	"math"

	"github.com/hivegym/hivegym/scheme"
)

// The tick loop (DESIGN.md "One tick"):
//
//	BeginTick(exo)          electricity bills, provider churn, the calendar (escrow
//	                        landings, job completions and failures, validations,
//	                        deadline and idle-timeout checks), delivery of last tick's
//	                        messages, postponed decisions, job arrivals, treasury turns
//	for ds := Decisions(); len(ds) > 0; ds = Decisions() {
//	    Apply(answers)      scheme Step, chain effects, new messages into the outbox
//	}
//	EndTick()               electricity accrual, wallets marked to market, returns
//
// Decisions returns at most one decision per agent (a round); an agent with several
// decisions in a tick gets them in successive rounds, each posed on the state its
// earlier answers left, so what a decision allows is what Apply accepts.

// BeginTick advances to the next tick with the exogenous state exo and poses the tick's
// decisions. After an error from provider churn (a new provider's wallet that the ledger
// cannot mint, see churn) the market must be Reset before it is used again.
func (m *Market) BeginTick(exo *Exo) error {
	if m.phase != phaseIdle {
		return fmt.Errorf("%w: BeginTick before Reset or before the previous EndTick", ErrSequence)
	}
	if err := m.setExo(exo); err != nil {
		return err
	}
	m.tick++
	if err := m.chain.SetTick(m.tick); err != nil {
		return err
	}
	m.phase = phaseTick
	m.stats.Ticks++
	m.departed = m.departed[:0]
	// Messages sent last tick are delivered this tick.
	m.inbox, m.outbox = m.outbox, m.inbox[:0]
	if m.tick > 0 && m.tick%int64(m.cfg.Electricity.BillingPeriodTicks) == 0 {
		m.payBills()
	}
	if m.set.ChurnPerDay > 0 {
		if err := m.churn(); err != nil {
			m.phase = phaseUnready // the population is half changed: only Reset may follow
			return err
		}
	}
	for {
		e, ok := m.events.peek()
		if !ok || e.at > m.tick {
			break
		}
		m.events.pop()
		m.fire(e)
	}
	// Postponed decisions first (they are older), then deliveries, arrivals, treasury.
	for i := range m.deferred {
		d := m.deferred[i]
		d.Waited++
		m.queue = append(m.queue, d)
	}
	m.deferred = m.deferred[:0]
	for i := range m.inbox {
		m.deliver(&m.inbox[i])
	}
	m.arrive()
	if p := int64(m.cfg.Treasury.PeriodTicks); p > 0 {
		for a := m.tick % p; a < int64(m.agentIDs); a += p {
			if m.alive[a] {
				m.queue = append(m.queue, Decision{Agent: AgentID(a), Kind: DecideTreasury, Role: m.role[a], Thread: -1, Job: -1})
			}
		}
	}
	m.ready = false
	return nil
}

// Decisions returns the next round of the tick's decisions: at most one per agent, in
// a deterministic order (postponed, delivered, arrived, treasury). An empty result means
// the tick has no more decisions: call EndTick. The slice is reused; it is valid until
// the next Apply.
func (m *Market) Decisions() []Decision {
	if m.phase != phaseTick {
		return nil
	}
	if m.ready {
		return m.round
	}
	m.roundNo++
	m.round = m.round[:0]
	rest := m.queue[:0]
	for i := range m.queue {
		d := m.queue[i]
		if m.stamp[d.Agent] == m.roundNo {
			rest = append(rest, d)
			continue
		}
		if !m.pose(&d) {
			continue
		}
		m.stamp[d.Agent] = m.roundNo
		m.round = append(m.round, d)
	}
	m.queue = rest
	m.ready = true
	return m.round
}

// pose checks that a queued decision still stands and refreshes what it allows.
func (m *Market) pose(d *Decision) bool {
	if !m.alive[d.Agent] {
		return false
	}
	switch d.Kind {
	case DecideRespond:
		lt := m.live(d.Thread)
		if lt == nil || lt.th.State != d.State {
			return false
		}
		d.Allowed = scheme.Allowed(m.sch, &lt.th, d.Role, m.tick)
		return d.Allowed != 0
	case DecideOpen:
		return m.jobs[d.Job].state == jobPending
	}
	return true
}

// Apply answers the current round: resps[i] answers Decisions()[i]. A response the
// scheme or the chain refuses is recorded (trace, statistics, the agent's LastError),
// not returned: only a call out of sequence or a length mismatch is an error.
func (m *Market) Apply(resps []Response) error {
	if m.phase != phaseTick || !m.ready {
		return fmt.Errorf("%w: Apply without a round from Decisions", ErrSequence)
	}
	if len(resps) != len(m.round) {
		return fmt.Errorf("%w: %d responses for %d decisions", ErrBadResponse, len(resps), len(m.round))
	}
	if m.outcomes != nil {
		*m.outcomes = (*m.outcomes)[:0]
	}
	for i := range m.round {
		d := &m.round[i]
		m.stats.Decisions++
		m.stats.ByKind[d.Kind]++
		var before Stats
		if m.outcomes != nil {
			before = m.stats
		}
		switch d.Kind {
		case DecideRespond:
			m.respond(d, &resps[i])
		case DecideOpen:
			m.openJob(d, &resps[i])
		case DecideTreasury:
			m.treasury(d, &resps[i])
		}
		if m.outcomes != nil {
			*m.outcomes = append(*m.outcomes, outcome(&before, &m.stats))
		}
	}
	m.ready = false
	return nil
}

// Verdicts on a response, for tests (Market.outcomes).
const (
	outAccepted int8 = iota
	outRefused
	outSuperseded
	outNoCandidates
)

func outcome(before, after *Stats) int8 {
	switch {
	case after.Superseded > before.Superseded:
		return outSuperseded
	case after.Rejected > before.Rejected || after.SwapsRejected > before.SwapsRejected:
		return outRefused
	case after.NoCandidates > before.NoCandidates:
		return outNoCandidates
	}
	return outAccepted
}

// EndTick closes the tick: providers accrue the electricity of the tick, every wallet
// is marked to market in USD and each agent's return of the tick is recorded.
// Decisions of the tick not yet answered are postponed to the next tick.
func (m *Market) EndTick() error {
	if m.phase != phaseTick {
		return fmt.Errorf("%w: EndTick without BeginTick", ErrSequence)
	}
	if m.ready && len(m.round) > 0 {
		return fmt.Errorf("%w: EndTick with %d decisions of the round unanswered", ErrSequence, len(m.round))
	}
	m.deferred = append(m.deferred, m.queue...)
	m.queue = m.queue[:0]
	m.accrue()
	m.markAll()
	m.stats.BusyGPUTicks += m.busyGPU
	m.stats.GPUTicks += m.capGPU
	m.stats.BusyCPUTicks += m.busyCPU
	m.stats.CPUTicks += m.capCPU
	m.phase = phaseIdle
	return nil
}

// Step runs one whole tick with policy p answering every round.
func (m *Market) Step(exo *Exo, p Policy) error {
	if err := m.BeginTick(exo); err != nil {
		return err
	}
	for ds := m.Decisions(); len(ds) > 0; ds = m.Decisions() {
		m.resps = resizeResp(m.resps, len(ds))
		p.Act(m, ds, m.resps)
		if err := m.Apply(m.resps); err != nil {
			return err
		}
	}
	return m.EndTick()
}

func resizeResp(s []Response, n int) []Response {
	if cap(s) < n {
		s = make([]Response, n, 2*n)
	}
	s = s[:n]
	clear(s)
	return s
}

// --- calendar and delivery --------------------------------------------------------------

func (m *Market) fire(e event) {
	lt := m.live(scheme.ThreadID(e.id))
	if lt == nil {
		return
	}
	switch e.kind {
	case evTimer:
		if lt.timer != e.at {
			return // superseded by an earlier timer
		}
		lt.timer = math.MaxInt64
		m.system(lt, scheme.MsgTick, false)
		if lt = m.live(scheme.ThreadID(e.id)); lt != nil {
			m.arm(lt)
		}
	case evLand:
		m.landEscrow(lt)
	case evComplete:
		if lt.th.State == scheme.StateRunning {
			m.complete(lt)
		}
	case evFail:
		if lt.th.State == scheme.StateRunning {
			m.system(lt, scheme.MsgJobFailed, false)
		}
	case evValidate:
		m.validate(lt)
	}
}

// deliver turns a message delivered this tick into a decision for its recipient when
// the thread still waits for the recipient's answer.
func (m *Market) deliver(msg *scheme.Message) {
	lt := m.live(msg.Thread)
	if lt == nil {
		return
	}
	var want scheme.State
	to := msg.To
	switch msg.Type {
	case scheme.MsgRequest:
		want = scheme.StateRequested
	case scheme.MsgOffer:
		want = scheme.StateOffered
		if msg.From == lt.th.Client {
			want = scheme.StateCountered
		}
	case scheme.MsgAccept, scheme.MsgEscrowLocked:
		want = scheme.StateAccepted
		to = lt.th.Provider
	case scheme.MsgCollateralMissing:
		want = scheme.StateAwaitingEscrow
	default:
		return
	}
	if lt.th.State != want || !m.alive[to] {
		return
	}
	role := scheme.RoleClient
	if to == lt.th.Provider {
		role = scheme.RoleProvider
	}
	m.queue = append(m.queue, Decision{Agent: to, Kind: DecideRespond, Role: role, Thread: msg.Thread,
		Job: lt.job, Incoming: *msg, State: want})
}

// arm schedules the thread's next deadline or idle-timeout check, if it is earlier than
// the one pending. A check that finds nothing due reschedules itself.
func (m *Market) arm(lt *liveThread) {
	if lt.th.State.Terminal() {
		return
	}
	t := &lt.th.Terms
	due := int64(math.MaxInt64)
	for _, x := range [3]int64{t.OfferDeadline, t.JobDeadline, t.ArbitrationDeadline} {
		if x > m.tick && x < due {
			due = x
		}
	}
	if idle := m.sc.IdleTimeout; idle > 0 && lt.th.State < scheme.StateRunning {
		if x := lt.th.LastActivity + idle; x > m.tick && x < due {
			due = x
		}
	}
	if due < lt.timer {
		lt.timer = due
		m.schedule(due, evTimer, int32(lt.th.ID))
	}
}

// --- responses -----------------------------------------------------------------------

func (m *Market) respond(d *Decision, r *Response) {
	lt := m.live(d.Thread)
	if lt == nil || lt.th.State != d.State {
		m.stats.Superseded++
		return
	}
	if r.Type == 0 {
		m.deferred = append(m.deferred, *d)
		return
	}
	var msg scheme.Message
	if err := m.build(lt, d, r, &msg); err != nil {
		m.refuse(d.Agent, err)
		return
	}
	if msg.Type == 0 {
		m.deferred = append(m.deferred, *d) // verified, no escrow, nothing to send: wait
		return
	}
	m.send(lt, msg, sendOpts{skipEscrow: r.SkipEscrow})
}

// build turns a response into the message the agent sends on lt.
func (m *Market) build(lt *liveThread, d *Decision, r *Response, msg *scheme.Message) error {
	th := &lt.th
	*msg = scheme.Message{Thread: th.ID, From: d.Agent, Type: r.Type, Terms: th.Terms}
	role, ok := th.RoleOf(d.Agent)
	if !ok || role == scheme.RoleSystem {
		return ErrBadResponse
	}
	msg.Seq = th.NextSeq(role)
	if role == scheme.RoleClient {
		msg.To = th.Provider
	} else {
		msg.To = th.Client
	}
	switch r.Type {
	case scheme.MsgOffer:
		msg.Terms.PricePerHour = r.Price
		if r.SetCollateral {
			msg.Terms.Collateral = r.Collateral
		}
	case scheme.MsgAttestation:
		msg.Stage = scheme.StageStart
		if th.State == scheme.StateRunning {
			msg.Stage = scheme.StageComplete
		}
		if r.VerifyEscrow && msg.Stage == scheme.StageStart && !th.Has(scheme.FlagEscrowLocked) {
			if _, _, onChain := m.chain.EscrowOf(ThreadID(th.ID)); !onChain {
				if m.sch.Legal(th.State, role).Has(scheme.MsgCollateralMissing) {
					msg.Type = scheme.MsgCollateralMissing
					msg.Stage = scheme.StageNone
				} else {
					msg.Type = 0
				}
			}
		}
	case scheme.MsgTerminate:
		msg.Reason = r.Reason
		if msg.Reason == 0 {
			msg.Reason = scheme.ReasonRejected
		}
	case scheme.MsgAccept, scheme.MsgCollateralMissing:
	default:
		return ErrBadResponse
	}
	return nil
}

func (m *Market) refuse(a AgentID, err error) {
	m.stats.Rejected++
	m.lastErr[a] = errCode(err)
}

// sendOpts carries what a message's sender decided beyond the message itself.
type sendOpts struct {
	auto       bool // sent by the engine on the agent's behalf
	skipEscrow bool // a client's accept without its lock transaction
	lockEscrow bool // an EscrowLocked event: move the client's payment first
}

// send steps the thread with msg and, if the scheme accepts it and the chain can apply
// every effect, applies them; otherwise the thread is unchanged and the refusal is
// recorded. It reports whether the message was accepted.
func (m *Market) send(lt *liveThread, in scheme.Message, o sendOpts) bool {
	f := m.frame()
	defer m.releaseFrame()
	f.msg = in
	msg := &f.msg
	sys := msg.From == scheme.SystemID
	if !sys && m.sc.Signatures == scheme.SignaturesEd25519 {
		scheme.Sign(msg, m.priv[msg.From])
	}
	saved := lt.th
	effs, err := m.sch.Step(&lt.th, msg, m.tick, f.effs[:0])
	f.effs = effs[:0]
	if err == nil {
		var pre [2][NumAssets]int64
		if o.lockEscrow {
			pre[0][lt.th.Terms.Asset] += lt.th.Escrow
			pre[0][ETH] += m.gasGwei[TxEscrowLock]
		}
		if err = m.precheck(lt, effs, pre); err != nil {
			lt.th = saved
		}
	}
	if err != nil {
		switch {
		case sys:
			m.stats.SystemRejected++
		case o.auto:
			m.stats.AutoRejected++ // the engine's own message on the agent's behalf
		default:
			m.refuse(msg.From, err)
		}
		if m.tr != nil {
			m.tr.message(m, msg, false, err, o.auto)
		}
		return false
	}
	if msg.Type == scheme.MsgTick && len(effs) == 0 {
		return true // a deadline check that found nothing due is not an event
	}
	m.stats.Messages++
	m.stats.ByType[msg.Type]++
	if o.auto {
		m.stats.Auto++
	}
	if m.tr != nil {
		m.tr.message(m, msg, true, nil, o.auto)
	}
	if o.lockEscrow {
		th := &lt.th
		c := th.Client
		mustOp(m.chain.LockEscrow(ThreadID(th.ID), AccountID(c), Asset(th.Terms.Asset), th.Escrow))
		m.held[c][th.Terms.Asset] += th.Escrow
		m.chargeGas(th.ID, c, TxEscrowLock)
	}
	var fx effectsOut
	m.applyEffects(lt, effs, &fx)
	m.afterAccept(lt, msg, o, &fx)
	return true
}

// sendFrame is the scratch space of one send: the message and its effects. Messages are
// stepped from these market-owned frames, never from the stack, because a pointer that
// crosses the Scheme interface escapes to the heap.
type sendFrame struct {
	msg  scheme.Message
	effs []scheme.Effect
}

// frame returns the frame of the current nesting depth of send (a message's
// follow-ups, such as the escrow lock landing after an accept, send messages of their
// own while the outer send is still running).
func (m *Market) frame() *sendFrame {
	if m.depth >= len(m.frames) {
		panic("market: messages nested too deeply") // internal invariant
	}
	f := &m.frames[m.depth]
	m.depth++
	return f
}

func (m *Market) releaseFrame() { m.depth-- }

// precheck verifies that the chain can apply every effect of an accepted Step: the
// parties can pay what they lock and the gas of their transactions (pre adds what the
// caller will move first, client then provider), attestations are inside their
// deadlines, and a provider that starts has the free capacity. Settlement gas is not
// checked: it is waived when the claimant cannot pay it.
func (m *Market) precheck(lt *liveThread, effs []scheme.Effect, pre [2][NumAssets]int64) error {
	th := &lt.th
	need := pre
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case scheme.EffStateChange:
			if e.ToState == scheme.StateRunning && !lt.reserved {
				p := &m.prov[m.slot[th.Provider]]
				if !m.freeFits(p, th.Terms.GPUCount, th.Terms.CPUCores, th.Terms.RAMGB) {
					return ErrNoCapacity
				}
			}
		case scheme.EffLockCollateral:
			need[1][e.Asset] += e.Amount
			need[1][ETH] += m.gasGwei[TxCollateralLock]
		case scheme.EffAttest:
			switch e.Attest {
			case scheme.AttestBuy:
				if m.tick >= th.Terms.OfferDeadline {
					return ErrPastDeadline
				}
				need[0][ETH] += m.gasGwei[TxAttestation]
			case scheme.AttestSell:
				if m.tick >= th.Terms.JobDeadline {
					return ErrPastDeadline
				}
				need[1][ETH] += m.gasGwei[TxAttestation]
			case scheme.AttestValidation:
				if m.tick >= th.Terms.ArbitrationDeadline {
					return ErrPastDeadline
				}
			}
		}
	}
	for side, a := range [2]AgentID{th.Client, th.Provider} {
		for asset := Asset(0); asset < NumAssets; asset++ {
			if n := need[side][asset]; n > 0 && m.chain.Balance(AccountID(a), asset) < n {
				if asset == ETH {
					return ErrInsufficientGas
				}
				return ErrInsufficientFunds
			}
		}
	}
	return nil
}

// effectsOut collects what applying a message's effects asks the engine to do next.
type effectsOut struct {
	lock      bool // RequestEscrowLock: the client's lock transaction
	ended     bool
	settled   bool
	validated bool
	claimant  AgentID
}

// applyEffects maps each effect to its chain op (one op per kind, DESIGN.md), charging
// the gas of every on-chain write at the tick's price, and runs the engine's hooks on
// state changes. precheck has made every op succeed; a failure here is a broken
// invariant.
func (m *Market) applyEffects(lt *liveThread, effs []scheme.Effect, fx *effectsOut) {
	th := &lt.th
	tid := ThreadID(th.ID)
	fx.claimant = -1
	payClaim := false
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case scheme.EffStateChange:
			if m.tr != nil {
				m.tr.state(m, th, e.FromState, e.ToState)
			}
			m.onState(lt, e.FromState, e.ToState, fx)
		case scheme.EffRequestEscrowLock:
			fx.lock = true
		case scheme.EffLockCollateral:
			mustOp(m.chain.LockCollateral(tid, AccountID(e.From), Asset(e.Asset), e.Amount))
			m.held[e.From][e.Asset] += e.Amount
			m.chargeGas(th.ID, e.From, TxCollateralLock)
		case scheme.EffPayProvider:
			mustOp(m.chain.PayProvider(tid))
			m.held[th.Client][e.Asset] -= e.Amount
			fx.settled, payClaim, fx.claimant = true, true, th.Provider
		case scheme.EffRefundClient:
			mustOp(m.chain.RefundClient(tid))
			m.held[th.Client][e.Asset] -= e.Amount
			fx.settled = true
			if !payClaim {
				fx.claimant = th.Client
			}
		case scheme.EffReturnCollateral:
			mustOp(m.chain.ReturnCollateral(tid))
			m.held[th.Provider][e.Asset] -= e.Amount
			fx.settled = true
			if fx.claimant < 0 {
				fx.claimant = th.Provider
			}
		case scheme.EffSlashCollateral:
			mustOp(m.chain.SlashCollateral(tid))
			m.held[th.Provider][e.Asset] -= e.Amount
			m.stats.Slashes++
			fx.settled = true
			if !payClaim {
				fx.claimant = th.Client
			}
		case scheme.EffAttest:
			m.attest(lt, e, fx)
		}
	}
	if fx.settled || fx.validated {
		c := fx.claimant
		if c < 0 {
			c = th.Provider
		}
		var total int64
		if fx.settled {
			total += m.gasGwei[TxSettlement]
		}
		if fx.validated {
			total += m.gasGwei[TxAttestation]
		}
		if m.chain.Balance(AccountID(c), ETH) >= total {
			if fx.validated {
				m.chargeGas(th.ID, c, TxAttestation)
			}
			if fx.settled {
				m.chargeGas(th.ID, c, TxSettlement)
			}
		} else {
			m.stats.GasWaived++
		}
	}
}

func (m *Market) attest(lt *liveThread, e *scheme.Effect, fx *effectsOut) {
	th := &lt.th
	t := &th.Terms
	tid := ThreadID(th.ID)
	switch e.Attest {
	case scheme.AttestBuy:
		uid, err := m.chain.Attest(AttestRequest{Schema: SchemaBuy, Thread: tid, Attester: AccountID(th.Client), Recipient: AccountID(th.Provider),
			Data: AttestationData{JobCost: e.Amount, PaymentAsset: Asset(t.Asset), CollateralRequested: t.Collateral,
				OfferDeadline: t.OfferDeadline, JobDeadline: t.JobDeadline, ArbitrationDeadline: t.ArbitrationDeadline}})
		mustOp(err)
		lt.buy = uid
		m.chargeGas(th.ID, th.Client, TxAttestation)
	case scheme.AttestSell:
		uid, err := m.chain.Attest(AttestRequest{Schema: SchemaSell, Thread: tid, Attester: AccountID(th.Provider), Recipient: AccountID(th.Client),
			RefUID: lt.buy, Data: AttestationData{Collateral: t.Collateral}})
		mustOp(err)
		lt.sell = uid
		m.chargeGas(th.ID, th.Provider, TxAttestation)
	case scheme.AttestValidation:
		_, err := m.chain.Attest(AttestRequest{Schema: SchemaValidation, Thread: tid, Attester: AcctEscrow, Recipient: AccountID(th.Provider),
			RefUID: lt.sell, Data: AttestationData{Approved: e.Approved}})
		mustOp(err)
		fx.validated = true
	}
}

func mustOp(err error) {
	if err != nil {
		panic("market: chain refused a prechecked op: " + err.Error()) // internal invariant
	}
}

// chargeGas charges one transaction's gas (prechecked) and counts it.
func (m *Market) chargeGas(t scheme.ThreadID, a AgentID, k TxKind) {
	mustOp(m.chain.ChargeGas(ThreadID(t), AccountID(a), k, &m.gas))
	m.stats.GasTxs++
	m.stats.GasByKind[k]++
	m.stats.GasGwei += m.gasGwei[k]
	m.stats.GasUSD += m.gasUSD[k]
}

// onState runs the engine's hooks on a thread's state change.
func (m *Market) onState(lt *liveThread, from, to scheme.State, fx *effectsOut) {
	th := &lt.th
	if to == scheme.StateRunning && !lt.reserved {
		m.startJob(lt)
	}
	if from == scheme.StateRunning && lt.reserved {
		m.releaseJob(lt)
	}
	if !to.Terminal() {
		return
	}
	fx.ended = true
	switch to {
	case scheme.StateSettled:
		if th.Has(scheme.FlagApproved) {
			m.stats.Completed++
			if j := &m.jobs[lt.job]; j.deal == th.ID {
				m.extra[th.Client] += j.spec.ValueUSD // the client has its result
				m.stats.ValueUSD += j.spec.ValueUSD
			}
		} else {
			m.stats.ValidationRejected++
		}
	case scheme.StateFailed:
		m.stats.Failed++
	case scheme.StateTerminated:
		if th.Reason == scheme.ReasonTimeout {
			m.stats.Timeouts++
		}
	}
}

// startJob reserves the provider's capacity for the job of lt and schedules its end:
// completion after its duration, or a failure first, drawn from the provider's failure
// rate (an exponential time to failure, which is the per-tick Bernoulli failure process
// of a constant rate, sampled once).
func (m *Market) startJob(lt *liveThread) {
	th := &lt.th
	p := &m.prov[m.slot[th.Provider]]
	pc := &m.pclass[p.class]
	t := &th.Terms
	p.freeGPU -= int32(t.GPUCount)
	p.freeCPU -= int32(t.CPUCores)
	p.freeRAM -= int32(t.RAMGB)
	p.running++
	lt.powerW = float64(t.GPUCount)*pc.gpuW + float64(t.CPUCores)*m.set.CPUWattsPerCore
	p.drawW += lt.powerW
	lt.reserved = true
	lt.started = m.tick
	m.busyGPU += float64(t.GPUCount)
	m.busyCPU += float64(t.CPUCores)
	m.stats.Started++
	end := m.tick + t.Duration
	if p.failTick > 0 {
		// Compared as a float: a tiny failure rate gives a time to failure beyond int64,
		// whose conversion would depend on the CPU.
		ttf := math.Ceil(m.rFail.ExpFloat64() / p.failTick)
		if ttf >= 1 && ttf < float64(end-m.tick) {
			m.schedule(m.tick+int64(ttf), evFail, int32(th.ID))
			return
		}
	}
	m.schedule(end, evComplete, int32(th.ID))
}

func (m *Market) releaseJob(lt *liveThread) {
	th := &lt.th
	p := &m.prov[m.slot[th.Provider]]
	t := &th.Terms
	p.freeGPU += int32(t.GPUCount)
	p.freeCPU += int32(t.CPUCores)
	p.freeRAM += int32(t.RAMGB)
	p.running--
	p.drawW -= lt.powerW
	if p.running == 0 {
		p.drawW = m.pclass[p.class].idleW // no drift from float sums
	}
	lt.reserved = false
	m.busyGPU -= float64(t.GPUCount)
	m.busyCPU -= float64(t.CPUCores)
}

// afterAccept does what an accepted message sets in motion: prices into the history,
// deal bookkeeping, the escrow lock transaction, sibling cancellations, validation,
// delivery to the recipient next tick, the thread's timer, and the end of the thread.
func (m *Market) afterAccept(lt *liveThread, msg *scheme.Message, o sendOpts, fx *effectsOut) {
	th := &lt.th
	tid := th.ID
	deliverIt := false
	switch msg.Type {
	case scheme.MsgRequest:
		lt.pushPrice(msg.Terms.PricePerHour, false)
		deliverIt = true
	case scheme.MsgOffer:
		lt.pushPrice(msg.Terms.PricePerHour, msg.From == th.Provider)
		deliverIt = true
	case scheme.MsgAccept:
		// A retry after collateral_missing is not delivered: the provider hears of the
		// escrow_locked event when (and if) the new lock lands.
		deliverIt = !lt.missing
		if j := &m.jobs[lt.job]; j.deal < 0 {
			j.deal = tid
			j.state = jobDealt
			m.stats.Deals++
			m.dealStats(lt)
		}
	case scheme.MsgCollateralMissing:
		m.stats.CollateralMissing++
		lt.missing = true
		deliverIt = true
	case scheme.MsgAttestation, scheme.MsgTerminate:
		deliverIt = true
	case scheme.MsgEscrowLocked:
		// The provider learns of a late lock that brought the thread back to Accepted.
		if th.State == scheme.StateAccepted && lt.missing {
			lt.missing = false
			deliverIt = true
		}
	}
	if deliverIt {
		out := *msg
		if msg.Type == scheme.MsgEscrowLocked {
			out.To = th.Provider
		}
		m.outbox = append(m.outbox, out)
	}
	if fx.lock {
		if o.skipEscrow {
			m.stats.EscrowSkipped++
		} else if m.cfg.Escrow.DelayTicks == 0 {
			m.landEscrow(lt)
		} else {
			m.schedule(m.tick+int64(m.cfg.Escrow.DelayTicks), evLand, int32(tid))
		}
	}
	if msg.Type == scheme.MsgAccept && th.State == scheme.StateAccepted {
		m.cancelSiblings(lt)
	}
	if th.State == scheme.StateDelivered && msg.Type == scheme.MsgAttestation {
		m.scheduleValidation(lt)
	}
	if m.live(tid) == nil {
		return // ended by a follow-up
	}
	if fx.ended || th.State.Terminal() {
		m.endThread(lt)
		return
	}
	m.arm(lt)
}

// dealStats records an accepted deal's volume and price.
func (m *Market) dealStats(lt *liveThread) {
	t := &lt.th.Terms
	usdPerHour := float64(t.PricePerHour) * m.pxUnit[t.Asset]
	hours := float64(t.Duration) / float64(m.tph)
	m.stats.DealUSD += usdPerHour * hours
	if t.GPUCount > 0 {
		m.stats.GPUHoursDealt += hours * float64(t.GPUCount)
		m.stats.GPUDealUSD += usdPerHour * hours
	} else {
		m.stats.CPUHoursDealt += hours * float64(t.CPUCores)
		m.stats.CPUDealUSD += usdPerHour * hours
	}
	if m.dealHook != nil {
		m.dealHook(lt.th.Provider, lt.th.Client, lt.job, usdPerHour, t)
	}
}

// cancelSiblings ends the other threads of an accepted job: the client cancels them.
func (m *Market) cancelSiblings(lt *liveThread) {
	j := &m.jobs[lt.job]
	for i := int32(0); i < j.n; i++ {
		tid := j.first + scheme.ThreadID(i)
		if tid == lt.th.ID {
			continue
		}
		s := m.live(tid)
		if s == nil || s.th.State.Terminal() || s.th.State >= scheme.StateAccepted {
			continue
		}
		msg := scheme.Message{Thread: tid, From: s.th.Client, To: s.th.Provider, Seq: s.th.NextSeq(scheme.RoleClient),
			Type: scheme.MsgTerminate, Reason: scheme.ReasonCancelled, Terms: s.th.Terms}
		m.send(s, msg, sendOpts{auto: true})
	}
}

// endThread frees an ended thread's slot and settles its job's bookkeeping.
func (m *Market) endThread(lt *liveThread) {
	tid := lt.th.ID
	if lt.reserved {
		m.releaseJob(lt)
	}
	j := &m.jobs[lt.job]
	j.open--
	if j.open == 0 { // the job's last thread: the job is over
		if j.deal < 0 {
			m.stats.JobsUnmatched++
		}
		m.freeJob(lt.job)
	}
	s := m.tslot[tid]
	lt.used = false
	m.tslot[tid] = -1
	m.freeThreads = append(m.freeThreads, s)
}

// --- system events ---------------------------------------------------------------------

// system sends a system event (from SystemID) on lt.
func (m *Market) system(lt *liveThread, typ scheme.MsgType, approved bool) bool {
	msg := scheme.Message{Thread: lt.th.ID, From: scheme.SystemID, To: scheme.SystemID, Type: typ, Approved: approved}
	return m.send(lt, msg, sendOpts{})
}

// landEscrow lands the client's escrow lock transaction: if the client can pay the
// payment and the gas, the EscrowLocked event is stepped and the funds move; otherwise
// the transaction reverts (it still pays the lock's gas when it can).
func (m *Market) landEscrow(lt *liveThread) {
	th := &lt.th
	c := th.Client
	asset := Asset(th.Terms.Asset)
	var need Balances
	need[asset] += th.Escrow
	need[ETH] += m.gasGwei[TxEscrowLock]
	var err error
	for a := Asset(0); a < NumAssets; a++ {
		if m.chain.Balance(AccountID(c), a) < need[a] {
			err = ErrInsufficientFunds
		}
	}
	if err == nil {
		msg := scheme.Message{Thread: th.ID, From: scheme.SystemID, To: scheme.SystemID, Type: scheme.MsgEscrowLocked}
		if m.send(lt, msg, sendOpts{lockEscrow: true}) {
			return
		}
		err = errLockRejected
	}
	// The transaction reverted.
	m.stats.LockFailed++
	m.lastErr[c] = errCode(err)
	if m.tr != nil {
		m.tr.tx(m, "escrow_lock", c, th.ID, err)
	}
	if m.chain.Balance(AccountID(c), ETH) >= m.gasGwei[TxEscrowLock] {
		m.chargeGas(th.ID, c, TxEscrowLock)
	}
}

var errLockRejected = errors.New("market: escrow lock reverted: the thread refused it")

// complete delivers a running job whose work is done: the provider's automatic
// attestation:complete (compute-marketplace), or, in a scheme without a delivery
// message (coophive-apiary), straight to validation.
func (m *Market) complete(lt *liveThread) {
	th := &lt.th
	if m.sch.Legal(scheme.StateRunning, scheme.RoleProvider).Has(scheme.MsgAttestation) {
		msg := scheme.Message{Thread: th.ID, From: th.Provider, To: th.Client, Seq: th.NextSeq(scheme.RoleProvider),
			Type: scheme.MsgAttestation, Stage: scheme.StageComplete, Terms: th.Terms}
		m.send(lt, msg, sendOpts{auto: true})
		return
	}
	if lt.reserved {
		m.releaseJob(lt) // the machine is free; the thread waits for the verdict
	}
	m.scheduleValidation(lt)
}

func (m *Market) scheduleValidation(lt *liveThread) {
	if d := m.cfg.Validation.DelayTicks; d > 0 {
		m.schedule(m.tick+int64(d), evValidate, int32(lt.th.ID))
		return
	}
	m.validate(lt)
}

// validate judges a delivered result: approved unless the validator errs (a correct
// result rejected with probability validation.error_rate; providers in hivegym always
// do the work).
func (m *Market) validate(lt *liveThread) {
	if !m.sch.Legal(lt.th.State, scheme.RoleSystem).Has(scheme.MsgValidated) {
		return
	}
	approved := m.rVal.Float64() >= m.cfg.Validation.ErrorRate
	m.system(lt, scheme.MsgValidated, approved)
}
