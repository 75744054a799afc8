package strategy

import (
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// benchViews returns a fixed set of mid-negotiation views for both sides, with histories
// long enough for every imitative tactic, so that Respond takes its full path.
func benchViews() []Negotiation {
	r := rng.New(11, "bench-views")
	views := make([]Negotiation, 64)
	for i := range views {
		k := 3 + r.IntN(4) // offers per side
		mine := make([]float64, k)
		theirs := make([]float64, k)
		n := Negotiation{MaxRounds: 20, Deadline: 100, Tick: int64(2 * k), Round: 2*k - 1,
			ValuePerHour: 2.5, Budget: 40, JobHours: 10}
		if i%2 == 0 {
			n.Side, n.Reservation, n.Opening = Seller, 1, 2.5
			for j := range mine {
				mine[j] = 2.5 - 0.1*float64(j)
				theirs[j] = 0.5 + 0.12*float64(j) + 0.01*r.Float64()
			}
		} else {
			n.Side, n.Reservation, n.Opening = Buyer, 2, 0.5
			for j := range mine {
				mine[j] = 0.5 + 0.1*float64(j)
				theirs[j] = 2.5 - 0.12*float64(j) - 0.01*r.Float64()
			}
		}
		n.Mine, n.Theirs = mine, theirs
		views[i] = n
	}
	return views
}

func allStrategies(t testing.TB) []Strategy {
	var ss []Strategy
	for _, name := range Names() {
		s, err := ByName(name, Params{Rand: rng.New(5, name)})
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	return ss
}

// TestRespondAllocs: Respond does not allocate, for any strategy, on either side.
func TestRespondAllocs(t *testing.T) {
	views := benchViews()
	for _, s := range allStrategies(t) {
		i := 0
		allocs := testing.AllocsPerRun(500, func() {
			_ = s.Respond(&views[i%len(views)])
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Respond", s.Name(), allocs)
		}
		if o, ok := s.(Observer); ok {
			if a := testing.AllocsPerRun(500, func() { o.Observe(Outcome{Event: OfferSeen, Price: 1.2}) }); a != 0 {
				t.Errorf("%s: %v allocations per Observe", s.Name(), a)
			}
		}
	}
}

// BenchmarkRespond measures decisions per second for each strategy over a rotating set
// of mid-negotiation views.
func BenchmarkRespond(b *testing.B) {
	views := benchViews()
	for _, s := range allStrategies(b) {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			var sink float64
			i := 0
			for b.Loop() {
				d := s.Respond(&views[i&63])
				sink += d.Price
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
			if sink != sink {
				b.Fatal("NaN price")
			}
		})
	}
}
