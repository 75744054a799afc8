package market

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/hivegym/hivegym/scheme"
)

// TraceMeta is what the genesis line records besides the balances, so that a replay can
// re-run the episode: the run seed, the number of ticks asked for, the policy, and the
// config the run was built from (YAML text, as the caller loads it).
type TraceMeta struct {
	Seed   uint64
	Ticks  int
	Policy string
	Config string
}

// TraceWriter writes the JSON Lines trace of specs/cli.md ("Trace"): one object per
// line, in the order things happen, each with "tick" and "kind":
//
//	genesis  first line: seed, scheme, ticks, policy, config (YAML text), assets with
//	         their decimals, and every account's balances (agents p-N and c-N, the
//	         utility, the swap pool, the sequencer)
//	message  thread, type (the scheme's canonical names: request, offer, accept,
//	         attestation, collateral_missing, terminate, and the system events
//	         escrow_locked, job_failed, validated, tick), from, to, seq, terms, stage
//	         (attestation), reason (terminate), approved (validated), ok, error when
//	         refused, auto when the engine sent it on the agent's behalf. A tick event
//	         appears only when it changed the thread's state.
//	state    thread, from, to, and reason when the thread ended
//	ledger   op (lock, release, transfer, slash, fee, burn, mint), asset, amount in base
//	         units, from, to (agents or escrow, sequencer, burn, mint), thread if any
//	tx       a transaction that reverted (an escrow lock the client could not pay)
//	swap     a treasury swap through the pool (its ledger lines follow)
//	join     a provider joined (provider churn; its mint lines follow); leave: one left
//	final    last line: every account's balances, what the escrow holds, what was
//	         burned, and whether the run was interrupted
//
// Numbers are integers except where noted; key order is fixed, so the same run writes
// the same bytes. Writing is buffered; Flush writes out. The first write error is kept
// and returned by Flush.
type TraceWriter struct {
	w    *bufio.Writer
	buf  []byte
	meta TraceMeta
	err  error
	m    *Market
}

// NewTraceWriter returns a writer of the trace to w.
func NewTraceWriter(w io.Writer, meta TraceMeta) *TraceWriter {
	return &TraceWriter{w: bufio.NewWriterSize(w, 1<<16), meta: meta}
}

// SetTrace makes the market write its trace to t from the next Reset on (nil turns
// tracing off). Without a trace writer nothing is formatted: tracing costs nothing.
func (m *Market) SetTrace(t *TraceWriter) {
	m.tr = t
	if t != nil {
		t.m = m
	} else {
		m.chain.SetEventSink(nil)
	}
}

// Err returns the first write error met so far (lines are buffered, so an error shows
// once a buffer's worth has been written).
func (t *TraceWriter) Err() error { return t.err }

// Flush writes out buffered lines and returns the first error met.
func (t *TraceWriter) Flush() error {
	if err := t.w.Flush(); err != nil && t.err == nil {
		t.err = err
	}
	return t.err
}

func (t *TraceWriter) line() {
	t.buf = append(t.buf, '}', '\n')
	if _, err := t.w.Write(t.buf); err != nil && t.err == nil {
		t.err = err
	}
	t.buf = t.buf[:0]
}

func (t *TraceWriter) begin(tick int64, kind string) {
	t.buf = append(t.buf[:0], `{"tick":`...)
	t.buf = strconv.AppendInt(t.buf, tick, 10)
	t.buf = append(t.buf, `,"kind":"`...)
	t.buf = append(t.buf, kind...)
	t.buf = append(t.buf, '"')
}

func (t *TraceWriter) key(k string) {
	t.buf = append(t.buf, ',', '"')
	t.buf = append(t.buf, k...)
	t.buf = append(t.buf, '"', ':')
}

func (t *TraceWriter) str(k, v string) {
	t.key(k)
	t.buf = appendJSONString(t.buf, v)
}

func (t *TraceWriter) int(k string, v int64) {
	t.key(k)
	t.buf = strconv.AppendInt(t.buf, v, 10)
}

func (t *TraceWriter) bool(k string, v bool) {
	t.key(k)
	t.buf = strconv.AppendBool(t.buf, v)
}

func (t *TraceWriter) name(k string, a AgentID) {
	t.key(k)
	t.buf = append(t.buf, '"')
	t.buf = t.m.appendName(t.buf, a)
	t.buf = append(t.buf, '"')
}

