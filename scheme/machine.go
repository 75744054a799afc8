package scheme

// Machine is the state machine behind both built-in schemes: a definition (legal table
// and a step function per state) run under a Config. It implements Scheme. A Machine is
// immutable after construction and safe for concurrent use.
type Machine struct {
	cfg          Config
	keys         Keys
	signed       bool
	verifyEscrow bool
	maxRounds    uint16
	def          *definition
	legal        [numStates][numRoles]MsgSet // def.legal adjusted to the config
}

// stepFunc handles a message that passed admission (party, signature, seq and legality
// checks) in one state. It mutates t and appends effects to dst; on error the caller
// restores t and returns dst as it was.
type stepFunc func(mc *Machine, t *Thread, m *Message, role Role, now int64, dst []Effect) ([]Effect, error)

// definition is one scheme's rules.
type definition struct {
	name  string
	legal [numStates][numRoles]MsgSet
	steps [numStates]stepFunc
	names [numMsgTypes]string
}

// senders lists, for each message type, the roles that may ever send it (in any
// scheme); a sender outside it gets ErrWrongRole, whatever the state.
var senders = [numMsgTypes]uint8{
	MsgRequest:           1 << RoleClient,
	MsgOffer:             1<<RoleClient | 1<<RoleProvider,
	MsgAccept:            1 << RoleClient,
	MsgAttestation:       1 << RoleProvider,
	MsgCollateralMissing: 1 << RoleProvider,
	MsgTerminate:         1<<RoleClient | 1<<RoleProvider,
	MsgEscrowLocked:      1 << RoleSystem,
	MsgJobFailed:         1 << RoleSystem,
	MsgValidated:         1 << RoleSystem,
	MsgTick:              1 << RoleSystem,
}

// MaySend reports whether role r ever sends message type t (in some state).
func MaySend(r Role, t MsgType) bool {
	return t < numMsgTypes && r < numRoles && senders[t]&(1<<r) != 0
}

func newMachine(cfg Config, keys Keys, def *definition) (*Machine, error) {
	mc := &Machine{
		cfg:          cfg,
		keys:         keys,
		signed:       cfg.Signatures == SignaturesEd25519,
		verifyEscrow: cfg.Verify == VerifyScheme,
		maxRounds:    uint16(cfg.MaxRounds),
		def:          def,
		legal:        def.legal,
	}
	if mc.verifyEscrow {
		// A job never runs without escrow, so no escrow can land late.
		mc.legal[StateRunning][RoleSystem] &^= SetOf(MsgEscrowLocked)
		mc.legal[StateDelivered][RoleSystem] &^= SetOf(MsgEscrowLocked)
	}
	return mc, nil
}

// Name implements Scheme.
func (mc *Machine) Name() string { return mc.def.name }

// Config implements Scheme.
func (mc *Machine) Config() Config { return mc.cfg }

// Legal implements Scheme.
func (mc *Machine) Legal(s State, r Role) MsgSet {
	if s >= numStates || r >= numRoles {
		return 0
	}
	return mc.legal[s][r]
}

// TypeName implements Scheme.
func (mc *Machine) TypeName(t MsgType) string {
	if t < numMsgTypes && mc.def.names[t] != "" {
		return mc.def.names[t]
	}
	return t.String()
}

var (
	errThreadState = detail(ErrWrongState, "thread state out of range")
	errWrongThread = detail(ErrWrongThread, "message thread differs from the thread stepped")
	errStale       = detail(ErrStaleSeq, "seq not above the sender's last accepted seq")
	errWrongRole   = detail(ErrWrongRole, "this role never sends this message type")
	errNotLegal    = detail(ErrWrongState, "message type not legal in this state for this role")
	errTerminal    = detail(ErrTerminal, "no message is accepted after the thread ended")
)

