package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"go.yaml.in/yaml/v3"
)

// Run is one run of a sweep: its place in the expansion, its swept values and seed, and
// its resolved config.
type Run struct {
	Index  int    // position in the sweep's expansion, from 0
	ID     string // 16 hex digits, from (sweep name, params, seed)
	Sweep  string // the sweep's name
	Name   string // e.g. "name=gas-spike,eta=0.05,seed=3"
	Params string // canonical JSON object of the swept values, keyed by dotted config key
	Seed   uint64
	// Config is the resolved, validated config (seed included); zero when Err is set.
	Config experiments.Config
	// ConfigYAML is Config as YAML, or, when Err is set, the document that failed.
	ConfigYAML string
	// Err says why the run's values do not make a valid config: the run fails with it.
	Err error
}

// Shard selects the runs whose index mod Count is Index. The zero Shard selects every
// run.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 0 <= I < N, e.g. 0/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "I/N", or "" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Has reports whether the run with this index belongs to the shard.
func (s Shard) Has(index int) bool { return s.Count <= 1 || index%s.Count == s.Index }

// NumRuns returns the number of runs of the whole sweep.
func (s *Sweep) NumRuns() int {
	n := len(s.Seeds) * max(len(s.samples), 1)
	for _, a := range s.grid {
		n *= len(a.values)
	}
	return n
}

// Keys returns the swept config keys, sorted.
func (s *Sweep) Keys() []string {
	var keys []string
	for _, a := range s.grid {
		keys = append(keys, a.key)
	}
	if len(s.samples) > 0 {
		for _, p := range s.samples[0] {
			keys = append(keys, p.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// Runs expands the sweep in its fixed order (grid points, then samples, then seeds) and
// returns, with resolved configs, the runs that belong to shard.
func (s *Sweep) Runs(shard Shard) []Run {
	pl := s.plan(shard)
	runs := make([]Run, len(pl))
	for i, p := range pl {
		runs[i] = s.resolve(p)
	}
	return runs
}

// planned is a run before its config is resolved.
type planned struct {
	index  int
	params []param
	seed   uint64
	short  map[string]string
}

// plan lists the runs of shard in expansion order without resolving their configs
// (which is the expensive part: a strict decode and validation per run).
func (s *Sweep) plan(shard Shard) []planned {
	// Grid points, the first (sorted) key outermost, values in file order.
	var gridParams [][]param
	var rec func(i int, acc []param)
	rec = func(i int, acc []param) {
		if i == len(s.grid) {
			gridParams = append(gridParams, append([]param(nil), acc...))
			return
		}
		a := s.grid[i]
		for vi, v := range a.values {
			p, err := newParam(a.key, a.path, v)
			if err != nil {
				panic("sweep: a checked grid value has no canonical form: " + err.Error())
			}
			if a.labels != nil {
				p.text = a.labels[vi]
			}
			rec(i+1, append(acc, p))
		}
	}
	rec(0, nil)
	samples := s.samples
	if len(samples) == 0 {
		samples = [][]param{nil}
	}
	short := shortNames(s.Keys())
	var out []planned
	index := 0
	for _, gp := range gridParams {
		for _, sp := range samples {
			params := append(append([]param(nil), gp...), sp...)
			sortParams(params)
			for _, seed := range s.Seeds {
				if shard.Has(index) {
					out = append(out, planned{index: index, params: params, seed: seed, short: short})
				}
				index++
			}
		}
	}
	return out
}

// resolve builds a planned run's name, params, id and config. It is safe for concurrent
// use.
func (s *Sweep) resolve(pl planned) Run {
	index, params, seed, short := pl.index, pl.params, pl.seed, pl.short
	var pj, name strings.Builder
	pj.WriteByte('{')
	for i, p := range params {
		if i > 0 {
			pj.WriteByte(',')
			name.WriteByte(',')
		}
		writeString(&pj, p.key)
		pj.WriteByte(':')
		pj.WriteString(p.json)
		name.WriteString(short[p.key] + "=" + p.text)
	}
	pj.WriteByte('}')
	if len(params) > 0 {
		name.WriteByte(',')
	}
	name.WriteString("seed=" + strconv.FormatUint(seed, 10))
	r := Run{Index: index, Sweep: s.Name, Name: name.String(), Params: pj.String(), Seed: seed}
	r.ID = RunID(s.Name, r.Params, seed)

	doc := deepCopy(s.base)
	for _, p := range params {
		if err := setPath(doc, p.path, p.node); err != nil {
			panic("sweep: a checked key does not apply to the base: " + err.Error())
		}
	}
	seedNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(seed, 10)}
	if err := setPath(doc, []seg{{name: "seed"}}, seedNode); err != nil {
		panic("sweep: cannot set the seed: " + err.Error())
	}
	src, err := yaml.Marshal(doc)
	if err != nil {
		r.Err = fmt.Errorf("invalid config: %v", err)
		return r
	}
	r.ConfigYAML = string(src)
	cfg, err := experiments.Load(r.Name, src)
	if err != nil {
		r.Err = resolveError(err)
		return r
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		r.Err = fmt.Errorf("invalid config: %v", err)
		return r
	}
	r.Config, r.ConfigYAML = cfg, string(out)
	return r
}

// resolveError drops file names and lines from a config error: they would point into a
// generated document, not into anything the user wrote.
func resolveError(err error) error {
	var msgs []string
	for _, e := range flatten(err) {
		var ce *experiments.Error
		var fe *fieldpath.Error
		switch {
		case errors.As(e, &ce) && ce.Path != "":
			msgs = append(msgs, ce.Path+": "+ce.Msg)
		case errors.As(e, &ce):
			msgs = append(msgs, ce.Msg)
		case errors.As(e, &fe):
			msgs = append(msgs, fe.Error())
		default:
			msgs = append(msgs, e.Error())
		}
	}
	return fmt.Errorf("invalid config: %s", strings.Join(msgs, "; "))
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// RunID is the id of the run with these params (canonical JSON) and seed in the sweep
// called sweep: the first 16 hex digits of SHA-256 over the three, NUL-separated.
func RunID(sweep, params string, seed uint64) string {
	h := sha256.New()
	h.Write([]byte(sweep))
	h.Write([]byte{0})
	h.Write([]byte(params))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatUint(seed, 10)))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sortParams(ps []param) {
	slices.SortFunc(ps, func(a, b param) int { return strings.Compare(a.key, b.key) })
}

// shortNames names each key in run names by its shortest dotted suffix that no other
// key ends with, and that is more than a bare "name" or "seed" (world.scenario.name is
// "scenario.name").
func shortNames(keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		parts := strings.Split(k, ".")
		short := k
		for n := 1; n <= len(parts); n++ {
			suf := strings.Join(parts[len(parts)-n:], ".")
			if n == 1 && (suf == "name" || suf == "seed") && len(parts) > 1 {
				continue
			}
			unique := true
			for _, o := range keys {
				if o != k && (o == suf || strings.HasSuffix(o, "."+suf)) {
					unique = false
					break
				}
			}
			if unique {
				short = suf
				break
			}
		}
		out[k] = short
	}
	return out
}
