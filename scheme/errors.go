package scheme

import "errors"

// Rejection errors. Step returns one of these, possibly wrapped with a fixed detail
// (errors.Is works on every error Step returns). Detail errors are package-level values,
// so a rejection does not allocate.
var (
	ErrBadMessage    = errors.New("bad message")                   // field out of range or not allowed for this type
	ErrWrongThread   = errors.New("wrong thread")                  // message names another thread
	ErrForgedSystem  = errors.New("forged system event")           // system type from an agent, or agent type from SystemID
	ErrNotParty      = errors.New("not a party to the thread")     // third party sender or recipient
	ErrBadSignature  = errors.New("bad signature")                 // ed25519 verification failed or no key
	ErrTerminal      = errors.New("thread has ended")              // any message to a terminal thread
	ErrStaleSeq      = errors.New("stale sequence number")         // replay or out-of-order seq
	ErrWrongRole     = errors.New("wrong role for message type")   // e.g. a provider accepting
	ErrWrongState    = errors.New("message type illegal in state") // not in Legal(state, role)
	ErrBadTerms      = errors.New("terms break a bound")           // deadlines order, non-positive price, ...
	ErrPastDeadline  = errors.New("past deadline")                 // offer, job or arbitration deadline passed
	ErrTooManyRounds = errors.New("too many offer rounds")         // offer beyond max_rounds
	ErrNoEscrow      = errors.New("no escrow locked")              // start without escrow (verify: scheme)
	ErrBadEncoding   = errors.New("bad message encoding")          // UnmarshalBinary input
	ErrBadThread     = errors.New("bad thread")                    // NewThread arguments
	ErrUnknownScheme = errors.New("unknown scheme")                // ByName
)

// Sentinels lists every rejection sentinel that Step can return, in the order of the
// checks documented in the package comment (for tests and trace vocabularies).
var Sentinels = []error{
	ErrBadMessage, ErrWrongThread, ErrForgedSystem, ErrNotParty, ErrBadSignature,
	ErrTerminal, ErrStaleSeq, ErrWrongRole, ErrWrongState, ErrBadTerms,
	ErrPastDeadline, ErrTooManyRounds, ErrNoEscrow,
}

// detailError is a sentinel with a fixed explanation.
type detailError struct {
	kind error
	msg  string
}

func (e *detailError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *detailError) Unwrap() error { return e.kind }

func detail(kind error, msg string) error { return &detailError{kind, msg} }

// Fixed rejections with details. Package-level so that Step never allocates an error.
var (
	errBadType        = detail(ErrBadMessage, "message type out of range")
	errBadStage       = detail(ErrBadMessage, "attestation stage out of range")
	errBadReason      = detail(ErrBadMessage, "reason out of range")
	errAgentReason    = detail(ErrBadMessage, "agents terminate only with reason rejected, cancelled or error")
	errSystemFromAgnt = detail(ErrForgedSystem, "system event from an agent")
	errAgentFromSys   = detail(ErrForgedSystem, "agent message type from the system id")
	errSenderNotParty = detail(ErrNotParty, "sender is neither the client nor the provider")
	errRecipient      = detail(ErrNotParty, "recipient is not the other party")
	errNoKey          = detail(ErrBadSignature, "no public key for the sender")
	errSigMismatch    = detail(ErrBadSignature, "ed25519 verification failed")
	errStartStage     = detail(ErrWrongState, "attestation in this state must have stage start")
	errCompleteStage  = detail(ErrWrongState, "attestation in this state must have stage complete")
	errEscrowTwice    = detail(ErrWrongState, "escrow already locked")
	errEscrowRetry    = detail(ErrWrongState, "escrow already locked, nothing to retry")

	errTermsPrice           = detail(ErrBadTerms, "price per hour must be positive")
	errTermsDuration        = detail(ErrBadTerms, "duration must be positive and at most MaxTick")
	errTermsTicks           = detail(ErrBadTerms, "start and deadlines must be in [0, MaxTick]")
	errTermsCollateral      = detail(ErrBadTerms, "collateral must be non-negative")
	errTermsOrder           = detail(ErrBadTerms, "deadlines must satisfy offer < job < arbitration")
	errTermsFit             = detail(ErrBadTerms, "start + duration must not exceed the job deadline")
	errTermsAsset           = detail(ErrBadTerms, "asset out of range")
	errTermsValidation      = detail(ErrBadTerms, "validation method out of range")
	errTermsResources       = detail(ErrBadTerms, "job needs at least one GPU or one CPU core")
	errTermsOverflow        = detail(ErrBadTerms, "job cost plus collateral overflows int64")
	errTermsImmutable       = detail(ErrBadTerms, "an offer may change only price, start, duration and collateral")
	errTermsAccept          = detail(ErrBadTerms, "accepted terms differ from the last offer")
	errTermsCollateralStart = detail(ErrBadTerms, "attested collateral differs from the collateral requested")

	errPastOffer = detail(ErrPastDeadline, "offer deadline passed")
	errPastJob   = detail(ErrPastDeadline, "job deadline passed")
	errPastArb   = detail(ErrPastDeadline, "arbitration deadline passed")
)
