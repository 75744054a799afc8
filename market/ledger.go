package market

import (
	"errors"
	"fmt"
	"math"
)

// Asset is a token held on the chain. Balances are int64 counts of the asset's base unit
// (DESIGN.md "Money").
type Asset uint8

const (
	// USDC is the stablecoin; base unit 1e-6 USDC (6 decimals, as the ERC-20 token).
	USDC Asset = iota
	// ETH pays gas; base unit 1 gwei = 1e-9 ETH, because wei (1e-18) would overflow
	// int64 at 9.2 ETH.
	ETH
	// HIVE is the marketplace token; base unit 1e-6 HIVE (a micro-HIVE). Six decimals
	// rather than nine leave headroom: int64 holds up to 9.2e12 HIVE, above any supply a
	// scenario uses, while 1e-6 HIVE is far below any price tick that matters.
	HIVE
)

// NumAssets is the number of assets; valid assets are 0 <= a < NumAssets.
const NumAssets = 3

var assetNames = [NumAssets]string{"USDC", "ETH", "HIVE"}

// Valid reports whether a names a known asset.
func (a Asset) Valid() bool { return a < NumAssets }

// String returns the asset's ticker (as in traces: "USDC", "ETH", "HIVE").
func (a Asset) String() string {
	if a.Valid() {
		return assetNames[a]
	}
	return fmt.Sprintf("Asset(%d)", uint8(a))
}

// Decimals returns how many decimal places the base unit sits below one whole token:
// USDC 6, ETH 9 (the base unit is the gwei), HIVE 6. It is the "decimals" of the trace's
// genesis line.
func (a Asset) Decimals() int {
	switch a {
	case USDC, HIVE:
		return 6
	case ETH:
		return 9
	}
	return 0
}

// Unit returns the number of base units in one whole token (10^Decimals), or 0 for an
// invalid asset.
func (a Asset) Unit() int64 {
	if !a.Valid() {
		return 0
	}
	u := int64(1)
	for i := 0; i < a.Decimals(); i++ {
		u *= 10
	}
	return u
}

// ParseAsset parses a ticker as written by String.
func ParseAsset(s string) (Asset, error) {
	for i, n := range assetNames {
		if s == n {
			return Asset(i), nil
		}
	}
	return 0, fmt.Errorf("market: unknown asset %q: %w", s, ErrBadAsset)
}

