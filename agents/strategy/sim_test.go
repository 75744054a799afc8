package strategy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// This file holds a small negotiation simulator, written independently of the
// strategies, that follows specs/scheme.md's compute-marketplace rules: the client
// opens with a request (not a round), offers alternate and each counts a round, only the
// client accepts and only a provider's offer, a provider agrees to the client's price by
// sending it back as an identity offer (a round), no offer once max_rounds offers were
// made or the deadline has passed. Each message takes one tick.

// party is one side of a simulated negotiation.
type party struct {
	s                    Strategy
	reservation, opening float64
	value, budget, hours float64 // client context (BudgetAware)
	side                 Side
	mine                 []float64
}

// simStep records one decision.
type simStep struct {
	side  Side
	round int
	tick  int64
	d     Decision
}

// simResult is the transcript and outcome of one negotiation.
type simResult struct {
	open  float64
	steps []simStep
	deal  bool
	price float64
}

func (r simResult) String() string {
	s := fmt.Sprintf("open=%v", r.open)
	for _, st := range r.steps {
		s += fmt.Sprintf(" %v@r%d:%v", st.side, st.round, st.d)
	}
	return s + fmt.Sprintf(" deal=%v price=%v", r.deal, r.price)
}

// equalResults compares two transcripts bit for bit.
func equalResults(a, b simResult) bool {
	if math.Float64bits(a.open) != math.Float64bits(b.open) || a.deal != b.deal ||
		math.Float64bits(a.price) != math.Float64bits(b.price) || len(a.steps) != len(b.steps) {
		return false
	}
	for i := range a.steps {
		x, y := a.steps[i], b.steps[i]
		if x.side != y.side || x.round != y.round || x.tick != y.tick || x.d.Action != y.d.Action ||
			math.Float64bits(x.d.Price) != math.Float64bits(y.d.Price) {
			return false
		}
	}
	return true
}

func (p *party) view(other *party, round, maxRounds int, tick, deadline int64) Negotiation {
	return Negotiation{
		Side: p.side, Round: round, MaxRounds: maxRounds, Tick: tick, Deadline: deadline,
		Reservation: p.reservation, Opening: p.opening, Mine: p.mine, Theirs: other.mine,
		ValuePerHour: p.value, Budget: p.budget, JobHours: p.hours,
	}
}

// inRange reports whether x lies between the agent's opening and reservation (an opening
// on the wrong side of the reservation is replaced by the reservation), written without
// Negotiation.Bounds.
func inRange(side Side, opening, reservation, x float64) bool {
	if side == Buyer {
		lo := opening
		if lo > reservation {
			lo = reservation
		}
		return x >= lo && x <= reservation
	}
	hi := opening
	if hi < reservation {
		hi = reservation
	}
	return x >= reservation && x <= hi
}

// worse reports whether price x is worse than the reservation for the side.
func worse(side Side, x, reservation float64) bool {
	if side == Buyer {
		return !(x <= reservation)
	}
	return !(x >= reservation)
}

// simulate runs one negotiation and checks every decision against the invariants: no
// acceptance worse than the reservation, every offer within [opening, reservation], no
// wait when an offer is pending, no move the scheme forbids.
func simulate(t testing.TB, buyer, seller *party, maxRounds int, deadline int64) simResult {
	t.Helper()
	buyer.side, seller.side = Buyer, Seller
	buyer.mine = make([]float64, 0, maxRounds+2)
	seller.mine = make([]float64, 0, maxRounds+2)
	var res simResult

	bv := buyer.view(seller, 0, maxRounds, 0, deadline)
	res.open = buyer.s.Open(&bv)
	if !inRange(Buyer, buyer.opening, buyer.reservation, res.open) {
		t.Fatalf("%s buyer opens at %v outside [%v, %v]", buyer.s.Name(), res.open, buyer.opening, buyer.reservation)
	}
	buyer.mine = append(buyer.mine, res.open)

	round, tick := 0, int64(1)
	me, other := seller, buyer
	for step := 0; ; step++ {
		if step > 2*maxRounds+4 {
			t.Fatalf("negotiation did not end: %v", res)
		}
		if deadline > 0 && tick >= deadline {
			return res // the market times the thread out
		}
		v := me.view(other, round, maxRounds, tick, deadline)
		z := other.mine[len(other.mine)-1]
		d := me.s.Respond(&v)
		res.steps = append(res.steps, simStep{me.side, round, tick, d})
		if o, ok := me.s.(Observer); ok {
			o.Observe(Outcome{Event: OfferSeen, Price: z})
		}
		switch d.Action {
		case ActionWait:
			t.Fatalf("%s %v waits on a pending offer: %v", me.s.Name(), me.side, res)
		case ActionReject:
			finish(buyer, seller, res, false)
			return res
		case ActionAccept:
			if d.Price != z {
				t.Fatalf("%s %v accepts %v, the incoming offer was %v", me.s.Name(), me.side, d.Price, z)
			}
			if worse(me.side, z, me.reservation) {
				t.Fatalf("%s %v accepts %v, worse than its reservation %v: %v", me.s.Name(), me.side, z, me.reservation, res)
			}
			if me.side == Buyer {
				res.deal, res.price = true, z
				finish(buyer, seller, res, true)
				return res
			}
			// The seller agrees by sending the client's price back as its offer.
			if round >= maxRounds {
				t.Fatalf("%s seller accepts at round %d with no round left for its identity offer", me.s.Name(), round)
			}
			me.mine = append(me.mine, z)
		case ActionCounter:
			if round >= maxRounds {
				t.Fatalf("%s %v counters at round %d of %d", me.s.Name(), me.side, round, maxRounds)
			}
			// Legal in the scheme but useless (the provider could not answer with an offer
			// the client may accept); CanCounter promises not to do it.
			if me.side == Buyer && round+1 >= maxRounds {
				t.Fatalf("%s buyer counters at round %d of %d: no round left for the provider's answer", me.s.Name(), round, maxRounds)
			}
			if !inRange(me.side, me.opening, me.reservation, d.Price) {
				t.Fatalf("%s %v counters at %v outside [%v, %v]: %v", me.s.Name(), me.side, d.Price, me.opening, me.reservation, res)
			}
			me.mine = append(me.mine, d.Price)
		default:
			t.Fatalf("bad action %v", d.Action)
		}
		round++
		tick++
		me, other = other, me
	}
}

