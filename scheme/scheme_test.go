package scheme

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
	"go.yaml.in/yaml/v3"
)

// expectOnly checks that err wraps want and none of the other sentinels.
func expectOnly(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	for _, s := range Sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("%v also matches %v", err, s)
		}
	}
}

// signedAt returns a driver in Requested under signatures ed25519.
func signedAt(t *testing.T) *driver {
	d := newDriver(t, mustScheme(t, cfgFor(ComputeMarketplace, VerifyScheme, SignaturesEd25519), testKeys))
	d.reach(t, StateRequested, false)
	return d
}

func TestForgedSignatureRejected(t *testing.T) {
	d := signedAt(t)
	m := d.msg(RoleProvider, MsgOffer)
	Sign(&m, testPriv[tThird]) // signed by someone else in the provider's name
	before := d.t
	_, err := d.s.Step(&d.t, &m, d.now, nil)
	expectOnly(t, err, ErrBadSignature)
	if d.t != before {
		t.Fatal("forged message changed the thread")
	}
	// The same message with a valid signature is accepted, and a one-bit change to the
	// signed content after signing is not.
	m2 := d.msg(RoleProvider, MsgOffer)
	m2.Terms.PricePerHour++
	if _, err := d.s.Step(&d.t, &m2, d.now, nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered content: got %v", err)
	}
	m3 := d.msg(RoleProvider, MsgOffer)
	if _, err := d.s.Step(&d.t, &m3, d.now, nil); err != nil {
		t.Fatalf("honest offer: %v", err)
	}
}

func TestReplayRejected(t *testing.T) {
	d := signedAt(t)
	m := d.msg(RoleProvider, MsgOffer)
	if _, err := d.s.Step(&d.t, &m, d.now, nil); err != nil {
		t.Fatal(err)
	}
	before := d.t
	replay := m // byte-identical, validly signed
	_, err := d.s.Step(&d.t, &replay, d.now+1, nil)
	expectOnly(t, err, ErrStaleSeq)
	if d.t != before {
		t.Fatal("replay changed the thread")
	}
	// An older message of the client, replayed after its next one, is stale too.
	c1 := d.msg(RoleClient, MsgOffer)
	if _, err := d.s.Step(&d.t, &c1, d.now, nil); err != nil {
		t.Fatal(err)
	}
	c0 := c1
	c0.Seq--
	Sign(&c0, testPriv[tClient])
	if _, err := d.s.Step(&d.t, &c0, d.now, nil); !errors.Is(err, ErrStaleSeq) {
		t.Fatalf("out-of-order seq: got %v", err)
	}
}

func TestThirdPartyRejected(t *testing.T) {
	d := signedAt(t)
	m := d.msg(RoleProvider, MsgOffer)
	m.From = tThird // a validly signed message of an agent that is not a party
	Sign(&m, testPriv[tThird])
	before := d.t
	_, err := d.s.Step(&d.t, &m, d.now, nil)
	expectOnly(t, err, ErrNotParty)
	if d.t != before {
		t.Fatal("third party changed the thread")
	}
}

func TestAcceptAfterOfferDeadlineRejected(t *testing.T) {
	for _, name := range Names() {
		d := newDriver(t, mustScheme(t, cfgFor(name, VerifyScheme, SignaturesNone), nil))
		d.reach(t, StateOffered, false)
		m := d.msg(RoleClient, MsgAccept)
		before := d.t
		_, err := d.s.Step(&d.t, &m, baseTerms().OfferDeadline, nil)
		expectOnly(t, err, ErrPastDeadline)
		if d.t != before {
			t.Fatal("late accept changed the thread")
		}
		if _, err := d.s.Step(&d.t, &m, baseTerms().OfferDeadline-1, nil); err != nil {
			t.Fatalf("%s: accept one tick before the deadline: %v", name, err)
		}
	}
}

func TestJobCost(t *testing.T) {
	for _, c := range []struct {
		price, dur, tph int64
		want            int64
		ok              bool
	}{
		{1200, 24, 12, 2400, true},                    // 1200 * 24 / 12 = 2400 exactly
		{1000, 5, 12, 417, true},                      // 5000 / 12 = 416.67, rounded up
		{1, 1, 12, 1, true},                           // 1/12 rounds up to 1
		{7, 3, 1, 21, true},                           // hourly ticks
		{math.MaxInt64, 1, 1, math.MaxInt64, true},    // largest
		{math.MaxInt64, 2, 2, math.MaxInt64, true},    // product overflows 64 bits, quotient does not
		{math.MaxInt64, 2, 1, 0, false},               // 2^64 - 2 does not fit
		{math.MaxInt64, 12, 11, 0, false},             // ~1.09 * MaxInt64
		{1 << 62, 4, 2, 0, false},                     // 2^63 > MaxInt64
		{1 << 62, 3, 2, 3 << 61, true},                // 1.5 * 2^62
		{10, 10, 0, 0, false},                         // no ticks per hour
		{-1, 10, 12, 0, false},                        // negative price
		{0, 10, 12, 0, true},                          // zero is computable (terms reject it)
		{3, -2, 12, 0, false},                         // negative duration
		{1_000_000, 288, 12, 24_000_000, true},        // 1 USDC/h for a day of 5-minute ticks
		{2_500_000_000, 100, 60, 4_166_666_667, true}, // 250e9 / 60 = 4166666666.67
	} {
		tm := Terms{PricePerHour: c.price, Duration: c.dur}
		got, ok := JobCost(&tm, c.tph)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("JobCost(%d, %d, %d) = %d, %v; want %d, %v", c.price, c.dur, c.tph, got, ok, c.want, c.ok)
		}
	}
}

