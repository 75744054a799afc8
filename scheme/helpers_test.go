package scheme

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// Test fixtures shared by the transcript, property, fuzz and benchmark tests.

const (
	tClient   AgentID  = 1
	tProvider AgentID  = 2
	tThird    AgentID  = 9
	tThread   ThreadID = 7
	numKeys            = 16
)

// testKey derives agent id's ed25519 key from a fixed seed (deterministic, test only).
func testKey(id AgentID) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("hivegym test agent " + strconv.Itoa(int(id))))
	return ed25519.NewKeyFromSeed(seed[:])
}

var testPriv, testKeys = func() ([]ed25519.PrivateKey, KeyList) {
	priv := make([]ed25519.PrivateKey, numKeys)
	pub := make(KeyList, numKeys)
	for i := range priv {
		priv[i] = testKey(AgentID(i))
		pub[i] = priv[i].Public().(ed25519.PublicKey)
	}
	return priv, pub
}()

// baseTerms are valid terms for a request at tick <= 19: one GPU for 24 ticks (2 h at
// 12 ticks/h) from tick 30 at 1200 base units/h: job cost ceil(1200*24/12) = 2400.
func baseTerms() Terms {
	return Terms{
		GPUModel: 3, GPUCount: 1, CPUCores: 8, RAMGB: 32,
		Asset: AssetUSDC, Validation: ValidationOracle,
		Duration: 24, Start: 30, PricePerHour: 1200, Collateral: 500,
		OfferDeadline: 20, JobDeadline: 100, ArbitrationDeadline: 150,
	}
}

