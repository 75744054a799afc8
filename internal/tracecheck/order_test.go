package tracecheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// problemsWith returns, in order, the problems whose message starts with prefix.
func problemsWith(t *testing.T, lines []string, prefix string) []string {
	t.Helper()
	_, err := check(lines)
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("check = %v, want an *Error", err)
	}
	var out []string
	for _, p := range te.Problems {
		if strings.HasPrefix(p.Msg, prefix) {
			out = append(out, p.Msg)
		}
	}
	return out
}

// TestProblemOrder: the problems of the genesis and final lines come from JSON objects
// (Go maps); they must be listed in the order of the account names, not in map order,
// so the same trace always gives the same report. With 12 accounts, map order matches
// sorted order by chance about once in 12! runs.
func TestProblemOrder(t *testing.T) {
	var names []string
	var gen, fin []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("p-%d", i))
		gen = append(gen, fmt.Sprintf(`"p-%d":{"USDC":1}`, i))
		fin = append(fin, fmt.Sprintf(`"p-%d":{"USDC":2}`, i))
	}
	slices.Sort(names) // p-0, p-1, p-10, p-11, p-2, ...
	trace := []string{
		`{"tick":0,"kind":"genesis","seed":1,"scheme":"compute-marketplace","ticks":1,"policy":"random","config":"","assets":{"USDC":{"decimals":6}},"balances":{` + strings.Join(gen, ",") + `}}`,
		`{"tick":0,"kind":"final","interrupted":false,"balances":{` + strings.Join(fin, ",") + `},"escrow":{"USDC":0},"burned":{"USDC":0}}`,
	}
	got := problemsWith(t, trace, "final: p-")
	var want []string
	for _, n := range names {
		want = append(want, fmt.Sprintf("final: %s holds 2 USDC, the ledger says 1", n))
	}
	if !slices.Equal(got, want) {
		t.Errorf("final problems\n got %q\nwant %q", got, want)
	}

	// Unknown account names in the genesis line, reported in name order.
	var bad []string
	var badNames []string
	for i := range 12 {
		n := fmt.Sprintf("x%02d", 11-i)
		badNames = append(badNames, n)
		bad = append(bad, fmt.Sprintf(`"%s":{"USDC":0}`, n))
	}
	slices.Sort(badNames)
	trace[0] = `{"tick":0,"kind":"genesis","seed":1,"scheme":"compute-marketplace","ticks":1,"policy":"random","config":"","assets":{"USDC":{"decimals":6}},"balances":{` + strings.Join(bad, ",") + `}}`
	got = problemsWith(t, trace, "genesis: unknown account name")
	want = want[:0]
	for _, n := range badNames {
		want = append(want, fmt.Sprintf("genesis: unknown account name %q", n))
	}
	if !slices.Equal(got, want) {
		t.Errorf("genesis problems\n got %q\nwant %q", got, want)
	}
}