// MarshalText implements encoding.TextMarshaler.
func (a Asset) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("market: asset %d: %w", uint8(a), ErrBadAsset)
	}
	return []byte(assetNames[a]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Asset) UnmarshalText(b []byte) error {
	v, err := ParseAsset(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Balances holds one amount per asset, indexed by Asset.
type Balances [NumAssets]int64

// AccountID identifies an account. Agent accounts are dense from 0 in the order they were
// added; the system accounts are the negative constants below.
type AccountID int32

// The system accounts. They exist by name for traces and events; Balance reads them
// (escrow: what the registry holds, sequencer: fees received, burn: base fees burned,
// mint: total minted). No op accepts them as a party except where documented.
const (
	AcctEscrow    AccountID = -1
	AcctSequencer AccountID = -2
	AcctBurn      AccountID = -3
	AcctMint      AccountID = -4
	// NoAccount is the zero-information account id (for example an unset party).
	NoAccount AccountID = math.MinInt32
)

// String returns "escrow", "sequencer", "burn", "mint" for the system accounts (the
// trace's names) and "acct-N" for agent account N. The market engine maps agent accounts
// to the trace's p-N / c-N names.
func (id AccountID) String() string {
	switch id {
	case AcctEscrow:
		return "escrow"
	case AcctSequencer:
		return "sequencer"
	case AcctBurn:
		return "burn"
	case AcctMint:
		return "mint"
	case NoAccount:
		return "none"
	}
	if id >= 0 {
		return fmt.Sprintf("acct-%d", int32(id))
	}
	return fmt.Sprintf("AccountID(%d)", int32(id))
}

// ThreadID identifies a negotiation thread (one client, one provider, one job). Threads
// are dense from 0 in the order [Chain.OpenThread] opened them.
type ThreadID int32

// NoThread marks an op or event that belongs to no thread (a faucet mint, a transfer).
const NoThread ThreadID = -1

// The ledger's errors. Ops return them bare (no wrapping, so a rejected op allocates
// nothing); test them with errors.Is. When several checks fail, the first in the order
// each op documents wins.
var (
	ErrBadAsset          = errors.New("market: unknown asset")
	ErrBadAmount         = errors.New("market: bad amount")
	ErrUnknownAccount    = errors.New("market: unknown account")
	ErrDuplicateAccount  = errors.New("market: account already exists")
	ErrBadKey            = errors.New("market: bad public key")
	ErrUnknownThread     = errors.New("market: unknown thread")
	ErrWrongParty        = errors.New("market: wrong party")
	ErrInsufficientFunds = errors.New("market: insufficient funds")
	ErrAlreadyLocked     = errors.New("market: already locked")
	ErrNoEscrow          = errors.New("market: no payment in escrow")
	ErrNoCollateral      = errors.New("market: no collateral in escrow")
	ErrAlreadySettled    = errors.New("market: already settled")
	ErrOverflow          = errors.New("market: integer overflow")
	ErrTickBackwards     = errors.New("market: tick moved backwards")
	ErrInvariant         = errors.New("market: invariant violated")
)

// Op is the kind of a ledger event, in the trace's vocabulary (specs/cli.md "Trace").
type Op uint8

const (
	OpLock     Op = iota // payment or collateral into escrow
	OpRelease            // escrow out to its rightful owner: payment to provider, refund to client, collateral returned
	OpTransfer           // account to account
	OpSlash              // collateral out of escrow to the client
	OpFee                // gas: priority fee + L1 data fee to the sequencer
	OpBurn               // gas: base fee burned
	OpMint               // new supply
	numOps
)

var opNames = [numOps]string{"lock", "release", "transfer", "slash", "fee", "burn", "mint"}

// String returns the trace name of the op.
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// MarshalText implements encoding.TextMarshaler.
func (o Op) MarshalText() ([]byte, error) {
	if o >= numOps {
		return nil, fmt.Errorf("market: unknown op %d", uint8(o))
	}
	return []byte(opNames[o]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Op) UnmarshalText(b []byte) error {
	for i, n := range opNames {
		if string(b) == n {
			*o = Op(i)
			return nil
		}
	}
	return fmt.Errorf("market: unknown op %q", b)
}

// LedgerEvent is one movement of value, emitted by every successful op (a gas charge
// emits two: burn and fee). From and To are agent accounts or system accounts; Thread is
// NoThread when the op has none.
type LedgerEvent struct {
	Tick   int64
	Op     Op
	Asset  Asset
	Amount int64
	From   AccountID
	To     AccountID
	Thread ThreadID
}

// String formats the event on one line, for tests and debugging.
func (e LedgerEvent) String() string {
	return fmt.Sprintf("tick=%d %s %d %s %s->%s thread=%d", e.Tick, e.Op, e.Amount, e.Asset, e.From, e.To, e.Thread)
}

// EventLog is an append-only event sink that the caller drains each tick:
// chain.SetEventSink(log.Append), read log.Events, then log.Reset() (which keeps the
// capacity, so steady-state logging does not allocate).
type EventLog struct {
	Events []LedgerEvent
}

// Append adds e to the log.
func (l *EventLog) Append(e LedgerEvent) { l.Events = append(l.Events, e) }

// Reset empties the log and keeps its capacity.
func (l *EventLog) Reset() { l.Events = l.Events[:0] }

// LockState is where a thread's payment or collateral stands.
type LockState uint8

const (
	LockNone     LockState = iota // never locked
	LockHeld                      // in escrow
	LockReleased                  // released to its rightful owner (payment to the provider, collateral back to the provider)
	LockRefunded                  // payment refunded to the client
	LockSlashed                   // collateral slashed to the client
)

var lockNames = [...]string{"none", "held", "released", "refunded", "slashed"}

// String returns the state's name.
func (s LockState) String() string {
	if int(s) < len(lockNames) {
		return lockNames[s]
	}
	return fmt.Sprintf("LockState(%d)", uint8(s))
}

// settled reports whether the lock was paid out (released, refunded or slashed).
func (s LockState) settled() bool { return s >= LockReleased }

// ThreadInfo is the chain's view of a thread: its parties and where its payment and
// collateral stand. Amounts are what was locked (they stay set after settlement).
type ThreadInfo struct {
	Client, Provider AccountID
	PaymentAsset     Asset
	Payment          int64
	PaymentState     LockState
	CollateralAsset  Asset
	Collateral       int64
	CollateralState  LockState
}

// add64 returns a+b and whether it did not overflow.
func add64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a^s)&(b^s) >= 0
}

// mul64 returns a*b and whether it did not overflow.
func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if (c < 0) != ((a < 0) != (b < 0)) || c/b != a {
		return c, false
	}
	return c, true
}