// finish reports the thread's outcome to stateful strategies.
func finish(buyer, seller *party, res simResult, deal bool) {
	for _, p := range []*party{buyer, seller} {
		if o, ok := p.s.(Observer); ok {
			if deal {
				o.Observe(Outcome{Event: DealClosed, Price: res.price})
			} else {
				o.Observe(Outcome{Event: NoDeal})
			}
		}
	}
}

// scenario is a random negotiation setup drawn from a seeded stream.
type scenario struct {
	buyerRes, buyerOpen, sellerRes, sellerOpen float64
	value, budget, hours                       float64
	prior                                      float64
	maxRounds                                  int
	deadline                                   int64
}

func randomScenario(r *rand.Rand) scenario {
	var sc scenario
	sc.sellerRes = 0.2 + 3*r.Float64()                   // provider cost, USD/h
	sc.sellerOpen = sc.sellerRes * (1 + 1.5*r.Float64()) // ask up to 2.5x cost
	sc.buyerRes = 0.2 + 3*r.Float64()
	sc.buyerOpen = sc.buyerRes * (0.1 + 0.9*r.Float64())
	sc.value = sc.buyerRes * (1 + 0.5*r.Float64())
	sc.hours = 1 + float64(r.IntN(24))
	sc.budget = sc.buyerRes * sc.hours * (0.5 + 1.5*r.Float64())
	sc.prior = 0.2 + 3*r.Float64()
	sc.maxRounds = 1 + r.IntN(20)
	if r.IntN(3) > 0 {
		sc.deadline = int64(sc.maxRounds/2 + 1 + r.IntN(3*sc.maxRounds))
	}
	return sc
}

// newStrategy makes a registry strategy with its random stream named after the run's
// seed and role; kalman gets the scenario's prior.
func newStrategy(t testing.TB, name string, seed uint64, role string, prior float64) Strategy {
	t.Helper()
	p := Params{Rand: rng.New(seed, "strategy/"+role)}
	if name == "kalman" {
		p.Values = map[string]float64{"prior": prior}
	}
	s, err := ByName(name, p)
	if err != nil {
		t.Fatalf("ByName(%q): %v", name, err)
	}
	return s
}

func runScenario(t testing.TB, bname, sname string, seed uint64) simResult {
	t.Helper()
	sc := randomScenario(rng.New(seed, "scenario"))
	buyer := &party{s: newStrategy(t, bname, seed, "buyer", sc.prior), reservation: sc.buyerRes, opening: sc.buyerOpen,
		value: sc.value, budget: sc.budget, hours: sc.hours}
	seller := &party{s: newStrategy(t, sname, seed, "seller", sc.prior), reservation: sc.sellerRes, opening: sc.sellerOpen}
	return simulate(t, buyer, seller, sc.maxRounds, sc.deadline)
}