// Step implements Scheme. It admits m (the checks 1-8 of the package comment), then
// dispatches on t.State to that state's step function. If the step function rejects the
// message, *t is restored from a copy taken before, so a rejection changes nothing.
func (mc *Machine) Step(t *Thread, m *Message, now int64, dst []Effect) ([]Effect, error) {
	role, err := mc.admit(t, m)
	if err != nil {
		return dst, err
	}
	// The step function works on *t; a copy taken here restores it on error. (Taking
	// the address of a local copy instead would make the copy escape through the
	// indirect call and cost an allocation per message.)
	saved := *t
	out, err := mc.def.steps[t.State](mc, t, m, role, now, dst)
	if err != nil {
		*t = saved
		return dst, err
	}
	switch role {
	case RoleClient:
		t.SeqClient = m.Seq
	case RoleProvider:
		t.SeqProvider = m.Seq
	}
	if m.Type != MsgTick {
		t.LastActivity = now
	}
	return out, nil
}

// admit runs the checks that do not depend on the state's rules and returns the
// sender's role.
func (mc *Machine) admit(t *Thread, m *Message) (Role, error) {
	switch {
	case !m.Type.Valid():
		return 0, errBadType
	case m.Stage >= numStages:
		return 0, errBadStage
	case m.Reason >= numReasons:
		return 0, errBadReason
	case t.State >= numStates:
		return 0, errThreadState
	case m.Thread != t.ID:
		return 0, errWrongThread
	}
	var role Role
	if m.Type.IsSystem() {
		if m.From != SystemID {
			return 0, errSystemFromAgnt
		}
		role = RoleSystem
	} else {
		switch m.From {
		case SystemID:
			return 0, errAgentFromSys
		case t.Client:
			role = RoleClient
			if m.To != t.Provider {
				return 0, errRecipient
			}
		case t.Provider:
			role = RoleProvider
			if m.To != t.Client {
				return 0, errRecipient
			}
		default:
			return 0, errSenderNotParty
		}
		if mc.signed {
			if err := mc.verify(m); err != nil {
				return 0, err
			}
		}
	}
	if t.State.Terminal() {
		return 0, errTerminal
	}
	switch {
	case role == RoleClient && m.Seq <= t.SeqClient,
		role == RoleProvider && m.Seq <= t.SeqProvider:
		return 0, errStale
	case senders[m.Type]&(1<<role) == 0:
		return 0, errWrongRole
	case !mc.legal[t.State][role].Has(m.Type):
		return 0, errNotLegal
	}
	return role, nil
}

func (mc *Machine) verify(m *Message) error {
	pub := mc.keys.PublicKey(m.From)
	if pub == nil {
		return errNoKey
	}
	if !Verify(m, pub) {
		return errSigMismatch
	}
	return nil
}

// --- shared transitions -------------------------------------------------------------

// move appends a StateChange and sets the state.
func move(t *Thread, to State, dst []Effect) []Effect {
	dst = append(dst, Effect{Kind: EffStateChange, Thread: t.ID, FromState: t.State, ToState: to})
	t.State = to
	return dst
}

// request handles the client's opening message in Idle.
func request(mc *Machine, t *Thread, m *Message, now int64, dst []Effect) ([]Effect, error) {
	if err := m.Terms.check(mc.cfg.TicksPerHour); err != nil {
		return dst, err
	}
	if now >= m.Terms.OfferDeadline {
		return dst, errPastOffer
	}
	t.Terms = m.Terms
	return move(t, StateRequested, dst), nil
}

// offer handles an offer or counter-offer, moving to state to.
func offer(mc *Machine, t *Thread, m *Message, now int64, to State, dst []Effect) ([]Effect, error) {
	switch {
	case now >= t.Terms.OfferDeadline:
		return dst, errPastOffer
	case t.Rounds >= mc.maxRounds:
		return dst, errRounds
	}
	if err := m.Terms.check(mc.cfg.TicksPerHour); err != nil {
		return dst, err
	}
	if !sameFixed(&m.Terms, &t.Terms) {
		return dst, errTermsImmutable
	}
	t.Terms = m.Terms
	t.Rounds++
	return move(t, to, dst), nil
}

