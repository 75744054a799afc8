package report

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// checkParseErr: a parser's error is an *experiments.Error naming the file, with a
// line inside the input (0 when unknown).
func checkParseErr(t *testing.T, err error, in []byte) {
	t.Helper()
	if err == nil {
		return
	}
	var e *experiments.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *experiments.Error", err, err)
	}
	if e.File != "f" {
		t.Fatalf("error names file %q", e.File)
	}
	if lines := bytes.Count(in, []byte("\n")) + 1; e.Line < 0 || e.Line > lines {
		t.Fatalf("error line %d outside the input's %d lines: %v", e.Line, lines, err)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("seed,group,metric,value\n1,a,sharpe,1.5\n2,a,sharpe,NaN\n"))
	f.Add([]byte("iteration,group,metric,value\n0,a,charts/episodic_return,-Inf\n"))
	f.Add([]byte("seed,tick,group,wealth\n1,0,a,1\n1,1,a,1.01\n"))
	f.Add([]byte("seed,tick,deals,requests,deal_rate\n1,0,1,2,0.5\n1,1,,3,\n"))
	f.Add([]byte("time,eth_usd\n2024-01-01T00:00:00Z,2300\n2024-01-01T00:05:00Z,\n"))
	f.Add([]byte("seed,group,metric,value\n1,\"a,b\",x,1\n\"unterminated\n"))
	f.Add([]byte("\ufeffseed,group,metric,value\r\n1,a,x,1\r\n"))
	f.Add([]byte("group,action,index,count,share\nproviders,wait,0,12,0.5\nproviders,reject,1,0,NaN\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		acts, err := parseActions("f", in)
		checkParseErr(t, err, in)
		for _, a := range acts {
			if a.Group == "" || a.Action == "" || a.Count < 0 || a.Index < 0 {
				t.Fatalf("bad action row %+v", a)
			}
		}
		ss, err := parseSamples("f", in, "seed")
		checkParseErr(t, err, in)
		for _, s := range ss {
			if s.Group == "" || s.Metric == "" || s.Key < 0 {
				t.Fatalf("bad sample %+v", s)
			}
		}
		_, err = parseSamples("f", in, "iteration")
		checkParseErr(t, err, in)
		eq, err := parseEquity("f", in)
		checkParseErr(t, err, in)
		for _, e := range eq {
			if e.Group == "" || e.Tick < 0 {
				t.Fatalf("bad equity row %+v", e)
			}
		}
		mk, err := parseMarket("f", in)
		checkParseErr(t, err, in)
		for _, m := range mk {
			if len(m.Values) != len(marketColumns) {
				t.Fatalf("market row with %d values", len(m.Values))
			}
		}
		st, err := parseSeries("f", in)
		checkParseErr(t, err, in)
		if st != nil {
			for _, v := range st.Values {
				if len(v) != len(st.Times) {
					t.Fatalf("series column of %d values for %d times", len(v), len(st.Times))
				}
			}
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"kind":"eval","name":"x","seed":1,"groups":[{"name":"a","role":"provider","kind":"ppo","agents":2}]}`))
	f.Add([]byte(`{"groups":[{"name":"a","metrics":{"sharpe":{"mean":"NaN","ci95":[1,2]}}}]}`))
	f.Add([]byte("{\n\"groups\": [\n{\"name\": 3}\n]\n}"))
	f.Add([]byte(`{"thread":"t-1","outcome":"settled","offers":[{"round":0,"from":"client","price_per_hour_usd":1.5}]}` + "\n" + `{"thread":"t-2"}`))
	f.Add([]byte("{} {}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseRun("f", in)
		checkParseErr(t, err, in)
		if r != nil {
			for _, g := range r.Groups {
				if g.Name == "" {
					t.Fatalf("group without a name accepted")
				}
			}
		}
		m, err := parseMetrics("f", in)
		checkParseErr(t, err, in)
		if m != nil {
			for _, g := range m.Groups {
				for _, v := range g.Metrics {
					if v.CI95 != nil && len(v.CI95) != 2 {
						t.Fatalf("ci95 of %d numbers accepted", len(v.CI95))
					}
				}
			}
		}
		ths, err := parseThreads("f", in)
		checkParseErr(t, err, in)
		for _, th := range ths {
			if th.Thread == "" {
				t.Fatalf("thread without an id accepted")
			}
			for _, o := range th.Offers {
				if o.From != "client" && o.From != "provider" {
					t.Fatalf("offer from %q accepted", o.From)
				}
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("seed: 1\nworld:\n  tick: 5m\n  start: 2024-01-01T00:00:00Z\n  scenario:\n    name: baseline\n"))
	f.Add([]byte("seed: [1\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := parseConfig("f", in)
		checkParseErr(t, err, in)
		if err == nil && c.Text != string(in) {
			t.Fatalf("config text not kept")
		}
	})
}
