package strategy

// NaiveAccepter accepts any offer within its reservation and otherwise counters at its
// reservation. It opens at its reservation too: it states its true limit and never
// haggles. After CoopHive's naive buyer (Apiary, apiary/buyer.py), which confirms every
// seller offer; the reservation check is added so that it never takes a loss.
// It has no parameters.
type NaiveAccepter struct{}

// Name returns "accepter".
func (*NaiveAccepter) Name() string { return "accepter" }

// Open returns the reservation.
func (*NaiveAccepter) Open(n *Negotiation) float64 { return n.Clamp(n.Reservation) }

// Respond accepts an incoming price within the reservation, else counters at the
// reservation (or rejects when no counter can lead to a deal).
func (*NaiveAccepter) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	if n.acceptable(z) {
		return Accept(z)
	}
	return n.counterOrReject(n.Reservation)
}

// NaiveRejecter never deals: it opens at its opening price and rejects every offer.
// It is a control (any agent facing it earns nothing from negotiation). No parameters.
type NaiveRejecter struct{}

// Name returns "rejecter".
func (*NaiveRejecter) Name() string { return "rejecter" }

// Open returns the opening price.
func (*NaiveRejecter) Open(n *Negotiation) float64 { return n.Clamp(n.Opening) }

// Respond rejects every offer (and waits when there is none).
func (*NaiveRejecter) Respond(n *Negotiation) Decision {
	if _, ok := n.Incoming(); !ok {
		return Wait()
	}
	return Reject()
}
