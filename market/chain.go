package market

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Address is an account's 20-byte address: the first 20 bytes of SHA-256 of the agent's
// ed25519 public key (an Ethereum-sized address; Ethereum itself takes the last 20 bytes
// of a Keccak-256 of a secp256k1 key, which does not apply to ed25519 keys).
type Address [20]byte

// String returns the address as 0x-prefixed lowercase hex.
func (a Address) String() string { return "0x" + hex.EncodeToString(a[:]) }

// AddressOf derives the address of an ed25519 public key. ErrBadKey if the key does not
// have ed25519.PublicKeySize bytes.
func AddressOf(pub ed25519.PublicKey) (Address, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Address{}, ErrBadKey
	}
	sum := sha256.Sum256(pub)
	var a Address
	copy(a[:], sum[:20])
	return a, nil
}

// Config sets up a Chain. The zero value is valid and uses DefaultGasSchedule; the
// capacity hints only pre-size slices (a hint that is too small costs amortised growth,
// never an error).
type Config struct {
	// Gas is the gas schedule; a zero schedule selects DefaultGasSchedule.
	Gas GasSchedule
	// Capacity hints.
	Accounts, Threads, Attestations int
}

// Validate checks the config; paths are relative to the chain's section.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Gas != (GasSchedule{}) {
		if err := cfg.Gas.Validate(); err != nil {
			errs = append(errs, fieldpath.Under("gas", err))
		}
	}
	for _, h := range []struct {
		name string
		v    int
	}{{"accounts", cfg.Accounts}, {"threads", cfg.Threads}, {"attestations", cfg.Attestations}} {
		if h.v < 0 {
			errs = append(errs, fieldpath.Errorf(h.name, "must be non-negative, got %d", h.v))
		}
	}
	return errors.Join(errs...)
}

// Chain is the simulated L2: accounts, balances, escrow, gas, the attestation registry
// and reputation. It is not safe for concurrent use; a vectorised environment gives each
// market its own Chain.
type Chain struct {
	tick int64
	gas  GasSchedule

	// Agent accounts, indexed by AccountID.
	addrs  []Address
	bal    []Balances
	rep    []Reputation
	byAddr map[Address]AccountID // used only by AddAccount and AccountOf, never in ops

	// System accounts.
	escrow    Balances // held by the registry for threads
	sequencer Balances
	burned    Balances
	minted    Balances // total supply ever created (genesis + faucet)

	threads []thread

	reg registry

	sink func(LedgerEvent)
}

// NewChain returns an empty chain at tick 0.
func NewChain(cfg Config) (*Chain, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Chain{gas: cfg.Gas}
	if c.gas == (GasSchedule{}) {
		c.gas = DefaultGasSchedule()
	}
	c.addrs = make([]Address, 0, cfg.Accounts)
	c.bal = make([]Balances, 0, cfg.Accounts)
	c.rep = make([]Reputation, 0, cfg.Accounts)
	c.byAddr = make(map[Address]AccountID, cfg.Accounts)
	c.threads = make([]thread, 0, cfg.Threads)
	c.reg.init(cfg.Attestations)
	return c, nil
}

// SetEventSink sets the function every successful op calls with its events (nil turns
// events off). The sink runs synchronously inside the op; it must not call back into the
// chain. See EventLog for a ready-made sink.
func (c *Chain) SetEventSink(sink func(LedgerEvent)) { c.sink = sink }

// GasSchedule returns the chain's gas schedule.
func (c *Chain) GasSchedule() GasSchedule { return c.gas }

// Tick returns the chain's current tick (stamped on events and attestations).
func (c *Chain) Tick() int64 { return c.tick }

// SetTick advances the chain to tick t. ErrTickBackwards if t is before the current tick.
func (c *Chain) SetTick(t int64) error {
	if t < c.tick {
		return ErrTickBackwards
	}
	c.tick = t
	return nil
}

