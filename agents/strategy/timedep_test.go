package strategy

import (
	"strings"
	"testing"
)

// TestAlphaTable checks both decision functions at t = 0, t_max/2 and t_max for beta in
// {0.2, 1, 5}, k = 0.1. Hand values (bc -l):
//
//	0.5^0.2 = 2^-0.2 = 0.870550563296124, 0.5^5 = 1/32
//	polynomial at 1/2: beta 0.2: 0.1 + 0.9/32                 = 0.128125
//	                   beta 1:   0.1 + 0.9/2                  = 0.55
//	                   beta 5:   0.1 + 0.9 * 0.870550563296124 = 0.883495506966511
//	exponential at 1/2: 0.1^((1/2)^beta):
//	                   beta 0.2: 0.1^0.870550563296124 = 0.134725386044175
//	                   beta 1:   0.1^0.5                = 0.316227766016838
//	                   beta 5:   0.1^(1/32)             = 0.930572040929699
//
// and alpha(0) = k, alpha(t_max) = 1 for both.
func TestAlphaTable(t *testing.T) {
	const k = 0.1
	cases := []struct {
		beta, poly, exp float64
	}{
		{0.2, 0.128125, 0.134725386044175},
		{1, 0.55, 0.316227766016838},
		{5, 0.883495506966511, 0.930572040929699},
	}
	for _, c := range cases {
		if got := PolyAlpha(k, c.beta, 0.5); !near(got, c.poly, 1e-13) {
			t.Errorf("PolyAlpha(beta %v, 1/2) = %.15f, want %.15f", c.beta, got, c.poly)
		}
		if got := ExpAlpha(k, c.beta, 0.5); !near(got, c.exp, 1e-13) {
			t.Errorf("ExpAlpha(beta %v, 1/2) = %.15f, want %.15f", c.beta, got, c.exp)
		}
		for _, f := range []struct {
			name string
			fn   func(k, beta, tau float64) float64
		}{{"poly", PolyAlpha}, {"exp", ExpAlpha}} {
			if got := f.fn(k, c.beta, 0); !near(got, k, tol) {
				t.Errorf("%s alpha(0), beta %v = %v, want k = %v", f.name, c.beta, got, k)
			}
			if got := f.fn(k, c.beta, 1); !near(got, 1, tol) {
				t.Errorf("%s alpha(t_max), beta %v = %v, want 1", f.name, c.beta, got)
			}
			// t beyond t_max is min(t, t_max); before 0 is 0.
			if got := f.fn(k, c.beta, 1.7); !near(got, 1, tol) {
				t.Errorf("%s alpha(1.7 t_max) = %v, want 1", f.name, got)
			}
			if got := f.fn(k, c.beta, -0.3); !near(got, k, tol) {
				t.Errorf("%s alpha(-0.3) = %v, want k", f.name, got)
			}
		}
	}
	// k = 0: the polynomial starts at 0; the exponential is a step at t_max.
	if PolyAlpha(0, 1, 0) != 0 || ExpAlpha(0, 1, 0.999) != 0 || ExpAlpha(0, 1, 1) != 1 {
		t.Error("k = 0 edge cases")
	}
}

// TestBoulwareSlowerThanConceder: at every interior t, Boulware (beta 0.2) has conceded
// strictly less than Conceder (beta 5), for both families and several k; and each curve
// is non-decreasing in t.
func TestBoulwareSlowerThanConceder(t *testing.T) {
	for _, fam := range []Family{Polynomial, Exponential} {
		for _, k := range []float64{0, 0.1, 0.5, 0.9} {
			if fam == Exponential && k == 0 {
				continue
			}
			b := &TimeDependent{Family: fam, K: k, Beta: 0.2}
			c := &TimeDependent{Family: fam, K: k, Beta: 5}
			prevB, prevC := -1.0, -1.0
			for i := 1; i < 1000; i++ {
				tau := float64(i) / 1000
				ab, ac := b.Alpha(tau), c.Alpha(tau)
				if !(ab < ac) {
					t.Fatalf("family %d k %v tau %v: boulware alpha %v not below conceder %v", fam, k, tau, ab, ac)
				}
				if ab < prevB || ac < prevC {
					t.Fatalf("family %d k %v tau %v: alpha decreased", fam, k, tau)
				}
				prevB, prevC = ab, ac
			}
		}
	}
}

