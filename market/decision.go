package market

import (
	"strconv"

	"github.com/hivegym/hivegym/scheme"
)

// DecisionKind says what an agent must decide.
type DecisionKind uint8

const (
	// DecideRespond: a message was delivered on one of the agent's threads and the
	// agent may answer it (Decision.Incoming, Decision.Allowed).
	DecideRespond DecisionKind = iota + 1
	// DecideOpen: one of the client's jobs arrived; the client may request it (a
	// request to the directory's candidates at a price), postpone it or drop it.
	DecideOpen
	// DecideTreasury: the agent may swap between its assets through the pool.
	DecideTreasury
	numDecisionKinds
)

var decisionNames = [numDecisionKinds]string{"", "respond", "open", "treasury"}

func (k DecisionKind) String() string {
	if k > 0 && k < numDecisionKinds {
		return decisionNames[k]
	}
	return "decision(" + strconv.Itoa(int(k)) + ")"
}

// Decision is one decision point: an agent that must act now, what about, and what it
// may send. Decisions are plain values in a buffer the market reuses every round.
type Decision struct {
	Agent AgentID
	Kind  DecisionKind
	Role  scheme.Role
	// Thread is the thread to answer (DecideRespond), else -1.
	Thread scheme.ThreadID
	// Job is the job the decision is about (DecideOpen, and the thread's job for
	// DecideRespond), else -1. Read it with Market.Job.
	Job int32
	// Incoming is the message delivered to the agent (DecideRespond): a request, an
	// offer, an accept, a collateral_missing, or an escrow_locked notice from the
	// system when a late escrow lock brought an AwaitingEscrow thread back to Accepted.
	Incoming scheme.Message
	// State is the thread's state when the decision was posed.
	State scheme.State
	// Allowed are the message types the agent may send now (scheme.Allowed); waiting
	// (a zero Response) is always possible. DecideOpen allows request and terminate
	// (drop the job); DecideTreasury allows none (the answer is a Swap or nothing).
	Allowed scheme.MsgSet
	// Waited counts the ticks this decision was postponed by waiting.
	Waited int32
}

// Swap is a treasury action: sell Amount base units of From for To at the tick's prices
// through the pool, minus the pool's fee, plus gas.
type Swap struct {
	From, To Asset
	Amount   int64
}

// Response answers a Decision. The zero Response waits: a DecideRespond or DecideOpen
// decision is posed again next tick (a job only until its max_wait_ticks), a treasury
// decision holds.
type Response struct {
	// Type is the message to send: for DecideRespond one of Decision.Allowed (offer,
	// accept, attestation, collateral_missing, terminate); for DecideOpen request or
	// terminate (drop the job); 0 waits.
	Type scheme.MsgType
	// Price is the price per hour of a request or an offer, in base units of the
	// thread's payment asset. Other terms are restated from the thread (an offer keeps
	// the duration and start of the terms it answers).
	Price int64
	// SetCollateral makes a request or an offer ask Collateral (base units of the
	// thread's asset) instead of the collateral of the terms it restates (a request's
	// default is the client's collateral_fraction of the job's cost).
	SetCollateral bool
	Collateral    int64
	// Reason is a terminate's reason; zero means ReasonRejected.
	Reason scheme.Reason
	// VerifyEscrow (provider, attestation start, scheme verify "agent"): read the
	// chain first and send collateral_missing instead if the client's escrow is not
	// there. Under verify "scheme" the scheme checks anyway.
	VerifyEscrow bool
	// SkipEscrow (client, accept): do not submit the escrow lock transaction — a
	// cheating client.
	SkipEscrow bool
	// Swap is the treasury action (DecideTreasury); a zero Amount holds.
	Swap Swap
}

// JobSpec is a job as a client needs it done.
type JobSpec struct {
	// GPUModel is a catalog GPU id (Setup.GPUs index + 1), 0 for any GPU with
	// MinGPUMemGB; GPUs is the number of GPUs (0: a CPU job).
	GPUModel    uint16
	MinGPUMemGB uint16
	GPUs        uint16
	CPUCores    uint16
	RAMGB       uint32
	// Duration is the job's length in ticks.
	Duration int64
	// ValueUSD is what finishing the job is worth to the client.
	ValueUSD float64
	// Asset is the payment asset; CollateralFraction the collateral asked of the
	// provider as a fraction of the job's cost.
	Asset              scheme.Asset
	CollateralFraction float64
	// Arrival is the tick the job arrived; Expires the last tick its request may be
	// postponed to.
	Arrival, Expires int64
}

// Hours is the job's length in hours at ticksPerHour.
func (j *JobSpec) Hours(ticksPerHour int64) float64 {
	return float64(j.Duration) / float64(ticksPerHour)
}

// Units is what the job's value is counted in: its GPUs, or its CPU cores for a CPU job.
func (j *JobSpec) Units() int {
	if j.GPUs > 0 {
		return int(j.GPUs)
	}
	return int(j.CPUCores)
}

// Policy answers a round of decisions: out[i] answers ds[i]. Scripted policies read the
// structured decisions and the market's read-only views; a learned policy goes through
// package env, which encodes them as vectors with action masks. A Policy must not keep
// ds or out after the call.
type Policy interface {
	Act(m *Market, ds []Decision, out []Response)
}