// AddAccount creates the account of an agent from its ed25519 public key and returns its
// id (dense from 0, in call order). Errors: ErrBadKey, ErrDuplicateAccount, ErrOverflow
// (more than math.MaxInt32 accounts).
func (c *Chain) AddAccount(pub ed25519.PublicKey) (AccountID, error) {
	addr, err := AddressOf(pub)
	if err != nil {
		return NoAccount, err
	}
	if _, dup := c.byAddr[addr]; dup {
		return NoAccount, ErrDuplicateAccount
	}
	if len(c.bal) >= 1<<31-1 {
		return NoAccount, ErrOverflow
	}
	id := AccountID(len(c.bal))
	c.addrs = append(c.addrs, addr)
	c.bal = append(c.bal, Balances{})
	c.rep = append(c.rep, Reputation{})
	c.byAddr[addr] = id
	return id, nil
}

// NumAccounts returns the number of agent accounts.
func (c *Chain) NumAccounts() int { return len(c.bal) }

// AccountOf returns the account with address addr.
func (c *Chain) AccountOf(addr Address) (AccountID, bool) {
	id, ok := c.byAddr[addr]
	return id, ok
}

// Address returns the address of agent account id.
func (c *Chain) Address(id AccountID) (Address, bool) {
	if !c.validAccount(id) {
		return Address{}, false
	}
	return c.addrs[id], true
}

// Balance returns what account id holds of asset. For the system accounts it returns
// the escrow's holdings, the sequencer's fees, the burned total and the minted total
// (the supply). Unknown accounts and assets read as 0.
func (c *Chain) Balance(id AccountID, asset Asset) int64 {
	if !asset.Valid() {
		return 0
	}
	if c.validAccount(id) {
		return c.bal[id][asset]
	}
	switch id {
	case AcctEscrow:
		return c.escrow[asset]
	case AcctSequencer:
		return c.sequencer[asset]
	case AcctBurn:
		return c.burned[asset]
	case AcctMint:
		return c.minted[asset]
	}
	return 0
}

// Balances returns all balances of agent account id in O(1).
func (c *Chain) Balances(id AccountID) (Balances, bool) {
	if !c.validAccount(id) {
		return Balances{}, false
	}
	return c.bal[id], true
}

// Supply returns the total minted of each asset (genesis plus faucet).
func (c *Chain) Supply() Balances { return c.minted }

// AllBalances returns the balances of every agent account, indexed by AccountID, for
// bulk reads (the market engine marks every wallet to market every tick). The slice
// aliases the chain's state: read it, never write to it, and do not keep it across an
// AddAccount.
func (c *Chain) AllBalances() []Balances { return c.bal }

// Clone returns a deep copy of the chain's state. The copy has no event sink.
func (c *Chain) Clone() *Chain {
	d := *c
	d.addrs = slices.Clone(c.addrs)
	d.bal = slices.Clone(c.bal)
	d.rep = slices.Clone(c.rep)
	d.byAddr = maps.Clone(c.byAddr)
	d.threads = slices.Clone(c.threads)
	d.reg = c.reg.clone()
	d.sink = nil
	return &d
}

// Reset empties the chain (accounts, balances, threads, attestations, reputation, tick 0)
// and keeps its gas schedule, its event sink and the capacity of its slices, so a
// vectorised environment can run episode after episode without allocating.
func (c *Chain) Reset() {
	c.tick = 0
	c.addrs = c.addrs[:0]
	c.bal = c.bal[:0]
	c.rep = c.rep[:0]
	clear(c.byAddr)
	c.escrow, c.sequencer, c.burned, c.minted = Balances{}, Balances{}, Balances{}, Balances{}
	c.threads = c.threads[:0]
	c.reg.reset()
}

