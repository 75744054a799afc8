package scheme

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// honestRun plays nThreads honest negotiations under s, with choices drawn from a
// seeded stream, and returns the final threads and every effect in order. Honest agents
// sign their messages when the scheme wants signatures; no message may be rejected.
func honestRun(t *testing.T, s Scheme, seed uint64, nThreads int) ([]Thread, []Effect) {
	t.Helper()
	r := rng.New(seed, "scheme/honest")
	var threads []Thread
	var effects []Effect
	for i := range nThreads {
		d := newDriver(t, s)
		d.t.ID = ThreadID(i)
		d.eff = effects
		retried := false
		for steps := 0; !d.t.State.Terminal() && steps < 40; steps++ {
			d.now++
			role, typ, edit := honestMove(r, s, &d.t, &retried)
			m := d.msg(role, typ)
			if edit != nil {
				edit(&m)
				if s.Config().Signatures == SignaturesEd25519 && role != RoleSystem {
					Sign(&m, testPriv[m.From])
				}
			}
			var err error
			d.eff, err = s.Step(&d.t, &m, d.now, d.eff)
			if err != nil {
				t.Fatalf("%s thread %d: honest %v %v in %v rejected: %v", s.Config().Signatures, i, role, typ, d.t.State, err)
			}
		}
		threads = append(threads, d.t)
		effects = d.eff
	}
	return threads, effects
}

// honestMove picks an honest next message for the thread's state.
func honestMove(r *rand.Rand, s Scheme, th *Thread, retried *bool) (Role, MsgType, func(*Message)) {
	apiary := s.Name() == CoopHiveApiary
	switch th.State {
	case StateIdle:
		return RoleClient, MsgRequest, nil
	case StateRequested, StateCountered:
		if r.IntN(10) == 0 {
			return RoleProvider, MsgTerminate, nil
		}
		price := th.Terms.PricePerHour + r.Int64N(3)*100 // 0: identity counter-offer
		return RoleProvider, MsgOffer, func(m *Message) { m.Terms.PricePerHour = price }
	case StateOffered:
		if int(th.Rounds)+2 <= s.Config().MaxRounds && r.IntN(3) == 0 { // room for the answer
			price := th.Terms.PricePerHour - 50
			return RoleClient, MsgOffer, func(m *Message) { m.Terms.PricePerHour = price }
		}
		return RoleClient, MsgAccept, func(m *Message) { m.Terms.PricePerHour = th.Terms.PricePerHour }
	case StateAccepted:
		if !th.Has(FlagEscrowLocked) {
			if !apiary && r.IntN(3) == 0 {
				return RoleProvider, MsgCollateralMissing, nil
			}
			return RoleSystem, MsgEscrowLocked, nil
		}
		return RoleProvider, MsgAttestation, nil
	case StateAwaitingEscrow:
		if !*retried {
			*retried = true
			return RoleClient, MsgAccept, nil
		}
		return RoleSystem, MsgEscrowLocked, nil
	case StateRunning:
		switch x := r.IntN(10); {
		case x == 0:
			return RoleSystem, MsgJobFailed, nil
		case x < 3:
			return RoleSystem, MsgTick, nil
		}
		if apiary {
			approved := r.IntN(4) != 0
			return RoleSystem, MsgValidated, func(m *Message) { m.Approved = approved }
		}
		return RoleProvider, MsgAttestation, nil
	case StateDelivered:
		approved := r.IntN(4) != 0
		return RoleSystem, MsgValidated, func(m *Message) { m.Approved = approved }
	}
	return RoleSystem, MsgTick, nil
}

// TestHonestRunsSameInBothModes: the same honest agents reach the same final threads
// and the same effects with signatures "none" and "ed25519".
func TestHonestRunsSameInBothModes(t *testing.T) {
	for _, name := range Names() {
		for seed := range uint64(4) {
			none := mustScheme(t, cfgFor(name, VerifyScheme, SignaturesNone), nil)
			signed := mustScheme(t, cfgFor(name, VerifyScheme, SignaturesEd25519), testKeys)
			t1, e1 := honestRun(t, none, seed, 40)
			t2, e2 := honestRun(t, signed, seed, 40)
			if !slices.Equal(t1, t2) {
				t.Fatalf("%s seed %d: final threads differ", name, seed)
			}
			if !slices.Equal(e1, e2) {
				t.Fatalf("%s seed %d: effects differ", name, seed)
			}
			// The runs must be non-trivial: every kind of ending, and money moved.
			ends := map[State]int{}
			for _, th := range t1 {
				ends[th.State]++
			}
			if ends[StateSettled] == 0 || ends[StateFailed]+ends[StateTerminated] == 0 || len(e1) < 200 {
				t.Fatalf("%s seed %d: weak honest run: endings %v, %d effects", name, seed, ends, len(e1))
			}
		}
	}
}
