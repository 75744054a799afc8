package market

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Schema is the schema of an attestation, after CoopHive's EAS contracts.
type Schema uint8

const (
	// SchemaBuy is the client's buy attestation (its acceptance, with the deal's terms);
	// the recipient is the supplier (the provider).
	SchemaBuy Schema = iota + 1
	// SchemaSell is the provider's sell attestation (it locked its collateral and starts);
	// it references a buy and its recipient is the buyer.
	SchemaSell
	// SchemaValidation judges a deal (isApproved); it references a sell and its recipient
	// is the seller.
	SchemaValidation
)

var schemaNames = [...]string{"", "buy", "sell", "validation"}

// Valid reports whether s is a known schema.
func (s Schema) Valid() bool { return s >= SchemaBuy && s <= SchemaValidation }

// String returns "buy", "sell" or "validation".
func (s Schema) String() string {
	if s.Valid() {
		return schemaNames[s]
	}
	return fmt.Sprintf("Schema(%d)", uint8(s))
}

// UID is an attestation's unique id: a SHA-256 of its canonical encoding (see
// Attestation). The zero UID means "no reference".
type UID [32]byte

// IsZero reports whether u is the zero UID.
func (u UID) IsZero() bool { return u == UID{} }

// String returns the UID as 0x-prefixed hex.
func (u UID) String() string { return "0x" + hex.EncodeToString(u[:]) }

// AttestationData is the fixed-size payload of an attestation. Each schema uses its own
// fields; Attest stores the others as zero.
type AttestationData struct {
	// Buy (CoopHive's buy schema; its supplier is the attestation's recipient).
	JobCost             int64 // payment, in PaymentAsset base units
	PaymentAsset        Asset
	CollateralRequested int64 // collateral asked of the provider, in base units
	OfferDeadline       int64 // ticks: the deal must be agreed (buy attested) before it
	JobDeadline         int64 // ticks: the job must be started (sell attested) before it
	ArbitrationDeadline int64 // ticks: the deal must be judged (validation attested) before it

	// Sell.
	Collateral int64 // must equal the buy's CollateralRequested

	// Validation.
	Approved bool
}

// AttestRequest is what an attester submits; Attest adds the tick, the uid and the bump.
type AttestRequest struct {
	Schema    Schema
	Thread    ThreadID // the deal's thread, or NoThread
	Attester  AccountID
	Recipient AccountID
	RefUID    UID
	Data      AttestationData
}

// Attestation is a record of the registry: {uid, schema, attester, recipient, refUID,
// data, tick} (specs/scheme.md), plus the thread it belongs to and an EAS-style bump.
//
// The uid is SHA-256 of this canonical encoding (big-endian integers, 161 bytes):
//
//	"hivegym/attestation/v1" (22 bytes ASCII), schema (1), thread (int32, 4),
//	attester address (20), recipient address (20), refUID (32), JobCost (8),
//	PaymentAsset (1), CollateralRequested (8), OfferDeadline (8), JobDeadline (8),
//	ArbitrationDeadline (8), Collateral (8), Approved (1: 0 or 1), tick (int64, 8),
//	bump (uint32, 4)
//
// where the addresses are the accounts' addresses (SystemAddress for a system account).
// Like EAS, which bumps a counter when two attestations would hash alike, the registry
// starts the bump at 0 and increments it until the uid is new, so two identical buy
// attestations in the same tick (two threads with the same terms) get distinct uids.
type Attestation struct {
	UID       UID
	Schema    Schema
	Thread    ThreadID
	Attester  AccountID
	Recipient AccountID
	RefUID    UID
	Data      AttestationData
	Tick      int64
	Bump      uint32
}

// String formats the record on one line.
func (a *Attestation) String() string {
	s := fmt.Sprintf("%s %s thread=%d attester=%s recipient=%s tick=%d bump=%d", a.UID, a.Schema, a.Thread, a.Attester, a.Recipient, a.Tick, a.Bump)
	if !a.RefUID.IsZero() {
		s += " ref=" + a.RefUID.String()
	}
	d := &a.Data
	switch a.Schema {
	case SchemaBuy:
		s += fmt.Sprintf(" jobCost=%d %s collateralRequested=%d deadlines=%d<%d<%d", d.JobCost, d.PaymentAsset, d.CollateralRequested, d.OfferDeadline, d.JobDeadline, d.ArbitrationDeadline)
	case SchemaSell:
		s += fmt.Sprintf(" collateral=%d", d.Collateral)
	case SchemaValidation:
		s += fmt.Sprintf(" approved=%t", d.Approved)
	}
	return s
}

