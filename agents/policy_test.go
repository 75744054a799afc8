package agents

import (
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// TestRandomPolicyIsRandomLegal checks that the batch policy gives what env.RandomLegal
// gives on the whole batch with the same stream, and only legal actions.
func TestRandomPolicyIsRandomLegal(t *testing.T) {
	e, b := newEnv(t, 48, 11, true)
	p := NewRandomPolicy()
	var o Obs
	steps := 0
	for !b.Done && steps < 40 {
		o.Reset(env.ObsDim, e.NumActions())
		for i := range b.Agents {
			o.Add(e, 0, b, i)
		}
		got := make([]env.Action, o.N)
		if err := p.Act(&o, rand.New(rand.NewPCG(9, uint64(steps))), got); err != nil {
			t.Fatal(err)
		}
		want := make([]env.Action, b.Len())
		ref := env.NewRandomLegal(rand.New(rand.NewPCG(9, uint64(steps))))
		ref.Act(e, b, want)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("step %d row %d: %+v, RandomLegal gives %+v", steps, i, got[i], want[i])
			}
			if b.Decisions[i].Kind != 0 && !b.Mask(i, e.NumActions())[got[i].Index] {
				t.Fatalf("illegal action %d", got[i].Index)
			}
		}
		var err error
		if b, err = e.Step(got); err != nil {
			t.Fatal(err)
		}
		steps++
	}
}

