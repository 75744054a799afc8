package market

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// buyRequest is a valid buy attestation of thread th at tick 0..9: 100 USDC base units,
// 40 collateral, deadlines 10 < 20 < 30.
func buyRequest(th ThreadID, client, provider AccountID) AttestRequest {
	return AttestRequest{
		Schema: SchemaBuy, Thread: th, Attester: client, Recipient: provider,
		Data: AttestationData{JobCost: 100, PaymentAsset: USDC, CollateralRequested: 40, OfferDeadline: 10, JobDeadline: 20, ArbitrationDeadline: 30},
	}
}

// handUID encodes a record by the layout documented on Attestation, written out field by
// field here, independently of the chain's encoder.
func handUID(t *testing.T, c *Chain, a Attestation) UID {
	t.Helper()
	addr := func(id AccountID) []byte {
		if id == AcctEscrow {
			return append(make([]byte, 19), 1)
		}
		x, ok := c.Address(id)
		if !ok {
			t.Fatalf("no address for %s", id)
		}
		return x[:]
	}
	var b bytes.Buffer
	b.WriteString("hivegym/attestation/v1")
	b.WriteByte(byte(a.Schema))
	w := func(v any) {
		if err := binary.Write(&b, binary.BigEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	w(int32(a.Thread))
	b.Write(addr(a.Attester))
	b.Write(addr(a.Recipient))
	b.Write(a.RefUID[:])
	w(a.Data.JobCost)
	b.WriteByte(byte(a.Data.PaymentAsset))
	w(a.Data.CollateralRequested)
	w(a.Data.OfferDeadline)
	w(a.Data.JobDeadline)
	w(a.Data.ArbitrationDeadline)
	w(a.Data.Collateral)
	w(a.Data.Approved)
	w(a.Tick)
	w(a.Bump)
	if b.Len() != 161 {
		t.Fatalf("hand encoding has %d bytes", b.Len())
	}
	return sha256.Sum256(b.Bytes())
}

func TestAttestChain(t *testing.T) {
	c, log := newTestChain(t, 3)
	th, _ := c.OpenThread(0, 1)
	mustOK(t, c.SetTick(4))
	buyUID, err := c.Attest(buyRequest(th, 0, 1))
	mustOK(t, err)
	mustOK(t, c.SetTick(12))
	sellUID, err := c.Attest(AttestRequest{Schema: SchemaSell, Thread: th, Attester: 1, Recipient: 0, RefUID: buyUID,
		Data: AttestationData{Collateral: 40, JobCost: 999, Approved: true}}) // JobCost and Approved are not sell fields
	mustOK(t, err)
	mustOK(t, c.SetTick(25))
	valUID, err := c.Attest(AttestRequest{Schema: SchemaValidation, Thread: th, Attester: 0, Recipient: 1, RefUID: sellUID,
		Data: AttestationData{Approved: true, Collateral: 7}})
	mustOK(t, err)
	if len(log.Events) != 0 {
		t.Errorf("attestations emitted ledger events: %v", log.Events)
	}
	want := []Attestation{
		{Schema: SchemaBuy, Thread: th, Attester: 0, Recipient: 1, Tick: 4,
			Data: AttestationData{JobCost: 100, PaymentAsset: USDC, CollateralRequested: 40, OfferDeadline: 10, JobDeadline: 20, ArbitrationDeadline: 30}},
		{Schema: SchemaSell, Thread: th, Attester: 1, Recipient: 0, RefUID: buyUID, Tick: 12, Data: AttestationData{Collateral: 40}},
		{Schema: SchemaValidation, Thread: th, Attester: 0, Recipient: 1, RefUID: sellUID, Tick: 25, Data: AttestationData{Approved: true}},
	}
	uids := []UID{buyUID, sellUID, valUID}
	for i := range want {
		want[i].UID = handUID(t, c, want[i])
		if uids[i] != want[i].UID {
			t.Errorf("record %d: uid %s, want SHA-256 of the hand encoding %s", i, uids[i], want[i].UID)
		}
		got, ok := c.Attestation(uids[i])
		if !ok || got != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want[i])
		}
		if at, _ := c.AttestationAt(i); at != want[i] {
			t.Errorf("AttestationAt(%d) = %+v", i, at)
		}
	}
	if r, ok := c.ReferencedBy(buyUID); !ok || r != sellUID {
		t.Error("buy not referenced by its sell")
	}
	if r, ok := c.ReferencedBy(sellUID); !ok || r != valUID {
		t.Error("sell not referenced by its validation")
	}
	if _, ok := c.ReferencedBy(valUID); ok {
		t.Error("validation referenced")
	}
	if c.NumAttestations() != 3 {
		t.Errorf("NumAttestations = %d", c.NumAttestations())
	}
	mustOK(t, c.CheckInvariants())
}

