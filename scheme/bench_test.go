package scheme

import (
	"testing"
)

// benchMsg is one pre-built message of the benchmark buffer.
type benchMsg struct {
	now   int64
	slot  int  // which thread of the pool it belongs to
	first bool // the negotiation starts here: reset the thread
	m     Message
}

// benchBuffer builds nNeg full negotiations (request, offer, counter-offer, identity
// offer, accept, escrow_locked, attestation:start, attestation:complete, validated),
// spread over a pool of slots threads (thread n uses slot n mod slots), signed when the
// scheme signs.
func benchBuffer(b *testing.B, s Scheme, nNeg, slots int) []benchMsg {
	var buf []benchMsg
	for n := range nNeg {
		var msgs []Message
		d := newDriver(b, recorder{s, &msgs})
		d.t.ID = ThreadID(n % slots)
		d.do(b, RoleClient, MsgRequest)
		d.do(b, RoleProvider, MsgOffer)
		d.do(b, RoleClient, MsgOffer)
		m := d.msg(RoleProvider, MsgOffer)
		m.Terms.PricePerHour = d.t.Terms.PricePerHour // identity counter-offer
		if s.Config().Signatures == SignaturesEd25519 {
			Sign(&m, testPriv[m.From])
		}
		if _, err := d.s.Step(&d.t, &m, d.now, nil); err != nil {
			b.Fatal(err)
		}
		d.do(b, RoleClient, MsgAccept)
		d.do(b, RoleSystem, MsgEscrowLocked)
		d.do(b, RoleProvider, MsgAttestation)
		d.do(b, RoleProvider, MsgAttestation)
		d.do(b, RoleSystem, MsgValidated)
		if d.t.State != StateSettled || len(msgs) != 9 {
			b.Fatalf("negotiation ended in %v after %d messages", d.t.State, len(msgs))
		}
		for i, m := range msgs {
			buf = append(buf, benchMsg{now: d.now, slot: n % slots, first: i == 0, m: m})
		}
	}
	return buf
}

// benchEffects is where the lead plugs in the chain: it receives the effects of every
// accepted message (nil: effects are only collected).
var benchEffects func([]Effect)

func benchStep(b *testing.B, s Scheme) {
	const slots = 64
	buf := benchBuffer(b, s, 256, slots)
	threads := make([]Thread, slots)
	dst := make([]Effect, 0, 16)
	sink := benchEffects
	effects := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bm := &buf[i%len(buf)]
		th := &threads[bm.slot]
		if bm.first {
			*th = Thread{ID: bm.m.Thread, Client: tClient, Provider: tProvider}
		}
		var err error
		dst, err = s.Step(th, &bm.m, bm.now, dst[:0])
		if err != nil {
			b.Fatal(err)
		}
		effects += len(dst)
		if sink != nil {
			sink(dst)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(effects)/float64(b.N), "effects/msg")
}

// BenchmarkSchemeStep: messages through Step with signatures none, full negotiations.
// One op is one message; run with -cpu 1 for the one-core figure.
func BenchmarkSchemeStep(b *testing.B) {
	benchStep(b, mustScheme(b, cfgFor(ComputeMarketplace, VerifyScheme, SignaturesNone), nil))
}

// BenchmarkSchemeStepSigned: the same with ed25519 verification of every agent message
// (7 of the 9 messages of a negotiation; the escrow and validation events are not
// signed). Messages are signed outside the timed loop.
func BenchmarkSchemeStepSigned(b *testing.B) {
	benchStep(b, mustScheme(b, cfgFor(ComputeMarketplace, VerifyScheme, SignaturesEd25519), testKeys))
}

// BenchmarkSchemeStepApiary: coophive-apiary, signatures none.
func BenchmarkSchemeStepApiary(b *testing.B) {
	s := mustScheme(b, cfgFor(CoopHiveApiary, VerifyScheme, SignaturesNone), nil)
	const slots = 64
	var buf []benchMsg
	for n := range 256 {
		var msgs []Message
		d := newDriver(b, recorder{s, &msgs})
		d.t.ID = ThreadID(n % slots)
		d.reach(b, StateSettled, true)
		for i, m := range msgs {
			buf = append(buf, benchMsg{now: d.now, slot: n % slots, first: i == 0, m: m})
		}
	}
	threads := make([]Thread, slots)
	dst := make([]Effect, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bm := &buf[i%len(buf)]
		th := &threads[bm.slot]
		if bm.first {
			*th = Thread{ID: bm.m.Thread, Client: tClient, Provider: tProvider}
		}
		var err error
		if dst, err = s.Step(th, &bm.m, bm.now, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
