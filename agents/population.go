package agents

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/scheme"
)

// Policy kinds of a group (GroupConfig.Kind).
const (
	// KindPPO: a PPO learner (agents/ppo) over the discrete action space.
	KindPPO = "ppo"
	// KindDSR: Moody and Saffell's differential-Sharpe trader (agents/dsr) for the
	// treasury decisions, with a scripted strategy for the negotiations.
	KindDSR = "dsr"
	// KindScripted: a negotiation strategy of agents/strategy, by name.
	KindScripted = "scripted"
	// KindRandom: the cost-aware random-legal policy (env.RandomLegal).
	KindRandom = "random"
)

// Roles of a group (GroupConfig.Role).
const (
	RoleProvider = "provider"
	RoleClient   = "client"
)

// GroupConfig is one policy group of the population: agents of one role that share one
// policy (and, for learners, its parameters). YAML keys are documented in
// experiments/default.yaml.
type GroupConfig struct {
	// Name names the group in curves, metrics and checkpoint files: lower-case letters,
	// digits, '-' and '_'.
	Name string `yaml:"name"`
	// Role is provider or client.
	Role string `yaml:"role"`
	// Kind is ppo, dsr, scripted or random.
	Kind string `yaml:"kind"`
	// Strategy names the negotiation strategy (strategy.Names) of a scripted group, and
	// of a dsr group's negotiations (default cost-plus for providers, budget for clients).
	Strategy string `yaml:"strategy"`
	// Params overrides the strategy's parameters by name (strategy.ByName).
	Params map[string]float64 `yaml:"params,omitempty"`
	// Opening is the scripted agent's most favourable price as a multiple of its
	// reservation: a client bids from Opening x its value per hour (default 0.5), a
	// provider asks up to Opening x its cost per hour (default 2). 0 takes the default.
	Opening float64 `yaml:"opening"`
	// Protocol says who answers the decisions that are protocol steps rather than
	// negotiation (a provider starting a job the client accepted, a client retrying its
	// escrow lock, every treasury decision): "scripted" (the scripted adapter's rules,
	// Protocol) or "learned" (the group's policy, over the whole action space). The
	// default, "", is scripted for ppo and league groups and learned for the others (a scripted
	// strategy runs its own steps anyway). Baselines swapped in for a group keep its
	// protocol, so an evaluation compares negotiation with negotiation.
	Protocol string `yaml:"protocol"`
	// Share is the fraction of the role's agents in the group, in (0, 1]; Count is a
	// number of agents instead. Exactly one of them is set.
	Share float64 `yaml:"share"`
	Count int     `yaml:"count"`
	// Init is a PPO checkpoint a ppo group's learner starts from (a warm start: its
	// actor and critic, with a fresh optimizer), relative to the working directory.
	Init string `yaml:"init,omitempty"`
	// League is the pool of a league group (kind league): opponents drawn per episode.
	League *LeagueConfig `yaml:"league,omitempty"`
}

// Population is the population section: the policy groups, in order.
type Population []GroupConfig

// DefaultPopulation returns the shipped population: every provider in one PPO group,
// every client in one scripted group with the budget-aware strategy.
func DefaultPopulation() Population {
	return Population{
		{Name: "providers", Role: RoleProvider, Kind: KindPPO, Protocol: ProtocolScripted, Share: 1},
		{Name: "clients", Role: RoleClient, Kind: KindScripted, Strategy: "budget", Share: 1},
	}
}

// Clone returns a deep copy.
func (p Population) Clone() Population {
	out := slices.Clone(p)
	for i := range out {
		if out[i].Params != nil {
			m := make(map[string]float64, len(out[i].Params))
			for k, v := range out[i].Params {
				m[k] = v
			}
			out[i].Params = m
		}
		out[i].League = out[i].League.clone()
	}
	return out
}

// Protocol values (GroupConfig.Protocol).
const (
	ProtocolScripted = "scripted"
	ProtocolLearned  = "learned"
)

// ScriptedProtocol reports whether the group's protocol steps are scripted.
func (g *GroupConfig) ScriptedProtocol() bool {
	switch g.Protocol {
	case ProtocolScripted:
		return true
	case ProtocolLearned:
		return false
	}
	return g.Kind == KindPPO || g.Kind == KindLeague
}

