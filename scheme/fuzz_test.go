package scheme

import (
	"testing"
)

// fuzzRecord is one message in a FuzzStep input: a tick increment byte, an envelope
// control byte, then the message's binary encoding.
const fuzzRecord = 2 + MessageSize

// fuzzEnvelope lets the fuzzer reach valid envelopes cheaply: control bits 0-1 replace
// the decoded sender by the client, the provider or the system (0 keeps it), bit 2 sets
// the recipient to the other party, bit 3 the thread id, bit 4 the sender's next seq.
func fuzzEnvelope(ctl byte, th *Thread, m *Message) {
	switch ctl & 3 {
	case 1:
		m.From = th.Client
	case 2:
		m.From = th.Provider
	case 3:
		m.From = SystemID
	}
	if ctl&4 != 0 {
		switch m.From {
		case th.Client:
			m.To = th.Provider
		case th.Provider:
			m.To = th.Client
		}
	}
	if ctl&8 != 0 {
		m.Thread = th.ID
	}
	if ctl&16 != 0 {
		if r, ok := th.RoleOf(m.From); ok && r != RoleSystem {
			m.Seq = th.NextSeq(r)
		}
	}
}

// fuzzConfig decodes the configuration byte of a FuzzStep input.
func fuzzConfig(b byte) Config {
	c := DefaultConfig()
	if b&1 != 0 {
		c.Scheme = CoopHiveApiary
	}
	if b&2 != 0 {
		c.Verify = VerifyAgent
	}
	c.IdleTimeout = []int64{0, 3, 12, 50}[b>>2&3]
	c.MaxRounds = 1 + int(b>>4&7)
	return c
}

// FuzzStep decodes messages from the input with UnmarshalBinary and steps a thread with
// them (signatures none), comparing every verdict with the reference model and checking
// the invariants of checkStep: no panic, a rejected message changes nothing, a terminal
// state is never left, escrow and collateral are released at most once, money is
// conserved and never negative. Input: one config byte, then records of a tick
// increment byte, an envelope control byte (fuzzEnvelope) and MessageSize message
// bytes. Run it with
//
//	go test ./scheme -run '^$' -fuzz FuzzStep -fuzztime 60s
func FuzzStep(f *testing.F) {
	// Seed corpus: honest runs of both schemes, encoded.
	for cfgByte, name := range []string{ComputeMarketplace, CoopHiveApiary} {
		s := mustScheme(f, cfgFor(name, VerifyScheme, SignaturesNone), nil)
		for _, st := range []State{StateSettled, StateFailed, StateTerminated} {
			in := []byte{byte(cfgByte) | 2<<2 | 3<<4}
			var msgs []Message
			d := newDriver(f, recorder{s, &msgs})
			d.reach(f, st, true)
			for _, m := range msgs {
				in = append(in, 1, 0)
				in, _ = m.AppendBinary(in)
			}
			f.Add(in)
		}
	}
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cfg := fuzzConfig(data[0])
		s := mustScheme(t, cfg, nil)
		th, _ := NewThread(tThread, tClient, tProvider)
		ref := newRefModel(cfg, th.ID, th.Client, th.Provider)
		led := newLedger(tClient, tProvider)
		var dst []Effect
		now := int64(0)
		for rec := data[1:]; len(rec) >= fuzzRecord; rec = rec[fuzzRecord:] {
			now += int64(rec[0] % 32)
			var m Message
			if err := m.UnmarshalBinary(rec[2:fuzzRecord]); err != nil {
				if m != (Message{}) {
					t.Fatal("failed decode changed the message")
				}
				continue
			}
			fuzzEnvelope(rec[1], &th, &m)
			if !led.canLock(&th, &m) {
				continue
			}
			dst = checkStep(t, s, &th, &ref, led, m, now, dst)
		}
	})
}

// recorder wraps a Scheme and records the messages it steps successfully.
type recorder struct {
	Scheme
	msgs *[]Message
}

func (r recorder) Step(t *Thread, m *Message, now int64, dst []Effect) ([]Effect, error) {
	out, err := r.Scheme.Step(t, m, now, dst)
	if err == nil {
		*r.msgs = append(*r.msgs, *m)
	}
	return out, err
}
