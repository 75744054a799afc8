package jsonfloat

import (
	"encoding/json"
	"math"
	"testing"
)

func TestMarshal(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{math.NaN(), `"NaN"`},
		{math.Inf(1), `"+Inf"`},
		{math.Inf(-1), `"-Inf"`},
		{0, `0`},
		{-1.5, `-1.5`},
		{1e-300, `1e-300`},
	}
	for _, c := range cases {
		b, err := json.Marshal(struct{ X Float }{Float(c.in)})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"X":` + c.want + `}`; string(b) != want {
			t.Errorf("Marshal(%g) = %s, want %s", c.in, b, want)
		}
		var back struct{ X Float }
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got := float64(back.X)
		if !(got == c.in || math.IsNaN(got) && math.IsNaN(c.in)) {
			t.Errorf("round trip of %g gave %g", c.in, got)
		}
	}
	var f Float
	if err := json.Unmarshal([]byte(`"fast"`), &f); err == nil {
		t.Error("a non-number string decoded without error")
	}
}

func TestNonFinite(t *testing.T) {
	cases := []struct {
		in   float64
		want string
		ok   bool
	}{
		{math.NaN(), "NaN", true}, {math.Inf(1), "+Inf", true}, {math.Inf(-1), "-Inf", true},
		{0, "", false}, {-1e308, "", false},
	}
	for _, c := range cases {
		if s, ok := NonFinite(c.in); s != c.want || ok != c.ok {
			t.Errorf("NonFinite(%g) = %q, %v; want %q, %v", c.in, s, ok, c.want, c.ok)
		}
	}
}
