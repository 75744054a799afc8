package scheme

import (
	"errors"
	"math/big"
)

// The slow, obviously-correct reference model: a literal table of the transitions of
// shared/specs/scheme.md, and a reference step written as a flat list of the spec's
// checks, with maps and big integers instead of the machine's bit tricks. Random
// sequences (property_test.go) and the fuzz target compare the machine against it.

type refKey struct {
	scheme string
	state  State
	role   Role
	typ    MsgType
}

const (
	cm = ComputeMarketplace
	ap = CoopHiveApiary
	rc = RoleClient
	rp = RoleProvider
	rs = RoleSystem
)

// refTable maps (scheme, state, role, type) to the states an accepted message may lead
// to. A combination that is missing is illegal.
var refTable = map[refKey][]State{
	{cm, StateIdle, rc, MsgRequest}:                {StateRequested},
	{cm, StateIdle, rs, MsgTick}:                   {StateIdle},
	{cm, StateRequested, rp, MsgOffer}:             {StateOffered},
	{cm, StateRequested, rc, MsgTerminate}:         {StateTerminated},
	{cm, StateRequested, rp, MsgTerminate}:         {StateTerminated},
	{cm, StateRequested, rs, MsgTick}:              {StateRequested, StateTerminated},
	{cm, StateOffered, rc, MsgOffer}:               {StateCountered},
	{cm, StateOffered, rc, MsgAccept}:              {StateAccepted},
	{cm, StateOffered, rc, MsgTerminate}:           {StateTerminated},
	{cm, StateOffered, rp, MsgTerminate}:           {StateTerminated},
	{cm, StateOffered, rs, MsgTick}:                {StateOffered, StateTerminated},
	{cm, StateCountered, rp, MsgOffer}:             {StateOffered},
	{cm, StateCountered, rc, MsgTerminate}:         {StateTerminated},
	{cm, StateCountered, rp, MsgTerminate}:         {StateTerminated},
	{cm, StateCountered, rs, MsgTick}:              {StateCountered, StateTerminated},
	{cm, StateAccepted, rp, MsgAttestation}:        {StateRunning},
	{cm, StateAccepted, rp, MsgCollateralMissing}:  {StateAwaitingEscrow},
	{cm, StateAccepted, rc, MsgTerminate}:          {StateTerminated},
	{cm, StateAccepted, rp, MsgTerminate}:          {StateTerminated},
	{cm, StateAccepted, rs, MsgEscrowLocked}:       {StateAccepted},
	{cm, StateAccepted, rs, MsgTick}:               {StateAccepted, StateTerminated},
	{cm, StateAwaitingEscrow, rc, MsgAccept}:       {StateAwaitingEscrow},
	{cm, StateAwaitingEscrow, rp, MsgAttestation}:  {StateRunning},
	{cm, StateAwaitingEscrow, rc, MsgTerminate}:    {StateTerminated},
	{cm, StateAwaitingEscrow, rp, MsgTerminate}:    {StateTerminated},
	{cm, StateAwaitingEscrow, rs, MsgEscrowLocked}: {StateAccepted},
	{cm, StateAwaitingEscrow, rs, MsgTick}:         {StateAwaitingEscrow, StateTerminated},
	{cm, StateRunning, rp, MsgAttestation}:         {StateDelivered},
	{cm, StateRunning, rs, MsgEscrowLocked}:        {StateRunning}, // verify: agent only
	{cm, StateRunning, rs, MsgJobFailed}:           {StateFailed},
	{cm, StateRunning, rs, MsgTick}:                {StateRunning, StateFailed},
	{cm, StateDelivered, rs, MsgEscrowLocked}:      {StateDelivered}, // verify: agent only
	{cm, StateDelivered, rs, MsgValidated}:         {StateSettled},
	{cm, StateDelivered, rs, MsgTick}:              {StateDelivered, StateSettled},

	{ap, StateIdle, rc, MsgRequest}:          {StateRequested},
	{ap, StateIdle, rs, MsgTick}:             {StateIdle},
	{ap, StateRequested, rp, MsgOffer}:       {StateOffered},
	{ap, StateRequested, rc, MsgTerminate}:   {StateTerminated},
	{ap, StateRequested, rp, MsgTerminate}:   {StateTerminated},
	{ap, StateRequested, rs, MsgTick}:        {StateRequested, StateTerminated},
	{ap, StateOffered, rc, MsgOffer}:         {StateCountered},
	{ap, StateOffered, rc, MsgAccept}:        {StateAccepted},
	{ap, StateOffered, rc, MsgTerminate}:     {StateTerminated},
	{ap, StateOffered, rp, MsgTerminate}:     {StateTerminated},
	{ap, StateOffered, rs, MsgTick}:          {StateOffered, StateTerminated},
	{ap, StateCountered, rp, MsgOffer}:       {StateOffered},
	{ap, StateCountered, rc, MsgTerminate}:   {StateTerminated},
	{ap, StateCountered, rp, MsgTerminate}:   {StateTerminated},
	{ap, StateCountered, rs, MsgTick}:        {StateCountered, StateTerminated},
	{ap, StateAccepted, rp, MsgAttestation}:  {StateRunning},
	{ap, StateAccepted, rc, MsgTerminate}:    {StateTerminated},
	{ap, StateAccepted, rp, MsgTerminate}:    {StateTerminated},
	{ap, StateAccepted, rs, MsgEscrowLocked}: {StateAccepted},
	{ap, StateAccepted, rs, MsgTick}:         {StateAccepted, StateTerminated},
	{ap, StateRunning, rs, MsgValidated}:     {StateSettled},
	{ap, StateRunning, rs, MsgJobFailed}:     {StateFailed},
	{ap, StateRunning, rs, MsgTick}:          {StateRunning, StateFailed},
}

