package tournament

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"go.yaml.in/yaml/v3"
)

// RandomLegal is the strategy name of the random-legal policy (env.RandomLegal).
const RandomLegal = "random-legal"

// Matchup kinds (File.Matchups).
const (
	HeadToHead = "head-to-head"
	Mixed      = "mixed"
)

// File is a tournament file as written; docs/tournaments.md documents every key.
type File struct {
	// Name names the tournament: run ids, the default output directory.
	Name string `yaml:"name"`
	// Seed derives the held-out episode seeds every matchup plays, and the bootstrap.
	Seed uint64 `yaml:"seed"`
	// Episodes is the number of paired episodes per matchup, scenario and scheme.
	Episodes int `yaml:"episodes"`
	// Base is the config every matchup starts from: a mapping or a config file's path
	// (relative to the tournament file), as a sweep file's base; empty: the default.
	Base yaml.Node `yaml:"base"`
	// Scenarios and Schemes are the world scenarios and negotiation schemes every
	// matchup plays under (empty: the base config's).
	Scenarios []string `yaml:"scenarios"`
	Schemes   []string `yaml:"schemes"`
	// Matchups lists the kinds of matchup played: head-to-head, mixed (default both).
	Matchups []string `yaml:"matchups"`
	// Rating configures the ratings.
	Rating RatingConfig `yaml:"rating"`
	// Providers and Clients are the entrants of each role.
	Providers []Entrant `yaml:"providers"`
	Clients   []Entrant `yaml:"clients"`
}

// RatingConfig configures the Bradley-Terry ratings.
type RatingConfig struct {
	// Metric is the per-episode metric entrants are compared on (an eval metric:
	// cumulative_return, sharpe, sortino, max_drawdown, dsr_final).
	Metric string `yaml:"metric"`
	// Bootstrap is the number of bootstrap resamples for the intervals.
	Bootstrap int `yaml:"bootstrap"`
	// Prior is the number of virtual wins and of virtual losses every entrant gets
	// against a reference player of rating 0: it keeps the estimate finite when an
	// entrant wins (or loses) every comparison, and anchors the scale.
	Prior float64 `yaml:"prior"`
}

// Entrant is one competitor: a scripted strategy, or a trained group.
type Entrant struct {
	// Name names the entrant in results (a group name: a-z 0-9 - _).
	Name string `yaml:"name"`
	// Strategy is a strategy of agents/strategy, or random-legal.
	Strategy string             `yaml:"strategy"`
	Params   map[string]float64 `yaml:"params"`
	Opening  float64            `yaml:"opening"`
	// Run is a run directory (hivegym train --out): the entrant plays the latest
	// checkpoint of its group Group (default: the run's only learning group of the role).
	Run   string `yaml:"run"`
	Group string `yaml:"group"`
	// Checkpoint is a PPO checkpoint file instead of a run.
	Checkpoint string `yaml:"checkpoint"`
	// Share is the entrant's weight in mixed populations (default 1; normalized).
	Share float64 `yaml:"share"`
}

// Tournament is a checked tournament file, ready to run.
type Tournament struct {
	File     string
	Name     string
	Seed     uint64
	Episodes int
	Rating   RatingConfig
	// Entrants per role, in file order: [0] providers, [1] clients.
	Entrants [2][]*Resolved
	// Matchups in run order.
	Matchups  []Matchup
	Scenarios []string
	Schemes   []string
	base      *yaml.Node
	root      *yaml.Node
	// The schemes and scenarios the runs play (the file's, or the base config's).
	schemesRun, scenariosRun []string
}

// Resolved is an entrant with its group config and, for a trained one, its checkpoint.
type Resolved struct {
	Entrant
	Role string
	// Group is the entrant's policy group (share 1; the matchup sets shares).
	Group agents.GroupConfig
	// CheckpointPath is the PPO checkpoint a trained entrant plays.
	CheckpointPath string
	// Trained reports a trained entrant.
	Trained bool
}

