package scheme

// The compute-marketplace scheme (shared/specs/scheme.md, "The default scheme"):
//
//	Idle      --request(client)--> Requested
//	Requested --offer(provider)--> Offered --offer(client)--> Countered --offer(provider)--> Offered ...
//	Offered   --accept(client)--> Accepted                (RequestEscrowLock)
//	Accepted  --attestation:start(provider)--> Running    (LockCollateral, sell attestation;
//	                                                       verify: scheme needs the escrow)
//	Accepted  --collateral_missing(provider)--> AwaitingEscrow
//	AwaitingEscrow --escrow_locked(system)--> Accepted     (buy attestation)
//	AwaitingEscrow --accept(client)--> AwaitingEscrow     (retry: RequestEscrowLock again; before the offer deadline)
//	AwaitingEscrow --attestation:start(provider)--> Running
//	Running   --attestation:complete(provider)--> Delivered
//	Running   --job_failed(system) | tick past job deadline--> Failed (refund, slash)
//	Delivered --validated(system)--> Settled (approved: pay, return | rejected: refund, slash)
//	Delivered --tick past arbitration deadline--> Settled approved (nobody disputed in time)
//	Requested..AwaitingEscrow --terminate(either)--> Terminated(reason) (refund if escrowed)
//	Requested..Countered --tick past offer deadline or idle--> Terminated(timeout)
//	Accepted, AwaitingEscrow --tick past job deadline or idle--> Terminated(timeout)
//	Accepted --escrow_locked(system)--> Accepted            (buy attestation)
//	Running, Delivered --escrow_locked(system)--> same     (verify: agent only: a late lock after a blind start)
var marketplaceDef = definition{
	name: ComputeMarketplace,
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
			RoleProvider: SetOf(MsgAttestation, MsgCollateralMissing, MsgTerminate),
			RoleSystem:   SetOf(MsgEscrowLocked, MsgTick),
		},
		StateAwaitingEscrow: {
			RoleClient:   SetOf(MsgAccept, MsgTerminate),
			RoleProvider: SetOf(MsgAttestation, MsgTerminate),
			RoleSystem:   SetOf(MsgEscrowLocked, MsgTick),
		},
		StateRunning: {
			RoleProvider: SetOf(MsgAttestation),
			RoleSystem:   SetOf(MsgEscrowLocked, MsgJobFailed, MsgTick),
		},
		StateDelivered: {
			RoleSystem: SetOf(MsgEscrowLocked, MsgValidated, MsgTick),
		},
	},
	steps: [numStates]stepFunc{
		StateIdle:           stepIdle,
		StateRequested:      cmNegotiating,
		StateOffered:        cmNegotiating,
		StateCountered:      cmNegotiating,
		StateAccepted:       cmAccepted,
		StateAwaitingEscrow: cmAccepted,
		StateRunning:        cmRunning,
		StateDelivered:      cmDelivered,
		StateSettled:        stepTerminal,
		StateFailed:         stepTerminal,
		StateTerminated:     stepTerminal,
	},
}

// cmNegotiating is the step function of Requested, Offered and Countered; the legal
// table already fixed who may send what, so the type and state say which transition.
func cmNegotiating(mc *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	switch m.Type {
	case MsgOffer:
		to := StateOffered // provider: answers the request or the client's counter
		if t.State == StateOffered {
			to = StateCountered // client counters the provider's offer
		}
		return offer(mc, t, m, now, to, dst)
	case MsgAccept:
		return accept(mc, t, m, now, dst)
	case MsgTerminate:
		return terminate(t, m, dst)
	}
	// Tick.
	if now >= t.Terms.OfferDeadline || mc.idle(t, now) {
		return end(t, ReasonTimeout, dst), nil
	}
	return dst, nil
}

// cmAccepted is the step function of Accepted and AwaitingEscrow.
func cmAccepted(mc *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	switch m.Type {
	case MsgAttestation:
		return start(t, m, now, t.Terms.JobDeadline, errPastJob, mc.verifyEscrow, dst)
	case MsgCollateralMissing:
		return move(t, StateAwaitingEscrow, dst), nil
	case MsgAccept: // AwaitingEscrow: the client retries its lock
		switch {
		case t.Has(FlagEscrowLocked):
			return dst, errEscrowRetry
		case now >= t.Terms.OfferDeadline:
			// The lock writes the buy attestation, which the resolver refuses from the
			// offer deadline on: a retry then could only revert.
			return dst, errPastOffer
		case m.Terms != t.Terms:
			return dst, errTermsAccept
		}
		return lockRequest(t, dst), nil
	case MsgTerminate:
		return terminate(t, m, dst)
	case MsgEscrowLocked:
		return escrowLocked(t, dst)
	}
	// Tick.
	if now >= t.Terms.JobDeadline || mc.idle(t, now) {
		return end(t, ReasonTimeout, dst), nil
	}
	return dst, nil
}

// cmRunning is the step function of Running.
func cmRunning(_ *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	switch m.Type {
	case MsgAttestation:
		switch {
		case m.Stage != StageComplete:
			return dst, errCompleteStage
		case now >= t.Terms.JobDeadline:
			return dst, errPastJob
		}
		return move(t, StateDelivered, dst), nil
	case MsgEscrowLocked:
		return escrowLocked(t, dst)
	case MsgJobFailed:
		return settle(t, StateFailed, false, dst), nil
	}
	// Tick.
	if now >= t.Terms.JobDeadline {
		return settle(t, StateFailed, false, dst), nil
	}
	return dst, nil
}

// cmDelivered is the step function of Delivered.
func cmDelivered(_ *Machine, t *Thread, m *Message, _ Role, now int64, dst []Effect) ([]Effect, error) {
	switch m.Type {
	case MsgEscrowLocked:
		return escrowLocked(t, dst)
	case MsgValidated:
		return validated(t, m, now, dst)
	}
	// Tick: a result nobody judged before the arbitration deadline stands.
	if now >= t.Terms.ArbitrationDeadline {
		return settle(t, StateSettled, true, dst), nil
	}
	return dst, nil
}
