package experiments

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
	"go.yaml.in/yaml/v3"
)

// PolicyRandom names the scripted policy of Simulate: market.RandomPolicy, the
// cost-aware random-legal policy, one stream ("policy") for every agent.
const PolicyRandom = "random"

// SimulateOptions are the knobs of one simulation.
type SimulateOptions struct {
	// Ticks overrides env.episode_ticks when positive.
	Ticks int
	// Trace, when set, receives the JSON Lines trace (specs/cli.md).
	Trace io.Writer
	// Progress, when set, is called after every tick with the ticks done and the total.
	Progress func(done, total int)

	// stopAfter, when positive, stops the run after that many ticks as if interrupted:
	// a replay of an interrupted run re-runs exactly its ticks.
	stopAfter int
}

// SimulateResult is what a simulation reports.
type SimulateResult struct {
	Seed        uint64
	Scenario    string
	Scheme      string
	Policy      string
	Ticks       int // ticks run
	Requested   int // ticks asked for
	Interrupted bool
	Agents      int
	Stats       market.Stats
	Providers   market.RoleMetrics
	Clients     market.RoleMetrics
}

// Simulate runs one episode of cfg's market with the scripted policy, from cfg.Seed,
// and returns the market's statistics and the mean metrics of each role. It stops at a
// tick boundary when ctx is cancelled: the result then has Interrupted set, the trace
// (if any) is flushed with its final line, and the error is ctx's.
func Simulate(ctx context.Context, cfg Config, opts SimulateOptions) (*SimulateResult, error) {
	if opts.Ticks > 0 {
		cfg.Env.EpisodeTicks = opts.Ticks
	}
	s := cfg.Settings()
	e, err := env.New(s)
	if err != nil {
		return nil, err
	}
	e.SetEncoding(false)
	var tw *market.TraceWriter
	if opts.Trace != nil {
		text, err := yaml.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("simulate: config to YAML: %w", err)
		}
		tw = market.NewTraceWriter(opts.Trace, market.TraceMeta{
			Seed: cfg.Seed, Ticks: cfg.Env.EpisodeTicks, Policy: PolicyRandom, Config: string(text)})
		e.SetTrace(tw)
	}
	total := cfg.Env.EpisodeTicks
	lastTick := int64(-1)
	e.SetStop(func() bool {
		if opts.Progress != nil {
			opts.Progress(int(e.Market().Tick())+1, total)
		}
		lastTick = e.Market().Tick()
		return ctx.Err() != nil || (tw != nil && tw.Err() != nil) ||
			(opts.stopAfter > 0 && int(lastTick)+1 >= opts.stopAfter)
	})
	b, err := e.Reset(cfg.Seed)
	if err != nil {
		return nil, err
	}
	pol := market.NewRandomPolicy(rng.New(cfg.Seed, "policy"))
	var acts []env.Action
	for !b.Done {
		m := e.Market()
		acts = acts[:0]
		for i := range b.Agents {
			a := env.Action{Structured: true}
			if b.Decisions[i].Kind != 0 {
				a.Response = pol.Decide(m, &b.Decisions[i])
			}
			acts = append(acts, a)
		}
		if b, err = e.Step(acts); err != nil {
			return nil, err
		}
	}
	m := e.Market()
	if opts.Progress != nil && lastTick != m.Tick() {
		opts.Progress(int(m.Tick())+1, total)
	}
	res := &SimulateResult{
		Seed: cfg.Seed, Scenario: e.World().Config().Scenario.Name, Scheme: m.Scheme().Name(), Policy: PolicyRandom,
		Ticks: int(m.Tick()) + 1, Requested: total, Interrupted: e.Interrupted(), Stats: m.Stats(),
		Providers: m.RoleMetrics(scheme.RoleProvider), Clients: m.RoleMetrics(scheme.RoleClient),
	}
	for a := 0; a < m.NumAgents(); a++ {
		if m.Role(market.AgentID(a)) != scheme.RoleSystem {
			res.Agents++
		}
	}
	if tw != nil {
		if err := m.WriteFinal(res.Interrupted); err != nil {
			return res, fmt.Errorf("simulate: writing the trace: %w", err)
		}
	}
	if res.Interrupted {
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// genesisLine is what Replay reads from a trace's first line.
type genesisLine struct {
	Tick   *int64  `json:"tick"`
	Kind   string  `json:"kind"`
	Seed   *uint64 `json:"seed"`
	Ticks  *int    `json:"ticks"`
	Policy string  `json:"policy"`
	Config *string `json:"config"`
}

type finalLine struct {
	Tick        *int64 `json:"tick"`
	Kind        string `json:"kind"`
	Interrupted bool   `json:"interrupted"`
}

// ReplayResult is what a successful replay reports.
type ReplayResult struct {
	Lines int
	Ticks int
	Seed  uint64
}

// MismatchError says where a replay first differed from the trace; the CLI exits 1.
type MismatchError struct {
	File string
	Line int
	What string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s:%d: replay differs: %s", e.File, e.Line, e.What)
}

// Replay re-runs the simulation recorded in the trace at path, from the seed, tick
// count, policy and config of its genesis line, and compares the re-run's trace with the
// file line by line. It returns a *MismatchError at the first line that differs, and an
// *Error (bad input) when the trace does not parse: a first line that is not a genesis
// line with a seed, a tick count and a config, a config that does not load, a line that
// is not JSON. A trace whose final line says it was interrupted is re-run to the same
// tick.
func Replay(ctx context.Context, path string) (*ReplayResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: readErrMsg(err)}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &Error{File: path, Msg: "is a directory, not a trace file"}
	}
	br := bufio.NewReaderSize(f, 1<<16)
	first, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: path, Msg: readErrMsg(err)}
	}
	var g genesisLine
	if err := json.Unmarshal(first, &g); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, &Error{File: path, Line: 1, Msg: fmt.Sprintf("not a trace: the genesis line's %s is a JSON %s", te.Field, te.Value)}
		}
		if errors.As(err, &te) {
			return nil, &Error{File: path, Line: 1, Msg: "not a trace: the first line must be the genesis object, got a JSON " + te.Value}
		}
		return nil, &Error{File: path, Line: 1, Msg: "not a trace: the first line is not JSON: " + err.Error()}
	}
	if g.Kind != "genesis" || g.Seed == nil || g.Ticks == nil || g.Config == nil {
		return nil, &Error{File: path, Line: 1, Msg: "not a trace: the first line must be a genesis line with seed, ticks and config"}
	}
	if g.Policy != PolicyRandom {
		return nil, &Error{File: path, Line: 1, Msg: fmt.Sprintf("policy %q cannot be replayed (known: %s)", g.Policy, PolicyRandom)}
	}
	cfg, err := Load(path+" (genesis config)", []byte(*g.Config))
	if err != nil {
		return nil, err
	}
	cfg.Seed = *g.Seed
	// The last line says how far the run went.
	ticks := *g.Ticks
	last, n, err := lastLine(br)
	if err != nil {
		return nil, err
	}
	n++ // the genesis line
	var fl finalLine
	stopAfter := 0
	if len(last) > 0 && json.Unmarshal(last, &fl) == nil && fl.Kind == "final" && fl.Interrupted && fl.Tick != nil {
		stopAfter = int(*fl.Tick) + 1
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	cmp := &lineComparer{file: path, r: bufio.NewReaderSize(f, 1<<16)}
	_, simErr := Simulate(ctx, cfg, SimulateOptions{Ticks: ticks, Trace: cmp, stopAfter: stopAfter})
	if cmp.err != nil {
		return nil, cmp.err
	}
	if simErr != nil {
		return nil, simErr
	}
	if err := cmp.finish(); err != nil {
		return nil, err
	}
	if stopAfter > 0 {
		ticks = stopAfter
	}
	return &ReplayResult{Lines: n, Ticks: ticks, Seed: cfg.Seed}, nil
}

