package scheme

import (
	"errors"
	"testing"
)

// TestLegalAgreesWithStep checks, for every scheme, verify mode, state, role and message
// type, that a well-formed message is accepted exactly when its type is in Legal, and
// that an illegal one gets the documented error.
func TestLegalAgreesWithStep(t *testing.T) {
	for _, name := range []string{ComputeMarketplace, CoopHiveApiary} {
		for _, verify := range []string{VerifyScheme, VerifyAgent} {
			s := mustScheme(t, cfgFor(name, verify, SignaturesNone), nil)
			reachable := 0
			for st := State(0); st < numStates; st++ {
				if (st == StateAwaitingEscrow || st == StateDelivered) && name == CoopHiveApiary {
					continue // never entered; checked below
				}
				reachable++
				for role := Role(0); role < numRoles; role++ {
					for typ := MsgType(1); typ < numMsgTypes; typ++ {
						checkLegal(t, s, st, role, typ)
					}
				}
			}
			if reachable < 9 {
				t.Fatalf("%s: only %d states checked", name, reachable)
			}
		}
	}
	// States coophive-apiary never enters accept nothing.
	s := mustScheme(t, cfgFor(CoopHiveApiary, VerifyScheme, SignaturesNone), nil)
	for _, st := range []State{StateAwaitingEscrow, StateDelivered} {
		for role := Role(0); role < numRoles; role++ {
			if l := s.Legal(st, role); l != 0 {
				t.Errorf("apiary Legal(%v, %v) = %v, want empty", st, role, l)
			}
		}
	}
}

func checkLegal(t *testing.T, s Scheme, st State, role Role, typ MsgType) {
	t.Helper()
	d := newDriver(t, s)
	// The context that makes typ well-formed: escrow on chain, except for the escrow
	// event itself and the client's retry of its lock; under verify: agent the escrow
	// event in Running or Delivered needs a blind start.
	escrow := typ != MsgEscrowLocked && !(st == StateAwaitingEscrow && typ == MsgAccept)
	blindStartOK := s.Name() == ComputeMarketplace && s.Config().Verify == VerifyAgent
	if (st == StateRunning || st == StateDelivered) && !blindStartOK {
		escrow = true // a job cannot run without escrow here
	}
	d.reach(t, st, escrow)
	if d.t.State != st {
		t.Fatalf("reach(%v) ended in %v", st, d.t.State)
	}
	d.now = 15 // before every deadline of baseTerms, within the idle timeout
	m := d.msg(role, typ)
	before := d.t
	_, err := s.Step(&d.t, &m, d.now, nil)
	legal := s.Legal(st, role).Has(typ)
	if legal {
		if err != nil {
			t.Errorf("%s: %v %v in %v is in Legal but rejected: %v", s.Name(), role, typ, st, err)
		}
		return
	}
	var want error
	switch {
	case (role == RoleSystem) != typ.IsSystem():
		want = ErrForgedSystem
	case st.Terminal():
		want = ErrTerminal
	case !MaySend(role, typ):
		want = ErrWrongRole
	default:
		want = ErrWrongState
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: %v %v in %v is not in Legal: got %v, want %v", s.Name(), role, typ, st, err, want)
	}
	if d.t != before {
		t.Errorf("%s: rejected %v %v changed the thread", s.Name(), role, typ)
	}
}

// TestLegalTable spells out a few rows of the action masks by hand.
func TestLegalTable(t *testing.T) {
	cmS := mustScheme(t, cfgFor(ComputeMarketplace, VerifyScheme, SignaturesNone), nil)
	cmA := mustScheme(t, cfgFor(ComputeMarketplace, VerifyAgent, SignaturesNone), nil)
	apS := mustScheme(t, cfgFor(CoopHiveApiary, VerifyScheme, SignaturesNone), nil)
	for _, c := range []struct {
		s    Scheme
		st   State
		role Role
		want MsgSet
	}{
		{cmS, StateIdle, RoleClient, SetOf(MsgRequest)},
		{cmS, StateIdle, RoleProvider, 0},
		{cmS, StateOffered, RoleClient, SetOf(MsgOffer, MsgAccept, MsgTerminate)},
		{cmS, StateOffered, RoleProvider, SetOf(MsgTerminate)},
		{cmS, StateAccepted, RoleProvider, SetOf(MsgAttestation, MsgCollateralMissing, MsgTerminate)},
		{cmS, StateAwaitingEscrow, RoleClient, SetOf(MsgAccept, MsgTerminate)},
		{cmS, StateRunning, RoleClient, 0},
		{cmS, StateRunning, RoleSystem, SetOf(MsgJobFailed, MsgTick)},
		{cmA, StateRunning, RoleSystem, SetOf(MsgEscrowLocked, MsgJobFailed, MsgTick)},
		{cmS, StateDelivered, RoleSystem, SetOf(MsgValidated, MsgTick)},
		{cmS, StateSettled, RoleSystem, 0},
		{apS, StateAccepted, RoleProvider, SetOf(MsgAttestation, MsgTerminate)},
		{apS, StateRunning, RoleProvider, 0},
		{apS, StateRunning, RoleSystem, SetOf(MsgJobFailed, MsgValidated, MsgTick)},
	} {
		if got := c.s.Legal(c.st, c.role); got != c.want {
			t.Errorf("%s %s Legal(%v, %v) = %v, want %v", c.s.Name(), c.s.Config().Verify, c.st, c.role, got, c.want)
		}
	}
	if got := SetOf(MsgOffer, MsgTerminate).String(); got != "{offer,terminate}" {
		t.Errorf("MsgSet.String = %q", got)
	}
}
