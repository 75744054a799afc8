package tracecheck

import (
	"errors"
	"strings"
	"testing"
)

// deal is a hand-written trace of one approved deal under compute-marketplace: the
// client c-0 pays 600 USDC units into escrow, the provider p-0 locks 60 as collateral,
// both pay gas, the validator approves, the provider is paid and gets its collateral
// back, and the provider pays its electricity bill of 5 to the utility. Every balance
// was worked out by hand:
//
//	c-0  USDC 1000 - 600 = 400         ETH 100 - (3+2) - (4+1) = 90
//	p-0  USDC 500 - 60 + 600 + 60 - 5 = 1095   ETH 100 - (3+2) - (4+1) - (4+1) - (2+1) = 82
//	escrow 0; burned ETH 3+4+3+4+4+2 = 20; sequencer ETH 2+1+2+1+1+1 = 8; utility USDC 5
//	supply: USDC 1500, ETH 200 (+0 minted later)
var deal = []string{
	`{"tick":0,"kind":"genesis","seed":1,"scheme":"compute-marketplace","ticks":10,"policy":"random","config":"","assets":{"USDC":{"decimals":6},"ETH":{"decimals":9},"HIVE":{"decimals":6}},"balances":{"p-0":{"USDC":500,"ETH":100,"HIVE":0},"c-0":{"USDC":1000,"ETH":100,"HIVE":0},"utility":{"USDC":0,"ETH":0,"HIVE":0},"pool":{"USDC":0,"ETH":0,"HIVE":0},"sequencer":{"USDC":0,"ETH":0,"HIVE":0}}}`,
	`{"tick":0,"kind":"message","thread":"t-0","type":"request","from":"c-0","to":"p-0","seq":1,"terms":{"price_per_hour":600},"ok":true}`,
	`{"tick":0,"kind":"state","thread":"t-0","from":"Idle","to":"Requested"}`,
	`{"tick":1,"kind":"message","thread":"t-0","type":"offer","from":"p-0","to":"c-0","seq":1,"terms":{"price_per_hour":600},"ok":true}`,
	`{"tick":1,"kind":"state","thread":"t-0","from":"Requested","to":"Offered"}`,
	`{"tick":2,"kind":"message","thread":"t-0","type":"accept","from":"c-0","to":"p-0","seq":2,"terms":{"price_per_hour":600},"ok":true}`,
	`{"tick":2,"kind":"state","thread":"t-0","from":"Offered","to":"Accepted"}`,
	`{"tick":2,"kind":"message","thread":"t-0","type":"escrow_locked","from":"system","ok":true}`,
	`{"tick":2,"kind":"ledger","op":"lock","asset":"USDC","amount":600,"from":"c-0","to":"escrow","thread":"t-0"}`,
	`{"tick":2,"kind":"ledger","op":"burn","asset":"ETH","amount":3,"from":"c-0","to":"burn","thread":"t-0"}`,
	`{"tick":2,"kind":"ledger","op":"fee","asset":"ETH","amount":2,"from":"c-0","to":"sequencer","thread":"t-0"}`,
	`{"tick":2,"kind":"ledger","op":"burn","asset":"ETH","amount":4,"from":"c-0","to":"burn","thread":"t-0"}`,
	`{"tick":2,"kind":"ledger","op":"fee","asset":"ETH","amount":1,"from":"c-0","to":"sequencer","thread":"t-0"}`,
	`{"tick":3,"kind":"message","thread":"t-0","type":"attestation","from":"p-0","to":"c-0","seq":2,"stage":"start","ok":true}`,
	`{"tick":3,"kind":"state","thread":"t-0","from":"Accepted","to":"Running"}`,
	`{"tick":3,"kind":"ledger","op":"lock","asset":"USDC","amount":60,"from":"p-0","to":"escrow","thread":"t-0"}`,
	`{"tick":3,"kind":"ledger","op":"burn","asset":"ETH","amount":3,"from":"p-0","to":"burn","thread":"t-0"}`,
	`{"tick":3,"kind":"ledger","op":"fee","asset":"ETH","amount":2,"from":"p-0","to":"sequencer","thread":"t-0"}`,
	`{"tick":3,"kind":"ledger","op":"burn","asset":"ETH","amount":4,"from":"p-0","to":"burn","thread":"t-0"}`,
	`{"tick":3,"kind":"ledger","op":"fee","asset":"ETH","amount":1,"from":"p-0","to":"sequencer","thread":"t-0"}`,
	`{"tick":5,"kind":"message","thread":"t-0","type":"attestation","from":"p-0","to":"c-0","seq":3,"stage":"complete","auto":true,"ok":true}`,
	`{"tick":5,"kind":"state","thread":"t-0","from":"Running","to":"Delivered"}`,
	`{"tick":6,"kind":"message","thread":"t-0","type":"validated","from":"system","approved":true,"ok":true}`,
	`{"tick":6,"kind":"state","thread":"t-0","from":"Delivered","to":"Settled","reason":"completed"}`,
	`{"tick":6,"kind":"ledger","op":"release","asset":"USDC","amount":600,"from":"escrow","to":"p-0","thread":"t-0"}`,
	`{"tick":6,"kind":"ledger","op":"release","asset":"USDC","amount":60,"from":"escrow","to":"p-0","thread":"t-0"}`,
	`{"tick":6,"kind":"ledger","op":"burn","asset":"ETH","amount":4,"from":"p-0","to":"burn","thread":"t-0"}`,
	`{"tick":6,"kind":"ledger","op":"fee","asset":"ETH","amount":1,"from":"p-0","to":"sequencer","thread":"t-0"}`,
	`{"tick":6,"kind":"ledger","op":"burn","asset":"ETH","amount":2,"from":"p-0","to":"burn","thread":"t-0"}`,
	`{"tick":6,"kind":"ledger","op":"fee","asset":"ETH","amount":1,"from":"p-0","to":"sequencer","thread":"t-0"}`,
	`{"tick":7,"kind":"ledger","op":"transfer","asset":"USDC","amount":5,"from":"p-0","to":"utility"}`,
	`{"tick":9,"kind":"final","interrupted":false,"balances":{"p-0":{"USDC":1095,"ETH":82,"HIVE":0},"c-0":{"USDC":400,"ETH":90,"HIVE":0},"utility":{"USDC":5,"ETH":0,"HIVE":0},"pool":{"USDC":0,"ETH":0,"HIVE":0},"sequencer":{"USDC":0,"ETH":8,"HIVE":0}},"escrow":{"USDC":0,"ETH":0,"HIVE":0},"burned":{"USDC":0,"ETH":20,"HIVE":0}}`,
}