// refSenders: who may ever send each agent message type (the spec's message table).
var refSenders = map[MsgType][]Role{
	MsgRequest:           {rc},
	MsgOffer:             {rc, rp},
	MsgAccept:            {rc},
	MsgAttestation:       {rp},
	MsgCollateralMissing: {rp},
	MsgTerminate:         {rc, rp},
}

// refModel is the reference thread.
type refModel struct {
	scheme       string
	verifyScheme bool
	maxRounds    int
	ticksPerHour int64
	idleTimeout  int64

	id               ThreadID
	client, provider AgentID
	state            State
	terms            Terms
	rounds           int
	seq              map[AgentID]uint32
	escrowOn         bool // escrow on chain and not yet released
	collOn           bool // collateral on chain and not yet released
	everEscrow       bool
	escrowAmt        int64
	last             int64
}

func newRefModel(cfg Config, id ThreadID, client, provider AgentID) *refModel {
	return &refModel{
		scheme: cfg.Scheme, verifyScheme: cfg.Verify == VerifyScheme, maxRounds: cfg.MaxRounds,
		ticksPerHour: cfg.TicksPerHour, idleTimeout: cfg.IdleTimeout,
		id: id, client: client, provider: provider, seq: map[AgentID]uint32{},
	}
}

func (r *refModel) clone() *refModel {
	c := *r
	c.seq = map[AgentID]uint32{}
	for k, v := range r.seq {
		c.seq[k] = v
	}
	return &c
}

