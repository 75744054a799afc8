// Package tracecheck verifies a hivegym trace (the JSON Lines of specs/cli.md, "Trace")
// from the trace alone. It is written independently of the simulator: it imports
// nothing from market, scheme or env, and re-derives everything from the lines — the
// balances from the genesis line and the ledger lines, each thread's state from its
// messages, with its own transition tables of the two schemes of specs/scheme.md.
//
// It checks:
//
//   - the shape: a genesis line first (tick 0), a final line last, ticks never going
//     back, every line a JSON object with a known kind;
//   - money: every ledger line moves a positive (gas: non-negative) amount between
//     accounts that exist, in the direction its op allows; no balance (agent, escrow,
//     sequencer) is ever negative; the final line's balances, escrow and burned totals
//     equal the replayed ledger; per asset, genesis balances plus mints equal final
//     balances plus escrow plus burned (conservation);
//   - protocol: each thread starts with a client's request to a provider, accepted
//     messages come from the thread's parties (or the system) with increasing sequence
//     numbers and follow the scheme's transitions, each state line matches the
//     transition its message implies, refused messages change nothing, nothing is
//     accepted after a thread ends;
//   - escrow: a thread's funds leave escrow (release or slash) only if that thread locked
//     them, with the same asset and amount, at most once: a payment is released to the
//     provider or refunded to the client, collateral is returned to the provider or
//     slashed to the client.
//
// It must not import any other hivegym package: an independent check is the point.
package tracecheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Report summarizes a trace that passed.
type Report struct {
	Scheme     string
	Lines      int
	Messages   int // message lines
	Accepted   int // messages with ok true
	StateLines int
	Ledger     int // ledger lines
	Threads    int
	LastTick   int64
	Accounts   int
}

// Problem is one violation, at a 1-based line.
type Problem struct {
	Line int
	Msg  string
}

// Error lists the problems a trace has (at most MaxProblems are kept).
type Error struct {
	Problems []Problem
	More     int // problems beyond those kept
}

// MaxProblems bounds the problems an Error keeps.
const MaxProblems = 20

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trace check failed: %d problem(s)", len(e.Problems)+e.More)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\nline %d: %s", p.Line, p.Msg)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n... and %d more", e.More)
	}
	return b.String()
}

// First returns the first problem.
func (e *Error) First() Problem { return e.Problems[0] }

type termsJSON struct {
	PricePerHour *int64 `json:"price_per_hour"`
	Asset        string `json:"asset"`
	Collateral   *int64 `json:"collateral"`
	Duration     *int64 `json:"duration"`
}

// line is the union of every kind's fields.
type line struct {
	Tick *int64 `json:"tick"`
	Kind string `json:"kind"`

	Thread   string     `json:"thread"`
	Type     string     `json:"type"`
	From     string     `json:"from"`
	To       string     `json:"to"`
	Seq      *int64     `json:"seq"`
	Stage    string     `json:"stage"`
	Reason   string     `json:"reason"`
	Approved *bool      `json:"approved"`
	OK       *bool      `json:"ok"`
	Error    string     `json:"error"`
	Terms    *termsJSON `json:"terms"`

	Op     string `json:"op"`
	Asset  string `json:"asset"`
	Amount *int64 `json:"amount"`

	Agent string `json:"agent"`

	Scheme   string                      `json:"scheme"`
	Assets   map[string]json.RawMessage  `json:"assets"`
	Balances map[string]map[string]int64 `json:"balances"`
	Escrow   map[string]int64            `json:"escrow"`
	Burned   map[string]int64            `json:"burned"`
}

type thread struct {
	client, provider string
	state            string
	pending          string // state the last accepted message moves to, "" if none
	seq              map[string]int64
	payment          *lock
	collateral       *lock
}

type lock struct {
	asset  string
	amount int64
}

type checker struct {
	problems []Problem
	more     int
	line     int

	scheme   string
	assets   []string
	bal      map[string]map[string]int64 // account -> asset -> balance (escrow, sequencer included)
	minted   map[string]int64
	burned   map[string]int64
	genesis  map[string]int64 // per-asset total at genesis
	threads  map[string]*thread
	lastTick int64
	rep      Report
	final    bool
}

func (c *checker) fail(format string, args ...any) {
	if len(c.problems) >= MaxProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, Problem{Line: c.line, Msg: fmt.Sprintf(format, args...)})
}

