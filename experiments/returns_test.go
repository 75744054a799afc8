package experiments

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestReadReturns(t *testing.T) {
	got, err := ReadReturns("r.csv", strings.NewReader("return\n0.01\n\nNaN\n-0.02\r\n nan \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.01, math.NaN(), math.NaN(), -0.02, math.NaN()}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !(got[i] == want[i] || math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("row %d: got %g, want %g", i, got[i], want[i])
		}
	}
}

func TestReadReturnsErrors(t *testing.T) {
	cases := []struct {
		src  string
		line int
		msg  string
	}{
		{"r\n0.1\nabc\n", 3, `not a number: "abc"`},
		{"0.1\n0.2,0.3\n", 2, "want one column"},
		{"1.2x\n", 1, `not a number: "1.2x"`},
		{"0.1\n+Inf\n", 2, "infinite"},
		{"0.1\n-1\n", 2, "greater than -1"},
		{"r\n0.1\n1e400\n", 3, "out of range"},
		{"r\n-1e400\n", 2, "out of range"},
	}
	for _, c := range cases {
		_, err := ReadReturns("r.csv", strings.NewReader(c.src))
		var ce *Error
		if !errors.As(err, &ce) || ce.Line != c.line || !strings.Contains(ce.Msg, c.msg) {
			t.Errorf("ReadReturns(%q) = %v; want line %d and %q", c.src, err, c.line, c.msg)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "r.csv:") {
			t.Errorf("error %q does not start with the file name", err)
		}
	}
}

// TestReadReturnsNothingToScore: a file without one number used to give a table of NaN
// and exit 0.
func TestReadReturnsNothingToScore(t *testing.T) {
	for src, what := range map[string]string{"": "no rows", "return\n": "no rows", "r\n\nNaN\n": "only missing values"} {
		_, err := ReadReturns("r.csv", strings.NewReader(src))
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, what) || ce.File != "r.csv" {
			t.Errorf("ReadReturns(%q) = %v; want an *Error saying %q", src, err, what)
		}
	}
}
