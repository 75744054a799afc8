package scheme

import (
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// canonical returns the well-formed message of type typ from role r on th that Allowed
// speaks about: seq next, recipient the other party, the current terms restated, stage
// start before Running and complete in Running, reason rejected, approved.
func canonical(th *Thread, r Role, typ MsgType, now int64) Message {
	m := Message{Thread: th.ID, Type: typ, From: th.Party(r), Terms: th.Terms}
	switch r {
	case RoleClient:
		m.To, m.Seq = th.Provider, th.NextSeq(r)
	case RoleProvider:
		m.To, m.Seq = th.Client, th.NextSeq(r)
	}
	switch typ {
	case MsgRequest:
		m.Terms = baseTerms()
		m.Terms.OfferDeadline = now + 10
		m.Terms.Start = now + 11
		m.Terms.JobDeadline = now + 100
		m.Terms.ArbitrationDeadline = now + 150
	case MsgAttestation:
		m.Stage = StageStart
		if th.State == StateRunning {
			m.Stage = StageComplete
		}
	case MsgTerminate:
		m.Reason = ReasonRejected
	case MsgValidated:
		m.Approved = true
	}
	return m
}

// TestAllowedAgreesWithStep walks random threads (the property test's generator) and, at
// every step, checks for every role and type that the canonical message is accepted by
// Step exactly when Allowed holds the type, at the current tick and at later ticks that
// cross the deadlines.
func TestAllowedAgreesWithStep(t *testing.T) {
	const sequences, maxLen = 1500, 40
	var dst []Effect
	checked, allowedSeen, refusedLegal := 0, 0, 0
	for seq := range sequences {
		r := rng.New(uint64(seq), "scheme/allowed")
		cfg := randomConfig(r)
		s := mustScheme(t, cfg, nil)
		now := r.Int64N(10)
		th, _ := NewThread(3, tClient, tProvider)
		for range maxLen {
			for _, probe := range []int64{now, now + 1 + r.Int64N(40), now + 200} {
				for ro := Role(0); ro < numRoles; ro++ {
					allowed := Allowed(s, &th, ro, probe)
					legal := s.Legal(th.State, ro)
					if allowed&^legal != 0 {
						t.Fatalf("%s %v %v: Allowed %v not inside Legal %v", s.Name(), th.State, ro, allowed, legal)
					}
					for ty := MsgType(1); ty < numMsgTypes; ty++ {
						if !MaySend(ro, ty) {
							continue
						}
						m := canonical(&th, ro, ty, probe)
						cp := th
						_, err := s.Step(&cp, &m, probe, dst[:0])
						checked++
						if allowed.Has(ty) {
							allowedSeen++
						} else if legal.Has(ty) {
							refusedLegal++
						}
						if (err == nil) != allowed.Has(ty) {
							t.Fatalf("%s (verify %s, rounds %d/%d) %v at %d (deadlines %d/%d/%d, flags %v): %v %v allowed=%v, Step err=%v",
								s.Name(), cfg.Verify, th.Rounds, cfg.MaxRounds, th.State, probe, th.Terms.OfferDeadline,
								th.Terms.JobDeadline, th.Terms.ArbitrationDeadline, th.Flags, ro, ty, allowed.Has(ty), err)
						}
					}
				}
			}
			if th.State.Terminal() {
				break
			}
			if r.IntN(4) == 0 {
				now += r.Int64N(8)
			}
			m := randomMessage(r, s, &th, now)
			dst, _ = s.Step(&th, &m, now, dst[:0])
		}
	}
	if allowedSeen < sequences*10 || refusedLegal < sequences {
		t.Errorf("weak generator: %d allowed and %d legal-but-refused moves in %d checks", allowedSeen, refusedLegal, checked)
	}
	t.Logf("%d checks: %d allowed, %d legal but refused", checked, allowedSeen, refusedLegal)
}

func TestAllowedTerminalAndBadRole(t *testing.T) {
	s := mustScheme(t, DefaultConfig(), nil)
	d := newDriver(t, s)
	d.reach(t, StateTerminated, false)
	for ro := Role(0); ro < numRoles; ro++ {
		if got := Allowed(s, &d.t, ro, d.now); got != 0 {
			t.Errorf("terminal thread: Allowed(%v) = %v, want {}", ro, got)
		}
	}
	d = newDriver(t, s)
	if got := Allowed(s, &d.t, Role(7), d.now); got != 0 {
		t.Errorf("bad role: Allowed = %v", got)
	}
}