// TestAttestBump: identical buys in one tick get distinct uids by the EAS-style bump.
func TestAttestBump(t *testing.T) {
	c, _ := newTestChain(t, 2)
	req := buyRequest(NoThread, 0, 1)
	var uids []UID
	for i := 0; i < 3; i++ {
		u, err := c.Attest(req)
		mustOK(t, err)
		uids = append(uids, u)
		a, _ := c.Attestation(u)
		if a.Bump != uint32(i) {
			t.Errorf("copy %d has bump %d", i, a.Bump)
		}
		if handUID(t, c, a) != u {
			t.Errorf("copy %d: uid is not the hash of its encoding with bump %d", i, i)
		}
	}
	if uids[0] == uids[1] || uids[1] == uids[2] || uids[0] == uids[2] {
		t.Error("duplicate uids")
	}
}

// TestAttestRejections covers every rejection reason of Attest; each leaves the state
// unchanged.
func TestAttestRejections(t *testing.T) {
	c, log := newTestChain(t, 4)
	th, _ := c.OpenThread(0, 1)
	other, _ := c.OpenThread(2, 1)
	mustOK(t, c.SetTick(5))
	buyUID, err := c.Attest(buyRequest(th, 0, 1))
	mustOK(t, err)
	sell := AttestRequest{Schema: SchemaSell, Thread: th, Attester: 1, Recipient: 0, RefUID: buyUID, Data: AttestationData{Collateral: 40}}
	// A second buy without a sell, to test references to a buy from a validation.
	buy2UID, err := c.Attest(buyRequest(other, 2, 1))
	mustOK(t, err)

	mod := func(r AttestRequest, f func(*AttestRequest)) AttestRequest { f(&r); return r }
	buy := buyRequest(th, 0, 1)
	cases := []struct {
		name string
		req  AttestRequest
		want error
	}{
		{"schema 0", mod(buy, func(r *AttestRequest) { r.Schema = 0 }), ErrBadSchema},
		{"schema 4", mod(buy, func(r *AttestRequest) { r.Schema = 4 }), ErrBadSchema},
		{"attester unknown", mod(buy, func(r *AttestRequest) { r.Attester = 9 }), ErrUnknownAccount},
		{"attester escrow on a buy", mod(buy, func(r *AttestRequest) { r.Attester = AcctEscrow }), ErrUnknownAccount},
		{"recipient unknown", mod(buy, func(r *AttestRequest) { r.Recipient = AcctSequencer }), ErrUnknownAccount},
		{"thread unknown", mod(buy, func(r *AttestRequest) { r.Thread = 7 }), ErrUnknownThread},
		{"buy with a ref", mod(buy, func(r *AttestRequest) { r.RefUID = buyUID }), ErrBadRef},
		{"buy to self", mod(buy, func(r *AttestRequest) { r.Thread = NoThread; r.Recipient = 0 }), ErrWrongParty},
		{"buy by the provider", mod(buy, func(r *AttestRequest) { r.Attester, r.Recipient = 1, 0 }), ErrWrongParty},
		{"buy by a third party", mod(buy, func(r *AttestRequest) { r.Attester = 3 }), ErrWrongParty},
		{"buy asset", mod(buy, func(r *AttestRequest) { r.Data.PaymentAsset = 3 }), ErrBadAsset},
		{"buy negative cost", mod(buy, func(r *AttestRequest) { r.Data.JobCost = -1 }), ErrBadAmount},
		{"buy negative collateral", mod(buy, func(r *AttestRequest) { r.Data.CollateralRequested = -1 }), ErrBadAmount},
		{"offer = job deadline", mod(buy, func(r *AttestRequest) { r.Data.JobDeadline = 10 }), ErrDeadlineOrder},
		{"job = arbitration deadline", mod(buy, func(r *AttestRequest) { r.Data.ArbitrationDeadline = 20 }), ErrDeadlineOrder},
		{"deadlines reversed", mod(buy, func(r *AttestRequest) { r.Data.OfferDeadline, r.Data.ArbitrationDeadline = 30, 10 }), ErrDeadlineOrder},
		{"offer deadline = now", mod(buy, func(r *AttestRequest) { r.Data.OfferDeadline = 5 }), ErrPastDeadline},
		{"offer deadline passed", mod(buy, func(r *AttestRequest) { r.Data.OfferDeadline = 2 }), ErrPastDeadline},
		{"sell of nothing", mod(sell, func(r *AttestRequest) { r.RefUID = UID{} }), ErrBadRef},
		{"sell of a random uid", mod(sell, func(r *AttestRequest) { r.RefUID = UID{1, 2, 3} }), ErrBadRef},
		{"sell on another thread", mod(sell, func(r *AttestRequest) { r.Thread = other }), ErrBadRef},
		{"sell by the buyer", mod(sell, func(r *AttestRequest) { r.Attester, r.Recipient = 0, 1 }), ErrWrongParty},
		{"sell by a third party", mod(sell, func(r *AttestRequest) { r.Attester = 3 }), ErrWrongParty},
		{"sell to a third party", mod(sell, func(r *AttestRequest) { r.Recipient = 3 }), ErrWrongParty},
		{"sell collateral short", mod(sell, func(r *AttestRequest) { r.Data.Collateral = 39 }), ErrCollateralMismatch},
		{"sell collateral over", mod(sell, func(r *AttestRequest) { r.Data.Collateral = 41 }), ErrCollateralMismatch},
		{"validation of a buy", AttestRequest{Schema: SchemaValidation, Thread: other, Attester: 2, Recipient: 1, RefUID: buy2UID}, ErrBadRef},
	}
	for _, tc := range cases {
		failsUnchanged(t, c, log, tc.want, tc.name, func() error { _, err := c.Attest(tc.req); return err })
	}

	// The job deadline (20) bounds the sell.
	late := c.Clone()
	mustOK(t, late.SetTick(20))
	failsUnchanged(t, late, &EventLog{}, ErrPastDeadline, "sell at the job deadline", func() error { _, err := late.Attest(sell); return err })
	mustOK(t, c.SetTick(19))
	sellUID, err := c.Attest(sell)
	mustOK(t, err)
	failsUnchanged(t, c, log, ErrAlreadyReferenced, "second sell", func() error { _, err := c.Attest(sell); return err })

	val := AttestRequest{Schema: SchemaValidation, Thread: th, Attester: 0, Recipient: 1, RefUID: sellUID, Data: AttestationData{Approved: false}}
	vcases := []struct {
		name string
		req  AttestRequest
		want error
	}{
		{"validation by the provider", mod(val, func(r *AttestRequest) { r.Attester, r.Recipient = 1, 0 }), ErrWrongParty},
		{"validation by a third party", mod(val, func(r *AttestRequest) { r.Attester = 3 }), ErrWrongParty},
		{"validation to the buyer", mod(val, func(r *AttestRequest) { r.Recipient = 0 }), ErrWrongParty},
		{"validation by the sequencer", mod(val, func(r *AttestRequest) { r.Attester = AcctSequencer }), ErrUnknownAccount},
		{"validation on another thread", mod(val, func(r *AttestRequest) { r.Thread = NoThread }), ErrBadRef},
	}
	for _, tc := range vcases {
		failsUnchanged(t, c, log, tc.want, tc.name, func() error { _, err := c.Attest(tc.req); return err })
	}
	late = c.Clone()
	mustOK(t, late.SetTick(30))
	failsUnchanged(t, late, &EventLog{}, ErrPastDeadline, "validation at the arbitration deadline", func() error { _, err := late.Attest(val); return err })

	// The market's oracle (the escrow account) may validate; then no second validation.
	c2 := c.Clone()
	mustOK(t, c2.SetTick(29))
	oracle := mod(val, func(r *AttestRequest) { r.Attester = AcctEscrow })
	u, err := c2.Attest(oracle)
	mustOK(t, err)
	a, _ := c2.Attestation(u)
	if handUID(t, c2, a) != u {
		t.Error("oracle validation uid is not the hash of its encoding")
	}
	before := c2.Clone()
	if _, err := c2.Attest(val); !errors.Is(err, ErrAlreadyReferenced) {
		t.Errorf("second validation: %v", err)
	}
	if !reflect.DeepEqual(before, c2.Clone()) {
		t.Error("rejected validation changed the state")
	}
	mustOK(t, c2.CheckInvariants())
}