// Matchup is one population played under every scenario and scheme.
type Matchup struct {
	// Kind is head-to-head or mixed.
	Kind string
	// Role is, for a mixed matchup, the role whose entrants share the market.
	Role string
	// Entrants names the entrants, providers first, in population order.
	Entrants []string
	// Rotation is, for a mixed matchup, how far the role's entrants are rotated in the
	// population: the groups' agents are interleaved in population order, so each
	// entrant would always get the same agents (and their machines); every rotation is
	// played, so that each entrant plays from every position.
	Rotation int
	// Label names the matchup in run names and tables.
	Label string
	Pop   agents.Population
}

const maxFileBytes = 1 << 20

// Load reads and checks the tournament file at path. Every problem is an
// *experiments.Error naming the file, the line and the key.
func Load(path string) (*Tournament, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &experiments.Error{File: path, Msg: readErrMsg(err)}
	}
	if fi.Size() > maxFileBytes {
		return nil, &experiments.Error{File: path, Msg: fmt.Sprintf("larger than %d bytes", maxFileBytes)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &experiments.Error{File: path, Msg: readErrMsg(err)}
	}
	return Parse(path, b)
}

func readErrMsg(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// DefaultRating returns the rating defaults.
func DefaultRating() RatingConfig {
	return RatingConfig{Metric: experiments.MetricCumulativeReturn, Bootstrap: 200, Prior: 1}
}

// Parse decodes and checks a tournament file's contents src, named file in errors
// (paths in it are relative to file's directory). It checks everything that does not
// need the entrants' checkpoints read; Check does the rest.
func Parse(file string, src []byte) (*Tournament, error) {
	f := File{Episodes: 10, Rating: DefaultRating()}
	root, err := experiments.DecodeStrict(file, src, &f)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &experiments.Error{File: file, Line: 1, Path: "providers", Msg: "empty tournament file: it needs providers: and clients: entrants"}
	}
	dir := filepath.Dir(file)
	t := &Tournament{File: file, Name: f.Name, Seed: f.Seed, Episodes: f.Episodes, Rating: f.Rating, Scenarios: f.Scenarios, Schemes: f.Schemes}
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, fieldpath.Errorf(path, format, args...)) }
	if t.Name == "" {
		t.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if !validRunName(t.Name) {
		add("name", "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit, got %q", t.Name)
	}
	if f.Episodes < 2 || f.Episodes > 10000 {
		add("episodes", "must be in [2, 10000] (intervals need two episodes), got %d", f.Episodes)
	}
	if !slices.Contains(experiments.EvalMetrics, f.Rating.Metric) {
		add("rating.metric", "must be one of %s, got %q", strings.Join(experiments.EvalMetrics, ", "), f.Rating.Metric)
	}
	if f.Rating.Bootstrap < 0 || f.Rating.Bootstrap > 100000 {
		add("rating.bootstrap", "must be in [0, 100000], got %d", f.Rating.Bootstrap)
	}
	if !(f.Rating.Prior >= 0) || math.IsInf(f.Rating.Prior, 0) {
		add("rating.prior", "must be a non-negative number, got %g", f.Rating.Prior)
	}
	if lookup(root, "scenarios") != nil && len(f.Scenarios) == 0 {
		add("scenarios", "empty list: name at least one scenario, or leave the key out for the base config's")
	}
	if lookup(root, "schemes") != nil && len(f.Schemes) == 0 {
		add("schemes", "empty list: name at least one scheme, or leave the key out for the base config's")
	}
	for i, s := range f.Scenarios {
		if j := slices.Index(f.Scenarios[:i], s); j >= 0 {
			add(fmt.Sprintf("scenarios[%d]", i), "%q is listed twice", s)
		}
	}
	for i, s := range f.Schemes {
		if j := slices.Index(f.Schemes[:i], s); j >= 0 {
			add(fmt.Sprintf("schemes[%d]", i), "%q is listed twice", s)
		}
	}
	kinds := f.Matchups
	if kinds == nil {
		kinds = []string{HeadToHead, Mixed}
	} else if len(kinds) == 0 {
		add("matchups", "empty list: give %s, %s or both", HeadToHead, Mixed)
	}
	for i, k := range kinds {
		if k != HeadToHead && k != Mixed {
			add(fmt.Sprintf("matchups[%d]", i), "must be %s or %s, got %q", HeadToHead, Mixed, k)
		}
	}
	names := map[string]string{}
	for r, list := range [2][]Entrant{f.Providers, f.Clients} {
		role, key := agents.RoleProvider, "providers"
		if r == 1 {
			role, key = agents.RoleClient, "clients"
		}
		if len(list) == 0 {
			add(key, "no %s entrants: list at least one", role)
		}
		for i := range list {
			path := fmt.Sprintf("%s[%d]", key, i)
			e, err := resolve(list[i], role, dir)
			if err != nil {
				errs = append(errs, fieldpath.Under(path, err))
				continue
			}
			if other, dup := names[e.Name]; dup {
				add(path+".name", "%q names two entrants (the other is %s)", e.Name, other)
				continue
			}
			names[e.Name] = path
			t.Entrants[r] = append(t.Entrants[r], e)
		}
	}
	if len(errs) > 0 {
		return nil, experiments.LocateNode(file, root, errors.Join(errs...))
	}
	base := &f.Base
	if base.Kind == 0 {
		base = nil
	}
	t.base = base
	t.Matchups = matchups(t, kinds)
	if len(t.Matchups) == 0 {
		return nil, experiments.LocateNode(file, root, fieldpath.Errorf("matchups", "no matchup to play: mixed populations need two entrants of a role"))
	}
	t.root = root
	return t, nil
}