func TestMessageEncodingLayout(t *testing.T) {
	m := Message{Thread: 0x01020304, From: -1, To: 5, Seq: 0xA0B0C0D0, Type: MsgValidated,
		Stage: StageComplete, Reason: ReasonError, Approved: true}
	m.Terms = baseTerms()
	m.Terms.RAMGB = 0x11223344
	m.Terms.Asset = AssetHIVE
	m.Terms.ArbitrationDeadline = 0x0102030405060708
	m.Sig[0], m.Sig[63] = 0xEE, 0xFF
	b, err := m.MarshalBinary()
	if err != nil || len(b) != MessageSize || MessageSize != 155 {
		t.Fatalf("len %d, err %v", len(b), err)
	}
	for _, c := range []struct {
		off  int
		want []byte
	}{
		{0, []byte{1, 9, 2, 6, 1}},            // version, type validated=9, stage 2, reason 6, approved
		{5, []byte{4, 3, 2, 1}},               // thread, little endian
		{9, []byte{0xff, 0xff, 0xff, 0xff}},   // from = -1
		{13, []byte{5, 0, 0, 0}},              // to
		{17, []byte{0xD0, 0xC0, 0xB0, 0xA0}},  // seq
		{21, []byte{3, 0, 0, 0, 1, 0, 8, 0}},  // gpu model 3, mem 0, count 1, cores 8
		{29, []byte{0x44, 0x33, 0x22, 0x11}},  // RAM
		{33, []byte{2, 0}},                    // HIVE, oracle
		{35, []byte{24, 0, 0, 0, 0, 0, 0, 0}}, // duration
		{83, []byte{8, 7, 6, 5, 4, 3, 2, 1}},  // arbitration deadline
		{91, []byte{0xEE}},                    // signature
		{154, []byte{0xFF}},
	} {
		if got := b[c.off : c.off+len(c.want)]; !bytes.Equal(got, c.want) {
			t.Errorf("offset %d: % x, want % x", c.off, got, c.want)
		}
	}
	var back Message
	if err := back.UnmarshalBinary(b); err != nil || back != m {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, m)
	}
	prefix := []byte("xy")
	ab, _ := m.AppendBinary(prefix)
	if !bytes.Equal(ab[:2], prefix) || !bytes.Equal(ab[2:], b) {
		t.Fatal("AppendBinary does not append the same encoding")
	}
}

func TestMessageEncodingRoundTrip(t *testing.T) {
	r := rng.New(1, "scheme/encoding")
	for range 2000 {
		var m Message
		m.Thread, m.From, m.To, m.Seq = ThreadID(r.Int32()), AgentID(r.Int32()-1<<30), AgentID(r.Int32()), r.Uint32()
		m.Type, m.Stage, m.Reason = MsgType(1+r.IntN(10)), Stage(r.IntN(3)), Reason(r.IntN(7))
		m.Approved = r.IntN(2) == 1
		m.Terms = randomTerms(r, r.Int64N(1000))
		m.Terms.Start = int64(r.Uint64())
		m.Terms.RAMGB = r.Uint32()
		for i := range m.Sig {
			m.Sig[i] = byte(r.Uint32())
		}
		b, _ := m.MarshalBinary()
		var back Message
		if err := back.UnmarshalBinary(b); err != nil || back != m {
			t.Fatalf("round trip of %+v: %v", m, err)
		}
		b2, _ := back.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Fatal("re-encoding differs")
		}
	}
}

func TestMessageDecodingRejects(t *testing.T) {
	good := Message{Thread: 1, From: 1, To: 2, Seq: 1, Type: MsgOffer, Terms: baseTerms()}
	b, _ := good.MarshalBinary()
	for _, c := range []struct {
		off int
		val byte
	}{
		{0, 2}, {1, 0}, {1, 11}, {2, 3}, {3, 7}, {4, 2}, {4, 0x80}, {33, 3}, {34, 3},
	} {
		bad := slices.Clone(b)
		bad[c.off] = c.val
		m := good
		err := m.UnmarshalBinary(bad)
		var de *DecodeError
		if !errors.Is(err, ErrBadEncoding) || !errors.As(err, &de) || de.Offset != c.off {
			t.Errorf("byte %d = %d: got %v", c.off, c.val, err)
		}
		if m != good {
			t.Errorf("byte %d = %d: failed decode changed the message", c.off, c.val)
		}
	}
	for _, n := range []int{0, 1, MessageSize - 1, MessageSize + 1} {
		var m Message
		if err := m.UnmarshalBinary(make([]byte, n)); !errors.Is(err, ErrBadEncoding) {
			t.Errorf("length %d: got %v", n, err)
		}
	}
}

