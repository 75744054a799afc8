package scheme

import "strconv"

// EffectKind is what an Effect asks the chain to do. The chain (package market) has one
// op per kind.
type EffectKind uint8

// Effect kinds.
const (
	EffStateChange       EffectKind = iota // trace only: FromState -> ToState
	EffRequestEscrowLock                   // client (From) submits its lock tx: Amount of Asset into escrow (To = EscrowHolder)
	EffLockCollateral                      // provider (From) locks Amount of Asset as collateral (To = EscrowHolder)
	EffPayProvider                         // escrowed payment (From = EscrowHolder) to the provider (To)
	EffRefundClient                        // escrowed payment (From = EscrowHolder) back to the client (To)
	EffReturnCollateral                    // collateral (From = EscrowHolder) back to the provider (To)
	EffSlashCollateral                     // collateral (From = EscrowHolder) to the client (To)
	EffAttest                              // write attestation Attest (buy <- sell <- validation)
	numEffectKinds
)

var effectNames = [numEffectKinds]string{
	"StateChange", "RequestEscrowLock", "LockCollateral", "PayProvider",
	"RefundClient", "ReturnCollateral", "SlashCollateral", "Attest",
}

func (k EffectKind) String() string {
	if k < numEffectKinds {
		return effectNames[k]
	}
	return "effect(" + strconv.Itoa(int(k)) + ")"
}

// AttestKind is the schema of an attestation record (CoopHive's EAS schemas).
type AttestKind uint8

// Attestation kinds. The chain links them by refUID: buy <- sell <- validation.
const (
	AttestBuy        AttestKind = iota // attester client, recipient provider; Amount = job cost
	AttestSell                         // attester provider, recipient client; Amount = collateral
	AttestValidation                   // attester SystemID (validator), recipient provider; Approved
	numAttestKinds
)

var attestNames = [numAttestKinds]string{"buy", "sell", "validation"}

func (k AttestKind) String() string {
	if k < numAttestKinds {
		return attestNames[k]
	}
	return "attest(" + strconv.Itoa(int(k)) + ")"
}

// Effect is one thing the chain must do (or, for EffStateChange, a trace record). It is a
// plain value; Step appends effects to a caller-owned buffer. Every effect carries the
// thread; the other fields are used as the kind's comment says. The terms an attestation
// records (supplier, deadlines, collateral requested) are the thread's Terms.
type Effect struct {
	Kind     EffectKind
	Thread   ThreadID
	From     AgentID // payer (an agent or EscrowHolder) or attester
	To       AgentID // payee (an agent or EscrowHolder) or recipient
	Asset    Asset
	Amount   int64 // base units of Asset
	Attest   AttestKind
	Approved bool // AttestValidation only
	// FromState and ToState are set for EffStateChange only.
	FromState, ToState State
}

// String renders e in the transcript vocabulary, e.g.
// "PayProvider 1->2 USDC 2000" or "Attest sell 2->1 USDC 500".
func (e Effect) String() string {
	switch e.Kind {
	case EffStateChange:
		return "StateChange " + e.FromState.String() + "->" + e.ToState.String()
	case EffAttest:
		s := "Attest " + e.Attest.String() + " " + agentString(e.From) + "->" + agentString(e.To)
		if e.Attest == AttestValidation {
			if e.Approved {
				return s + " approved"
			}
			return s + " rejected"
		}
		return s + " " + e.Asset.String() + " " + strconv.FormatInt(e.Amount, 10)
	}
	return e.Kind.String() + " " + agentString(e.From) + "->" + agentString(e.To) + " " +
		e.Asset.String() + " " + strconv.FormatInt(e.Amount, 10)
}

func agentString(id AgentID) string {
	switch id {
	case SystemID:
		return "system"
	case EscrowHolder:
		return "escrow"
	}
	return strconv.Itoa(int(id))
}

// EscrowHolder stands for the chain's escrow/collateral registry in Effect.From and
// Effect.To: money flows From -> To, and the registry holds one escrow and one
// collateral pool per thread.
const EscrowHolder AgentID = -2
