package tracecheck

import "strings"

// The transition tables of specs/scheme.md, written here from the spec (not taken from
// package scheme): for a state, a message type (with the attestation stage) and the
// sender's role, the state the thread moves to. A missing entry is an illegal message.

type move struct {
	state string
	typ   string // attestation types carry their stage: "attestation:start"
	role  string // client, provider, system, or "either" for the two parties
}

var marketplace = map[move]string{
	{"Idle", "request", "client"}: "Requested",

	{"Requested", "offer", "provider"}:   "Offered",
	{"Requested", "terminate", "either"}: "Terminated",
	{"Requested", "tick", "system"}:      "Terminated",

	{"Offered", "offer", "client"}:     "Countered",
	{"Offered", "accept", "client"}:    "Accepted",
	{"Offered", "terminate", "either"}: "Terminated",
	{"Offered", "tick", "system"}:      "Terminated",

	{"Countered", "offer", "provider"}:   "Offered",
	{"Countered", "terminate", "either"}: "Terminated",
	{"Countered", "tick", "system"}:      "Terminated",

	{"Accepted", "attestation:start", "provider"}:  "Running",
	{"Accepted", "collateral_missing", "provider"}: "AwaitingEscrow",
	{"Accepted", "terminate", "either"}:            "Terminated",
	{"Accepted", "escrow_locked", "system"}:        "Accepted",
	{"Accepted", "tick", "system"}:                 "Terminated",

	{"AwaitingEscrow", "accept", "client"}:              "AwaitingEscrow",
	{"AwaitingEscrow", "attestation:start", "provider"}: "Running",
	{"AwaitingEscrow", "escrow_locked", "system"}:       "Accepted",
	{"AwaitingEscrow", "terminate", "either"}:           "Terminated",
	{"AwaitingEscrow", "tick", "system"}:                "Terminated",

	{"Running", "attestation:complete", "provider"}: "Delivered",
	{"Running", "job_failed", "system"}:             "Failed",
	{"Running", "escrow_locked", "system"}:          "Running",
	{"Running", "tick", "system"}:                   "Failed",

	{"Delivered", "validated", "system"}:     "Settled",
	{"Delivered", "escrow_locked", "system"}: "Delivered",
	{"Delivered", "tick", "system"}:          "Settled",
}

var apiary = map[move]string{
	{"Idle", "request", "client"}: "Requested",

	{"Requested", "offer", "provider"}:   "Offered",
	{"Requested", "terminate", "either"}: "Terminated",
	{"Requested", "tick", "system"}:      "Terminated",

	{"Offered", "offer", "client"}:     "Countered",
	{"Offered", "accept", "client"}:    "Accepted",
	{"Offered", "terminate", "either"}: "Terminated",
	{"Offered", "tick", "system"}:      "Terminated",

	{"Countered", "offer", "provider"}:   "Offered",
	{"Countered", "terminate", "either"}: "Terminated",
	{"Countered", "tick", "system"}:      "Terminated",

	{"Accepted", "attestation:start", "provider"}: "Running",
	{"Accepted", "escrow_locked", "system"}:       "Accepted",
	{"Accepted", "terminate", "either"}:           "Terminated",
	{"Accepted", "tick", "system"}:                "Terminated",

	{"Running", "validated", "system"}:  "Settled",
	{"Running", "job_failed", "system"}: "Failed",
	{"Running", "tick", "system"}:       "Failed",
}

func terminal(s string) bool { return s == "Settled" || s == "Failed" || s == "Terminated" }

var systemTypes = map[string]bool{"escrow_locked": true, "job_failed": true, "validated": true, "tick": true}

func (c *checker) table() map[move]string {
	if c.scheme == "coophive-apiary" {
		return apiary
	}
	return marketplace
}

