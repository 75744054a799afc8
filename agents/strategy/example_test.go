package strategy_test

import (
	"fmt"

	"github.com/hivegym/hivegym/agents/strategy"
)

// A Boulware provider (cost 1.00 USD/h, asking 2.00, 10 rounds) facing a client whose bid
// rises by 0.10 a round: it holds its price (2 - tau^5 at tau = 0.1, 0.3, 0.5, 0.7, 0.9)
// and concedes only as the round limit nears, then accepts once its own next offer
// (2 - 0.9^5 = 1.40951) is no better than the bid.
func ExampleByName() {
	s, err := strategy.ByName("boulware", strategy.Params{})
	if err != nil {
		fmt.Println(err)
		return
	}
	n := strategy.Negotiation{Side: strategy.Seller, MaxRounds: 10, Reservation: 1, Opening: 2}
	var mine, theirs []float64
	for round := 0; round < 10; round += 2 {
		theirs = append(theirs, 1.2+0.1*float64(round/2))
		n.Round, n.Mine, n.Theirs = round, mine, theirs
		d := s.Respond(&n)
		fmt.Printf("round %d: bid %.2f, %v %.5f\n", round, theirs[len(theirs)-1], d.Action, d.Price)
		if d.Action != strategy.ActionCounter {
			break
		}
		mine = append(mine, d.Price)
	}
	// Output:
	// round 0: bid 1.20, counter 1.99999
	// round 2: bid 1.30, counter 1.99757
	// round 4: bid 1.40, counter 1.96875
	// round 6: bid 1.50, counter 1.83193
	// round 8: bid 1.60, accept 1.60000
}

// The cost per hour of an H100 at 0.10 USD/kWh, as a cost-plus provider's reservation.
func ExampleCost() {
	c := strategy.Cost{PowerKW: 0.7, ElectricityPerKWh: 0.10, GasPerDeal: 0.004, JobHours: 2,
		Capex: 30000, LifetimeHours: 5 * 8760}
	cost, err := c.PerHour()
	if err != nil {
		fmt.Println(err)
		return
	}
	n := strategy.Negotiation{Side: strategy.Seller, Reservation: cost, Opening: 10}
	fmt.Printf("cost %.4f USD/h, ask %.4f USD/h\n", cost, strategy.NewCostPlus().Open(&n))
	// Output:
	// cost 0.7569 USD/h, ask 0.9083 USD/h
}