func validRunName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return false
		}
	}
	return true
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// resolve checks one entrant and builds its group; paths are relative to the entrant.
func resolve(e Entrant, role, dir string) (*Resolved, error) {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, fieldpath.Errorf(path, format, args...)) }
	r := &Resolved{Entrant: e, Role: role}
	if !validGroupName(e.Name) {
		add("name", "must be 1 to 64 lower-case letters, digits, '-' or '_', got %q", e.Name)
	}
	if e.Share < 0 || math.IsNaN(e.Share) || math.IsInf(e.Share, 0) {
		add("share", "must be a positive weight (default 1), got %g", e.Share)
	}
	if r.Share == 0 {
		r.Share = 1
	}
	set := 0
	for _, s := range []string{e.Strategy, e.Run, e.Checkpoint} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		add("strategy", "an entrant is exactly one of strategy: (a scripted strategy or %s), run: (a run directory) or checkpoint: (a PPO checkpoint file)", RandomLegal)
		return nil, errors.Join(errs...)
	}
	r.Group = agents.GroupConfig{Name: e.Name, Role: role, Share: 1}
	switch {
	case e.Strategy == RandomLegal:
		if len(e.Params) > 0 || e.Opening != 0 {
			add("params", "%s has no params or opening", RandomLegal)
		}
		r.Group.Kind = agents.KindRandom
	case e.Strategy != "":
		_, err := strategy.ByName(e.Strategy, strategy.Params{Values: e.Params, Rand: rand.New(rand.NewPCG(0, 0))})
		if errors.Is(err, strategy.ErrUnknown) {
			add("strategy", "unknown entrant strategy %q (valid: %s, %s)", e.Strategy, RandomLegal, strings.Join(strategy.Names(), ", "))
		} else if err != nil {
			errs = append(errs, fieldpath.Under("params", err))
		}
		if e.Opening != 0 && (!(e.Opening > 0) || e.Opening > 100) {
			add("opening", "must be in (0, 100] (0: the default), got %g", e.Opening)
		}
		r.Group.Kind, r.Group.Strategy, r.Group.Params, r.Group.Opening = agents.KindScripted, e.Strategy, e.Params, e.Opening
	default:
		if len(e.Params) > 0 || e.Opening != 0 {
			add("params", "a trained entrant has no params or opening")
		}
		r.Trained = true
		r.Group.Kind, r.Group.Protocol = agents.KindPPO, agents.ProtocolScripted
		if e.Run != "" {
			if err := r.fromRun(abs(dir, e.Run)); err != nil {
				errs = append(errs, err)
			}
		} else {
			if e.Group != "" {
				add("group", "group: goes with run:, not checkpoint:")
			}
			r.CheckpointPath = abs(dir, e.Checkpoint)
			if _, err := os.Stat(r.CheckpointPath); err != nil {
				add("checkpoint", "missing checkpoint %s: %s", r.CheckpointPath, readErrMsg(err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// fromRun finds the entrant's group and checkpoint in run directory dir.
func (r *Resolved) fromRun(dir string) error {
	cfgPath := filepath.Join(dir, "config.yaml")
	if _, err := os.Stat(cfgPath); err != nil {
		return fieldpath.Errorf("run", "%s is not a run directory: no config.yaml (%s)", dir, readErrMsg(err))
	}
	cfg, err := experiments.LoadRunConfig(cfgPath)
	if err != nil {
		return fieldpath.Errorf("run", "the run's config: %v", err)
	}
	var cands []string
	for _, g := range cfg.Population {
		if g.Role == r.Role && g.Learning() {
			cands = append(cands, g.Name)
		}
	}
	name := r.Entrant.Group
	switch {
	case name == "" && len(cands) == 1:
		name = cands[0]
	case name == "":
		return fieldpath.Errorf("group", "the run %s has %d learning %s groups (%s): say which with group:", dir, len(cands), r.Role, strings.Join(cands, ", "))
	case !slices.Contains(cands, name):
		return fieldpath.Errorf("group", "the run %s has no learning %s group %q (it has: %s)", dir, r.Role, name, strings.Join(cands, ", "))
	}
	for _, g := range cfg.Population {
		if g.Name == name {
			if g.Kind != agents.KindPPO {
				return fieldpath.Errorf("group", "group %q is a %s group; tournaments play ppo groups", name, g.Kind)
			}
			if !g.ScriptedProtocol() {
				r.Group.Protocol = agents.ProtocolLearned
			}
		}
	}
	r.CheckpointPath = filepath.Join(dir, "checkpoints", name+"-latest.safetensors")
	if _, err := os.Stat(r.CheckpointPath); err != nil {
		return fieldpath.Errorf("run", "missing checkpoint %s (train the run first): %s", r.CheckpointPath, readErrMsg(err))
	}
	return nil
}

func validGroupName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// matchups lists the tournament's matchups: head-to-head pairs (providers outer), then
// mixed provider populations against each client entrant, then mixed client
// populations against each provider entrant, each mixed one in every rotation of the
// entrants (Matchup.Rotation). A role with a single entrant has no mixed matchup.
func matchups(t *Tournament, kinds []string) []Matchup {
	var out []Matchup
	ps, cs := t.Entrants[0], t.Entrants[1]
	if slices.Contains(kinds, HeadToHead) {
		for _, p := range ps {
			for _, c := range cs {
				out = append(out, Matchup{Kind: HeadToHead, Entrants: []string{p.Name, c.Name}, Label: p.Name + "-vs-" + c.Name,
					Pop: agents.Population{p.Group, c.Group}})
			}
		}
	}
	if slices.Contains(kinds, Mixed) {
		mixed := func(role string, mine, theirs []*Resolved) {
			if len(mine) < 2 {
				return
			}
			total := 0.0
			for _, e := range mine {
				total += e.Share
			}
			for _, o := range theirs {
				for rot := range mine {
					m := Matchup{Kind: Mixed, Role: role, Rotation: rot, Label: "mixed-" + role + "s-vs-" + o.Name + "-r" + itoa(rot)}
					var pop agents.Population
					for k := range mine {
						e := mine[(k+rot)%len(mine)]
						g := e.Group
						g.Share = e.Share / total
						pop = append(pop, g)
						m.Entrants = append(m.Entrants, e.Name)
					}
					if role == agents.RoleProvider {
						pop = append(pop, o.Group)
						m.Entrants = append(m.Entrants, o.Name)
					} else {
						pop = append(agents.Population{o.Group}, pop...)
						m.Entrants = append([]string{o.Name}, m.Entrants...)
					}
					m.Pop = pop
					out = append(out, m)
				}
			}
		}
		mixed(agents.RoleProvider, ps, cs)
		mixed(agents.RoleClient, cs, ps)
	}
	return out
}
