// Package scheme is the negotiation protocol of hivegym: message types, the per-thread
// state machine, legality (action masks), message encoding and signatures.
//
// A scheme is enforced as a pure, deterministic state machine per negotiation thread (one
// client, one provider, one job), in the style of etcd-io/raft: Scheme.Step(thread, msg,
// now, dst) dispatches on the thread's state to a step function per state, checks the
// message, updates the thread in place only if the message is accepted (copy-on-success),
// and appends Effect values to the caller's dst buffer. Effects describe what the chain
// must do (lock escrow, lock/return/slash collateral, pay, refund, write attestations);
// Step performs none of them. The spec is shared/specs/scheme.md; the rules follow
// CoopHive's documented compute-marketplace scheme and, for the second scheme
// (coophive-apiary), CoopHive's implemented offer/cancel/buyAttest/sellAttest protocol
// and its EAS resolvers (collateral == collateralRequested, now < offerDeadline,
// offerDeadline < jobDeadline < arbitrationDeadline).
//
// What it owns: Message, Thread, Terms, Effect, Config, the Scheme interface and its two
// implementations (ByName("compute-marketplace"), ByName("coophive-apiary")), the typed
// rejection errors, the fixed binary encoding of a Message and its ed25519 signature.
//
// What it must not do: import any hivegym package except internal helpers; perform I/O;
// read a clock (time comes in as the now argument, in ticks); draw random numbers; allocate
// in Step on the honest path with signatures "none". The market owns balances, gas,
// attestation records and the timing of events; it feeds chain outcomes back through the
// same Step as system events (EscrowLocked, JobFailed, Validated, Tick) sent from SystemID.
//
// # Order of checks
//
// Step rejects a message with the first failing check, in this order, so that a message
// that is wrong in several ways always gets the same error:
//
//  1. ErrBadMessage: type, stage or reason out of range (ErrWrongState if the thread's
//     own state is out of range, which only a corrupted Thread value can have).
//  2. ErrWrongThread: the message names another thread.
//  3. ErrForgedSystem: a system event not from SystemID, or an agent message from SystemID.
//  4. ErrNotParty: the sender is neither the thread's client nor its provider, or the
//     recipient is not the other party.
//  5. ErrBadSignature (signatures: ed25519 only; system events are not signed).
//  6. ErrTerminal: the thread has ended (Settled, Failed, Terminated).
//  7. ErrStaleSeq: seq is not above the last accepted seq of that sender (agents only).
//  8. ErrWrongRole: the sender's role never sends this type; ErrWrongState: the type is
//     not in Legal(state, role).
//  9. The state's step function: ErrBadTerms, ErrPastDeadline, ErrTooManyRounds,
//     ErrNoEscrow, ErrBadMessage (a terminate reason an agent may not give), ErrWrongState
//     (attestation stage that does not fit the state, escrow event when escrow is already
//     locked).
//
// # System events
//
// Chain and market outcomes enter through Step as messages whose From is SystemID and
// whose type is one of EscrowLocked, JobFailed, Validated (Message.Approved) and Tick.
// Step rejects a system type from any other sender and an agent type from SystemID
// (ErrForgedSystem). The market is the only producer of SystemID messages: in signature
// mode "none" the environment stamps From on agent messages, and in "ed25519" mode every
// agent message is verified against the key of its From, so an agent can neither claim
// SystemID nor another agent's id. System events carry no sequence number and no
// signature.
//
// # Integrating with the chain
//
// Effects of one accepted message are all-or-nothing for the market: Thread is a plain
// value, so the market can keep a copy, call Step, apply the effects to the ledger, and
// if the ledger refuses one (for example insufficient collateral), restore the copy and
// treat the message as rejected. RequestEscrowLock is the exception: it is the client's
// lock transaction, which the chain may fail (insufficient funds), land late, or never
// see; when it lands the market sends EscrowLocked, and should move the client's funds
// into escrow only if Step accepts that event (a thread that ended meanwhile rejects it).
// Amounts: the escrowed payment is JobCost(terms, ticks_per_hour) = ceil(price_per_hour x
// duration_ticks / ticks_per_hour) in base units of Terms.Asset; collateral is
// Terms.Collateral in the same asset.
//
// # Fuzzing
//
// FuzzStep decodes bytes into messages with UnmarshalBinary and feeds them to Step,
// checking the invariants after every message:
//
//	go test ./scheme -run '^$' -fuzz FuzzStep -fuzztime 60s
//
// Transcript tests (testdata/*.txt) are regenerated with
//
//	go test ./scheme -run Transcript -rewrite
//
// and must then be reviewed by hand: they are the spec in executable form.
package scheme