// addSat returns a+b for non-negative a and b, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if s, ok := add64(a, b); ok {
		return s
	}
	return math.MaxInt64
}

func (c *Chain) validAccount(a AccountID) bool { return uint32(a) < uint32(len(c.bal)) }

func (c *Chain) emit(op Op, asset Asset, amount int64, from, to AccountID, t ThreadID) {
	if c.sink != nil {
		c.sink(LedgerEvent{Tick: c.tick, Op: op, Asset: asset, Amount: amount, From: from, To: to, Thread: t})
	}
}

// Mint creates amt base units of asset in acct (genesis and faucet). Checks, in order:
// ErrBadAsset, ErrBadAmount (amt <= 0), ErrUnknownAccount (agent accounts only),
// ErrOverflow (the asset's total supply would pass math.MaxInt64; bounding the supply
// bounds every balance and sum, so no later add can overflow either).
// Emits {mint, From: mint, To: acct}.
func (c *Chain) Mint(acct AccountID, asset Asset, amt int64) error {
	if !asset.Valid() {
		return ErrBadAsset
	}
	if amt <= 0 {
		return ErrBadAmount
	}
	if !c.validAccount(acct) {
		return ErrUnknownAccount
	}
	supply, ok := add64(c.minted[asset], amt)
	if !ok {
		return ErrOverflow
	}
	nb, ok := add64(c.bal[acct][asset], amt)
	if !ok {
		return ErrOverflow
	}
	c.minted[asset] = supply
	c.bal[acct][asset] = nb
	c.emit(OpMint, asset, amt, AcctMint, acct, NoThread)
	return nil
}

// Transfer moves amt of asset from one agent account to another (from == to is allowed
// and changes nothing but still emits). Checks, in order: ErrBadAsset, ErrBadAmount
// (amt <= 0), ErrUnknownAccount (from, then to), ErrInsufficientFunds, ErrOverflow.
// Emits {transfer, From: from, To: to}.
func (c *Chain) Transfer(from, to AccountID, asset Asset, amt int64) error {
	if !asset.Valid() {
		return ErrBadAsset
	}
	if amt <= 0 {
		return ErrBadAmount
	}
	if !c.validAccount(from) || !c.validAccount(to) {
		return ErrUnknownAccount
	}
	fb := c.bal[from][asset]
	if fb < amt {
		return ErrInsufficientFunds
	}
	if from != to {
		nb, ok := add64(c.bal[to][asset], amt)
		if !ok {
			return ErrOverflow
		}
		c.bal[from][asset] = fb - amt
		c.bal[to][asset] = nb
	}
	c.emit(OpTransfer, asset, amt, from, to, NoThread)
	return nil
}