func (t *TraceWriter) thread(id scheme.ThreadID) {
	t.key("thread")
	t.buf = append(t.buf, '"', 't', '-')
	t.buf = strconv.AppendInt(t.buf, int64(id), 10)
	t.buf = append(t.buf, '"')
}

// appendName appends agent a's trace name (p-N, c-N, utility, pool).
func (m *Market) appendName(b []byte, a AgentID) []byte {
	switch {
	case a == m.utility:
		return append(b, "utility"...)
	case a == m.pool:
		return append(b, "pool"...)
	case m.role[a] == scheme.RoleProvider:
		b = append(b, 'p', '-')
	default:
		b = append(b, 'c', '-')
	}
	return strconv.AppendInt(b, int64(m.num[a]), 10)
}

// appendAccount appends a chain account's trace name: an agent's, or escrow, sequencer,
// burn, mint.
func (m *Market) appendAccount(b []byte, a AccountID) []byte {
	if a >= 0 {
		return m.appendName(b, AgentID(a))
	}
	return append(b, a.String()...)
}

func (t *TraceWriter) balances(b Balances) {
	t.buf = append(t.buf, '{')
	for a := Asset(0); a < NumAssets; a++ {
		if a > 0 {
			t.buf = append(t.buf, ',')
		}
		t.buf = append(t.buf, '"')
		t.buf = append(t.buf, a.String()...)
		t.buf = append(t.buf, '"', ':')
		t.buf = strconv.AppendInt(t.buf, b[a], 10)
	}
	t.buf = append(t.buf, '}')
}

// accounts writes every account's balances as a JSON object, in account order, then the
// sequencer.
func (t *TraceWriter) accounts(m *Market) {
	t.key("balances")
	t.buf = append(t.buf, '{')
	for a := 0; a < m.agentIDs; a++ {
		if a > 0 {
			t.buf = append(t.buf, ',')
		}
		t.buf = append(t.buf, '"')
		t.buf = m.appendName(t.buf, AgentID(a))
		t.buf = append(t.buf, '"', ':')
		b, _ := m.chain.Balances(AccountID(a))
		t.balances(b)
	}
	t.buf = append(t.buf, `,"sequencer":`...)
	var seq Balances
	for a := Asset(0); a < NumAssets; a++ {
		seq[a] = m.chain.Balance(AcctSequencer, a)
	}
	t.balances(seq)
	t.buf = append(t.buf, '}')
}

func (t *TraceWriter) genesis(m *Market) {
	t.begin(0, "genesis")
	t.int("seed", int64(t.meta.Seed))
	t.str("scheme", m.sch.Name())
	t.int("ticks", int64(t.meta.Ticks))
	t.str("policy", t.meta.Policy)
	t.str("config", t.meta.Config)
	t.key("assets")
	t.buf = append(t.buf, '{')
	for a := Asset(0); a < NumAssets; a++ {
		if a > 0 {
			t.buf = append(t.buf, ',')
		}
		t.buf = append(t.buf, '"')
		t.buf = append(t.buf, a.String()...)
		t.buf = append(t.buf, `":{"decimals":`...)
		t.buf = strconv.AppendInt(t.buf, int64(a.Decimals()), 10)
		t.buf = append(t.buf, '}')
	}
	t.buf = append(t.buf, '}')
	t.accounts(m)
	t.line()
}

// WriteFinal writes the final line (balances, escrow, burned) and flushes. interrupted
// says the run stopped before its last tick.
func (m *Market) WriteFinal(interrupted bool) error {
	t := m.tr
	if t == nil {
		return nil
	}
	t.begin(max(m.tick, 0), "final")
	t.bool("interrupted", interrupted)
	t.accounts(m)
	var esc, burn Balances
	for a := Asset(0); a < NumAssets; a++ {
		esc[a] = m.chain.Balance(AcctEscrow, a)
		burn[a] = m.chain.Balance(AcctBurn, a)
	}
	t.key("escrow")
	t.balances(esc)
	t.key("burned")
	t.balances(burn)
	t.line()
	return t.Flush()
}

// ledger is the chain's event sink while tracing.
func (t *TraceWriter) ledger(e LedgerEvent) {
	t.begin(e.Tick, "ledger")
	t.str("op", e.Op.String())
	t.str("asset", e.Asset.String())
	t.int("amount", e.Amount)
	t.key("from")
	t.buf = append(t.buf, '"')
	t.buf = t.m.appendAccount(t.buf, e.From)
	t.buf = append(t.buf, '"')
	t.key("to")
	t.buf = append(t.buf, '"')
	t.buf = t.m.appendAccount(t.buf, e.To)
	t.buf = append(t.buf, '"')
	if e.Thread != NoThread {
		t.thread(scheme.ThreadID(e.Thread))
	}
	t.line()
}