// message checks one message line against its thread.
func (c *checker) message(l *line) {
	c.rep.Messages++
	if l.OK == nil {
		c.fail("message without ok")
		return
	}
	if !strings.HasPrefix(l.Thread, "t-") {
		c.fail("message on thread %q", l.Thread)
		return
	}
	th := c.threads[l.Thread]
	if th == nil {
		if l.Type != "request" || !strings.HasPrefix(l.From, "c-") || !strings.HasPrefix(l.To, "p-") {
			c.fail("thread %s starts with %s from %s to %s, want a client's request to a provider", l.Thread, l.Type, l.From, l.To)
			return
		}
		if _, ok := c.bal[l.From]; !ok {
			c.fail("request from unknown client %s", l.From)
		}
		if _, ok := c.bal[l.To]; !ok {
			c.fail("request to unknown provider %s", l.To)
		}
		th = &thread{client: l.From, provider: l.To, state: "Idle", seq: map[string]int64{}}
		c.threads[l.Thread] = th
	}
	if th.pending != "" {
		c.fail("thread %s: %s before the state line of the previous message (to %s)", l.Thread, l.Type, th.pending)
		th.state, th.pending = th.pending, ""
	}
	var role string
	switch {
	case l.From == "system":
		role = "system"
		if !systemTypes[l.Type] {
			c.fail("thread %s: %s from the system", l.Thread, l.Type)
			return
		}
	case l.From == th.client:
		role = "client"
		if l.To != th.provider {
			c.fail("thread %s: message from the client to %s, not the provider %s", l.Thread, l.To, th.provider)
		}
	case l.From == th.provider:
		role = "provider"
		if l.To != th.client {
			c.fail("thread %s: message from the provider to %s, not the client %s", l.Thread, l.To, th.client)
		}
	default:
		if *l.OK {
			c.fail("thread %s: accepted %s from %s, who is not a party", l.Thread, l.Type, l.From)
		}
		return
	}
	if !*l.OK {
		return // a refused message changes nothing
	}
	c.rep.Accepted++
	if role != "system" {
		if l.Seq == nil {
			c.fail("thread %s: %s from %s without seq", l.Thread, l.Type, l.From)
		} else {
			if *l.Seq <= th.seq[role] {
				c.fail("thread %s: %s from %s with seq %d, not above %d", l.Thread, l.Type, l.From, *l.Seq, th.seq[role])
			}
			th.seq[role] = *l.Seq
		}
	}
	if terminal(th.state) {
		c.fail("thread %s: %s accepted after the thread ended (%s)", l.Thread, l.Type, th.state)
		return
	}
	typ := l.Type
	if typ == "attestation" {
		typ += ":" + l.Stage
	}
	t := c.table()
	to, ok := t[move{th.state, typ, role}]
	if !ok && role != "system" {
		to, ok = t[move{th.state, typ, "either"}]
	}
	if !ok {
		c.fail("thread %s: %s from the %s is illegal in state %s", l.Thread, typ, role, th.state)
		return
	}
	if typ == "tick" && to == th.state {
		c.fail("thread %s: a tick that changed nothing was written", l.Thread)
	}
	if to != th.state {
		th.pending = to
	}
}

// stateLine checks a state line against the transition its thread's last accepted
// message implies.
func (c *checker) stateLine(l *line) {
	c.rep.StateLines++
	th := c.threads[l.Thread]
	if th == nil {
		c.fail("state line for unknown thread %q", l.Thread)
		return
	}
	if th.pending == "" {
		c.fail("thread %s: state line %s -> %s that no accepted message explains", l.Thread, l.From, l.To)
		return
	}
	if l.From != th.state || l.To != th.pending {
		c.fail("thread %s: state line %s -> %s, the messages say %s -> %s", l.Thread, l.From, l.To, th.state, th.pending)
	}
	if terminal(th.pending) && l.Reason == "" {
		c.fail("thread %s: ended without a reason", l.Thread)
	}
	th.state, th.pending = th.pending, ""
}

func (c *checker) finishThreads() {
	for _, id := range sortedKeys(c.threads) {
		th := c.threads[id]
		if th.pending != "" {
			c.fail("thread %s: no state line for its last transition (to %s)", id, th.pending)
		}
		if terminal(th.state) && (th.payment != nil || th.collateral != nil) {
			c.fail("thread %s ended (%s) with funds still in escrow", id, th.state)
		}
	}
}