func TestSignVerify(t *testing.T) {
	m := Message{Thread: 3, From: 1, To: 2, Seq: 4, Type: MsgOffer, Terms: baseTerms()}
	Sign(&m, testPriv[1])
	if !Verify(&m, testKeys[1]) || Verify(&m, testKeys[2]) || Verify(&m, nil) {
		t.Fatal("verify")
	}
	// The signature covers the domain tag and every field but itself.
	payload := m.SignedPayload(nil)
	if len(payload) != signedPayloadSize || !ed25519.Verify(testKeys[1], payload, m.Sig[:]) {
		t.Fatal("signature is not over SignedPayload")
	}
	if !bytes.HasPrefix(payload, []byte(sigDomain)) {
		t.Fatal("payload lacks the domain tag")
	}
	enc, _ := m.MarshalBinary()
	if !bytes.Equal(payload[len(sigDomain):], enc[:signedSize]) {
		t.Fatal("payload is not the encoding without the signature")
	}
	m.Approved = true
	if Verify(&m, testKeys[1]) {
		t.Fatal("flag change not covered by the signature")
	}
	if (KeyList{}).PublicKey(0) != nil || testKeys.PublicKey(-1) != nil || testKeys.PublicKey(numKeys) != nil {
		t.Fatal("KeyList out of range")
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Config{Scheme: "nope", Signatures: "rsa", Verify: "both", MaxRounds: 0, TicksPerHour: 0,
		IdleTimeout: -1, OfferWindow: 0, JobSlack: -1, ArbitrationWindow: 0}
	err := bad.Validate()
	want := []string{"scheme", "signatures", "verify", "max_rounds", "ticks_per_hour", "idle_timeout",
		"offer_window", "job_slack", "arbitration_window"}
	var paths []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *fieldpath.Error
		if !errors.As(e, &fe) {
			t.Fatalf("not a fieldpath error: %v", e)
		}
		paths = append(paths, fe.Path)
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	if got := fieldpath.Under("scheme", err).Error(); !bytes.Contains([]byte(got), []byte("scheme.max_rounds: must be in [1, 32768], got 0")) {
		t.Fatalf("Under: %q", got)
	}
	var c Config
	doc := "scheme: coophive-apiary\nsignatures: ed25519\nverify: agent\nmax_rounds: 3\nticks_per_hour: 60\n" +
		"idle_timeout: 0\noffer_window: 5\njob_slack: 6\narbitration_window: 7\n"
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	wantC := Config{CoopHiveApiary, SignaturesEd25519, VerifyAgent, 3, 60, 0, 5, 6, 7}
	if c != wantC || c.Validate() != nil {
		t.Fatalf("yaml: %+v, %v", c, c.Validate())
	}
	// Default deadlines: request at 100 for 24 ticks from 110 with the defaults
	// (offer window 12, slack 12, arbitration 288): offer 112, job 110+24+12 = 146,
	// arbitration 146+288 = 434. A job starting before the offer deadline ends is
	// pushed: start 100, duration 5 -> end max(105, 113) = 113, job 125.
	d := DefaultConfig()
	if o, j, a := d.Deadlines(100, 110, 24); o != 112 || j != 146 || a != 434 {
		t.Fatalf("Deadlines = %d %d %d", o, j, a)
	}
	if o, j, a := d.Deadlines(100, 100, 5); o != 112 || j != 125 || a != 413 {
		t.Fatalf("Deadlines = %d %d %d", o, j, a)
	}
}

func TestRegistry(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{ComputeMarketplace, CoopHiveApiary}) {
		t.Fatalf("Names = %v", got)
	}
	for _, n := range Names() {
		s, err := ByName(n)
		if err != nil || s.Name() != n || s.Config().Scheme != n {
			t.Fatalf("ByName(%q) = %v, %v", n, s, err)
		}
	}
	if _, err := ByName("x"); !errors.Is(err, ErrUnknownScheme) {
		t.Fatalf("unknown: %v", err)
	}
	if err := Register(ComputeMarketplace, func(Config, Keys) (Scheme, error) { return nil, nil }); err == nil {
		t.Fatal("duplicate register accepted")
	}
	if _, err := New(cfgFor(ComputeMarketplace, VerifyScheme, SignaturesEd25519), nil); err == nil {
		t.Fatal("ed25519 without keys accepted")
	}
	bad := DefaultConfig()
	bad.MaxRounds = 0
	if _, err := New(bad, nil); err == nil {
		t.Fatal("invalid config accepted")
	}
	ap, _ := ByName(CoopHiveApiary)
	if ap.TypeName(MsgAccept) != "buyAttest" || ap.TypeName(MsgTick) != "tick" {
		t.Fatal("apiary type names")
	}
	if _, err := NewThread(1, 2, 2); !errors.Is(err, ErrBadThread) {
		t.Fatal("NewThread accepted client == provider")
	}
	if _, err := NewThread(1, SystemID, 2); !errors.Is(err, ErrBadThread) {
		t.Fatal("NewThread accepted the system id")
	}
}
