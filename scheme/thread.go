package scheme

import (
	"fmt"
	"strings"
)

// Flags are the chain-facing facts of a thread.
type Flags uint16

// Thread flags.
const (
	FlagEscrowLocked       Flags = 1 << iota // the client's escrow is on chain
	FlagCollateralLocked                     // the provider's collateral is on chain
	FlagEscrowReleased                       // escrow paid to the provider or refunded (at most once)
	FlagCollateralReleased                   // collateral returned or slashed (at most once)
	FlagBuyAttested                          // buy attestation emitted
	FlagSellAttested                         // sell attestation emitted
	FlagApproved                             // settled with the result approved
)

var flagNames = []string{"escrow", "collateral", "escrow-released", "collateral-released", "buy", "sell", "approved"}

func (f Flags) String() string {
	if f == 0 {
		return "-"
	}
	var parts []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// Thread is the state of one negotiation: one client, one provider, one job. It is a
// plain comparable value (no pointers), so the market keeps threads in a slice, copies
// them freely, and tests compare them with ==.
type Thread struct {
	ID       ThreadID
	Client   AgentID
	Provider AgentID
	State    State
	Reason   Reason // why the thread ended (terminal states)
	Flags    Flags
	Rounds   uint16 // offers made so far (both sides)

	SeqClient   uint32 // last accepted seq from the client
	SeqProvider uint32 // last accepted seq from the provider

	Escrow       int64 // payment the client was asked to lock (job cost), set at accept
	LastActivity int64 // tick of the last accepted message other than a Tick
	Terms        Terms // current terms: the request's, then the last offer's
}

// NewThread returns a thread in StateIdle between client and provider. The ids must be
// distinct and non-negative.
func NewThread(id ThreadID, client, provider AgentID) (Thread, error) {
	if client < 0 || provider < 0 || client == provider || id < 0 {
		return Thread{}, fmt.Errorf("%w: id %d client %d provider %d", ErrBadThread, id, client, provider)
	}
	return Thread{ID: id, Client: client, Provider: provider}, nil
}

// Has reports whether all flags in f are set.
func (t *Thread) Has(f Flags) bool { return t.Flags&f == f }

// RoleOf returns the role of id in t: RoleClient, RoleProvider, RoleSystem for SystemID;
// ok is false for anyone else.
func (t *Thread) RoleOf(id AgentID) (r Role, ok bool) {
	switch id {
	case t.Client:
		return RoleClient, true
	case t.Provider:
		return RoleProvider, true
	case SystemID:
		return RoleSystem, true
	}
	return 0, false
}

// Party returns the agent that plays role r in t (SystemID for RoleSystem).
func (t *Thread) Party(r Role) AgentID {
	switch r {
	case RoleClient:
		return t.Client
	case RoleProvider:
		return t.Provider
	}
	return SystemID
}

// NextSeq returns the sequence number the agent with role r should put on its next
// message.
func (t *Thread) NextSeq(r Role) uint32 {
	if r == RoleProvider {
		return t.SeqProvider + 1
	}
	return t.SeqClient + 1
}

// String is a one-line summary for traces and transcripts.
func (t Thread) String() string {
	s := fmt.Sprintf("%v rounds=%d seq=%d/%d flags=%v last=%d", t.State, t.Rounds, t.SeqClient, t.SeqProvider, t.Flags, t.LastActivity)
	if t.State.Terminal() {
		s += " reason=" + t.Reason.String()
	}
	return s
}
