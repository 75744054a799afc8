package scheme

// Allowed returns the message types that role r can send on thread t at tick now and
// have accepted by Step: Legal(t.State, r) minus the types whose step function would
// reject every message of that type at this moment (the offer deadline or the job
// deadline has passed, max_rounds offers have been made, the escrow is missing where the
// scheme needs it, the escrow is already locked). A type in the result is accepted when
// the message is otherwise well formed (right sender, recipient and seq, terms restated
// where the type restates them, an agent reason for terminate, stage start before Running
// and stage complete in Running); a type outside it is rejected whatever its content,
// except MsgRequest in Idle, whose verdict depends on the request's own terms. It is the
// action mask an environment shows an agent; TestAllowedAgreesWithStep checks it against
// Step.
//
// Schemes that do not implement Allowed themselves get Legal(t.State, r).
func Allowed(s Scheme, t *Thread, r Role, now int64) MsgSet {
	if a, ok := s.(interface {
		Allowed(t *Thread, r Role, now int64) MsgSet
	}); ok {
		return a.Allowed(t, r, now)
	}
	return s.Legal(t.State, r)
}

// Allowed implements the package function Allowed for both built-in schemes.
func (mc *Machine) Allowed(t *Thread, r Role, now int64) MsgSet {
	if t.State >= numStates || r >= numRoles || t.State.Terminal() {
		return 0
	}
	set := mc.legal[t.State][r]
	if set == 0 {
		return 0
	}
	apiary := mc.def == &apiaryDef
	escrow := t.Has(FlagEscrowLocked)
	beforeOffer := now < t.Terms.OfferDeadline
	beforeJob := now < t.Terms.JobDeadline
	drop := func(ty MsgType) { set &^= 1 << ty }
	if set.Has(MsgOffer) && (!beforeOffer || t.Rounds >= mc.maxRounds) {
		drop(MsgOffer)
	}
	if set.Has(MsgAccept) {
		switch t.State {
		case StateAwaitingEscrow: // the client retries its lock (a buy attestation: before the offer deadline)
			if escrow || !beforeOffer {
				drop(MsgAccept)
			}
		default:
			if !beforeOffer {
				drop(MsgAccept)
			}
		}
	}
	if set.Has(MsgAttestation) {
		switch {
		case t.State == StateRunning: // stage complete
			if !beforeJob {
				drop(MsgAttestation)
			}
		case apiary: // sellAttest: before the offer deadline, escrow always needed
			if !beforeOffer || !escrow {
				drop(MsgAttestation)
			}
		default: // stage start
			if !beforeJob || (mc.verifyEscrow && !escrow) {
				drop(MsgAttestation)
			}
		}
	}
	if set.Has(MsgEscrowLocked) && escrow {
		drop(MsgEscrowLocked)
	}
	if set.Has(MsgValidated) && now >= t.Terms.ArbitrationDeadline {
		drop(MsgValidated)
	}
	return set
}