// OpenThread registers a deal thread between client and provider and returns its id
// (dense from 0, in call order, so an engine that opens threads in order can use the same
// numbering). Errors: ErrUnknownAccount, ErrWrongParty (client == provider), ErrOverflow
// (more than math.MaxInt32 threads). It moves no value and emits nothing.
func (c *Chain) OpenThread(client, provider AccountID) (ThreadID, error) {
	if !c.validAccount(client) || !c.validAccount(provider) {
		return NoThread, ErrUnknownAccount
	}
	if client == provider {
		return NoThread, ErrWrongParty
	}
	if len(c.threads) >= math.MaxInt32 {
		return NoThread, ErrOverflow
	}
	c.threads = append(c.threads, thread{client: client, provider: provider})
	return ThreadID(len(c.threads) - 1), nil
}

// thread is the chain's record of a deal: 32 bytes, in a slice indexed by ThreadID.
type thread struct {
	client, provider AccountID
	payAmt, colAmt   int64
	payAsset         Asset
	colAsset         Asset
	pay, col         LockState
}

func (c *Chain) thread(t ThreadID) *thread {
	if uint32(t) < uint32(len(c.threads)) {
		return &c.threads[t]
	}
	return nil
}

// lock moves amt of asset from party into escrow for thread t (shared by LockEscrow and
// LockCollateral; payment selects which lock).
func (c *Chain) lock(t ThreadID, party AccountID, asset Asset, amt int64, payment bool) error {
	if !asset.Valid() {
		return ErrBadAsset
	}
	if amt < 0 {
		return ErrBadAmount
	}
	th := c.thread(t)
	if th == nil {
		return ErrUnknownThread
	}
	own, other := th.pay, th.col
	want := th.client
	if !payment {
		own, other = th.col, th.pay
		want = th.provider
	}
	if party != want {
		return ErrWrongParty
	}
	if own == LockHeld {
		return ErrAlreadyLocked
	}
	if own.settled() || other.settled() {
		return ErrAlreadySettled
	}
	b := c.bal[party][asset]
	if b < amt {
		return ErrInsufficientFunds
	}
	ne, ok := add64(c.escrow[asset], amt)
	if !ok {
		return ErrOverflow
	}
	c.bal[party][asset] = b - amt
	c.escrow[asset] = ne
	if payment {
		th.pay, th.payAsset, th.payAmt = LockHeld, asset, amt
	} else {
		th.col, th.colAsset, th.colAmt = LockHeld, asset, amt
	}
	c.emit(OpLock, asset, amt, party, AcctEscrow, t)
	return nil
}

// LockEscrow moves the client's payment for thread t into escrow (the registry). A zero
// amount is allowed and records the lock. Checks, in order: ErrBadAsset, ErrBadAmount
// (amt < 0), ErrUnknownThread, ErrWrongParty (client is not the thread's client),
// ErrAlreadyLocked (payment held), ErrAlreadySettled (payment or collateral already paid
// out), ErrInsufficientFunds, ErrOverflow. Emits {lock, From: client, To: escrow}.
func (c *Chain) LockEscrow(t ThreadID, client AccountID, asset Asset, amt int64) error {
	return c.lock(t, client, asset, amt, true)
}

// LockCollateral moves the provider's collateral for thread t into escrow. It does not
// require the payment to be there (under `verify: agent` a provider may start blindly).
// Checks as LockEscrow, with the provider as the party. Emits {lock, From: provider,
// To: escrow}.
func (c *Chain) LockCollateral(t ThreadID, provider AccountID, asset Asset, amt int64) error {
	return c.lock(t, provider, asset, amt, false)
}