// The registry's errors (with the ledger's ErrUnknownAccount, ErrUnknownThread,
// ErrWrongParty, ErrBadAsset and ErrBadAmount).
var (
	ErrBadSchema          = errors.New("market: unknown attestation schema")
	ErrBadRef             = errors.New("market: bad attestation reference")
	ErrAlreadyReferenced  = errors.New("market: attestation already referenced")
	ErrDeadlineOrder      = errors.New("market: deadlines not in order offer < job < arbitration")
	ErrPastDeadline       = errors.New("market: past deadline")
	ErrCollateralMismatch = errors.New("market: collateral differs from collateral requested")
)

// SystemAddress returns the address that stands for a system account in attestation
// encodings: 19 zero bytes then the byte -id (escrow 0x..01, sequencer 0x..02, burn
// 0x..03, mint 0x..04), like Ethereum's precompile addresses. ok is false for other ids.
func SystemAddress(id AccountID) (Address, bool) {
	if id > AcctEscrow || id < AcctMint {
		return Address{}, false
	}
	var a Address
	a[19] = byte(-id)
	return a, true
}

const (
	attestationTag = "hivegym/attestation/v1"
	encodingLen    = len(attestationTag) + 1 + 4 + 20 + 20 + 32 + 8 + 1 + 8 + 8 + 8 + 8 + 8 + 1 + 8 + 4
)

// registry is the attestation store: records in a slice, and an open-addressing hash
// index from uid to record (linear probing on the uid's first 8 bytes, which SHA-256
// makes uniform), so neither a lookup nor an insert touches a Go map.
type registry struct {
	recs  []Attestation
	child []int32 // index of the record that references recs[i], or -1
	index []int32 // record index + 1, 0 = empty slot; len is a power of two
}

func (r *registry) init(capHint int) {
	r.recs = make([]Attestation, 0, capHint)
	r.child = make([]int32, 0, capHint)
	n := 64
	for n < 2*capHint {
		n *= 2
	}
	r.index = make([]int32, n)
}

func (r *registry) clone() registry {
	return registry{
		recs:  append([]Attestation(nil), r.recs...),
		child: append([]int32(nil), r.child...),
		index: append([]int32(nil), r.index...),
	}
}

func (r *registry) reset() {
	r.recs = r.recs[:0]
	r.child = r.child[:0]
	clear(r.index)
}

func (r *registry) slot(u UID) int {
	return int(binary.LittleEndian.Uint64(u[:8]) & uint64(len(r.index)-1))
}

// lookup returns the index of the record with uid u.
func (r *registry) lookup(u UID) (int32, bool) {
	if len(r.index) == 0 {
		return -1, false
	}
	mask := len(r.index) - 1
	for h := r.slot(u); ; h = (h + 1) & mask {
		v := r.index[h]
		if v == 0 {
			return -1, false
		}
		if r.recs[v-1].UID == u {
			return v - 1, true
		}
	}
}

// insert appends a record whose uid is known to be new.
func (r *registry) insert(a *Attestation) {
	if 2*(len(r.recs)+1) > len(r.index) {
		n := 2 * len(r.index)
		if n < 64 {
			n = 64
		}
		r.index = make([]int32, n)
		for i := range r.recs {
			r.place(r.recs[i].UID, int32(i))
		}
	}
	r.recs = append(r.recs, *a)
	r.child = append(r.child, -1)
	r.place(a.UID, int32(len(r.recs)-1))
}

func (r *registry) place(u UID, i int32) {
	mask := len(r.index) - 1
	h := r.slot(u)
	for r.index[h] != 0 {
		h = (h + 1) & mask
	}
	r.index[h] = i + 1
}

// addressOf returns the address an account has in attestation encodings.
func (c *Chain) addressOf(id AccountID) Address {
	if c.validAccount(id) {
		return c.addrs[id]
	}
	a, _ := SystemAddress(id)
	return a
}