// Check reads a trace from r and verifies it. It returns a *Error listing the problems,
// or an I/O error.
func Check(r io.Reader) (*Report, error) {
	c := &checker{
		bal: map[string]map[string]int64{}, minted: map[string]int64{}, burned: map[string]int64{},
		genesis: map[string]int64{}, threads: map[string]*thread{},
	}
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			c.line++
			c.process(bytes.TrimRight(b, "\r\n"))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if c.line == 0 {
		c.fail("empty trace")
	} else if !c.final {
		c.fail("no final line")
	}
	c.finishThreads()
	c.rep.Lines = c.line
	c.rep.Threads = len(c.threads)
	c.rep.LastTick = c.lastTick
	c.rep.Scheme = c.scheme
	c.rep.Accounts = len(c.bal)
	if len(c.problems) > 0 {
		return nil, &Error{Problems: c.problems, More: c.more}
	}
	return &c.rep, nil
}

func (c *checker) process(b []byte) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		c.fail("not a JSON object: %v", err)
		return
	}
	if c.final {
		c.fail("line after the final line")
		return
	}
	if l.Tick == nil {
		c.fail("no tick")
		return
	}
	if c.line == 1 {
		if l.Kind != "genesis" {
			c.fail("first line is %q, want genesis", l.Kind)
			return
		}
		c.genesisLine(&l)
		return
	}
	if *l.Tick < c.lastTick {
		c.fail("tick %d after tick %d", *l.Tick, c.lastTick)
	}
	c.lastTick = max(c.lastTick, *l.Tick)
	switch l.Kind {
	case "message":
		c.message(&l)
	case "state":
		c.stateLine(&l)
	case "ledger":
		c.ledger(&l)
	case "final":
		c.finalLine(&l)
	case "join":
		if _, ok := c.bal[l.Agent]; ok || !strings.HasPrefix(l.Agent, "p-") {
			c.fail("join of %q: not a new provider", l.Agent)
		}
		c.bal[l.Agent] = map[string]int64{}
	case "leave":
		if _, ok := c.bal[l.Agent]; !ok {
			c.fail("leave of unknown agent %q", l.Agent)
		}
	case "tx", "swap":
		// Informational; their money moves are ledger lines.
	case "genesis":
		c.fail("second genesis line")
	default:
		c.fail("unknown kind %q", l.Kind)
	}
}

func (c *checker) genesisLine(l *line) {
	if *l.Tick != 0 {
		c.fail("genesis at tick %d, want 0", *l.Tick)
	}
	switch l.Scheme {
	case "compute-marketplace", "coophive-apiary":
		c.scheme = l.Scheme
	default:
		c.fail("unknown scheme %q", l.Scheme)
		c.scheme = "compute-marketplace"
	}
	c.assets = append(c.assets, sortedKeys(l.Assets)...)
	if len(c.assets) == 0 {
		c.fail("genesis lists no assets")
	}
	for _, acct := range sortedKeys(l.Balances) {
		bs := l.Balances[acct]
		if !agentName(acct) && acct != "utility" && acct != "pool" && acct != "sequencer" {
			c.fail("genesis: unknown account name %q", acct)
		}
		m := map[string]int64{}
		for _, a := range sortedKeys(bs) {
			v := bs[a]
			if !c.isAsset(a) {
				c.fail("genesis: %s holds unknown asset %q", acct, a)
			}
			if v < 0 {
				c.fail("genesis: %s has negative %s %d", acct, a, v)
			}
			m[a] = v
			c.genesis[a] += v
		}
		c.bal[acct] = m
	}
	c.bal["escrow"] = map[string]int64{}
	if _, ok := c.bal["sequencer"]; !ok {
		c.bal["sequencer"] = map[string]int64{}
	}
}

// sortedKeys returns m's keys in increasing order, so that the problems a trace has
// are listed in the same order every time (never in map order).
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func (c *checker) isAsset(a string) bool {
	i := sort.SearchStrings(c.assets, a)
	return i < len(c.assets) && c.assets[i] == a
}