func check(lines []string) (*Report, error) {
	return Check(strings.NewReader(strings.Join(lines, "\n") + "\n"))
}

func TestValidTrace(t *testing.T) {
	rep, err := check(deal)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Threads != 1 || rep.Messages != 7 || rep.Accepted != 7 || rep.StateLines != 6 || rep.Ledger != 17 || rep.LastTick != 9 || rep.Lines != len(deal) {
		t.Errorf("report %+v", rep)
	}
}

// edit returns deal with line i (0-based) replaced, or removed when repl is "".
func edit(i int, repl string) []string {
	out := append([]string(nil), deal[:i]...)
	if repl != "" {
		out = append(out, repl)
	}
	return append(out, deal[i+1:]...)
}

func insert(i int, line string) []string {
	out := append([]string(nil), deal[:i]...)
	out = append(out, line)
	return append(out, deal[i:]...)
}

func TestViolations(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		line  int    // 1-based line of the first problem
		want  string // fragment of its message
	}{
		{"tampered amount", edit(8, strings.Replace(deal[8], `"amount":600`, `"amount":601`, 1)), 25, "without a matching lock"},
		{"negative balance", edit(30, strings.Replace(deal[30], `"amount":5`, `"amount":5000`, 1)), 31, "negative"},
		{"final balance", edit(31, strings.Replace(deal[31], `"USDC":1095`, `"USDC":1096`, 1)), 32, "the ledger says 1095"},
		{"release without lock", insert(30, `{"tick":7,"kind":"ledger","op":"release","asset":"USDC","amount":1,"from":"escrow","to":"p-0","thread":"t-0"}`), 31, "without a matching lock"},
		{"slash of a payment", edit(24, strings.Replace(strings.Replace(deal[24], `"release"`, `"slash"`, 1), `"p-0"`, `"c-0"`, 1)), 25, "without a matching lock"},
		{"accept before offer", append(append([]string(nil), deal[:3]...), deal[5:]...), 4, "illegal in state Requested"},
		{"wrong state line", edit(4, `{"tick":1,"kind":"state","thread":"t-0","from":"Requested","to":"Countered"}`), 5, "the messages say Requested -> Offered"},
		{"stale seq", edit(5, strings.Replace(deal[5], `"seq":2`, `"seq":1`, 1)), 6, "not above"},
		{"message after the end", insert(30, `{"tick":7,"kind":"message","thread":"t-0","type":"terminate","from":"c-0","to":"p-0","seq":9,"reason":"rejected","ok":true}`), 31, "after the thread ended"},
		{"provider accepts", edit(5, strings.Replace(strings.Replace(deal[5], `"from":"c-0"`, `"from":"p-0"`, 1), `"to":"p-0"`, `"to":"c-0"`, 1)), 6, "illegal"},
		{"tick backwards", edit(16, strings.Replace(deal[16], `"tick":3`, `"tick":1`, 1)), 17, "after tick 3"},
		{"no final line", deal[:len(deal)-1], 31, "no final line"},
		{"not JSON", edit(3, `{"tick":1,"kind":`), 4, "not a JSON object"},
		{"lock by a stranger", edit(15, strings.Replace(deal[15], `"from":"p-0"`, `"from":"c-0"`, 1)), 16, "locked twice"},
		{"third party message", insert(3, `{"tick":1,"kind":"message","thread":"t-0","type":"offer","from":"p-7","to":"c-0","seq":1,"ok":true}`), 4, "not a party"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := check(c.lines)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("passed (err %v)", err)
			}
			p := te.First()
			if p.Line != c.line || !strings.Contains(p.Msg, c.want) {
				t.Errorf("first problem at line %d: %q; want line %d containing %q (all: %v)", p.Line, p.Msg, c.line, c.want, te)
			}
		})
	}
}

