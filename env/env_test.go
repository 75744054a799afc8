package env

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/internal/tracecheck"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// smallSettings is the default market at a fifth of its size, for ticks ticks.
func smallSettings(ticks int) Settings {
	s := DefaultSettings()
	for i := range s.Market.Providers {
		s.Market.Providers[i].Count = (s.Market.Providers[i].Count + 4) / 5
	}
	for i := range s.Market.Clients {
		s.Market.Clients[i].Count /= 5
	}
	s.Env.EpisodeTicks = ticks
	return s
}

func newEnv(t testing.TB, s Settings) *Env {
	t.Helper()
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// masked picks uniformly among every action the mask allows, cheats included.
type masked struct{ r *rand.Rand }

func (p masked) act(e *Env, b *Batch, out []Action) {
	n := e.NumActions()
	for i := range b.Agents {
		out[i] = Action{}
		if b.Decisions[i].Kind == 0 {
			continue
		}
		var legal []int32
		for j, ok := range b.Mask(i, n) {
			if ok {
				legal = append(legal, int32(j))
			}
		}
		out[i].Index = legal[p.r.IntN(len(legal))]
	}
}

// episode runs a whole episode with act choosing the actions and calls check after every
// batch (with the batch and the actions that will answer it).
func episode(t *testing.T, e *Env, seed uint64, act func(*Env, *Batch, []Action), check func(*Batch, []Action)) {
	t.Helper()
	b, err := e.Reset(seed)
	if err != nil {
		t.Fatal(err)
	}
	var acts []Action
	for {
		acts = append(acts[:0], make([]Action, b.Len())...)
		if !b.Done {
			act(e, b, acts)
		}
		if check != nil {
			check(b, acts)
		}
		if b.Done {
			return
		}
		if b, err = e.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAPIConformance is PettingZoo's api_test in spirit: shapes, finite values, one
// entry per agent, masks that allow waiting, zero hidden features, and masks that allow
// only what the market accepts: every masked-in action is accepted (nothing is refused
// over a whole episode of uniformly random masked-in actions, cheats included).
func TestAPIConformance(t *testing.T) {
	for _, name := range []string{scheme.ComputeMarketplace, scheme.CoopHiveApiary} {
		t.Run(name, func(t *testing.T) {
			s := smallSettings(250)
			s.Scheme.Scheme = name
			s.Scheme.Verify = scheme.VerifyAgent
			s.Market.Treasury.PeriodTicks = 12
			e := newEnv(t, s)
			n := e.NumActions()
			pol := masked{rng.New(1, "test/masked")}
			var batches, entries, kinds [4]int
			episode(t, e, 1, pol.act, func(b *Batch, _ []Action) {
				batches[0]++
				if len(b.Obs) != b.Len()*ObsDim || len(b.Masks) != b.Len()*n || len(b.Rewards) != b.Len() ||
					len(b.Decisions) != b.Len() || len(b.Terminated) != b.Len() || len(b.Truncated) != b.Len() {
					t.Fatalf("batch shapes: %d entries, %d obs, %d masks", b.Len(), len(b.Obs), len(b.Masks))
				}
				seen := map[market.AgentID]bool{}
				for i, a := range b.Agents {
					if seen[a] {
						t.Fatalf("agent %d twice in one batch", a)
					}
					seen[a] = true
					entries[0]++
					d := &b.Decisions[i]
					kinds[d.Kind]++
					mask := b.Mask(i, n)
					if (d.Kind != 0) != mask[ActWait] {
						t.Fatalf("entry %d (kind %v): wait allowed = %v", i, d.Kind, mask[ActWait])
					}
					if d.Kind == 0 && !b.Terminated[i] && !b.Truncated[i] {
						t.Fatalf("entry without a decision that is neither terminated nor truncated")
					}
					if math.IsNaN(b.Rewards[i]) || math.IsInf(b.Rewards[i], 0) {
						t.Fatalf("reward %g", b.Rewards[i])
					}
					sp := e.Space(a)
					for j, x := range b.Observation(i) {
						if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
							t.Fatalf("feature %s = %g", FeatureNames[j], x)
						}
						if sp.Hidden[j] && x != 0 {
							t.Fatalf("hidden feature %s = %g for agent %d", FeatureNames[j], x, a)
						}
					}
				}
				if st := e.Market().Stats(); st.Rejected != 0 || st.SwapsRejected != 0 {
					t.Fatalf("the market refused a masked-in action: %+v", st)
				}
			})
			for k := market.DecideRespond; k <= market.DecideTreasury; k++ {
				if kinds[k] < 50 {
					t.Errorf("weak episode: %d decisions of kind %v", kinds[k], k)
				}
			}
			if st := e.Market().Stats(); st.Deals < 20 || st.EscrowSkipped == 0 {
				t.Errorf("weak episode: %+v", st)
			}
		})
	}
}

// TestMaskedOutActionsRefused: in rounds where one agent takes a masked-out action and
// every other agent waits, the market refuses exactly the masked-out actions.
func TestMaskedOutActionsRefused(t *testing.T) {
	s := smallSettings(200)
	s.Market.Treasury.PeriodTicks = 6
	e := newEnv(t, s)
	n := e.NumActions()
	r := rng.New(2, "test/maskout")
	legal := masked{rng.New(2, "test/legal")}
	injected := 0
	var refusedBefore int64
	var pending int
	episode(t, e, 2, func(e *Env, b *Batch, out []Action) {
		st := e.Market().Stats()
		if got := st.Rejected + st.SwapsRejected - refusedBefore; got != int64(pending) {
			t.Fatalf("%d masked-out actions, %d refused", pending, got)
		}
		refusedBefore = st.Rejected + st.SwapsRejected
		pending = 0
		if r.IntN(3) != 0 {
			legal.act(e, b, out)
			return
		}
		for i := range b.Agents {
			out[i] = Action{}
			if b.Decisions[i].Kind == 0 || pending > 0 {
				continue
			}
			var bad []int32
			for j, ok := range b.Mask(i, n) {
				if !ok {
					bad = append(bad, int32(j))
				}
			}
			if len(bad) > 0 {
				out[i].Index = bad[r.IntN(len(bad))]
				pending++
				injected++
			}
		}
	}, nil)
	if injected < 100 {
		t.Errorf("only %d masked-out actions tried", injected)
	}
}

// traceEntries parses a trace: the (tick, agent) pairs of every message an agent sent
// itself (not auto) and of every swap, and the thread lines.
func agentActions(t *testing.T, trace []byte) map[[2]int64]bool {
	t.Helper()
	out := map[[2]int64]bool{}
	for _, line := range bytes.Split(trace, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var l struct {
			Tick  int64  `json:"tick"`
			Kind  string `json:"kind"`
			From  string `json:"from"`
			Agent string `json:"agent"`
			Auto  bool   `json:"auto"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		who := ""
		switch {
		case l.Kind == "message" && !l.Auto && l.From != "system":
			who = l.From
		case l.Kind == "swap":
			who = l.Agent
		}
		if who != "" {
			out[[2]int64{l.Tick, nameKey(who)}] = true
		}
	}
	return out
}

func nameKey(name string) int64 {
	var n int64
	for _, c := range name[2:] {
		n = n*10 + int64(c-'0')
	}
	if strings.HasPrefix(name, "p-") {
		return -n - 1
	}
	return n
}

// TestNoDecisionNoAction: every message an agent sends itself and every swap in the trace
// comes from an agent that had a decision in that tick's batches; the engine's own
// messages on an agent's behalf are marked auto.
func TestNoDecisionNoAction(t *testing.T) {
	s := smallSettings(150)
	s.World.Market.ProviderChurnPerDay = 3
	e := newEnv(t, s)
	var buf bytes.Buffer
	e.SetTrace(market.NewTraceWriter(&buf, market.TraceMeta{Seed: 3, Policy: "test"}))
	decided := map[[2]int64]bool{}
	pol := NewRandomLegal(rng.New(3, "test/policy"))
	episode(t, e, 3, pol.Act, func(b *Batch, _ []Action) {
		m := e.Market()
		for i, a := range b.Agents {
			if b.Decisions[i].Kind != 0 {
				decided[[2]int64{b.Tick, nameKey(m.Name(a))}] = true
			}
		}
	})
	if err := e.Market().WriteFinal(false); err != nil {
		t.Fatal(err)
	}
	acted := agentActions(t, buf.Bytes())
	if len(acted) < 500 {
		t.Fatalf("only %d agent actions in the trace", len(acted))
	}
	for k := range acted {
		if !decided[k] {
			t.Fatalf("agent %d acted at tick %d without a decision", k[1], k[0])
		}
	}
	if _, err := tracecheck.Check(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
}

// TestRewardsSumToWealthChange: with the wealth-change reward, an agent's rewards over
// the episode (its final truncated entry included) add up to its wealth change.
func TestRewardsSumToWealthChange(t *testing.T) {
	e := newEnv(t, smallSettings(200))
	sum := map[market.AgentID]float64{}
	pol := NewRandomLegal(rng.New(4, "test/policy"))
	episode(t, e, 4, pol.Act, func(b *Batch, _ []Action) {
		for i, a := range b.Agents {
			sum[a] += b.Rewards[i]
		}
	})
	m := e.Market()
	checked, moved := 0, 0
	for a := 0; a < m.NumAgents(); a++ {
		id := market.AgentID(a)
		if m.Role(id) == scheme.RoleSystem {
			continue
		}
		want := m.WealthUSD(id) - m.InitialWealthUSD(id)
		if math.Abs(sum[id]-want) > 1e-9*math.Max(1, m.WealthUSD(id)) {
			t.Errorf("agent %s: rewards sum to %.12g, wealth changed by %.12g", m.Name(id), sum[id], want)
		}
		checked++
		if math.Abs(want) > 1 {
			moved++
		}
	}
	if checked < 100 || moved < 20 {
		t.Errorf("weak test: %d agents, %d with a wealth change above 1 USD", checked, moved)
	}
}

// TestTerminatedNeverActsAgain: under provider churn, an agent reported terminated never
// appears in a later batch, and no message of its own appears in the trace after.
func TestTerminatedNeverActsAgain(t *testing.T) {
	s := smallSettings(200)
	s.World.Scenario.Name = "provider-churn"
	s.World.Scenario.ProviderChurn.PerDay = 4
	e := newEnv(t, s)
	var buf bytes.Buffer
	e.SetTrace(market.NewTraceWriter(&buf, market.TraceMeta{Seed: 5, Policy: "test"}))
	gone := map[market.AgentID]int64{}
	pol := NewRandomLegal(rng.New(5, "test/policy"))
	episode(t, e, 5, pol.Act, func(b *Batch, _ []Action) {
		for i, a := range b.Agents {
			if at, ok := gone[a]; ok {
				t.Fatalf("agent %d terminated at tick %d appears at tick %d", a, at, b.Tick)
			}
			if b.Terminated[i] {
				if b.Decisions[i].Kind != 0 {
					t.Fatal("a terminated entry carries a decision")
				}
				gone[a] = b.Tick
			}
		}
	})
	if err := e.Market().WriteFinal(false); err != nil {
		t.Fatal(err)
	}
	if len(gone) < 5 {
		t.Fatalf("only %d providers left the market", len(gone))
	}
	m := e.Market()
	for k := range agentActions(t, buf.Bytes()) {
		for a, at := range gone {
			if nameKey(m.Name(a)) == k[1] && k[0] > at {
				t.Fatalf("terminated agent %s acted at tick %d (left at %d)", m.Name(a), k[0], at)
			}
		}
	}
}

func batchHash(b *Batch) uint64 {
	h := fnv.New64a()
	var tmp [8]byte
	w := func(x uint64) { binary.LittleEndian.PutUint64(tmp[:], x); h.Write(tmp[:]) }
	w(uint64(b.Tick))
	for i, a := range b.Agents {
		w(uint64(a))
		w(math.Float64bits(b.Rewards[i]))
		w(uint64(b.Decisions[i].Kind))
	}
	for _, x := range b.Obs {
		w(uint64(math.Float32bits(x)))
	}
	for _, x := range b.Masks {
		if x {
			w(1)
		} else {
			w(0)
		}
	}
	return h.Sum64()
}

// TestResetSeed is PettingZoo's seed_test in spirit: Reset(seed) twice gives the same
// first batch and the same episode; another seed gives another.
func TestResetSeed(t *testing.T) {
	e := newEnv(t, smallSettings(60))
	run := func(seed uint64) (first uint64, all uint64) {
		pol := NewRandomLegal(rng.New(seed, "test/policy"))
		var hs []uint64
		episode(t, e, seed, pol.Act, func(b *Batch, _ []Action) { hs = append(hs, batchHash(b)) })
		h := fnv.New64a()
		for _, x := range hs {
			var tmp [8]byte
			binary.LittleEndian.PutUint64(tmp[:], x)
			h.Write(tmp[:])
		}
		return hs[0], h.Sum64()
	}
	f1, a1 := run(7)
	f2, a2 := run(7)
	f3, _ := run(8)
	if f1 != f2 || a1 != a2 {
		t.Fatal("Reset(7) twice: different batches")
	}
	if f1 == f3 {
		t.Fatal("Reset(7) and Reset(8): same first batch")
	}
}

// TestVecWorkersIdentical: a vectorized env of 4 markets gives the same batches with 1,
// 2 and 4 workers.
func TestVecWorkersIdentical(t *testing.T) {
	s := smallSettings(80)
	run := func(workers int) []uint64 {
		v, err := NewVec(s, 4, workers)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := v.Reset([]uint64{1, 2, 3, 4})
		if err != nil {
			t.Fatal(err)
		}
		pols := make([]*RandomLegal, 4)
		for i := range pols {
			pols[i] = NewRandomLegal(rng.New(uint64(i), "test/vec"))
		}
		var hs []uint64
		acts := make([][]Action, 4)
		for step := 0; ; step++ {
			live := 0
			for i, b := range bs {
				acts[i] = acts[i][:0]
				if b == nil {
					continue
				}
				hs = append(hs, batchHash(b))
				if b.Done {
					continue
				}
				live++
				acts[i] = append(acts[i], make([]Action, b.Len())...)
				pols[i].Act(v.Envs[i], b, acts[i])
			}
			if live == 0 {
				return hs
			}
			if bs, err = v.Step(acts); err != nil {
				t.Fatal(err)
			}
		}
	}
	one := run(1)
	for _, w := range []int{2, 4} {
		got := run(w)
		if len(got) != len(one) {
			t.Fatalf("%d workers: %d batches, 1 worker: %d", w, len(got), len(one))
		}
		for i := range got {
			if got[i] != one[i] {
				t.Fatalf("%d workers: batch %d differs", w, i)
			}
		}
	}
	if len(one) < 100 {
		t.Fatalf("only %d batches", len(one))
	}
}

func TestEnvTraceDeterministic(t *testing.T) {
	trace := func(seed uint64) []byte {
		e := newEnv(t, smallSettings(100))
		var buf bytes.Buffer
		e.SetTrace(market.NewTraceWriter(&buf, market.TraceMeta{Seed: seed, Policy: "test"}))
		pol := NewRandomLegal(rng.New(seed, "test/policy"))
		episode(t, e, seed, pol.Act, nil)
		if err := e.Market().WriteFinal(false); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(trace(9), trace(9)) {
		t.Fatal("same seed: traces differ")
	}
}

func TestRewardKinds(t *testing.T) {
	for _, kind := range []string{RewardLogReturn, RewardDSR, RewardDDR} {
		s := smallSettings(120)
		s.Env.Reward.Kind = kind
		s.Env.Reward.Clip = 0.5
		s.Env.Reward.Scale = 2
		e := newEnv(t, s)
		pol := NewRandomLegal(rng.New(1, "test/policy"))
		nonzero := 0
		episode(t, e, 1, pol.Act, func(b *Batch, _ []Action) {
			for _, r := range b.Rewards {
				if math.IsNaN(r) || math.IsInf(r, 0) {
					t.Fatalf("%s: reward %g", kind, r)
				}
				if r != 0 {
					nonzero++
				}
			}
		})
		if nonzero < 50 {
			t.Errorf("%s: only %d non-zero rewards", kind, nonzero)
		}
	}
}

func TestSettingsErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(s *Settings)
		path string
	}{
		{"ticks per hour", func(s *Settings) { s.Scheme.TicksPerHour = 60 }, "scheme.ticks_per_hour"},
		{"unknown GPU", func(s *Settings) { s.Market.Providers[0].GPUModel = "b200" }, "market.providers[0].gpu_model"},
		{"negative count", func(s *Settings) { s.Market.Clients[0].Count = -3 }, "market.clients[0].count"},
		{"deadlines", func(s *Settings) { s.Market.Validation.DelayTicks = 300 }, "market.validation.delay_ticks"},
		{"reward kind", func(s *Settings) { s.Env.Reward.Kind = "profit" }, "env.reward.kind"},
		{"world", func(s *Settings) { s.World.Window = 1 }, "world.window"},
	}
	for _, c := range cases {
		s := DefaultSettings()
		c.edit(&s)
		_, err := New(s)
		if err == nil || !strings.Contains(err.Error(), c.path+":") {
			t.Errorf("%s: got %v, want an error at %s", c.name, err, c.path)
		}
	}
}

// FuzzActions answers decisions with arbitrary action indices and prices (out of range
// included): the env must never panic, and the market's books must stay consistent
// (the trace checks out).
func FuzzActions(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{255, 7, 19, 42, 128, 5})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		s := smallSettings(30)
		for i := range s.Market.Providers {
			s.Market.Providers[i].Count = 2
		}
		for i := range s.Market.Clients {
			s.Market.Clients[i].Count = 10
		}
		s.Env.Actions.ContinuousPrice = in[0]&1 == 1
		s.Env.Actions.ReservationAnchor = in[0]&2 != 0
		e := newEnv(t, s)
		var buf bytes.Buffer
		e.SetTrace(market.NewTraceWriter(&buf, market.TraceMeta{Policy: "fuzz"}))
		pos := 0
		episode(t, e, uint64(in[0]), func(e *Env, b *Batch, out []Action) {
			for i := range out {
				x := in[pos%len(in)]
				pos++
				out[i] = Action{Index: int32(x) - 8, Price: float32(x) / 32}
			}
		}, nil)
		if err := e.Market().WriteFinal(false); err != nil {
			t.Fatal(err)
		}
		if _, err := tracecheck.Check(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
	})
}