func agentName(s string) bool {
	if len(s) < 3 || (s[0] != 'p' && s[0] != 'c') || s[1] != '-' {
		return false
	}
	for _, ch := range s[2:] {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}

// ledger replays one ledger line.
func (c *checker) ledger(l *line) {
	c.rep.Ledger++
	if l.Amount == nil || !c.isAsset(l.Asset) {
		c.fail("ledger line without an amount or with unknown asset %q", l.Asset)
		return
	}
	amt := *l.Amount
	gas := l.Op == "fee" || l.Op == "burn"
	if amt < 0 || (amt == 0 && !gas) {
		c.fail("%s of %d %s: amount must be positive", l.Op, amt, l.Asset)
		return
	}
	var th *thread
	if l.Thread != "" {
		th = c.threads[l.Thread]
		if th == nil {
			c.fail("%s on unknown thread %s", l.Op, l.Thread)
		}
	}
	isAgent := func(a string) bool { return agentName(a) || a == "utility" || a == "pool" }
	switch l.Op {
	case "mint":
		if l.From != "mint" || !isAgent(l.To) {
			c.fail("mint from %q to %q", l.From, l.To)
		}
	case "transfer":
		if !isAgent(l.From) || !isAgent(l.To) {
			c.fail("transfer from %q to %q: both must be accounts of agents, the utility or the pool", l.From, l.To)
		}
	case "fee", "burn":
		want := "sequencer"
		if l.Op == "burn" {
			want = "burn"
		}
		if l.To != want || !agentName(l.From) {
			c.fail("%s from %q to %q, want an agent to %s", l.Op, l.From, l.To, want)
		}
	case "lock":
		if l.To != "escrow" || th == nil {
			c.fail("lock to %q on thread %q, want to escrow on a thread", l.To, l.Thread)
			break
		}
		lk := &lock{asset: l.Asset, amount: amt}
		switch l.From {
		case th.client:
			if th.payment != nil {
				c.fail("thread %s: payment locked twice", l.Thread)
			}
			th.payment = lk
		case th.provider:
			if th.collateral != nil {
				c.fail("thread %s: collateral locked twice", l.Thread)
			}
			th.collateral = lk
		default:
			c.fail("thread %s: lock by %s, who is not a party", l.Thread, l.From)
		}
	case "release", "slash":
		if l.From != "escrow" || th == nil {
			c.fail("%s from %q on thread %q, want from escrow on a thread", l.Op, l.From, l.Thread)
			break
		}
		take := func(p **lock) bool {
			if *p != nil && (*p).asset == l.Asset && (*p).amount == amt {
				*p = nil
				return true
			}
			return false
		}
		ok := false
		switch {
		case l.Op == "slash" && l.To == th.client:
			ok = take(&th.collateral)
		case l.Op == "release" && l.To == th.client:
			ok = take(&th.payment)
		case l.Op == "release" && l.To == th.provider:
			ok = take(&th.payment) || take(&th.collateral)
		}
		if !ok {
			c.fail("thread %s: %s of %d %s to %s without a matching lock held by the thread", l.Thread, l.Op, amt, l.Asset, l.To)
		}
	default:
		c.fail("unknown ledger op %q", l.Op)
		return
	}
	// Move the money.
	switch l.From {
	case "mint":
		c.minted[l.Asset] += amt
	default:
		from, ok := c.bal[l.From]
		if !ok {
			c.fail("%s from unknown account %q", l.Op, l.From)
			return
		}
		from[l.Asset] -= amt
		if from[l.Asset] < 0 {
			c.fail("%s makes %s's %s balance negative (%d)", l.Op, l.From, l.Asset, from[l.Asset])
		}
	}
	switch l.To {
	case "burn":
		c.burned[l.Asset] += amt
	default:
		to, ok := c.bal[l.To]
		if !ok {
			if l.Op != "mint" {
				c.fail("%s to unknown account %q", l.Op, l.To)
				return
			}
			to = map[string]int64{}
			c.bal[l.To] = to
		}
		to[l.Asset] += amt
	}
}

func (c *checker) finalLine(l *line) {
	c.final = true
	for _, acct := range sortedKeys(l.Balances) {
		bs := l.Balances[acct]
		mine, ok := c.bal[acct]
		if !ok {
			c.fail("final: unknown account %q", acct)
			continue
		}
		for _, a := range c.assets {
			if bs[a] != mine[a] {
				c.fail("final: %s holds %d %s, the ledger says %d", acct, bs[a], a, mine[a])
			}
		}
	}
	for _, acct := range sortedKeys(c.bal) {
		mine := c.bal[acct]
		if acct == "escrow" {
			continue
		}
		if _, ok := l.Balances[acct]; !ok {
			for _, a := range c.assets {
				if mine[a] != 0 {
					c.fail("final: account %s (%d %s) missing", acct, mine[a], a)
					break
				}
			}
		}
	}
	for _, a := range c.assets {
		if l.Escrow[a] != c.bal["escrow"][a] {
			c.fail("final: escrow holds %d %s, the ledger says %d", l.Escrow[a], a, c.bal["escrow"][a])
		}
		if l.Burned[a] != c.burned[a] {
			c.fail("final: burned %d %s, the ledger says %d", l.Burned[a], a, c.burned[a])
		}
		// Conservation from the final line's own numbers.
		var total int64
		for _, bs := range l.Balances {
			total += bs[a]
		}
		total += l.Escrow[a] + l.Burned[a]
		if want := c.genesis[a] + c.minted[a]; total != want {
			c.fail("conservation of %s: final balances + escrow + burned = %d, genesis + mints = %d", a, total, want)
		}
	}
}