func TestRefusedMessageChangesNothing(t *testing.T) {
	lines := insert(5, `{"tick":1,"kind":"message","thread":"t-0","type":"accept","from":"c-0","to":"p-0","seq":2,"ok":false,"error":"x"}`)
	if _, err := check(lines); err != nil {
		t.Fatalf("a refused message broke the trace: %v", err)
	}
	bad := insert(6, `{"tick":1,"kind":"state","thread":"t-0","from":"Offered","to":"Accepted"}`)
	if _, err := check(bad); err == nil {
		t.Fatal("a state line nobody caused passed")
	}
}

func TestErrorListsProblems(t *testing.T) {
	var lines []string
	lines = append(lines, deal[0])
	for range MaxProblems + 5 {
		lines = append(lines, `{"tick":1,"kind":"bogus"}`)
	}
	_, err := check(lines)
	var te *Error
	if !errors.As(err, &te) || len(te.Problems) != MaxProblems || te.More != 6 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "26 problem(s)") {
		t.Errorf("error text %q", err)
	}
}

// FuzzCheck: the checker never panics, whatever it reads.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(strings.Join(deal, "\n")))
	f.Add([]byte(`{"tick":0,"kind":"genesis"}` + "\n" + `{"tick":1,"kind":"ledger","op":"mint","asset":"USDC","amount":5,"from":"mint","to":"p-9"}`))
	f.Add([]byte("\n\n{}\n[1,2]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := Check(strings.NewReader(string(in)))
		if err == nil && rep == nil {
			t.Fatal("nil report without an error")
		}
	})
}