// lastLine reads r to its end and returns its last non-empty line and the number of
// lines read.
func lastLine(r *bufio.Reader) ([]byte, int, error) {
	var last []byte
	n := 0
	for {
		b, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			last = append(last[:0], b...)
			n++
		}
		if errors.Is(err, io.EOF) {
			return last, n, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// lineComparer is the io.Writer a replay's trace goes to: it splits what it receives
// into lines and compares each with the next line of the recorded trace. The first
// difference is kept in err (and returned by Write, which stops the re-run at the next
// tick boundary).
type lineComparer struct {
	file    string
	r       *bufio.Reader
	pending []byte
	line    int
	err     error
}

func (c *lineComparer) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.pending = append(c.pending, p...)
	for {
		i := bytes.IndexByte(c.pending, '\n')
		if i < 0 {
			break
		}
		got := c.pending[:i]
		c.line++
		want, err := c.r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			c.err = err
			return 0, err
		}
		want = bytes.TrimRight(want, "\r\n")
		if !bytes.Equal(got, want) {
			c.err = c.mismatch(want, got)
			return 0, c.err
		}
		c.pending = c.pending[i+1:]
	}
	return len(p), nil
}

// finish checks that the recorded trace has no line the re-run did not write.
func (c *lineComparer) finish() error {
	for {
		b, err := c.r.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			return &MismatchError{File: c.file, Line: c.line + 1, What: "the trace has more lines than the re-run wrote"}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// mismatch describes how the recorded line want differs from the re-run's line got.
func (c *lineComparer) mismatch(want, got []byte) error {
	if len(want) == 0 {
		return &MismatchError{File: c.file, Line: c.line, What: "the trace ends here; the re-run goes on with " + clip(got)}
	}
	var wm map[string]any
	if err := json.Unmarshal(want, &wm); err != nil {
		return &Error{File: c.file, Line: c.line, Msg: "not JSON: " + err.Error()}
	}
	var gm map[string]any
	if err := json.Unmarshal(got, &gm); err != nil {
		return fmt.Errorf("replay: the re-run wrote a line that is not JSON: %w", err)
	}
	kind, _ := wm["kind"].(string)
	keys := make([]string, 0, len(wm)+len(gm))
	for k := range wm {
		keys = append(keys, k)
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var diffs []string
	for _, k := range keys {
		w, wok := wm[k]
		g, gok := gm[k]
		switch {
		case !wok:
			diffs = append(diffs, fmt.Sprintf("%s: the trace has none, the re-run has %s", k, clip(jsonText(g))))
		case !gok:
			diffs = append(diffs, fmt.Sprintf("%s: the trace has %s, the re-run has none", k, clip(jsonText(w))))
		case jsonText(w) != jsonText(g):
			diffs = append(diffs, fmt.Sprintf("%s: the trace has %s, the re-run has %s", k, clip(jsonText(w)), clip(jsonText(g))))
		}
	}
	what := "the lines differ in layout"
	if len(diffs) > 0 {
		what = strings.Join(diffs, "; ")
	}
	if kind != "" {
		what = kind + " line: " + what
	}
	return &MismatchError{File: c.file, Line: c.line, What: what}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func clip(s any) string {
	var t string
	switch v := s.(type) {
	case string:
		t = v
	case []byte:
		t = string(v)
	}
	if len(t) > 120 {
		t = t[:117] + "..."
	}
	return t
}