// unlock pays a held lock of thread t out of escrow to `to` and marks it final.
func (c *Chain) unlock(t ThreadID, payment bool, final LockState, op Op) error {
	th := c.thread(t)
	if th == nil {
		return ErrUnknownThread
	}
	st, asset, amt := th.pay, th.payAsset, th.payAmt
	if !payment {
		st, asset, amt = th.col, th.colAsset, th.colAmt
	}
	switch {
	case st == LockNone && payment:
		return ErrNoEscrow
	case st == LockNone:
		return ErrNoCollateral
	case st != LockHeld:
		return ErrAlreadySettled
	}
	to := th.provider
	if final == LockRefunded || final == LockSlashed {
		to = th.client
	}
	nb, ok := add64(c.bal[to][asset], amt)
	if !ok {
		return ErrOverflow
	}
	c.bal[to][asset] = nb
	c.escrow[asset] -= amt
	if payment {
		th.pay = final
	} else {
		th.col = final
	}
	c.settleReputation(th, final, payment, asset, amt)
	c.emit(op, asset, amt, AcctEscrow, to, t)
	return nil
}

// PayProvider releases thread t's escrowed payment to its provider (the deal completed).
// Errors, in order: ErrUnknownThread, ErrNoEscrow (never locked), ErrAlreadySettled,
// ErrOverflow. Emits {release, From: escrow, To: provider}; counts a completed deal for
// both parties (see Reputation).
func (c *Chain) PayProvider(t ThreadID) error {
	return c.unlock(t, true, LockReleased, OpRelease)
}

// RefundClient returns thread t's escrowed payment to its client. Errors as PayProvider.
// Emits {release, From: escrow, To: client}; counts a failed deal for both parties if
// the provider had locked collateral (the deal had started), a cancelled one otherwise.
func (c *Chain) RefundClient(t ThreadID) error {
	return c.unlock(t, true, LockRefunded, OpRelease)
}

// ReturnCollateral returns thread t's collateral to its provider. Errors, in order:
// ErrUnknownThread, ErrNoCollateral, ErrAlreadySettled, ErrOverflow. Emits
// {release, From: escrow, To: provider}.
func (c *Chain) ReturnCollateral(t ThreadID) error {
	return c.unlock(t, false, LockReleased, OpRelease)
}

// SlashCollateral pays thread t's collateral to its client. Errors as ReturnCollateral.
// Emits {slash, From: escrow, To: client}; counts a slash against the provider.
func (c *Chain) SlashCollateral(t ThreadID) error {
	return c.unlock(t, false, LockSlashed, OpSlash)
}

// EscrowOf returns the payment thread t holds in escrow now; ok is false if none is held
// (never locked, already settled, or no such thread). This is what a provider checks
// before it starts: under `verify: scheme` the engine checks it for the scheme, under
// `verify: agent` the provider's policy chooses to. It is a chain read: reads cost no gas
// on a real chain (an eth_call), so the chain charges nothing; an engine that wants the
// agent-verify path to have a price charges it as a time or observation cost itself.
func (c *Chain) EscrowOf(t ThreadID) (asset Asset, amount int64, ok bool) {
	th := c.thread(t)
	if th == nil || th.pay != LockHeld {
		return 0, 0, false
	}
	return th.payAsset, th.payAmt, true
}

// CollateralOf returns the collateral thread t holds in escrow now (as EscrowOf).
func (c *Chain) CollateralOf(t ThreadID) (asset Asset, amount int64, ok bool) {
	th := c.thread(t)
	if th == nil || th.col != LockHeld {
		return 0, 0, false
	}
	return th.colAsset, th.colAmt, true
}

// Thread returns the chain's view of thread t.
func (c *Chain) Thread(t ThreadID) (ThreadInfo, bool) {
	th := c.thread(t)
	if th == nil {
		return ThreadInfo{}, false
	}
	return ThreadInfo{
		Client: th.client, Provider: th.provider,
		PaymentAsset: th.payAsset, Payment: th.payAmt, PaymentState: th.pay,
		CollateralAsset: th.colAsset, Collateral: th.colAmt, CollateralState: th.col,
	}, true
}

// NumThreads returns the number of threads opened.
func (c *Chain) NumThreads() int { return len(c.threads) }