var errRounds = detail(ErrTooManyRounds, "max_rounds offers already made")

// accept handles the client's acceptance of the provider's last offer: the thread moves
// to Accepted and the client's escrow lock transaction is requested.
func accept(mc *Machine, t *Thread, m *Message, now int64, dst []Effect) ([]Effect, error) {
	switch {
	case now >= t.Terms.OfferDeadline:
		return dst, errPastOffer
	case m.Terms != t.Terms:
		return dst, errTermsAccept
	}
	cost, _ := JobCost(&t.Terms, mc.cfg.TicksPerHour) // terms were checked when offered
	t.Escrow = cost
	dst = move(t, StateAccepted, dst)
	return lockRequest(t, dst), nil
}

func lockRequest(t *Thread, dst []Effect) []Effect {
	return append(dst, Effect{Kind: EffRequestEscrowLock, Thread: t.ID, From: t.Client, To: EscrowHolder,
		Asset: t.Terms.Asset, Amount: t.Escrow})
}

// terminate handles an agent's terminate (cancel) before the job runs.
func terminate(t *Thread, m *Message, dst []Effect) ([]Effect, error) {
	if !agentReason(m.Reason) {
		return dst, errAgentReason
	}
	return end(t, m.Reason, dst), nil
}

// end moves t to Terminated with reason and releases anything locked (the client's
// escrow is refunded; collateral is never locked before Running, but would be returned).
func end(t *Thread, reason Reason, dst []Effect) []Effect {
	dst = move(t, StateTerminated, dst)
	t.Reason = reason
	if t.Has(FlagEscrowLocked) && !t.Has(FlagEscrowReleased) {
		t.Flags |= FlagEscrowReleased
		dst = append(dst, Effect{Kind: EffRefundClient, Thread: t.ID, From: EscrowHolder, To: t.Client,
			Asset: t.Terms.Asset, Amount: t.Escrow})
	}
	if t.Has(FlagCollateralLocked) && !t.Has(FlagCollateralReleased) {
		t.Flags |= FlagCollateralReleased
		dst = append(dst, Effect{Kind: EffReturnCollateral, Thread: t.ID, From: EscrowHolder, To: t.Provider,
			Asset: t.Terms.Asset, Amount: t.Terms.Collateral})
	}
	return dst
}

// start handles attestation:start (sellAttest): collateral is locked and the sell
// attestation written (once the buy attestation exists).
func start(t *Thread, m *Message, now int64, deadline int64, deadlineErr error, needEscrow bool, dst []Effect) ([]Effect, error) {
	switch {
	case m.Stage != StageStart:
		return dst, errStartStage
	case now >= deadline:
		return dst, deadlineErr
	case needEscrow && !t.Has(FlagEscrowLocked):
		return dst, errNoEscrow
	case m.Terms.Collateral != t.Terms.Collateral:
		return dst, errTermsCollateralStart
	}
	dst = move(t, StateRunning, dst)
	if t.Terms.Collateral > 0 {
		t.Flags |= FlagCollateralLocked
		dst = append(dst, Effect{Kind: EffLockCollateral, Thread: t.ID, From: t.Provider, To: EscrowHolder,
			Asset: t.Terms.Asset, Amount: t.Terms.Collateral})
	}
	if t.Has(FlagBuyAttested) {
		dst = sellAttest(t, dst)
	}
	return dst, nil
}

var errNoEscrow = detail(ErrNoEscrow, "the client's escrow is not on chain")

func sellAttest(t *Thread, dst []Effect) []Effect {
	t.Flags |= FlagSellAttested
	return append(dst, Effect{Kind: EffAttest, Thread: t.ID, From: t.Provider, To: t.Client,
		Asset: t.Terms.Asset, Amount: t.Terms.Collateral, Attest: AttestSell})
}

