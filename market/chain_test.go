package market

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// testKeys caches the keys of testKey (deriving an ed25519 key costs tens of
// microseconds, which the fuzz target would pay on every input).
var testKeys sync.Map // int -> ed25519.PublicKey

// testKey returns the deterministic ed25519 public key of test agent i.
func testKey(i int) ed25519.PublicKey {
	if k, ok := testKeys.Load(i); ok {
		return k.(ed25519.PublicKey)
	}
	seed := sha256.Sum256([]byte(fmt.Sprintf("hivegym/market-test-key/%d", i)))
	k := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	testKeys.Store(i, k)
	return k
}

// newTestChain returns a chain with n accounts (ids 0..n-1) and an event log attached.
func newTestChain(tb testing.TB, n int) (*Chain, *EventLog) {
	tb.Helper()
	c, err := NewChain(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		id, err := c.AddAccount(testKey(i))
		if err != nil {
			tb.Fatal(err)
		}
		if id != AccountID(i) {
			tb.Fatalf("account %d got id %d", i, id)
		}
	}
	log := &EventLog{}
	c.SetEventSink(log.Append)
	return c, log
}

func mustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// failsUnchanged runs op, which must fail with want, and checks that the chain's state is
// deeply equal to its state before and that no event was emitted.
func failsUnchanged(tb testing.TB, c *Chain, log *EventLog, want error, name string, op func() error) {
	tb.Helper()
	before := c.Clone()
	nev := len(log.Events)
	err := op()
	if !errors.Is(err, want) {
		tb.Errorf("%s: got error %v, want %v", name, err, want)
	}
	if !reflect.DeepEqual(before, c.Clone()) {
		tb.Errorf("%s: failed op changed the state:\nbefore:\n%s\nafter:\n%s", name, before, c)
	}
	if len(log.Events) != nev {
		tb.Errorf("%s: failed op emitted %v", name, log.Events[nev:])
	}
}

func TestAddressOf(t *testing.T) {
	pub := testKey(0)
	sum := sha256.Sum256(pub)
	a, err := AddressOf(pub)
	mustOK(t, err)
	for i := 0; i < 20; i++ {
		if a[i] != sum[i] {
			t.Fatalf("address byte %d = %x, want first 20 bytes of SHA-256(pubkey)", i, a[i])
		}
	}
	if _, err := AddressOf(pub[:31]); !errors.Is(err, ErrBadKey) {
		t.Errorf("short key: %v, want ErrBadKey", err)
	}
	if s := a.String(); len(s) != 42 || !strings.HasPrefix(s, "0x") {
		t.Errorf("address string %q", s)
	}
}

func TestAccounts(t *testing.T) {
	c, _ := newTestChain(t, 3)
	if c.NumAccounts() != 3 {
		t.Fatalf("NumAccounts = %d", c.NumAccounts())
	}
	for i := 0; i < 3; i++ {
		addr, _ := AddressOf(testKey(i))
		id, ok := c.AccountOf(addr)
		if !ok || id != AccountID(i) {
			t.Errorf("AccountOf(key %d) = %d, %t", i, id, ok)
		}
		if got, ok := c.Address(AccountID(i)); !ok || got != addr {
			t.Errorf("Address(%d) = %s", i, got)
		}
	}
	before := c.Clone()
	if _, err := c.AddAccount(testKey(1)); !errors.Is(err, ErrDuplicateAccount) {
		t.Errorf("duplicate key: %v", err)
	}
	if _, err := c.AddAccount(testKey(9)[:5]); !errors.Is(err, ErrBadKey) {
		t.Errorf("bad key: %v", err)
	}
	if !reflect.DeepEqual(before, c.Clone()) {
		t.Error("failed AddAccount changed the state")
	}
	if _, ok := c.Address(AcctEscrow); ok {
		t.Error("Address of a system account")
	}
}