func mustScheme(t testing.TB, cfg Config, keys Keys) Scheme {
	t.Helper()
	s, err := New(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cfgFor(name, verify, sigs string) Config {
	c := DefaultConfig()
	c.Scheme, c.Verify, c.Signatures = name, verify, sigs
	return c
}

// sentinelName names the rejection sentinel that err wraps.
func sentinelName(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{ErrBadMessage, "ErrBadMessage"}, {ErrWrongThread, "ErrWrongThread"},
		{ErrForgedSystem, "ErrForgedSystem"}, {ErrNotParty, "ErrNotParty"},
		{ErrBadSignature, "ErrBadSignature"}, {ErrTerminal, "ErrTerminal"},
		{ErrStaleSeq, "ErrStaleSeq"}, {ErrWrongRole, "ErrWrongRole"},
		{ErrWrongState, "ErrWrongState"}, {ErrBadTerms, "ErrBadTerms"},
		{ErrPastDeadline, "ErrPastDeadline"}, {ErrTooManyRounds, "ErrTooManyRounds"},
		{ErrNoEscrow, "ErrNoEscrow"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "unknown(" + err.Error() + ")"
}

// driver builds messages for one thread the way an honest environment would: sender
// stamped, seq = next, recipient = the other party, signed when the scheme signs.
type driver struct {
	s   Scheme
	t   Thread
	now int64
	eff []Effect
}

func newDriver(tb testing.TB, s Scheme) *driver {
	th, err := NewThread(tThread, tClient, tProvider)
	if err != nil {
		tb.Fatal(err)
	}
	return &driver{s: s, t: th, now: 5}
}

// msg returns a well-formed message of type typ from role r in the current state.
func (d *driver) msg(r Role, typ MsgType) Message {
	m := Message{Thread: d.t.ID, Type: typ, From: d.t.Party(r)}
	switch r {
	case RoleClient:
		m.To, m.Seq = d.t.Provider, d.t.NextSeq(r)
	case RoleProvider:
		m.To, m.Seq = d.t.Client, d.t.NextSeq(r)
	default:
		m.To = SystemID
	}
	m.Terms = d.t.Terms
	switch typ {
	case MsgRequest:
		m.Terms = baseTerms()
	case MsgOffer:
		m.Terms.PricePerHour += 100
	case MsgAttestation:
		m.Stage = StageComplete
		if d.t.State == StateAccepted || d.t.State == StateAwaitingEscrow {
			m.Stage = StageStart
		}
	case MsgTerminate:
		m.Reason = ReasonCancelled
	case MsgValidated:
		m.Approved = true
	}
	if d.s.Config().Signatures == SignaturesEd25519 && r != RoleSystem {
		Sign(&m, testPriv[m.From])
	}
	return m
}

// do sends a well-formed message and fails the test if it is rejected.
func (d *driver) do(tb testing.TB, r Role, typ MsgType) {
	tb.Helper()
	m := d.msg(r, typ)
	var err error
	d.eff, err = d.s.Step(&d.t, &m, d.now, d.eff)
	if err != nil {
		tb.Fatalf("%s %v %v in %v: %v", d.s.Name(), r, typ, d.t.State, err)
	}
}

// prefixes reach each non-terminal state honestly; escrow says whether the client's
// escrow should be on chain when the state allows a choice.
func (d *driver) reach(tb testing.TB, st State, escrow bool) {
	tb.Helper()
	apiary := d.s.Name() == CoopHiveApiary
	switch st {
	case StateIdle:
		return
	case StateSettled:
		d.reach(tb, StateRunning, true)
		if !apiary {
			d.do(tb, RoleProvider, MsgAttestation)
		}
		d.do(tb, RoleSystem, MsgValidated)
		return
	case StateFailed:
		d.reach(tb, StateRunning, true)
		d.do(tb, RoleSystem, MsgJobFailed)
		return
	case StateTerminated:
		d.reach(tb, StateRequested, false)
		d.do(tb, RoleClient, MsgTerminate)
		return
	}
	d.do(tb, RoleClient, MsgRequest)
	if st == StateRequested {
		return
	}
	d.do(tb, RoleProvider, MsgOffer)
	if st == StateOffered {
		return
	}
	if st == StateCountered {
		d.do(tb, RoleClient, MsgOffer)
		return
	}
	d.do(tb, RoleClient, MsgAccept)
	switch st {
	case StateAccepted:
		if escrow {
			d.do(tb, RoleSystem, MsgEscrowLocked)
		}
	case StateAwaitingEscrow:
		if escrow {
			d.do(tb, RoleSystem, MsgEscrowLocked)
		}
		d.do(tb, RoleProvider, MsgCollateralMissing)
	case StateRunning, StateDelivered:
		if escrow {
			d.do(tb, RoleSystem, MsgEscrowLocked)
		}
		d.do(tb, RoleProvider, MsgAttestation)
		if st == StateDelivered {
			d.do(tb, RoleProvider, MsgAttestation)
		}
	default:
		tb.Fatalf("reach: unexpected state %v", st)
	}
}

// ledger is the in-test money model: balances per (agent, asset) and per-thread escrow and
// collateral pools, applying effects and checking conservation and non-negativity.
type ledger struct {
	bal        map[ledgerKey]int64
	escrow     map[ThreadID]int64
	collateral map[ThreadID]int64
	requested  map[ThreadID]int64 // last RequestEscrowLock amount
	escrowOut  map[ThreadID]int   // pays + refunds
	collOut    map[ThreadID]int   // returns + slashes
	poolAsset  map[ThreadID]Asset // asset of the thread's pools
	supply     [numAssets]int64
}

type ledgerKey struct {
	who   AgentID
	asset Asset
}

const startBalance = 1 << 50

func newLedger(agents ...AgentID) *ledger {
	l := &ledger{
		bal: map[ledgerKey]int64{}, escrow: map[ThreadID]int64{}, collateral: map[ThreadID]int64{},
		requested: map[ThreadID]int64{}, escrowOut: map[ThreadID]int{}, collOut: map[ThreadID]int{},
		poolAsset: map[ThreadID]Asset{},
	}
	for _, a := range agents {
		for as := Asset(0); as < numAssets; as++ {
			l.bal[ledgerKey{a, as}] = startBalance
			l.supply[as] += startBalance
		}
	}
	return l
}

// canLock reports whether the market would send m: an EscrowLocked event only comes
// when the client can pay the escrow.
func (l *ledger) canLock(th *Thread, m *Message) bool {
	return m.Type != MsgEscrowLocked || l.bal[ledgerKey{th.Client, th.Terms.Asset}] >= th.Escrow
}

// escrowAsset remembers the asset of each pool (one asset per thread).
func (l *ledger) move(from, to *int64, amt int64, what string) error {
	if amt < 0 {
		return fmt.Errorf("%s: negative amount %d", what, amt)
	}
	if *from < amt {
		return fmt.Errorf("%s: balance %d < amount %d", what, *from, amt)
	}
	*from -= amt
	*to += amt
	return nil
}

// apply applies the effects of one accepted message. lockedNow says the message was an
// accepted EscrowLocked event, after which the thread's Escrow moves into the pool.
func (l *ledger) apply(th *Thread, effs []Effect, lockedNow bool) error {
	asset := th.Terms.Asset
	if th.State != StateIdle && th.State != StateRequested {
		if a, ok := l.poolAsset[th.ID]; ok && a != asset {
			return fmt.Errorf("thread %d changed asset from %v to %v", th.ID, a, asset)
		}
		l.poolAsset[th.ID] = asset
	}
	pool := func(m map[ThreadID]int64, id ThreadID) *int64 {
		v := m[id]
		p := &v
		return p
	}
	for _, e := range effs {
		if e.Thread != th.ID {
			return fmt.Errorf("effect %v for thread %d, stepping %d", e, e.Thread, th.ID)
		}
		switch e.Kind {
		case EffStateChange, EffAttest:
			continue
		case EffRequestEscrowLock:
			if e.From != th.Client || e.Amount <= 0 {
				return fmt.Errorf("bad %v", e)
			}
			l.requested[th.ID] = e.Amount
			continue
		}
		if e.Asset != asset {
			return fmt.Errorf("effect %v in asset other than the terms' %v", e, asset)
		}
		var (
			pm   map[ThreadID]int64
			acct ledgerKey
			in   bool // into the pool
		)
		switch e.Kind {
		case EffLockCollateral:
			pm, acct, in = l.collateral, ledgerKey{th.Provider, asset}, true
		case EffPayProvider:
			pm, acct = l.escrow, ledgerKey{th.Provider, asset}
			l.escrowOut[th.ID]++
		case EffRefundClient:
			pm, acct = l.escrow, ledgerKey{th.Client, asset}
			l.escrowOut[th.ID]++
		case EffReturnCollateral:
			pm, acct = l.collateral, ledgerKey{th.Provider, asset}
			l.collOut[th.ID]++
		case EffSlashCollateral:
			pm, acct = l.collateral, ledgerKey{th.Client, asset}
			l.collOut[th.ID]++
		default:
			return fmt.Errorf("unknown effect %v", e)
		}
		p := pool(pm, th.ID)
		b := l.bal[acct]
		var err error
		if in {
			err = l.move(&b, p, e.Amount, e.String())
		} else {
			if *p != e.Amount {
				return fmt.Errorf("%v releases %d but the pool holds %d", e, e.Amount, *p)
			}
			err = l.move(p, &b, e.Amount, e.String())
		}
		if err != nil {
			return err
		}
		pm[th.ID], l.bal[acct] = *p, b
	}
	if lockedNow {
		amt := th.Escrow
		if l.requested[th.ID] != amt {
			return fmt.Errorf("escrow landed %d, requested %d", amt, l.requested[th.ID])
		}
		b := l.bal[ledgerKey{th.Client, asset}]
		p := l.escrow[th.ID]
		if err := l.move(&b, &p, amt, "escrow lock"); err != nil {
			return err
		}
		l.escrow[th.ID], l.bal[ledgerKey{th.Client, asset}] = p, b
	}
	return l.check(th)
}

// check verifies conservation per asset, no negative balance, each pool released at
// most once, and nothing left locked once the thread has ended.
func (l *ledger) check(th *Thread) error {
	var sum [numAssets]int64
	for k, v := range l.bal {
		if v < 0 {
			return fmt.Errorf("negative balance %v: %d", k, v)
		}
		sum[k.asset] += v
	}
	for id, v := range l.escrow {
		if v < 0 {
			return fmt.Errorf("negative escrow pool %d: %d", id, v)
		}
		sum[l.poolAsset[id]] += v
	}
	for id, v := range l.collateral {
		if v < 0 {
			return fmt.Errorf("negative collateral pool %d: %d", id, v)
		}
		sum[l.poolAsset[id]] += v
	}
	if sum != l.supply {
		return fmt.Errorf("conservation: sums %v, supply %v", sum, l.supply)
	}
	if l.escrowOut[th.ID] > 1 || l.collOut[th.ID] > 1 {
		return fmt.Errorf("released twice: escrow %d, collateral %d", l.escrowOut[th.ID], l.collOut[th.ID])
	}
	if th.State.Terminal() && (l.escrow[th.ID] != 0 || l.collateral[th.ID] != 0) {
		return fmt.Errorf("thread ended %v with escrow %d and collateral %d still locked", th.State, l.escrow[th.ID], l.collateral[th.ID])
	}
	return nil
}
