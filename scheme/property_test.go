package scheme

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// randomConfig draws a scheme configuration (signatures none).
func randomConfig(r *rand.Rand) Config {
	c := DefaultConfig()
	if r.IntN(2) == 1 {
		c.Scheme = CoopHiveApiary
	}
	if r.IntN(2) == 1 {
		c.Verify = VerifyAgent
	}
	c.MaxRounds = 1 + r.IntN(5)
	c.TicksPerHour = []int64{1, 12, 60}[r.IntN(3)]
	c.IdleTimeout = []int64{0, 5, 12, 40}[r.IntN(4)]
	return c
}

// randomTerms draws terms around now, valid most of the time.
func randomTerms(r *rand.Rand, now int64) Terms {
	t := baseTerms()
	t.Asset = Asset(r.IntN(int(numAssets)))
	t.Duration = 1 + r.Int64N(40)
	t.PricePerHour = 1 + r.Int64N(5000)
	t.Collateral = r.Int64N(3) * r.Int64N(2000) // zero a third of the time
	t.OfferDeadline = now + 1 + r.Int64N(60)
	t.Start = t.OfferDeadline + r.Int64N(10)
	t.JobDeadline = t.Start + t.Duration + r.Int64N(60)
	t.ArbitrationDeadline = t.JobDeadline + 1 + r.Int64N(40)
	return t
}

// mutateTerms breaks or changes terms in one of several ways.
func mutateTerms(r *rand.Rand, t *Terms) {
	switch r.IntN(12) {
	case 0:
		t.PricePerHour = -r.Int64N(3)
	case 1:
		t.Duration = 0
	case 2:
		t.OfferDeadline, t.JobDeadline = t.JobDeadline, t.OfferDeadline
	case 3:
		t.Collateral = -1
	case 4:
		t.GPUCount++
	case 5:
		t.JobDeadline += 1 + r.Int64N(5)
	case 6:
		t.Asset = Asset(r.IntN(4))
	case 7:
		t.PricePerHour = 1<<62 + r.Int64N(1<<40)
	case 8:
		t.Start = t.JobDeadline
	default: // negotiable changes
		t.PricePerHour = 1 + r.Int64N(5000)
		t.Collateral = r.Int64N(2000)
		t.Duration = 1 + r.Int64N(20)
		t.Start = t.OfferDeadline
		if t.Start+t.Duration > t.JobDeadline {
			t.Start = 0
		}
	}
}

// randomMessage draws a message for th: mostly legal-looking, often subtly wrong.
func randomMessage(r *rand.Rand, s Scheme, th *Thread, now int64) Message {
	// Mostly a legal move forward by any role; sometimes anything at all.
	type move struct {
		role Role
		typ  MsgType
	}
	var moves [int(numRoles) * int(numMsgTypes)]move
	n := 0
	endings := SetOf(MsgTerminate, MsgJobFailed)
	for ro := Role(0); ro < numRoles; ro++ {
		legal := s.Legal(th.State, ro)
		if r.IntN(8) != 0 {
			legal &^= endings
		}
		for ty := MsgType(1); ty < numMsgTypes; ty++ {
			if legal.Has(ty) {
				moves[n] = move{ro, ty}
				n++
			}
		}
	}
	var role Role
	var typ MsgType
	if n > 0 && r.IntN(10) < 8 {
		mv := moves[r.IntN(n)]
		role, typ = mv.role, mv.typ
	} else {
		role = Role(r.IntN(int(numRoles)))
		typ = MsgType(r.IntN(int(numMsgTypes) + 1)) // includes invalid ones
	}
	m := Message{Thread: th.ID, Type: typ, From: th.Party(role)}
	switch role {
	case RoleClient:
		m.To, m.Seq = th.Provider, th.NextSeq(role)
	case RoleProvider:
		m.To, m.Seq = th.Client, th.NextSeq(role)
	default:
		m.To = SystemID
	}
	m.Terms = th.Terms
	if th.State == StateIdle || r.IntN(20) == 0 {
		m.Terms = randomTerms(r, now)
	}
	if typ == MsgOffer && r.IntN(2) == 0 {
		m.Terms.PricePerHour += r.Int64N(200) - 100
	}
	if r.IntN(8) == 0 {
		mutateTerms(r, &m.Terms)
	}
	m.Stage = StageComplete
	if th.State == StateAccepted || th.State == StateAwaitingEscrow {
		m.Stage = StageStart
	}
	m.Reason = []Reason{ReasonRejected, ReasonCancelled, ReasonError}[r.IntN(3)]
	m.Approved = r.IntN(2) == 0
	// Occasional corruption of the envelope.
	switch r.IntN(40) {
	case 0:
		m.From = tThird
	case 1:
		m.Seq = uint32(r.IntN(3))
	case 2:
		m.Thread++
	case 3:
		m.To = m.From
	case 4:
		m.Stage = Stage(r.IntN(4))
	case 5:
		m.Reason = Reason(r.IntN(8))
	case 6:
		m.From = SystemID
	case 7:
		m.Seq += uint32(r.IntN(5))
	}
	return m
}