func TestNames(t *testing.T) {
	cases := []struct{ got, want string }{
		{USDC.String(), "USDC"}, {ETH.String(), "ETH"}, {HIVE.String(), "HIVE"},
		{AcctEscrow.String(), "escrow"}, {AcctSequencer.String(), "sequencer"}, {AcctBurn.String(), "burn"}, {AcctMint.String(), "mint"},
		{AccountID(7).String(), "acct-7"},
		{OpLock.String(), "lock"}, {OpRelease.String(), "release"}, {OpTransfer.String(), "transfer"}, {OpSlash.String(), "slash"},
		{OpFee.String(), "fee"}, {OpBurn.String(), "burn"}, {OpMint.String(), "mint"},
		{TxEscrowLock.String(), "escrow_lock"}, {TxSwap.String(), "swap"},
		{SchemaBuy.String(), "buy"}, {SchemaSell.String(), "sell"}, {SchemaValidation.String(), "validation"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	units := map[Asset]int64{USDC: 1_000_000, ETH: 1_000_000_000, HIVE: 1_000_000}
	for a, u := range units {
		if a.Unit() != u {
			t.Errorf("%s unit %d, want %d", a, a.Unit(), u)
		}
	}
	for a := Asset(0); a < NumAssets; a++ {
		b, err := a.MarshalText()
		mustOK(t, err)
		var back Asset
		mustOK(t, back.UnmarshalText(b))
		if back != a {
			t.Errorf("asset round trip %s -> %s", a, back)
		}
	}
	if _, err := ParseAsset("DOGE"); !errors.Is(err, ErrBadAsset) {
		t.Errorf("ParseAsset(DOGE): %v", err)
	}
	for o := Op(0); o < numOps; o++ {
		b, err := o.MarshalText()
		mustOK(t, err)
		var back Op
		mustOK(t, back.UnmarshalText(b))
		if back != o {
			t.Errorf("op round trip %s -> %s", o, back)
		}
	}
	for k := TxKind(0); k < NumTxKinds; k++ {
		back, err := ParseTxKind(k.String())
		if err != nil || back != k {
			t.Errorf("tx kind round trip %s -> %s, %v", k, back, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := Config{Threads: -1}
	cfg.Gas = DefaultGasSchedule()
	cfg.Gas.Units[TxSwap] = -5
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"threads: must be non-negative", "gas.units.swap: must be non-negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := NewChain(cfg); err == nil {
		t.Error("NewChain accepted a bad config")
	}
}

func TestSetTick(t *testing.T) {
	c, _ := newTestChain(t, 1)
	mustOK(t, c.SetTick(5))
	mustOK(t, c.SetTick(5))
	if err := c.SetTick(4); !errors.Is(err, ErrTickBackwards) || c.Tick() != 5 {
		t.Errorf("SetTick backwards: %v, tick %d", err, c.Tick())
	}
}

// TestCloneIsDeep checks that mutating a clone leaves the original alone.
func TestCloneIsDeep(t *testing.T) {
	c, _ := newTestChain(t, 3)
	mustOK(t, c.Mint(0, USDC, 1000))
	th, err := c.OpenThread(0, 1)
	mustOK(t, err)
	mustOK(t, c.LockEscrow(th, 0, USDC, 100))
	buy := buyRequest(th, 0, 1)
	_, err = c.Attest(buy)
	mustOK(t, err)
	orig := c.String()
	d := c.Clone()
	mustOK(t, d.Transfer(0, 2, USDC, 5))
	mustOK(t, d.PayProvider(th))
	_, err = d.AddAccount(testKey(50))
	mustOK(t, err)
	_, err = d.Attest(buy)
	mustOK(t, err)
	if c.String() != orig {
		t.Errorf("mutating the clone changed the original:\n%s\nwant\n%s", c, orig)
	}
	if _, ok := c.AccountOf(mustAddr(t, testKey(50))); ok {
		t.Error("clone shares the address index")
	}
}

func mustAddr(tb testing.TB, pub ed25519.PublicKey) Address {
	a, err := AddressOf(pub)
	mustOK(tb, err)
	return a
}

// TestCheckInvariantsDetects corrupts the state in each way the invariants forbid.
func TestCheckInvariantsDetects(t *testing.T) {
	build := func() *Chain {
		c, _ := newTestChain(t, 2)
		mustOK(t, c.Mint(0, USDC, 100))
		mustOK(t, c.Mint(1, ETH, 100))
		th, _ := c.OpenThread(0, 1)
		mustOK(t, c.LockEscrow(th, 0, USDC, 40))
		if err := c.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	corruptions := []struct {
		name string
		f    func(c *Chain)
	}{
		{"balance created", func(c *Chain) { c.bal[0][USDC]++ }},
		{"negative balance", func(c *Chain) { c.bal[0][USDC] -= 61; c.bal[1][USDC] += 61 }},
		{"escrow not backed by threads", func(c *Chain) { c.escrow[USDC]++; c.bal[0][USDC]-- }},
		{"burn from nowhere", func(c *Chain) { c.burned[ETH]++ }},
		{"sequencer negative", func(c *Chain) { c.sequencer[ETH] = -1; c.bal[1][ETH]++ }},
		{"thread state", func(c *Chain) { c.threads[0].pay = LockSlashed }},
		{"thread parties", func(c *Chain) { c.threads[0].provider = c.threads[0].client }},
		{"uid index", func(c *Chain) {
			_, err := c.Attest(buyRequest(0, 0, 1))
			mustOK(t, err)
			c.reg.recs[0].UID[0] ^= 1
		}},
	}
	for _, tc := range corruptions {
		c := build()
		tc.f(c)
		if err := c.CheckInvariants(); !errors.Is(err, ErrInvariant) {
			t.Errorf("%s: CheckInvariants = %v", tc.name, err)
		}
	}
}

func TestReset(t *testing.T) {
	c, log := newTestChain(t, 2)
	mustOK(t, c.Mint(0, USDC, 100))
	th, _ := c.OpenThread(0, 1)
	mustOK(t, c.SetTick(3))
	_, err := c.Attest(buyRequest(th, 0, 1))
	mustOK(t, err)
	c.Reset()
	fresh, _ := NewChain(Config{})
	if c.String() != fresh.String() {
		t.Errorf("after Reset:\n%s\nwant\n%s", c, fresh)
	}
	// The reset chain works as a new one, and the sink is kept.
	id, err := c.AddAccount(testKey(1))
	mustOK(t, err)
	if id != 0 {
		t.Errorf("first account after reset has id %d", id)
	}
	log.Reset()
	mustOK(t, c.Mint(0, ETH, 5))
	if len(log.Events) != 1 {
		t.Errorf("events after reset: %v", log.Events)
	}
	mustOK(t, c.CheckInvariants())
}

// TestBalanceReadsSystemAccounts checks Balance on every system account against values
// set up by hand.
func TestBalanceReadsSystemAccounts(t *testing.T) {
	c, _ := newTestChain(t, 2)
	mustOK(t, c.Mint(0, USDC, 500))
	mustOK(t, c.Mint(0, ETH, 10_000))
	th, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(th, 0, USDC, 120))
	p := GasPrice{BaseFee: 2_000_000_000, PriorityFee: 1_000_000_000} // 2 and 1 gwei per gas
	c.gas.Units[TxEscrowLock] = 10                                    // 20 gwei burned, 10 to the sequencer
	mustOK(t, c.ChargeGas(th, 0, TxEscrowLock, &p))
	want := []struct {
		id    AccountID
		asset Asset
		v     int64
	}{
		{0, USDC, 380}, {AcctEscrow, USDC, 120}, {AcctMint, USDC, 500},
		{0, ETH, 10_000 - 30}, {AcctBurn, ETH, 20}, {AcctSequencer, ETH, 10}, {AcctMint, ETH, 10_000},
		{AcctEscrow, ETH, 0}, {NoAccount, USDC, 0}, {0, Asset(9), 0},
	}
	for _, w := range want {
		if got := c.Balance(w.id, w.asset); got != w.v {
			t.Errorf("Balance(%s, %s) = %d, want %d", w.id, w.asset, got, w.v)
		}
	}
	if c.Supply() != (Balances{500, 10_000, 0}) {
		t.Errorf("Supply = %v", c.Supply())
	}
}