// encode writes the canonical encoding of a (see Attestation) into buf.
func (c *Chain) encode(buf *[encodingLen]byte, a *Attestation) {
	b := buf[:0]
	b = append(b, attestationTag...)
	b = append(b, byte(a.Schema))
	b = binary.BigEndian.AppendUint32(b, uint32(a.Thread))
	at, rc := c.addressOf(a.Attester), c.addressOf(a.Recipient)
	b = append(b, at[:]...)
	b = append(b, rc[:]...)
	b = append(b, a.RefUID[:]...)
	d := &a.Data
	b = binary.BigEndian.AppendUint64(b, uint64(d.JobCost))
	b = append(b, byte(d.PaymentAsset))
	b = binary.BigEndian.AppendUint64(b, uint64(d.CollateralRequested))
	b = binary.BigEndian.AppendUint64(b, uint64(d.OfferDeadline))
	b = binary.BigEndian.AppendUint64(b, uint64(d.JobDeadline))
	b = binary.BigEndian.AppendUint64(b, uint64(d.ArbitrationDeadline))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Collateral))
	approved := byte(0)
	if d.Approved {
		approved = 1
	}
	b = append(b, approved)
	b = binary.BigEndian.AppendUint64(b, uint64(a.Tick))
	b = binary.BigEndian.AppendUint32(b, a.Bump)
	if len(b) != encodingLen {
		panic("market: attestation encoding has the wrong length") // internal invariant
	}
}

