package scoreboard

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/hivegym/hivegym/scheme"
	"go.yaml.in/yaml/v3"
)

// Role setups (the roles: key).
const (
	SetupProviders = "providers"
	SetupClients   = "clients"
	SetupBoth      = "both"
)

// Setups lists the role setups in their fixed order.
var Setups = []string{SetupProviders, SetupClients, SetupBoth}

// Defaults of the eval: section.
const (
	DefaultEpisodes = 20
	DefaultEvalSeed = 9000
)

// Board is a decoded, checked scoreboard file.
type Board struct {
	// Name is the scoreboard's (and its sweep's) name.
	Name string
	// File is the file's name as given to Load.
	File      string
	Scenarios []string
	Schemes   []string
	Setups    []string
	Learner   string
	Seeds     []uint64
	// Episodes and EvalSeed are the held-out episodes of every evaluation.
	Episodes int
	EvalSeed uint64
	// Baselines restricts the baselines; nil means every baseline that fits the role.
	Baselines []string
	// Sweep is the scoreboard as a sweep: grid population x scheme x scenario, times
	// Seeds.
	Sweep *sweep.Sweep

	pops []agents.Population // per setup
}

// Cell is one scenario x scheme x role setup.
type Cell struct {
	Scenario, Scheme, Setup string
}

// Cells returns the cells in the sweep's order: setups outermost, then schemes, then
// scenarios (the sweep's grid keys population, scheme.scheme and world.scenario.name,
// sorted, the first outermost).
func (b *Board) Cells() []Cell {
	var out []Cell
	for _, su := range b.Setups {
		for _, sc := range b.Schemes {
			for _, sn := range b.Scenarios {
				out = append(out, Cell{Scenario: sn, Scheme: sc, Setup: su})
			}
		}
	}
	return out
}

var topKeys = []string{"base", "eval", "learner", "name", "roles", "scenarios", "schemes", "seeds"}
var evalKeys = []string{"baselines", "episodes", "seed"}
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// LoadFile reads and decodes the scoreboard file at path.
func LoadFile(path string) (*Board, error) {
	src, err := experiments.ReadConfigFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, src)
}

type decoder struct{ file string }

