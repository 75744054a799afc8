package experiments

import (
	"testing"

	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
)

func shortConfig(t testing.TB, extra string) Config {
	t.Helper()
	cfg, err := Load("short.yaml", []byte("env:\n  episode_ticks: 150\n"+extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// driveRule runs an episode through the Driver with LegalByAgent and returns the row
// reward sums and final wealths per env and agent.
func driveRule(t *testing.T, cfg Config, opts DriverOptions, seed uint64) (sums, wealth [][]float64, rows int) {
	t.Helper()
	d, err := NewDriver(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reset(seed); err != nil {
		t.Fatal(err)
	}
	sums = make([][]float64, d.NumEnvs())
	var acts []env.Action
	for {
		acts = acts[:0]
		for _, row := range d.Rows() {
			b := d.Batch(row.Env)
			if !d.Controls(row.Env, row.Agent) {
				t.Fatalf("row of agent %d, which the caller does not control", row.Agent)
			}
			for len(sums[row.Env]) <= int(row.Agent) {
				sums[row.Env] = append(sums[row.Env], 0)
			}
			sums[row.Env][row.Agent] += row.Reward
			acts = append(acts, env.Action{Index: int32(LegalByAgent(row.Agent, b.Mask(row.Entry, d.NumActions())))})
			rows++
		}
		if d.Done() {
			break
		}
		if err := d.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Step(acts); err != ErrDriverDone {
		t.Fatalf("Step after the end: %v, want ErrDriverDone", err)
	}
	wealth = make([][]float64, d.NumEnvs())
	for k := range wealth {
		m := d.Env(k).Market()
		wealth[k] = make([]float64, m.NumAgents())
		for len(sums[k]) < m.NumAgents() {
			sums[k] = append(sums[k], 0)
		}
		for a := range wealth[k] {
			if d.Controls(k, market.AgentID(a)) {
				wealth[k][a] = m.WealthUSD(market.AgentID(a))
			}
		}
	}
	return sums, wealth, rows
}

// TestDriverMatchesRunner: stepping the Driver with a fixed rule gives exactly the
// reward sums and wealths of the same rule played through the training runner, for the
// default population (providers learn) and with every agent controlled.
func TestDriverMatchesRunner(t *testing.T) {
	cfg := shortConfig(t, "")
	for _, opts := range []DriverOptions{{NumEnvs: 2, Workers: 2}, {NumEnvs: 1, Control: ControlAll}} {
		sums, wealth, rows := driveRule(t, cfg, opts, 7)
		wantSums, wantWealth, err := RuleEpisode(cfg, opts, 7, LegalByAgent)
		if err != nil {
			t.Fatal(err)
		}
		if rows == 0 {
			t.Fatal("no rows")
		}
		nonzero := 0
		for k := range sums {
			if len(sums[k]) != len(wantSums[k]) {
				t.Fatalf("%+v env %d: %d agents, runner %d", opts, k, len(sums[k]), len(wantSums[k]))
			}
			for a := range sums[k] {
				if sums[k][a] != wantSums[k][a] || wealth[k][a] != wantWealth[k][a] {
					t.Fatalf("%+v env %d agent %d: reward sum %v wealth %v, runner %v %v", opts, k, a, sums[k][a], wealth[k][a], wantSums[k][a], wantWealth[k][a])
				}
				if sums[k][a] != 0 {
					nonzero++
				}
			}
		}
		if nonzero == 0 {
			t.Fatalf("%+v: every reward sum is zero", opts)
		}
	}
}

// TestDriverControlsLearningGroups: with the default population the caller gets the
// providers' rows only (the clients are scripted), and never a protocol step.
func TestDriverControlsLearningGroups(t *testing.T) {
	d, err := NewDriver(shortConfig(t, ""), DriverOptions{NumEnvs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reset(3); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for !d.Done() {
		acts := make([]env.Action, len(d.Rows()))
		for _, row := range d.Rows() {
			m := d.Env(row.Env).Market()
			if m.Role(row.Agent).String() != "provider" {
				t.Fatalf("row for %s, a %s", m.Name(row.Agent), m.Role(row.Agent))
			}
			dec := d.Batch(row.Env).Decisions[row.Entry]
			if dec.Kind == market.DecideTreasury {
				t.Fatalf("a treasury turn (a protocol step) reached the caller")
			}
			seen++
		}
		if err := d.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	if seen == 0 {
		t.Fatal("no rows")
	}
}

// BenchmarkDriverStep steps the default config with every agent controlled and a fixed
// rule; one iteration is one Step. A step allocates nothing in steady state.
func BenchmarkDriverStep(b *testing.B) {
	cfg := DefaultConfig()
	d, err := NewDriver(cfg, DriverOptions{NumEnvs: 1, Control: ControlAll})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Reset(1); err != nil {
		b.Fatal(err)
	}
	var acts []env.Action
	step := func() {
		if d.Done() {
			if err := d.Reset(2); err != nil {
				b.Fatal(err)
			}
		}
		acts = acts[:0]
		for _, row := range d.Rows() {
			acts = append(acts, env.Action{Index: int32(LegalByAgent(row.Agent, d.Batch(row.Env).Mask(row.Entry, d.NumActions())))})
		}
		if err := d.Step(acts); err != nil {
			b.Fatal(err)
		}
	}
	for range 3000 {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		step()
		rows += len(d.Rows())
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "decisions/s")
}