// CheckInvariants verifies, in O(accounts + threads + attestations): per asset,
// sum(agent balances) + sequencer + escrow + burned == minted; no balance (agent or
// system) is negative; the escrow holds exactly the payments and collateral that threads
// hold; every thread's state is well formed; every attestation is found under its uid.
// It returns nil or an error wrapping ErrInvariant. For tests and debugging.
func (c *Chain) CheckInvariants() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvariant}, args...)...))
	}
	var held Balances
	for i := range c.threads {
		th := &c.threads[i]
		if !c.validAccount(th.client) || !c.validAccount(th.provider) || th.client == th.provider {
			bad("thread %d: bad parties %d, %d", i, th.client, th.provider)
		}
		if th.pay > LockRefunded || th.pay == LockSlashed {
			bad("thread %d: bad payment state %d", i, th.pay)
		}
		if th.col > LockSlashed || th.col == LockRefunded {
			bad("thread %d: bad collateral state %d", i, th.col)
		}
		if th.payAmt < 0 || th.colAmt < 0 || !th.payAsset.Valid() || !th.colAsset.Valid() {
			bad("thread %d: bad lock amount or asset", i)
			continue
		}
		if th.pay == LockHeld {
			held[th.payAsset] = addSat(held[th.payAsset], th.payAmt)
		}
		if th.col == LockHeld {
			held[th.colAsset] = addSat(held[th.colAsset], th.colAmt)
		}
	}
	for a := Asset(0); a < NumAssets; a++ {
		var sum int64
		ok := true
		for i := range c.bal {
			b := c.bal[i][a]
			if b < 0 {
				bad("account %d: negative %s balance %d", i, a, b)
			}
			if sum, ok = add64(sum, b); !ok {
				bad("%s: sum of balances overflows", a)
				break
			}
		}
		for _, s := range []struct {
			name string
			v    int64
		}{{"sequencer", c.sequencer[a]}, {"escrow", c.escrow[a]}, {"burn", c.burned[a]}, {"mint", c.minted[a]}} {
			if s.v < 0 {
				bad("%s: negative %s balance %d", s.name, a, s.v)
			}
		}
		if ok {
			for _, v := range []int64{c.sequencer[a], c.escrow[a], c.burned[a]} {
				if sum, ok = add64(sum, v); !ok {
					bad("%s: total overflows", a)
					break
				}
			}
		}
		if ok && sum != c.minted[a] {
			bad("%s: balances+sequencer+escrow+burned = %d, minted = %d (off by %d)", a, sum, c.minted[a], sum-c.minted[a])
		}
		if held[a] != c.escrow[a] {
			bad("%s: escrow holds %d, threads hold %d", a, c.escrow[a], held[a])
		}
	}
	for i := range c.reg.recs {
		if j, ok := c.reg.lookup(c.reg.recs[i].UID); !ok || j != int32(i) {
			bad("attestation %d: not indexed under its uid", i)
		}
	}
	return errors.Join(errs...)
}

// String returns a deterministic multi-line dump of the whole state, for debugging and
// golden tests.
func (c *Chain) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chain tick=%d accounts=%d threads=%d attestations=%d\n", c.tick, len(c.bal), len(c.threads), len(c.reg.recs))
	sys := []struct {
		name string
		v    Balances
	}{{"mint", c.minted}, {"escrow", c.escrow}, {"sequencer", c.sequencer}, {"burn", c.burned}}
	for _, s := range sys {
		fmt.Fprintf(&b, "%-9s %s\n", s.name, fmtBalances(s.v))
	}
	for i := range c.bal {
		r := c.rep[i]
		fmt.Fprintf(&b, "acct-%d %s %s rep{completed=%d failed=%d cancelled=%d slashed=%d volume=[%s]}\n",
			i, c.addrs[i], fmtBalances(c.bal[i]), r.Completed, r.Failed, r.Cancelled, r.Slashed, fmtBalances(r.Volume))
	}
	for i := range c.threads {
		th := &c.threads[i]
		fmt.Fprintf(&b, "thread-%d client=%s provider=%s payment=%s:%d%s collateral=%s:%d%s\n", i, th.client, th.provider,
			th.pay, th.payAmt, assetSuffix(th.pay, th.payAsset), th.col, th.colAmt, assetSuffix(th.col, th.colAsset))
	}
	for i := range c.reg.recs {
		fmt.Fprintf(&b, "att-%d %s\n", i, c.reg.recs[i].String())
	}
	return b.String()
}

func assetSuffix(s LockState, a Asset) string {
	if s == LockNone {
		return ""
	}
	return " " + a.String()
}

func fmtBalances(v Balances) string {
	var b strings.Builder
	for a := Asset(0); a < NumAssets; a++ {
		if a > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", a, v[a])
	}
	return b.String()
}
