package scheme

// The coophive-apiary scheme: the vocabulary CoopHive shipped (TypeScript, Redis
// transport; shared/specs/scheme.md "Sources"), on the same chain and Effect kinds.
//
// Rules: the buyer opens with an initial offer (Request); the seller answers an initial
// offer with an offer; offers alternate; the buyer answers an offer with buyAttest
// (Accept: payment = acceptance, RequestEscrowLock); the seller answers buyAttest with
// sellAttest (Attestation, stage start), which ends the negotiation; anyone may cancel
// (Terminate) until then; anything else is invalid. The sell attestation references the
// buy attestation on chain, so sellAttest always needs the escrow (ErrNoEscrow, whatever
// Config.Verify says), and CoopHive's resolver requires now < offerDeadline and
// collateral == collateralRequested for it.
//
// After sellAttest the job runs under the market: the validator's verdict (Validated)
// settles it, a failure (JobFailed) or the job deadline (Tick) fails it. There is no
// collateral_missing and no separate delivery message, so AwaitingEscrow and Delivered
// are never entered.
//
//	Idle      --initialOffer(buyer)--> Requested --offer(seller)--> Offered
//	Offered   --offer(buyer)--> Countered --offer(seller)--> Offered ...
//	Offered   --buyAttest(buyer)--> Accepted               (RequestEscrowLock)
//	Accepted  --escrow_locked(system)--> Accepted           (buy attestation)
//	Accepted  --sellAttest(seller)--> Running               (LockCollateral, sell attestation)
//	Running   --validated(system)--> Settled | --job_failed / tick past job deadline--> Failed
//	Requested..Accepted --cancel(either)--> Terminated (refund if escrowed)
//	Requested..Accepted --tick past offer deadline or idle--> Terminated(timeout)
var apiaryDef = definition{
	name: CoopHiveApiary,
	legal: [numStates][numRoles]MsgSet{
		StateIdle: {
			RoleClient: SetOf(MsgRequest),
			RoleSystem: SetOf(MsgTick),
		},
		StateRequested: {
			RoleClient:   SetOf(MsgTerminate),
			RoleProvider: SetOf(MsgOffer, MsgTerminate),
			RoleSystem:   SetOf(MsgTick),
		},
		StateOffered: {
			RoleClient:   SetOf(MsgOffer, MsgAccept, MsgTerminate),
			RoleProvider: SetOf(MsgTerminate),
			RoleSystem:   SetOf(MsgTick),
		},
		StateCountered: {
			RoleClient:   SetOf(MsgTerminate),
			RoleProvider: SetOf(MsgOffer, MsgTerminate),
			RoleSystem:   SetOf(MsgTick),
		},
		StateAccepted: {
			RoleClient:   SetOf(MsgTerminate),
			RoleProvider: SetOf(MsgAttestation, MsgTerminate),
			RoleSystem:   SetOf(MsgEscrowLocked, MsgTick),
		},
		StateRunning: {
			RoleSystem: SetOf(MsgJobFailed, MsgValidated, MsgTick),
		},
	},
	steps: [numStates]stepFunc{
		StateIdle:           stepIdle,
		StateRequested:      apNegotiating,
		StateOffered:        apNegotiating,
		StateCountered:      apNegotiating,
		StateAccepted:       apAccepted,
		StateAwaitingEscrow: stepUnused,
		StateRunning:        apRunning,
		StateDelivered:      stepUnused,
		StateSettled:        stepTerminal,
		StateFailed:         stepTerminal,
		StateTerminated:     stepTerminal,
	},
	names: [numMsgTypes]string{
		MsgRequest:     "initialOffer",
		MsgOffer:       "offer",
		MsgAccept:      "buyAttest",
		MsgAttestation: "sellAttest",
		MsgTerminate:   "cancel",
	},
}

// apNegotiating is the step function of Requested, Offered and Countered; the rules are
// those of compute-marketplace.
func apNegotiating(mc *Machine, t *Thread, m *Message, r Role, now int64, dst []Effect) ([]Effect, error) {
	return cmNegotiating(mc, t, m, r, now, dst)
}

// apAccepted is the step function of Accepted.
func apAccepted(mc *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	switch m.Type {
	case MsgAttestation: // sellAttest
		return start(t, m, now, t.Terms.OfferDeadline, errPastOffer, true, dst)
	case MsgTerminate:
		return terminate(t, m, dst)
	case MsgEscrowLocked:
		return escrowLocked(t, dst)
	}
	// Tick: sellAttest is impossible after the offer deadline.
	if now >= t.Terms.OfferDeadline || mc.idle(t, now) {
		return end(t, ReasonTimeout, dst), nil
	}
	return dst, nil
}

// apRunning is the step function of Running.
func apRunning(_ *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	switch m.Type {
	case MsgValidated:
		return validated(t, m, now, dst)
	case MsgJobFailed:
		return settle(t, StateFailed, false, dst), nil
	}
	// Tick.
	if now >= t.Terms.JobDeadline {
		return settle(t, StateFailed, false, dst), nil
	}
	return dst, nil
}