// TestSimulatedInvariants plays every pair of registry strategies on seeded random
// scenarios; simulate fails on any acceptance worse than the reservation, any offer
// outside [opening, reservation] and any move the scheme forbids. It also checks that
// the same seed gives the same transcript, and that the runs are not all trivial.
func TestSimulatedInvariants(t *testing.T) {
	seeds := uint64(300)
	if testing.Short() {
		seeds = 40
	}
	deals, total := 0, 0
	for _, bname := range Names() {
		for _, sname := range Names() {
			for seed := uint64(0); seed < seeds; seed++ {
				a := runScenario(t, bname, sname, seed)
				b := runScenario(t, bname, sname, seed)
				if !equalResults(a, b) {
					t.Fatalf("%s vs %s seed %d: not deterministic:\n%v\n%v", bname, sname, seed, a, b)
				}
				total++
				if a.deal {
					deals++
				}
			}
		}
	}
	// Sanity: a good share of the pairs trade, so the invariants were exercised on deals.
	if deals < total/10 {
		t.Fatalf("only %d deals in %d negotiations", deals, total)
	}
	t.Logf("%d deals in %d negotiations", deals, total)
}

// TestSeedsDiffer checks that the stochastic strategies do depend on the seed (so that
// "same seed, same outcome" is not vacuous).
func TestSeedsDiffer(t *testing.T) {
	for _, name := range []string{"random", "tit-for-tat-random"} {
		distinct := map[string]bool{}
		for seed := uint64(0); seed < 20; seed++ {
			sc := randomScenario(rng.New(1, "fixed"))
			sc.maxRounds, sc.deadline = 20, 0
			buyer := &party{s: newStrategy(t, name, seed, "buyer", 1), reservation: sc.buyerRes, opening: sc.buyerOpen}
			seller := &party{s: newStrategy(t, "conceder", seed, "seller", 1), reservation: sc.sellerRes, opening: sc.sellerOpen}
			distinct[simulate(t, buyer, seller, sc.maxRounds, sc.deadline).String()] = true
		}
		if len(distinct) < 2 {
			t.Errorf("%s: 20 seeds gave one transcript", name)
		}
	}
}

// TestRejecterNeverDeals plays the rejecter against every strategy, on both sides.
func TestRejecterNeverDeals(t *testing.T) {
	for _, other := range Names() {
		for seed := uint64(0); seed < 30; seed++ {
			if r := runScenario(t, "rejecter", other, seed); r.deal {
				t.Fatalf("rejecter buyer dealt with %s: %v", other, r)
			}
			if r := runScenario(t, other, "rejecter", seed); r.deal {
				t.Fatalf("rejecter seller dealt with %s: %v", other, r)
			}
		}
	}
}

// TestConcessionAgreement: two concession strategies whose ranges overlap reach a deal
// given enough rounds. Ranges are drawn so that the zone of agreement is at least a
// quarter of the gap between the openings (f = gap/(gap+overlap) <= 0.8, so Boulware's
// tau^5 crosses f by tau = 0.8^(1/5) = 0.956, before the last offers at 60 rounds).
func TestConcessionAgreement(t *testing.T) {
	type maker struct {
		name   string
		params map[string]float64
	}
	sellers := []maker{
		{"boulware", nil},
		{"conceder", nil},
		{"boulware", map[string]float64{"beta": 1}},                                 // linear
		{"boulware", map[string]float64{"exponential": 1, "kappa": 0.1, "beta": 1}}, // exponential
		{"conceder", map[string]float64{"exponential": 1, "kappa": 0.1}},
	}
	buyers := append(sellers[:len(sellers):len(sellers)], maker{"budget", nil})
	for _, bm := range buyers {
		for _, sm := range sellers {
			for seed := uint64(0); seed < 100; seed++ {
				r := rng.New(seed, "agreement")
				sRes := 0.2 + 2*r.Float64()
				sOpen := sRes * (1.1 + r.Float64())
				bOpen := sRes * (0.1 + 0.8*r.Float64())
				gap := sOpen - bOpen
				bRes := sRes + gap*(0.25+r.Float64()) // overlap >= gap/4
				mk := func(m maker) Strategy {
					s, err := ByName(m.name, Params{Values: m.params})
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
				buyer := &party{s: mk(bm), reservation: bRes, opening: bOpen, value: bRes, budget: 1e9, hours: 1}
				seller := &party{s: mk(sm), reservation: sRes, opening: sOpen}
				res := simulate(t, buyer, seller, 60, 0)
				if !res.deal {
					t.Fatalf("%s%v buyer [%v, %v] and %s%v seller [%v, %v] did not agree: %v",
						bm.name, bm.params, bOpen, bRes, sm.name, sm.params, sRes, sOpen, res)
				}
				if res.price < sRes || res.price > bRes {
					t.Fatalf("deal at %v outside the zone of agreement [%v, %v]", res.price, sRes, bRes)
				}
			}
		}
	}
}
