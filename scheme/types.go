package scheme

import "strconv"

// AgentID is the dense index of an agent. Providers and clients share one id space; an
// agent's role in a thread is given by the thread (Thread.Client, Thread.Provider).
type AgentID int32

// SystemID is the reserved sender of system events (chain and market outcomes). No agent
// has this id and Step rejects a system event from any other sender.
const SystemID AgentID = -1

// ThreadID is the dense index of a negotiation thread.
type ThreadID int32

// Role is the part a sender plays in a thread.
type Role uint8

// Roles. RoleSystem is the market/chain, the sender of system events.
const (
	RoleClient Role = iota
	RoleProvider
	RoleSystem
	numRoles
)

var roleNames = [numRoles]string{"client", "provider", "system"}

func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// MsgType is the type of a message. Agent types come first, then system events.
type MsgType uint8

// Message types. The zero value is invalid. The coophive-apiary scheme uses the same
// types under CoopHive's names: its initial offer is Request, offer is Offer, buyAttest
// is Accept, sellAttest is Attestation (stage start) and cancel is Terminate.
const (
	MsgInvalid           MsgType = iota
	MsgRequest                   // client opens the thread with the job and its terms
	MsgOffer                     // full terms with changes (price, start, duration, collateral)
	MsgAccept                    // client accepts the provider's last offer and locks escrow
	MsgAttestation               // provider: Stage start (sell attestation) or complete
	MsgCollateralMissing         // provider: the client's escrow is not on chain
	MsgTerminate                 // either party ends the thread before it runs (Reason)
	MsgEscrowLocked              // system: the client's escrow lock landed on chain
	MsgJobFailed                 // system: the running job failed
	MsgValidated                 // system: the validator judged the result (Approved)
	MsgTick                      // system: deadline and idle-timeout check at now
	numMsgTypes
)

var msgTypeNames = [numMsgTypes]string{
	"invalid", "request", "offer", "accept", "attestation", "collateral_missing",
	"terminate", "escrow_locked", "job_failed", "validated", "tick",
}

func (t MsgType) String() string {
	if t < numMsgTypes {
		return msgTypeNames[t]
	}
	return "msgtype(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is a defined message type.
func (t MsgType) Valid() bool { return t > MsgInvalid && t < numMsgTypes }

// IsSystem reports whether t is a system event, which only SystemID may send.
func (t MsgType) IsSystem() bool { return t >= MsgEscrowLocked && t < numMsgTypes }

// MsgSet is a set of message types as a bitmask (bit t for type t): the legal message
// types for a state and role, i.e. an action mask.
type MsgSet uint16

// SetOf returns the set holding the given types.
func SetOf(types ...MsgType) MsgSet {
	var s MsgSet
	for _, t := range types {
		s |= 1 << t
	}
	return s
}

// Has reports whether s holds t.
func (s MsgSet) Has(t MsgType) bool { return t < numMsgTypes && s&(1<<t) != 0 }

// String lists the types in s in type order, e.g. "{offer,terminate}".
func (s MsgSet) String() string {
	b := []byte{'{'}
	for t := MsgType(0); t < numMsgTypes; t++ {
		if s.Has(t) {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, t.String()...)
		}
	}
	return string(append(b, '}'))
}

// State is the state of a thread.
type State uint8

// Thread states (shared/specs/scheme.md, "Thread states and transitions").
const (
	StateIdle           State = iota // created, no request yet
	StateRequested                   // client sent the request
	StateOffered                     // the provider's offer is the last word
	StateCountered                   // the client's counter-offer is the last word
	StateAccepted                    // the client accepted; escrow lock submitted
	StateAwaitingEscrow              // the provider found no escrow on chain
	StateRunning                     // the provider started; collateral locked
	StateDelivered                   // the provider delivered the result
	StateSettled                     // terminal: validated (approved or rejected)
	StateFailed                      // terminal: job failed or job deadline passed
	StateTerminated                  // terminal: ended before running (Thread.Reason)
	numStates
)

var stateNames = [numStates]string{
	"Idle", "Requested", "Offered", "Countered", "Accepted", "AwaitingEscrow",
	"Running", "Delivered", "Settled", "Failed", "Terminated",
}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether s is an end state; a thread never leaves one.
func (s State) Terminal() bool { return s >= StateSettled && s < numStates }

// Stage is the stage of an attestation message.
type Stage uint8

// Attestation stages. StageNone is used by every other message type.
const (
	StageNone     Stage = iota
	StageStart          // escrow checked, collateral locked, job started (sell attestation)
	StageComplete       // result delivered
	numStages
)

var stageNames = [numStages]string{"none", "start", "complete"}

func (s Stage) String() string {
	if s < numStages {
		return stageNames[s]
	}
	return "stage(" + strconv.Itoa(int(s)) + ")"
}

// Reason is why a thread ended, or the reason carried by a terminate message.
type Reason uint8

// Reasons (shared/specs/scheme.md, message terminate). Agents may terminate with
// Rejected, Cancelled or Error; Timeout is given only by the market (a Tick), Completed
// and Failed only by settlement.
const (
	ReasonNone Reason = iota
	ReasonRejected
	ReasonCancelled
	ReasonTimeout
	ReasonCompleted
	ReasonFailed
	ReasonError
	numReasons
)

var reasonNames = [numReasons]string{"none", "rejected", "cancelled", "timeout", "completed", "failed", "error"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// agentReason reports whether an agent may end a thread with r.
func agentReason(r Reason) bool {
	return r == ReasonRejected || r == ReasonCancelled || r == ReasonError
}

// Asset is a payment asset. The chain (package market) keeps its own enum; the market
// maps one to the other.
type Asset uint8

// Assets, in the chain's order.
const (
	AssetUSDC Asset = iota // 6 decimals
	AssetETH               // gwei
	AssetHIVE              // the marketplace token
	numAssets
)

var assetNames = [numAssets]string{"USDC", "ETH", "HIVE"}

func (a Asset) String() string {
	if a < numAssets {
		return assetNames[a]
	}
	return "asset(" + strconv.Itoa(int(a)) + ")"
}

// Validation is how a job's result is validated; the market acts on it, the scheme only
// carries it in the terms.
type Validation uint8

// Validation methods.
const (
	ValidationOracle     Validation = iota // a trusted validator judges the result
	ValidationReplicate                    // a third party recomputes a sample
	ValidationOptimistic                   // approved unless challenged before arbitration
	numValidations
)

var validationNames = [numValidations]string{"oracle", "replicate", "optimistic"}

func (v Validation) String() string {
	if v < numValidations {
		return validationNames[v]
	}
	return "validation(" + strconv.Itoa(int(v)) + ")"
}
