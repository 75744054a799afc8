package market

import (
	"testing"

	"github.com/hivegym/hivegym/scheme"
)

// TestBooked follows the one deal of oneDealSetup (TestElectricityAndGasInWealth works
// out its money by hand) tick by tick: nothing is booked before the client accepts;
// from the accept until the job starts the provider books the 0.6 USD payment less the
// job's electricity for its whole hour (450 W of GPU and two cores at 170/16 W, at
// Texas's constant 0.066 USD/kWh) and the client books the job's value 1 less the
// payment; while the job runs the provider's book falls by one tick's electricity a
// tick; once settled nothing is booked.
func TestBooked(t *testing.T) {
	m := newTestMarket(t, oneDealSetup())
	exo := testExo()
	if err := m.Reset(1, exo); err != nil {
		t.Fatal(err)
	}
	prov, cli := AgentID(0), AgentID(1)
	jobKWhTick := (450 + 2*170.0/16) / 1000 / 12 // per 5-minute tick
	const price = 0.066
	var dst []float64
	pol := &scripted{}
	accepted, ran, settled := false, 0, false
	for k := 0; k < 60; k++ {
		if err := m.Step(exo, pol); err != nil {
			t.Fatal(err)
		}
		dst = m.Booked(dst)
		if len(dst) != m.NumAgents() {
			t.Fatalf("tick %d: %d values for %d agents", k, len(dst), m.NumAgents())
		}
		var state scheme.State = scheme.StateIdle // the most advanced live thread's
		var started int64
		for s := range m.threads {
			if lt := &m.threads[s]; int(lt.th.ID) < len(m.tslot) && m.tslot[lt.th.ID] == int32(s) && lt.th.State > state {
				state, started = lt.th.State, lt.started
			}
		}
		if m.Stats().Completed == 1 {
			settled = true
		}
		var wantP, wantC float64
		switch {
		case settled:
		case state == scheme.StateAccepted || state == scheme.StateAwaitingEscrow:
			accepted = true
			wantP, wantC = 0.6-12*jobKWhTick*price, 0.4
		case state == scheme.StateRunning:
			ran++
			left := float64(12 - (m.Tick() - started))
			wantP, wantC = 0.6-left*jobKWhTick*price, 0.4
		case state == scheme.StateDelivered:
			wantP, wantC = 0.6, 0.4
		}
		if !near(dst[prov], wantP, 1e-9) || !near(dst[cli], wantC, 1e-9) {
			t.Fatalf("tick %d (%v): booked provider %.9f client %.9f, want %.9f and %.9f", m.Tick(), state, dst[prov], dst[cli], wantP, wantC)
		}
		for a, v := range dst {
			if a != int(prov) && a != int(cli) && v != 0 {
				t.Fatalf("tick %d: agent %d books %g, party to no contract", m.Tick(), a, v)
			}
		}
	}
	if !accepted || ran == 0 || !settled {
		t.Fatalf("the deal did not go through accept, run and settlement (accepted %v, ran %d ticks, settled %v)", accepted, ran, settled)
	}
}