// Learning reports whether the group learns (ppo or dsr).
func (g *GroupConfig) Learning() bool { return g.Kind == KindPPO || g.Kind == KindDSR }

// StrategyName returns the negotiation strategy of a scripted or dsr group, its default
// filled in.
func (g *GroupConfig) StrategyName() string {
	if g.Strategy != "" {
		return g.Strategy
	}
	if g.Role == RoleClient {
		return "budget"
	}
	return "cost-plus"
}

// ReportKind is the group's kind as run.json and metrics.json give it: ppo, dsr,
// scripted (random-legal counts as scripted) or league.
func (g *GroupConfig) ReportKind() string {
	if g.Kind == KindRandom {
		return KindScripted
	}
	return g.Kind
}

func validName(s string) bool {
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

// Validate checks the population: names unique and valid, known roles and kinds, valid
// strategies and parameters, and shares that cover each role exactly once (the counts
// of a role plus its fractions of what the counts leave). Paths are relative to the
// section ("[1].share").
func (p Population) Validate() error {
	var errs []error
	add := func(i int, key, format string, args ...any) {
		errs = append(errs, fieldpath.Errorf("["+strconv.Itoa(i)+"]."+key, format, args...))
	}
	if len(p) == 0 {
		return errors.Join(fieldpath.Errorf("", "must list at least one policy group"))
	}
	seen := map[string]bool{}
	for i := range p {
		g := &p[i]
		if !validName(g.Name) {
			add(i, "name", "must be 1 to 64 lower-case letters, digits, '-' or '_', got %q", g.Name)
		} else if seen[g.Name] {
			add(i, "name", "%q names two groups", g.Name)
		}
		seen[g.Name] = true
		if g.Role != RoleProvider && g.Role != RoleClient {
			add(i, "role", "must be %s or %s, got %q", RoleProvider, RoleClient, g.Role)
		}
		switch g.Kind {
		case KindPPO, KindRandom:
			if g.Strategy != "" || len(g.Params) > 0 || g.Opening != 0 {
				add(i, "strategy", "a %s group has no strategy, params or opening", g.Kind)
			}
		case KindScripted, KindDSR:
			if g.Kind == KindScripted && g.Strategy == "" {
				add(i, "strategy", "a scripted group needs a strategy (one of %s)", strings.Join(strategy.Names(), ", "))
			} else if err := g.checkStrategy(); err != nil {
				errs = append(errs, fieldpath.Under("["+strconv.Itoa(i)+"]", err))
			}
			if g.Opening != 0 && (!(g.Opening > 0) || g.Opening > 100) {
				add(i, "opening", "must be in (0, 100] (0: the default), got %g", g.Opening)
			}
		case KindLeague:
			errs = append(errs, fieldpath.Under("["+strconv.Itoa(i)+"]", p.validateLeague(g)))
		default:
			add(i, "kind", "must be one of %s, %s, %s, %s, %s, got %q", KindPPO, KindDSR, KindScripted, KindRandom, KindLeague, g.Kind)
		}
		if g.Init != "" && g.Kind != KindPPO {
			add(i, "init", "only a ppo group starts from a checkpoint")
		}
		if g.League != nil && g.Kind != KindLeague {
			add(i, "league", "only a league group has a pool (kind: %s)", KindLeague)
		}
		switch g.Protocol {
		case "", ProtocolScripted, ProtocolLearned:
		default:
			add(i, "protocol", "must be %s or %s (or empty for the kind's default), got %q", ProtocolScripted, ProtocolLearned, g.Protocol)
		}
		switch {
		case g.Count != 0 && g.Share != 0:
			add(i, "count", "set share or count, not both")
		case g.Count < 0:
			add(i, "count", "must be positive, got %d", g.Count)
		case g.Count == 0 && !(g.Share > 0 && g.Share <= 1):
			add(i, "share", "must be in (0, 1] (or set count), got %g", g.Share)
		}
	}
	for _, role := range []string{RoleProvider, RoleClient} {
		sum, any := 0.0, false
		for i := range p {
			if p[i].Role == role && p[i].Count == 0 {
				sum += p[i].Share
				any = true
			}
		}
		if any && math.Abs(sum-1) > 1e-9 {
			errs = append(errs, fieldpath.Errorf("", "the shares of the %s groups must add up to 1, got %g", role, sum))
		}
	}
	return errors.Join(errs...)
}

func (g *GroupConfig) checkStrategy() error {
	name := g.StrategyName()
	_, err := strategy.ByName(name, strategy.Params{Values: g.Params, Rand: dummyRand()})
	if errors.Is(err, strategy.ErrUnknown) {
		return fieldpath.Errorf("strategy", "%v", err)
	}
	return fieldpath.Under("params", err)
}

// Assignment maps the agents of one market to the population's groups. An agent's group
// follows from its role and its number within the role (p-N, c-N, in the order agents
// are created): the role's groups are interleaved by sequential apportionment (agent n
// goes to the group whose quota w_g (n+1) is furthest ahead of what it already has, the
// first group on a tie), so that every prefix of the role's agents — and so every
// provider class, which are created in turn — is split in the groups' proportions.
// The counts of a role are its groups' Count, and their fractions Share of the agents
// the counts leave; agents beyond the market's configured number (providers that join
// under churn) continue the same sequence. Deterministic, and the same in every episode
// of a config.
type Assignment struct {
	roles [2]roleGroups
}

type roleGroups struct {
	groups []int     // group indexes of the role, in config order
	w      []float64 // their weights, summing to 1
	table  []int     // group of the n-th agent, extended on demand
	have   []int
}

// NewAssignment builds the assignment for a market with the given numbers of providers
// and clients (the market config's totals). Validate the population first.
func NewAssignment(p Population, providers, clients int) (*Assignment, error) {
	a := &Assignment{}
	for r, role := range []string{RoleProvider, RoleClient} {
		total := providers
		if r == 1 {
			total = clients
		}
		rg := &a.roles[r]
		counts := 0
		for i := range p {
			if p[i].Role == role {
				rg.groups = append(rg.groups, i)
				counts += p[i].Count
			}
		}
		if len(rg.groups) == 0 {
			if total > 0 {
				return nil, fmt.Errorf("agents: the population has no %s group for the market's %d %ss", role, total, role)
			}
			continue
		}
		if counts > total {
			return nil, fmt.Errorf("agents: the %s groups count %d agents, the market has %d", role, counts, total)
		}
		rest := float64(total - counts)
		fracs := 0.0
		for _, i := range rg.groups {
			fracs += p[i].Share
		}
		if counts < total && fracs == 0 {
			return nil, fmt.Errorf("agents: the %s groups count %d agents, the market has %d", role, counts, total)
		}
		for _, i := range rg.groups {
			var w float64
			if p[i].Count > 0 {
				w = float64(p[i].Count)
			} else {
				w = p[i].Share / fracs * rest
			}
			if total > 0 {
				w /= float64(total)
			} else {
				w = p[i].Share + float64(p[i].Count)
			}
			rg.w = append(rg.w, w)
		}
		rg.have = make([]int, len(rg.groups))
	}
	return a, nil
}

// Group returns the index in the population of the group of the n-th agent (n >= 0) of
// role, or -1 for another role.
func (a *Assignment) Group(role scheme.Role, n int) int {
	var rg *roleGroups
	switch role {
	case scheme.RoleProvider:
		rg = &a.roles[0]
	case scheme.RoleClient:
		rg = &a.roles[1]
	default:
		return -1
	}
	if n < 0 || len(rg.groups) == 0 {
		return -1
	}
	for len(rg.table) <= n {
		k := len(rg.table)
		best, bestGap := 0, math.Inf(-1)
		for j, w := range rg.w {
			if gap := w*float64(k+1) - float64(rg.have[j]); gap > bestGap+1e-12 {
				best, bestGap = j, gap
			}
		}
		rg.have[best]++
		rg.table = append(rg.table, rg.groups[best])
	}
	return rg.table[n]
}

// AgentNumber parses an agent name "p-N" or "c-N" and returns N, or -1.
func AgentNumber(name string) int {
	if len(name) < 3 || name[1] != '-' || (name[0] != 'p' && name[0] != 'c') {
		return -1
	}
	n, err := strconv.Atoi(name[2:])
	if err != nil || n < 0 {
		return -1
	}
	return n
}