// TestRegistryGrowth inserts enough records to grow the index several times and checks
// every record is still found, and that unknown uids are not.
func TestRegistryGrowth(t *testing.T) {
	c, _ := newTestChain(t, 2)
	var uids []UID
	for i := 0; i < 2000; i++ {
		req := buyRequest(NoThread, 0, 1)
		req.Data.JobCost = int64(i)
		u, err := c.Attest(req)
		mustOK(t, err)
		uids = append(uids, u)
	}
	for i, u := range uids {
		a, ok := c.Attestation(u)
		if !ok || a.Data.JobCost != int64(i) {
			t.Fatalf("record %d not found after growth", i)
		}
	}
	for i := 0; i < 100; i++ {
		u := sha256.Sum256([]byte{byte(i), 'x'})
		if _, ok := c.Attestation(u); ok {
			t.Fatalf("random uid %d found", i)
		}
	}
	if len(c.reg.index) < 2*len(c.reg.recs) {
		t.Errorf("index load: %d slots for %d records", len(c.reg.index), len(c.reg.recs))
	}
	mustOK(t, c.CheckInvariants())
}

func TestSystemAddress(t *testing.T) {
	for id, last := range map[AccountID]byte{AcctEscrow: 1, AcctSequencer: 2, AcctBurn: 3, AcctMint: 4} {
		a, ok := SystemAddress(id)
		if !ok || a[19] != last || !bytes.Equal(a[:19], make([]byte, 19)) {
			t.Errorf("SystemAddress(%s) = %s", id, a)
		}
	}
	for _, id := range []AccountID{0, 5, -5, NoAccount} {
		if _, ok := SystemAddress(id); ok {
			t.Errorf("SystemAddress(%d) ok", id)
		}
	}
}
