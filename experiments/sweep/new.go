package sweep

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Axis is one grid key of a sweep built in code (New): a dotted config key, its values as
// YAML nodes, and optionally a label per value for run names (the value's canonical
// JSON otherwise).
type Axis struct {
	Key    string
	Values []*yaml.Node
	Labels []string
}

// New builds a sweep in code, as if from a sweep file called file with these name, base
// (a config mapping, a path relative to file's directory, or nil for the default
// config), grid and seeds; the checks are those of a sweep file, and errors in base name
// file and base's own lines. Other tools (tournaments) use it to run their runs through
// Execute, so that workers, shards, resuming and merging work as for sweeps.
func New(name, file string, base *yaml.Node, grid []Axis, seeds []uint64) (*Sweep, error) {
	d := &decoder{file: file}
	if !validName.MatchString(name) {
		return nil, d.errf(nil, "name", "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit, got %q", name)
	}
	if len(seeds) == 0 {
		return nil, d.errf(nil, "seeds", "empty list of seeds")
	}
	s := &Sweep{Name: name, File: file, Seeds: append([]uint64(nil), seeds...)}
	var err error
	if s.base, err = d.decodeBase(base); err != nil {
		return nil, err
	}
	g := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	labels := map[string][]string{}
	for _, a := range grid {
		if a.Labels != nil && len(a.Labels) != len(a.Values) {
			return nil, fmt.Errorf("sweep: axis %s has %d labels for %d values", a.Key, len(a.Labels), len(a.Values))
		}
		g.Content = append(g.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: a.Key},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: a.Values})
		labels[a.Key] = a.Labels
	}
	if s.grid, err = d.decodeGrid(g, s.base, map[string]*yaml.Node{}); err != nil {
		return nil, err
	}
	for i := range s.grid {
		s.grid[i].labels = labels[s.grid[i].key]
	}
	total := uint64(len(s.Seeds))
	for _, a := range s.grid {
		total *= uint64(len(a.values))
	}
	if total > MaxRuns {
		return nil, d.errf(nil, "", "the sweep expands to more than %d runs; split it", MaxRuns)
	}
	return s, nil
}