// refCost is ceil(price*duration/ticksPerHour) with big integers.
func refCost(t Terms, tph int64) *big.Int {
	p := new(big.Int).Mul(big.NewInt(t.PricePerHour), big.NewInt(t.Duration))
	q, m := new(big.Int).QuoRem(p, big.NewInt(tph), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func refTermsOK(t Terms, tph int64) bool {
	inRange := func(x int64) bool { return 0 <= x && x <= 1<<40 }
	maxI64 := new(big.Int).SetUint64(1<<63 - 1)
	total := new(big.Int).Add(refCost(t, tph), big.NewInt(t.Collateral))
	return int(t.Asset) < 3 && int(t.Validation) < 3 &&
		(t.GPUCount > 0 || t.CPUCores > 0) &&
		t.PricePerHour > 0 && t.Duration > 0 && t.Duration <= 1<<40 && t.Collateral >= 0 &&
		inRange(t.Start) && inRange(t.OfferDeadline) && inRange(t.JobDeadline) && inRange(t.ArbitrationDeadline) &&
		t.OfferDeadline < t.JobDeadline && t.JobDeadline < t.ArbitrationDeadline &&
		t.Start+t.Duration <= t.JobDeadline &&
		total.Cmp(maxI64) <= 0
}

func sameExceptNegotiable(a, b Terms) bool {
	a.PricePerHour, a.Start, a.Duration, a.Collateral = 0, 0, 0, 0
	b.PricePerHour, b.Start, b.Duration, b.Collateral = 0, 0, 0, 0
	return a == b
}

// step applies m at now to a copy of r and returns the copy, the expected rejection
// sentinel (nil if accepted) and the ledger effect kinds in order.
func (r *refModel) step(m Message, now int64) (*refModel, []EffectKind, error) {
	n := r.clone()
	effs, err := n.apply(m, now)
	if err != nil {
		return r, nil, err
	}
	return n, effs, nil
}

func (r *refModel) apply(m Message, now int64) ([]EffectKind, error) {
	if m.Type == MsgInvalid || m.Type > MsgTick || m.Stage > StageComplete || m.Reason > ReasonError {
		return nil, ErrBadMessage
	}
	if m.Thread != r.id {
		return nil, ErrWrongThread
	}
	system := m.Type == MsgEscrowLocked || m.Type == MsgJobFailed || m.Type == MsgValidated || m.Type == MsgTick
	if system != (m.From == SystemID) {
		return nil, ErrForgedSystem
	}
	var role Role = rs
	if !system {
		switch {
		case m.From == r.client && m.To == r.provider:
			role = rc
		case m.From == r.provider && m.To == r.client:
			role = rp
		default:
			return nil, ErrNotParty
		}
	}
	if r.state == StateSettled || r.state == StateFailed || r.state == StateTerminated {
		return nil, ErrTerminal
	}
	if !system && m.Seq <= r.seq[m.From] {
		return nil, ErrStaleSeq
	}
	if !system {
		allowed := false
		for _, x := range refSenders[m.Type] {
			allowed = allowed || x == role
		}
		if !allowed {
			return nil, ErrWrongRole
		}
	}
	if _, ok := refTable[refKey{r.scheme, r.state, role, m.Type}]; !ok {
		return nil, ErrWrongState
	}
	if m.Type == MsgEscrowLocked && (r.state == StateRunning || r.state == StateDelivered) && r.verifyScheme {
		return nil, ErrWrongState
	}
	idle := r.idleTimeout > 0 && now-r.last >= r.idleTimeout
	var effs []EffectKind
	refund := func() {
		if r.escrowOn {
			effs = append(effs, EffRefundClient)
			r.escrowOn = false
		}
	}
	settle := func(to State, approved bool) {
		r.state = to
		if r.escrowOn {
			if approved {
				effs = append(effs, EffPayProvider)
			} else {
				effs = append(effs, EffRefundClient)
			}
			r.escrowOn = false
		}
		if r.collOn {
			if approved {
				effs = append(effs, EffReturnCollateral)
			} else {
				effs = append(effs, EffSlashCollateral)
			}
			r.collOn = false
		}
	}
	switch m.Type {
	case MsgRequest:
		if !refTermsOK(m.Terms, r.ticksPerHour) {
			return nil, ErrBadTerms
		}
		if now >= m.Terms.OfferDeadline {
			return nil, ErrPastDeadline
		}
		r.terms, r.state = m.Terms, StateRequested
	case MsgOffer:
		switch {
		case now >= r.terms.OfferDeadline:
			return nil, ErrPastDeadline
		case r.rounds >= r.maxRounds:
			return nil, ErrTooManyRounds
		case !refTermsOK(m.Terms, r.ticksPerHour) || !sameExceptNegotiable(m.Terms, r.terms):
			return nil, ErrBadTerms
		}
		r.terms = m.Terms
		r.rounds++
		r.state = StateOffered
		if role == rc {
			r.state = StateCountered
		}
	case MsgAccept:
		if r.state == StateOffered {
			if now >= r.terms.OfferDeadline {
				return nil, ErrPastDeadline
			}
		} else { // AwaitingEscrow: retry the lock
			if r.everEscrow {
				return nil, ErrWrongState
			}
			if now >= r.terms.OfferDeadline { // the resolver: a buy attestation needs now < offerDeadline
				return nil, ErrPastDeadline
			}
		}
		if m.Terms != r.terms {
			return nil, ErrBadTerms
		}
		if r.state == StateOffered {
			r.escrowAmt = refCost(r.terms, r.ticksPerHour).Int64()
			r.state = StateAccepted
		}
		effs = append(effs, EffRequestEscrowLock)
	case MsgAttestation:
		if r.state == StateRunning {
			if m.Stage != StageComplete {
				return nil, ErrWrongState
			}
			if now >= r.terms.JobDeadline {
				return nil, ErrPastDeadline
			}
			r.state = StateDelivered
			break
		}
		deadline := r.terms.JobDeadline
		if r.scheme == ap {
			deadline = r.terms.OfferDeadline
		}
		switch {
		case m.Stage != StageStart:
			return nil, ErrWrongState
		case now >= deadline:
			return nil, ErrPastDeadline
		case (r.scheme == ap || r.verifyScheme) && !r.everEscrow:
			return nil, ErrNoEscrow
		case m.Terms.Collateral != r.terms.Collateral:
			return nil, ErrBadTerms
		}
		r.state = StateRunning
		if r.terms.Collateral > 0 {
			r.collOn = true
			effs = append(effs, EffLockCollateral)
		}
	case MsgCollateralMissing:
		r.state = StateAwaitingEscrow
	case MsgTerminate:
		if m.Reason != ReasonRejected && m.Reason != ReasonCancelled && m.Reason != ReasonError {
			return nil, ErrBadMessage
		}
		r.state = StateTerminated
		refund()
	case MsgEscrowLocked:
		if r.everEscrow {
			return nil, ErrWrongState
		}
		r.everEscrow, r.escrowOn = true, true
		if r.state == StateAwaitingEscrow {
			r.state = StateAccepted
		}
	case MsgJobFailed:
		settle(StateFailed, false)
	case MsgValidated:
		if now >= r.terms.ArbitrationDeadline {
			return nil, ErrPastDeadline
		}
		settle(StateSettled, m.Approved)
	case MsgTick:
		switch r.state {
		case StateRequested, StateOffered, StateCountered:
			if now >= r.terms.OfferDeadline || idle {
				r.state = StateTerminated
				refund()
			}
		case StateAccepted, StateAwaitingEscrow:
			deadline := r.terms.JobDeadline
			if r.scheme == ap {
				deadline = r.terms.OfferDeadline
			}
			if now >= deadline || idle {
				r.state = StateTerminated
				refund()
			}
		case StateRunning:
			if now >= r.terms.JobDeadline {
				settle(StateFailed, false)
			}
		case StateDelivered:
			if now >= r.terms.ArbitrationDeadline {
				settle(StateSettled, true)
			}
		}
	default:
		return nil, errors.New("reference: unhandled type")
	}
	if !system {
		r.seq[m.From] = m.Seq
	}
	if m.Type != MsgTick {
		r.last = now
	}
	return effs, nil
}

// ledgerKinds filters the ledger effects (no StateChange, no Attest) in order.
func ledgerKinds(effs []Effect) []EffectKind {
	var out []EffectKind
	for _, e := range effs {
		if e.Kind != EffStateChange && e.Kind != EffAttest {
			out = append(out, e.Kind)
		}
	}
	return out
}