// escrowLocked handles the system event that the client's lock landed: the buy
// attestation is written, and if the provider already started blind (verify: agent), the
// sell attestation it could not write before.
func escrowLocked(t *Thread, dst []Effect) ([]Effect, error) {
	if t.Has(FlagEscrowLocked) {
		return dst, errEscrowTwice
	}
	if t.State == StateAwaitingEscrow {
		dst = move(t, StateAccepted, dst)
	}
	t.Flags |= FlagEscrowLocked | FlagBuyAttested
	dst = append(dst, Effect{Kind: EffAttest, Thread: t.ID, From: t.Client, To: t.Provider,
		Asset: t.Terms.Asset, Amount: t.Escrow, Attest: AttestBuy})
	if (t.State == StateRunning || t.State == StateDelivered) && !t.Has(FlagSellAttested) {
		dst = sellAttest(t, dst)
	}
	return dst, nil
}

// settle ends a thread that ran: to is Settled (validated) or Failed. Approved pays the
// provider and returns its collateral; otherwise the client is refunded and the
// collateral slashed to the client. Each of escrow and collateral is released at most
// once (Flag*Released).
func settle(t *Thread, to State, approved bool, dst []Effect) []Effect {
	dst = move(t, to, dst)
	if to == StateSettled {
		t.Reason = ReasonCompleted
	} else {
		t.Reason = ReasonFailed
	}
	if approved {
		t.Flags |= FlagApproved
	}
	if t.Has(FlagSellAttested) {
		dst = append(dst, Effect{Kind: EffAttest, Thread: t.ID, From: SystemID, To: t.Provider,
			Attest: AttestValidation, Approved: approved})
	}
	if t.Has(FlagEscrowLocked) && !t.Has(FlagEscrowReleased) {
		t.Flags |= FlagEscrowReleased
		e := Effect{Kind: EffRefundClient, Thread: t.ID, From: EscrowHolder, To: t.Client, Asset: t.Terms.Asset, Amount: t.Escrow}
		if approved {
			e.Kind, e.To = EffPayProvider, t.Provider
		}
		dst = append(dst, e)
	}
	if t.Has(FlagCollateralLocked) && !t.Has(FlagCollateralReleased) {
		t.Flags |= FlagCollateralReleased
		e := Effect{Kind: EffSlashCollateral, Thread: t.ID, From: EscrowHolder, To: t.Client, Asset: t.Terms.Asset, Amount: t.Terms.Collateral}
		if approved {
			e.Kind, e.To = EffReturnCollateral, t.Provider
		}
		dst = append(dst, e)
	}
	return dst
}

// validated handles the validator's verdict.
func validated(t *Thread, m *Message, now int64, dst []Effect) ([]Effect, error) {
	if now >= t.Terms.ArbitrationDeadline {
		return dst, errPastArb
	}
	return settle(t, StateSettled, m.Approved, dst), nil
}

// idle reports whether t has gone IdleTimeout ticks without an accepted message.
func (mc *Machine) idle(t *Thread, now int64) bool {
	return mc.cfg.IdleTimeout > 0 && now-t.LastActivity >= mc.cfg.IdleTimeout
}

// stepTerminal is never reached (admit rejects every message to a terminal thread).
func stepTerminal(_ *Machine, _ *Thread, _ *Message, _ Role, _ int64, dst []Effect) ([]Effect, error) {
	return dst, errTerminal
}

// stepUnused is the step function of a state the scheme never enters; its legal sets
// are empty, so admit rejects every message first.
func stepUnused(_ *Machine, _ *Thread, _ *Message, _ Role, _ int64, dst []Effect) ([]Effect, error) {
	return dst, errNotLegal
}

// stepIdle is the same in both schemes: the client's request (CoopHive: the initial
// offer) opens the thread; a Tick does nothing.
func stepIdle(mc *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	if m.Type == MsgRequest {
		return request(mc, t, m, now, dst)
	}
	return dst, nil // Tick
}