// TestTimeDependentOffers: seller opening 2, reservation 1, 4 rounds; at round 1 its
// counter is the 2nd offer, tau = 2/4 = 1/2:
//
//	boulware: 2 - (1/2)^5 (2 - 1)        = 2 - 1/32 = 1.96875
//	conceder: 2 - (1/2)^(1/5) (2 - 1)    = 2 - 0.870550563296124 = 1.129449436703876
//
// buyer opening 1, reservation 2, same tau: 1 + 1/32 and 1 + 0.870550563296124.
func TestTimeDependentOffers(t *testing.T) {
	view := func(side Side, z float64) *Negotiation {
		n := &Negotiation{Side: side, Round: 1, MaxRounds: 4, Theirs: []float64{z}}
		if side == Seller {
			n.Opening, n.Reservation = 2, 1
		} else {
			n.Opening, n.Reservation, n.Mine = 1, 2, []float64{1}
		}
		return n
	}
	bw, cd := NewBoulware(), NewConceder()
	wantDecision(t, "boulware seller", bw.Respond(view(Seller, 1.5)), ActionCounter, 1.96875)
	wantDecision(t, "boulware seller accepts", bw.Respond(view(Seller, 1.97)), ActionAccept, 1.97)
	wantDecision(t, "conceder seller", cd.Respond(view(Seller, 1.1)), ActionCounter, 1.129449436703876)
	wantDecision(t, "conceder seller accepts", cd.Respond(view(Seller, 1.13)), ActionAccept, 1.13)
	wantDecision(t, "boulware buyer", bw.Respond(view(Buyer, 1.5)), ActionCounter, 1.03125)
	wantDecision(t, "boulware buyer accepts", bw.Respond(view(Buyer, 1.03)), ActionAccept, 1.03)
	wantDecision(t, "conceder buyer", cd.Respond(view(Buyer, 1.9)), ActionCounter, 1.870550563296124)

	// Opening with k = 0.25: seller 2 - 0.25 (2 - 1) = 1.75.
	s := &TimeDependent{K: 0.25, Beta: 1}
	if got := s.Open(&Negotiation{Side: Seller, Opening: 2, Reservation: 1}); !near(got, 1.75, tol) {
		t.Errorf("Open with k 0.25 = %v, want 1.75", got)
	}
	// At the deadline a seller's counter is its reservation; an offer below it is refused.
	n := &Negotiation{Side: Seller, Round: 3, MaxRounds: 4, Opening: 2, Reservation: 1, Theirs: []float64{0.9}}
	wantDecision(t, "last offer", bw.Respond(n), ActionCounter, 1)
	// A buyer at the last round cannot counter; it accepts up to its reservation.
	n = &Negotiation{Side: Buyer, Round: 7, MaxRounds: 8, Opening: 1, Reservation: 2, Mine: []float64{1}, Theirs: []float64{1.99}}
	wantDecision(t, "buyer last round accepts", bw.Respond(n), ActionAccept, 1.99)
	n.Theirs = []float64{2.01}
	wantDecision(t, "buyer last round rejects", bw.Respond(n), ActionReject, 0)
}

func TestTimeDependentValidate(t *testing.T) {
	for _, s := range []*TimeDependent{NewBoulware(), NewConceder()} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name(), err)
		}
	}
	err := (&TimeDependent{Family: Exponential, K: 0, Beta: -1}).Validate()
	if err == nil || !strings.Contains(err.Error(), "kappa:") || !strings.Contains(err.Error(), "beta:") {
		t.Errorf("got %v", err)
	}
	if err := (&TimeDependent{K: 1.5, Beta: 1}).Validate(); err == nil {
		t.Error("kappa 1.5 accepted")
	}
	if (&TimeDependent{Beta: 1}).Name() != "time-dependent" {
		t.Error("unnamed TimeDependent")
	}
}