// TestPPOPolicyActs checks that sampled actions are legal, that Greedy matches the
// learner's own Greedy, and that a policy refuses rows without vectors.
func TestPPOPolicyActs(t *testing.T) {
	e, b := newEnv(t, 48, 13, true)
	l, err := ppo.New("g", ppo.DefaultConfig(), env.ObsDim, e.NumActions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var o Obs
	o.Reset(env.ObsDim, e.NumActions())
	for i := range b.Agents {
		if b.Decisions[i].Kind != 0 {
			o.Add(e, 0, b, i)
		}
	}
	if o.N == 0 {
		t.Fatal("no decisions at tick 0")
	}
	p := &PPOPolicy{Learner: l}
	out := make([]env.Action, o.N)
	if err := p.Act(&o, rand.New(rand.NewPCG(1, 1)), out); err != nil {
		t.Fatal(err)
	}
	if len(p.Logps) != o.N || len(p.Values) != o.N {
		t.Fatalf("logps %d values %d for %d rows", len(p.Logps), len(p.Values), o.N)
	}
	for j, a := range out {
		if !o.Masks[j*o.NumActions+int(a.Index)] || a.Structured {
			t.Fatalf("row %d: illegal action %+v", j, a)
		}
	}
	g := &PPOPolicy{Learner: l, Greedy: true}
	if err := g.Act(&o, nil, out); err != nil {
		t.Fatal(err)
	}
	want := make([]int, o.N)
	if err := l.Greedy(o.Vec, o.Masks, o.N, want); err != nil {
		t.Fatal(err)
	}
	for j := range want {
		if int(out[j].Index) != want[j] {
			t.Fatalf("row %d: greedy %d, learner says %d", j, out[j].Index, want[j])
		}
	}
	e2, b2 := newEnv(t, 48, 13, false)
	var o2 Obs
	o2.Reset(env.ObsDim, e2.NumActions())
	o2.Add(e2, 0, b2, 0)
	if err := g.Act(&o2, nil, make([]env.Action, 1)); err != ErrNotEncoded {
		t.Fatalf("acting on unencoded rows: %v, want ErrNotEncoded", err)
	}
}

// TestDSRPolicyTreasury runs a dsr group's treasury for a few simulated days: every
// treasury answer is a hold or a swap the market accepts, and the trader learns (its
// step count grows) past its warm-up.
func TestDSRPolicyTreasury(t *testing.T) {
	s := env.DefaultSettings()
	s.Env.EpisodeTicks = 288 * 4
	s.Market.Treasury.PeriodTicks = 24
	e, err := env.New(s)
	if err != nil {
		t.Fatal(err)
	}
	e.SetEncoding(false)
	b, err := e.Reset(21)
	if err != nil {
		t.Fatal(err)
	}
	cfg := dsr.DefaultConfig()
	cfg.WarmUp = 2
	g := GroupConfig{Name: "d", Role: RoleProvider, Kind: KindDSR, Share: 1}
	p, err := NewDSRPolicy(&g, DSRSettings{Config: cfg}, 3)
	if err != nil {
		t.Fatal(err)
	}
	p.Learn = true
	p.BeginEpisode(0, 21)
	var o Obs
	swaps := 0
	for !b.Done {
		o.Reset(env.ObsDim, e.NumActions())
		for i := range b.Agents {
			o.Add(e, 0, b, i)
		}
		out := make([]env.Action, o.N)
		if err := p.Act(&o, nil, out); err != nil {
			t.Fatal(err)
		}
		m := e.Market()
		for j := range out {
			d := &o.Decisions[j]
			if d.Kind == market.DecideTreasury && out[j].Response.Swap.Amount != 0 {
				if err := m.Check(d, &out[j].Response); err != nil {
					t.Fatalf("swap %+v refused: %v", out[j].Response.Swap, err)
				}
				swaps++
			}
		}
		if b, err = e.Step(out); err != nil {
			t.Fatal(err)
		}
	}
	if p.Learner.Steps() == 0 || swaps == 0 {
		t.Fatalf("trader steps %d, swaps %d", p.Learner.Steps(), swaps)
	}
	bad := DSRSettings{Config: cfg}
	bad.Extra = 2
	if _, err := NewDSRPolicy(&g, bad, 3); err == nil {
		t.Error("a trader with extra features: no error")
	}
}

// guardedTimeouts plays 200 ticks of the default market in which every agent's
// discrete action is choose's, from the masks guard (when not nil) leaves, and returns
// the threads that timed out.
func guardedTimeouts(t *testing.T, guard func(*Obs), choose func(d *market.Decision, mask []bool) int32) int64 {
	t.Helper()
	s := env.DefaultSettings()
	s.Env.EpisodeTicks = 200
	e, err := env.New(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Reset(4)
	if err != nil {
		t.Fatal(err)
	}
	var o Obs
	k := e.NumActions()
	for !b.Done {
		o.Reset(env.ObsDim, k)
		for i := range b.Agents {
			o.Add(e, 0, b, i)
		}
		if guard != nil {
			guard(&o)
		}
		out := make([]env.Action, o.N)
		for j := range out {
			out[j].Index = choose(&o.Decisions[j], o.Masks[j*k:(j+1)*k])
		}
		if b, err = e.Step(out); err != nil {
			t.Fatal(err)
		}
	}
	return e.Market().Stats().Timeouts
}

// TestNoFatalWait: agents that wait on every negotiation message let threads time out
// (the market counts them); with noFatalWait's masks, waiting whenever it is still
// allowed and rejecting otherwise, no thread times out: the guard rules waiting out
// exactly on the tick before the deadline check would end the thread.
func TestNoFatalWait(t *testing.T) {
	choose := func(d *market.Decision, mask []bool) int32 {
		switch {
		case d.Kind == market.DecideOpen && mask[env.ActPrice0+3]:
			return env.ActPrice0 + 3 // request at value
		case d.Kind == market.DecideRespond && d.Role == scheme.RoleClient && !mask[env.ActWait]:
			return env.ActReject
		case d.Kind == market.DecideRespond && d.Role == scheme.RoleProvider && mask[env.ActPrice0+6]:
			return env.ActPrice0 + 6 // counter high: the client must answer
		}
		return env.ActWait
	}
	if to := guardedTimeouts(t, nil, choose); to == 0 {
		t.Error("without the guard no thread timed out: the test checks nothing")
	}
	if to := guardedTimeouts(t, noFatalWait, choose); to != 0 {
		t.Errorf("with the guard: %d timeouts, want 0", to)
	}
}

// TestNoFutileCounter: clients that wait while they may and, when they may not, counter
// whenever a counter-offer is allowed let threads time out even with the wait rule
// (their last-tick counter reaches the provider on the tick the offer deadline ends the
// thread); with the guard's last-tick rule they accept or reject there, and no thread
// times out. The providers counter while they may and otherwise reject.
func TestNoFutileCounter(t *testing.T) {
	nPrice := int32(len(env.DefaultSettings().Env.Actions.PriceMultipliers))
	choose := func(d *market.Decision, mask []bool) int32 {
		pick := func(as ...int32) int32 {
			for _, a := range as {
				if mask[a] {
					return a
				}
			}
			return env.ActWait
		}
		switch {
		case d.Kind == market.DecideOpen:
			return pick(env.ActPrice0 + 3)
		case d.Kind == market.DecideRespond && d.Role == scheme.RoleClient:
			return pick(env.ActWait, env.ActPrice0+nPrice-1, env.ActAccept, env.ActReject)
		case d.Kind == market.DecideRespond && d.Role == scheme.RoleProvider:
			return pick(env.ActPrice0+6, env.ActReject)
		}
		return env.ActWait
	}
	if n := guardedTimeouts(t, waitRuleOnly, choose); n == 0 {
		t.Error("with the wait rule alone no thread timed out: the test checks nothing")
	}
	if n := guardedTimeouts(t, noFatalWait, choose); n != 0 {
		t.Errorf("with the last-tick rule: %d timeouts, want 0", n)
	}
}

// waitRuleOnly is noFatalWait without its last-tick rule (the guard before it): waiting
// is ruled out when it would end the thread, nothing else.
func waitRuleOnly(o *Obs) {
	k := o.NumActions
	for j := 0; j < o.N; j++ {
		d := &o.Decisions[j]
		mask := o.Masks[j*k : (j+1)*k]
		if d.Kind != market.DecideRespond || !mask[env.ActWait] {
			continue
		}
		m := o.Envs[j].Market()
		th, ok := m.Thread(d.Thread)
		if !ok || th.State >= scheme.StateRunning {
			continue
		}
		next, idle := m.Tick()+1, m.SchemeConfig().IdleTimeout
		if next < th.Terms.OfferDeadline && (idle <= 0 || next-th.LastActivity < idle) {
			continue
		}
		for a, ok := range mask {
			if ok && a != env.ActWait {
				mask[env.ActWait] = false
				break
			}
		}
	}
}