// checkStep steps s and the reference model with m and checks every property: same
// verdict, same next state, same ledger effects, a rejection changes nothing and
// returns dst untouched, a terminal state is never left, and the ledger stays sound.
func checkStep(t testing.TB, s Scheme, th *Thread, ref **refModel, led *ledger, m Message, now int64, dst []Effect) []Effect {
	t.Helper()
	before := *th
	dst = dst[:0]
	out, err := s.Step(th, &m, now, dst)
	next, wantEffs, wantErr := (*ref).step(m, now)
	if (err == nil) != (wantErr == nil) || (err != nil && sentinelName(err) != sentinelName(wantErr)) {
		t.Fatalf("%s %v in %v at %d (msg %+v): got %v, reference %v", s.Name(), m.Type, before.State, now, m, err, wantErr)
	}
	if err != nil {
		if *th != before {
			t.Fatalf("rejected %v changed the thread:\n%v\n%v", m.Type, before, *th)
		}
		if len(out) != 0 {
			t.Fatalf("rejected %v returned %d effects", m.Type, len(out))
		}
		return out
	}
	*ref = next
	if th.State != next.state {
		t.Fatalf("%s %v in %v: state %v, reference %v", s.Name(), m.Type, before.State, th.State, next.state)
	}
	if got := ledgerKinds(out); !slices.Equal(got, wantEffs) {
		t.Fatalf("%s %v in %v: ledger effects %v, reference %v", s.Name(), m.Type, before.State, got, wantEffs)
	}
	if before.State.Terminal() {
		t.Fatalf("left terminal state %v", before.State)
	}
	if err := led.apply(th, out, m.Type == MsgEscrowLocked); err != nil {
		t.Fatalf("ledger after %v in %v: %v", m.Type, before.State, err)
	}
	return out
}

// TestRandomSequences runs thousands of seeded random message sequences against the
// machine and the reference model, checking the properties of checkStep after every
// message.
func TestRandomSequences(t *testing.T) {
	const sequences, maxLen = 4000, 60
	var dst []Effect
	accepted, terminal := 0, 0
	var visits [numStates]int
	for seq := range sequences {
		r := rng.New(uint64(seq), "scheme/random-sequences")
		cfg := randomConfig(r)
		s := mustScheme(t, cfg, nil)
		led := newLedger(tClient, tProvider)
		now := r.Int64N(10)
		id := ThreadID(0)
		th, _ := NewThread(id, tClient, tProvider)
		ref := newRefModel(cfg, th.ID, th.Client, th.Provider)
		for range maxLen {
			if th.State.Terminal() && r.IntN(3) == 0 {
				// Next thread, in the same ledger.
				terminal++
				id++
				th, _ = NewThread(id, tClient, tProvider)
				ref = newRefModel(cfg, th.ID, th.Client, th.Provider)
			}
			switch r.IntN(12) {
			case 0:
				now += r.Int64N(30)
			case 1, 2, 3:
				now += r.Int64N(3)
			}
			m := randomMessage(r, s, &th, now)
			if !led.canLock(&th, &m) {
				continue // the chain refused the client's lock: no EscrowLocked event
			}
			before := th
			dst = checkStep(t, s, &th, &ref, led, m, now, dst)
			if th != before {
				accepted++
			}
			visits[th.State]++
		}
	}
	// The generator must reach deep into the machine, or the test proves little.
	if accepted < sequences*10 || terminal < sequences {
		t.Errorf("weak generator: %d accepted messages, %d threads ended in %d sequences", accepted, terminal, sequences)
	}
	for st, n := range visits {
		if n < 100 {
			t.Errorf("weak generator: state %v seen after only %d messages", State(st), n)
		}
	}
	t.Logf("%d accepted messages, %d threads ended in %d sequences; messages seen per state %v", accepted, terminal, sequences, visits)
}