func (t *TraceWriter) message(m *Market, msg *scheme.Message, ok bool, err error, auto bool) {
	t.begin(m.tick, "message")
	t.thread(msg.Thread)
	t.str("type", msg.Type.String())
	if msg.From == scheme.SystemID {
		t.str("from", "system")
	} else {
		t.name("from", msg.From)
		t.name("to", msg.To)
		t.int("seq", int64(msg.Seq))
	}
	switch msg.Type {
	case scheme.MsgRequest, scheme.MsgOffer, scheme.MsgAccept:
		t.terms(&msg.Terms)
	case scheme.MsgAttestation:
		t.str("stage", msg.Stage.String())
		if msg.Stage == scheme.StageStart {
			t.terms(&msg.Terms)
		}
	case scheme.MsgTerminate:
		t.str("reason", msg.Reason.String())
	case scheme.MsgValidated:
		t.bool("approved", msg.Approved)
	}
	if auto {
		t.bool("auto", true)
	}
	t.bool("ok", ok)
	if err != nil {
		t.str("error", err.Error())
	}
	t.line()
}

func (t *TraceWriter) terms(x *scheme.Terms) {
	t.key("terms")
	t.buf = append(t.buf, '{')
	first := true
	f := func(k string, v int64) {
		if !first {
			t.buf = append(t.buf, ',')
		}
		first = false
		t.buf = append(t.buf, '"')
		t.buf = append(t.buf, k...)
		t.buf = append(t.buf, '"', ':')
		t.buf = strconv.AppendInt(t.buf, v, 10)
	}
	f("price_per_hour", x.PricePerHour)
	t.buf = append(t.buf, `,"asset":"`...)
	t.buf = append(t.buf, x.Asset.String()...)
	t.buf = append(t.buf, '"')
	f("collateral", x.Collateral)
	f("duration", x.Duration)
	f("start", x.Start)
	f("gpu_model", int64(x.GPUModel))
	f("min_gpu_mem_gb", int64(x.MinGPUMemGB))
	f("gpus", int64(x.GPUCount))
	f("cpu_cores", int64(x.CPUCores))
	f("ram_gb", int64(x.RAMGB))
	t.buf = append(t.buf, `,"validation":"`...)
	t.buf = append(t.buf, x.Validation.String()...)
	t.buf = append(t.buf, '"')
	f("offer_deadline", x.OfferDeadline)
	f("job_deadline", x.JobDeadline)
	f("arbitration_deadline", x.ArbitrationDeadline)
	t.buf = append(t.buf, '}')
}

func (t *TraceWriter) state(m *Market, th *scheme.Thread, from, to scheme.State) {
	t.begin(m.tick, "state")
	t.thread(th.ID)
	t.str("from", from.String())
	t.str("to", to.String())
	if to.Terminal() {
		t.str("reason", th.Reason.String())
	}
	t.line()
}

func (t *TraceWriter) tx(m *Market, kind string, from AgentID, th scheme.ThreadID, err error) {
	t.begin(m.tick, "tx")
	t.str("tx", kind)
	t.name("from", from)
	t.thread(th)
	t.bool("ok", false)
	t.str("error", err.Error())
	t.line()
}

func (t *TraceWriter) swap(m *Market, a AgentID, s Swap, out int64, err error) {
	t.begin(m.tick, "swap")
	t.name("agent", a)
	t.str("sell", s.From.String())
	t.str("buy", s.To.String())
	t.int("amount", s.Amount)
	t.int("out", out)
	t.bool("ok", err == nil)
	if err != nil {
		t.str("error", err.Error())
	}
	t.line()
}

func (t *TraceWriter) agent(m *Market, kind string, a AgentID) {
	t.begin(m.tick, kind)
	t.name("agent", a)
	t.line()
}

// agentNext writes a join line for the provider about to be added.
func (t *TraceWriter) agentNext(m *Market, kind string) {
	t.begin(m.tick, kind)
	t.key("agent")
	t.buf = append(t.buf, `"p-`...)
	t.buf = strconv.AppendInt(t.buf, int64(m.nProv), 10)
	t.buf = append(t.buf, '"')
	t.line()
}

// appendJSONString appends s as a JSON string (RFC 8259 escapes; invalid UTF-8 becomes
// U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