func (d *decoder) errf(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &experiments.Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Load decodes the scoreboard file src, called name in errors (a base path is relative
// to filepath.Dir(name)). Every problem is an *experiments.Error naming the file, the
// line and the key.
func Load(name string, src []byte) (*Board, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, m, ok := strings.Cut(rest, ": "); ok {
				line, _ = strconv.Atoi(n)
				msg = m
			}
		}
		return nil, &experiments.Error{File: name, Line: line, Msg: msg}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, d.errf(&doc, "", "a scoreboard file must be a mapping with the keys %s", strings.Join(topKeys, ", "))
	}
	root := doc.Content[0]
	f := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(topKeys, k.Value) {
			return nil, d.errf(k, k.Value, "unknown key %q at the top level (valid keys: %s)", k.Value, strings.Join(topKeys, ", "))
		}
		if f[k.Value] != nil {
			return nil, d.errf(k, k.Value, "key %q appears twice", k.Value)
		}
		f[k.Value], f["@"+k.Value] = v, k
	}
	f["@"] = root
	b := &Board{File: name, Learner: agents.KindPPO, Episodes: DefaultEpisodes, EvalSeed: DefaultEvalSeed}

	b.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	if v := f["name"]; v != nil {
		if v.Kind != yaml.ScalarNode || !validName.MatchString(v.Value) {
			return nil, d.errf(v, "name", "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
		b.Name = v.Value
	} else if !validName.MatchString(b.Name) {
		return nil, d.errf(root, "name", "missing, and the file name is not a valid name: add a name: key")
	}

	base := experiments.DefaultConfig()
	basePath := ""
	if v := f["base"]; v != nil {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || v.Value == "" {
			return nil, d.errf(v, "base", "must be the path of a config file (relative to this file)")
		}
		basePath = v.Value
		if !filepath.IsAbs(basePath) {
			basePath = filepath.Join(filepath.Dir(name), basePath)
		}
		if fi, err := os.Stat(basePath); err != nil || !fi.Mode().IsRegular() {
			return nil, d.errf(v, "base", "cannot read the base config %s", basePath)
		}
		var err error
		if base, err = experiments.LoadFile(basePath); err != nil {
			return nil, err
		}
	}

	var err error
	if b.Scenarios, err = d.names(f, "scenarios", data.Scenarios(), nil); err != nil {
		return nil, err
	}
	if b.Schemes, err = d.names(f, "schemes", scheme.Names(), []string{base.Scheme.Scheme}); err != nil {
		return nil, err
	}
	if b.Setups, err = d.names(f, "roles", Setups, Setups); err != nil {
		return nil, err
	}
	if v := f["learner"]; v != nil {
		if v.Kind != yaml.ScalarNode || (v.Value != agents.KindPPO && v.Value != agents.KindDSR) {
			return nil, d.errf(v, "learner", "must be ppo or dsr, got %q", v.Value)
		}
		b.Learner = v.Value
	}
	if f["seeds"] == nil {
		return nil, d.errf(root, "seeds", "missing: say which training seeds to run, e.g. seeds: [1, 2, 3]")
	}
	if b.Seeds, err = sweep.DecodeSeeds(name, f["@seeds"], f["seeds"]); err != nil {
		return nil, err
	}
	if v := f["eval"]; v != nil {
		if err := d.eval(v, b); err != nil {
			return nil, err
		}
	}

	// The populations of the setups; every setup must have a learning group, and every
	// baseline must fit one of its learning groups.
	pops := make([]agents.Population, len(b.Setups))
	for i, su := range b.Setups {
		pops[i] = SetupPopulation(base.Population, su, b.Learner)
		var roles []string
		for _, g := range pops[i] {
			if g.Learning() {
				roles = append(roles, g.Role)
			}
		}
		if len(roles) == 0 {
			return nil, d.errf(f["roles"], "roles", "setup %q has no learning group: the base population has no group of that role", su)
		}
		if err := pops[i].Validate(); err != nil {
			return nil, d.errf(f["roles"], "roles", "setup %q: %v", su, err)
		}
		for _, bl := range b.Baselines {
			if !slices.ContainsFunc(roles, func(r string) bool { return experiments.BaselineFits(bl, r) }) {
				return nil, d.errf(f["eval"], "eval.baselines", "baseline %q fits no learning group of setup %q", bl, su)
			}
		}
	}
	sw, err := b.sweep(basePath, pops)
	if err != nil {
		return nil, err
	}
	b.Sweep, b.pops = sw, pops
	return b, nil
}

// names decodes a list of distinct names from valid; def is the default when the key
// is absent (nil: required).
func (d *decoder) names(f map[string]*yaml.Node, key string, valid, def []string) ([]string, error) {
	v := f[key]
	if v == nil {
		if def == nil {
			return nil, d.errf(f["@"], key, "missing: give a list, e.g. %s: [%s]", key, valid[0])
		}
		return slices.Clone(def), nil
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return nil, d.errf(v, key, "must be a non-empty list of %s", strings.Join(valid, ", "))
	}
	var out []string
	for _, x := range v.Content {
		if x.Kind != yaml.ScalarNode || !slices.Contains(valid, x.Value) {
			return nil, d.errf(x, key, "unknown value %q (valid: %s)", x.Value, strings.Join(valid, ", "))
		}
		if slices.Contains(out, x.Value) {
			return nil, d.errf(x, key, "%q appears twice", x.Value)
		}
		out = append(out, x.Value)
	}
	return out, nil
}

func (d *decoder) eval(v *yaml.Node, b *Board) error {
	if v.Kind != yaml.MappingNode {
		return d.errf(v, "eval", "must be a mapping with the keys %s", strings.Join(evalKeys, ", "))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, x := v.Content[i], v.Content[i+1]
		p := "eval." + k.Value
		if !slices.Contains(evalKeys, k.Value) {
			return d.errf(k, p, "unknown key %q in eval (valid keys: %s)", k.Value, strings.Join(evalKeys, ", "))
		}
		if seen[k.Value] {
			return d.errf(k, p, "key %q appears twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "episodes":
			if x.Kind != yaml.ScalarNode || x.Decode(&b.Episodes) != nil || b.Episodes < 2 || b.Episodes > 100000 {
				return d.errf(x, p, "must be a whole number from 2 to 100000 (an interval needs two), got %q", x.Value)
			}
		case "seed":
			if x.Kind != yaml.ScalarNode || x.Decode(&b.EvalSeed) != nil {
				return d.errf(x, p, "must be a non-negative whole number, got %q", x.Value)
			}
		case "baselines":
			if x.Kind != yaml.SequenceNode {
				return d.errf(x, p, "must be a list of baselines (random or a strategy name); [] for every one that fits")
			}
			valid := strategy.Names()
			b.Baselines = nil
			for _, y := range x.Content {
				if y.Kind != yaml.ScalarNode || !slices.Contains(valid, y.Value) {
					return d.errf(y, p, "unknown baseline %q (valid: random, the random-legal policy, or a strategy: %s)", y.Value, strings.Join(valid, ", "))
				}
				if slices.Contains(b.Baselines, y.Value) {
					return d.errf(y, p, "%q appears twice", y.Value)
				}
				b.Baselines = append(b.Baselines, y.Value)
			}
		}
	}
	return nil
}

// SetupPopulation returns pop with the groups of setup's roles learning: a scripted or
// random group of a learning role becomes a learner group (kind learner, scripted
// protocol steps, same name and size; a group that already learns is kept), and a
// learning group of a role that does not learn becomes scripted with its role's default
// strategy.
func SetupPopulation(pop agents.Population, setup, learner string) agents.Population {
	out := pop.Clone()
	for i := range out {
		g := &out[i]
		learn := setup == SetupBoth || (setup == SetupProviders && g.Role == agents.RoleProvider) ||
			(setup == SetupClients && g.Role == agents.RoleClient)
		switch {
		case learn && !g.Learning():
			*g = agents.GroupConfig{Name: g.Name, Role: g.Role, Kind: learner, Protocol: agents.ProtocolScripted, Share: g.Share, Count: g.Count}
		case !learn && g.Learning():
			*g = agents.GroupConfig{Name: g.Name, Role: g.Role, Kind: agents.KindScripted, Strategy: g.StrategyName(), Share: g.Share, Count: g.Count}
		}
	}
	return out
}

// sweep builds the scoreboard's sweep: grid population (one per setup, in order,
// labelled by the setup's name in run names) x scheme.scheme x world.scenario.name, times
// the seeds.
func (b *Board) sweep(basePath string, pops []agents.Population) (*sweep.Sweep, error) {
	var base *yaml.Node
	if basePath != "" {
		abs, err := filepath.Abs(basePath)
		if err != nil {
			return nil, &experiments.Error{File: basePath, Msg: err.Error()}
		}
		base = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: abs}
	}
	scalars := func(xs []string) []*yaml.Node {
		var out []*yaml.Node
		for _, x := range xs {
			out = append(out, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x})
		}
		return out
	}
	popAxis := sweep.Axis{Key: "population", Labels: b.Setups}
	for _, p := range pops {
		var n yaml.Node
		if err := n.Encode(p); err != nil {
			return nil, err
		}
		popAxis.Values = append(popAxis.Values, &n)
	}
	grid := []sweep.Axis{popAxis,
		{Key: "scheme.scheme", Values: scalars(b.Schemes)},
		{Key: "world.scenario.name", Values: scalars(b.Scenarios)}}
	sw, err := sweep.New(b.Name, b.File, base, grid, b.Seeds)
	if err != nil {
		return nil, fmt.Errorf("%s: the scoreboard's sweep: %w", b.File, err)
	}
	return sw, nil
}