// Attest validates req like CoopHive's EAS resolver, records it at the current tick and
// returns its uid. Checks, in order:
//
//   - ErrBadSchema;
//   - ErrUnknownAccount: the attester must be an agent account (for a validation, the
//     escrow account AcctEscrow is also accepted: it stands for the market's validation
//     oracle), the recipient an agent account;
//   - ErrUnknownThread: Thread must be NoThread or an open thread;
//   - buy: ErrBadRef (RefUID must be zero), ErrWrongParty (attester == recipient, or,
//     with a thread, not its client and provider), ErrBadAsset, ErrBadAmount (negative
//     JobCost or CollateralRequested), ErrDeadlineOrder (not OfferDeadline < JobDeadline <
//     ArbitrationDeadline), ErrPastDeadline (tick >= OfferDeadline: the resolver's
//     now < offerDeadline);
//   - sell: ErrBadRef (RefUID is not a buy of the same thread), ErrAlreadyReferenced (the
//     buy already has a sell), ErrWrongParty (attester must be the buy's recipient and
//     recipient the buy's attester), ErrCollateralMismatch (Collateral !=
//     CollateralRequested), ErrPastDeadline (tick >= the buy's JobDeadline);
//   - validation: ErrBadRef (RefUID is not a sell of the same thread),
//     ErrAlreadyReferenced, ErrWrongParty (attester must be the buyer or AcctEscrow,
//     recipient the seller), ErrPastDeadline (tick >= the buy's ArbitrationDeadline).
//
// Data fields the schema does not use are stored as zero. Attest moves no value and
// emits no ledger event; settlement is separate (PayProvider etc.), as is its gas
// (ChargeGas with TxAttestation).
func (c *Chain) Attest(req AttestRequest) (UID, error) {
	if !req.Schema.Valid() {
		return UID{}, ErrBadSchema
	}
	if !c.validAccount(req.Attester) && !(req.Schema == SchemaValidation && req.Attester == AcctEscrow) {
		return UID{}, ErrUnknownAccount
	}
	if !c.validAccount(req.Recipient) {
		return UID{}, ErrUnknownAccount
	}
	var th *thread
	if req.Thread != NoThread {
		if th = c.thread(req.Thread); th == nil {
			return UID{}, ErrUnknownThread
		}
	}
	a := Attestation{Schema: req.Schema, Thread: req.Thread, Attester: req.Attester, Recipient: req.Recipient, RefUID: req.RefUID, Tick: c.tick}
	d := &req.Data
	ref := int32(-1)
	switch req.Schema {
	case SchemaBuy:
		if !req.RefUID.IsZero() {
			return UID{}, ErrBadRef
		}
		if req.Attester == req.Recipient || th != nil && (req.Attester != th.client || req.Recipient != th.provider) {
			return UID{}, ErrWrongParty
		}
		if !d.PaymentAsset.Valid() {
			return UID{}, ErrBadAsset
		}
		if d.JobCost < 0 || d.CollateralRequested < 0 {
			return UID{}, ErrBadAmount
		}
		if !(d.OfferDeadline < d.JobDeadline && d.JobDeadline < d.ArbitrationDeadline) {
			return UID{}, ErrDeadlineOrder
		}
		if c.tick >= d.OfferDeadline {
			return UID{}, ErrPastDeadline
		}
		a.Data = AttestationData{JobCost: d.JobCost, PaymentAsset: d.PaymentAsset, CollateralRequested: d.CollateralRequested,
			OfferDeadline: d.OfferDeadline, JobDeadline: d.JobDeadline, ArbitrationDeadline: d.ArbitrationDeadline}
	case SchemaSell:
		i, ok := c.reg.lookup(req.RefUID)
		if !ok || c.reg.recs[i].Schema != SchemaBuy || c.reg.recs[i].Thread != req.Thread {
			return UID{}, ErrBadRef
		}
		buy := &c.reg.recs[i]
		if c.reg.child[i] >= 0 {
			return UID{}, ErrAlreadyReferenced
		}
		if req.Attester != buy.Recipient || req.Recipient != buy.Attester {
			return UID{}, ErrWrongParty
		}
		if d.Collateral != buy.Data.CollateralRequested {
			return UID{}, ErrCollateralMismatch
		}
		if c.tick >= buy.Data.JobDeadline {
			return UID{}, ErrPastDeadline
		}
		a.Data = AttestationData{Collateral: d.Collateral}
		ref = i
	case SchemaValidation:
		i, ok := c.reg.lookup(req.RefUID)
		if !ok || c.reg.recs[i].Schema != SchemaSell || c.reg.recs[i].Thread != req.Thread {
			return UID{}, ErrBadRef
		}
		sell := &c.reg.recs[i]
		if c.reg.child[i] >= 0 {
			return UID{}, ErrAlreadyReferenced
		}
		bi, ok := c.reg.lookup(sell.RefUID)
		if !ok {
			panic("market: sell attestation without its buy") // internal invariant
		}
		buy := &c.reg.recs[bi]
		if req.Attester != buy.Attester && req.Attester != AcctEscrow || req.Recipient != sell.Attester {
			return UID{}, ErrWrongParty
		}
		if c.tick >= buy.Data.ArbitrationDeadline {
			return UID{}, ErrPastDeadline
		}
		a.Data = AttestationData{Approved: d.Approved}
		ref = i
	}
	var buf [encodingLen]byte
	for {
		c.encode(&buf, &a)
		a.UID = sha256.Sum256(buf[:])
		if _, dup := c.reg.lookup(a.UID); !dup {
			break
		}
		a.Bump++
	}
	c.reg.insert(&a)
	if ref >= 0 {
		c.reg.child[ref] = int32(len(c.reg.recs) - 1)
	}
	return a.UID, nil
}

// Attestation returns the record with uid u.
func (c *Chain) Attestation(u UID) (Attestation, bool) {
	i, ok := c.reg.lookup(u)
	if !ok {
		return Attestation{}, false
	}
	return c.reg.recs[i], true
}

// AttestationAt returns the i-th record, in the order they were made.
func (c *Chain) AttestationAt(i int) (Attestation, bool) {
	if i < 0 || i >= len(c.reg.recs) {
		return Attestation{}, false
	}
	return c.reg.recs[i], true
}

// NumAttestations returns the number of records.
func (c *Chain) NumAttestations() int { return len(c.reg.recs) }

// ReferencedBy returns the uid of the record that references u (a buy's sell, a sell's
// validation); ok is false if u is unknown or not referenced yet.
func (c *Chain) ReferencedBy(u UID) (UID, bool) {
	i, ok := c.reg.lookup(u)
	if !ok || c.reg.child[i] < 0 {
		return UID{}, false
	}
	return c.reg.recs[c.reg.child[i]].UID, true
}
