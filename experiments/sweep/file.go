package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/internal/yamlkeys"
	"go.yaml.in/yaml/v3"
)

// MaxRuns bounds the number of runs one sweep file may expand to (grid points x samples
// x seeds).
const MaxRuns = 100_000

// maxBaseBytes bounds the size of a base config file.
const maxBaseBytes = 16 << 20

// Sweep is a decoded, checked sweep file. Expand it with Runs.
type Sweep struct {
	// Name is the sweep's name: it is part of every run id and the default output
	// directory.
	Name string
	// File is the sweep file's name as given to Load.
	File string
	// Seeds are the run seeds, innermost in the expansion.
	Seeds []uint64

	grid    []axis
	samples [][]param // random samples, deduplicated, each sorted by key
	base    *yaml.Node
}

// axis is one grid key and its values, in file order.
type axis struct {
	key    string
	path   []seg
	values []*yaml.Node
	labels []string // run-name text per value (New); nil: the value's own text
}

// param is one swept value of one run.
type param struct {
	key  string
	path []seg
	node *yaml.Node
	json string // canonical JSON of node
	text string // as shown in run names
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// LoadFile reads and decodes the sweep file at path. A base given as a path is read
// relative to the sweep file's directory.
func LoadFile(path string) (*Sweep, error) {
	b, err := experiments.ReadConfigFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, b)
}

// Load decodes the sweep file src, called name in errors. A base given as a path is read
// relative to filepath.Dir(name). Every problem is an *experiments.Error that names the
// file, the line and the key.
func Load(name string, src []byte) (*Sweep, error) {
	d := &decoder{file: name}
	return d.decode(src)
}

type decoder struct {
	file string
}

func (d *decoder) errf(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &experiments.Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

var topKeys = []string{"base", "grid", "name", "random", "seeds"}

func (d *decoder) decode(src []byte) (*Sweep, error) {
	root, err := parseYAML(d.file, src)
	if err != nil {
		return nil, err
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, d.errf(root, "", "a sweep file must be a mapping with the keys %s", strings.Join(topKeys, ", "))
	}
	if err := d.noAliases(root); err != nil {
		return nil, err
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(topKeys, k.Value) {
			return nil, d.errf(k, k.Value, "unknown key %q at the top level (valid keys: %s)", k.Value, strings.Join(topKeys, ", "))
		}
		if _, dup := fields[k.Value]; dup {
			return nil, d.errf(k, k.Value, "key %q appears twice", k.Value)
		}
		fields[k.Value] = v
		fields["@"+k.Value] = k
	}
	s := &Sweep{File: d.file}

	// name
	if v := fields["name"]; v != nil {
		if v.Kind != yaml.ScalarNode || !validName.MatchString(v.Value) {
			return nil, d.errf(v, "name", "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit, got %s", show(v))
		}
		s.Name = v.Value
	} else {
		s.Name = strings.TrimSuffix(filepath.Base(d.file), filepath.Ext(d.file))
		if !validName.MatchString(s.Name) {
			return nil, d.errf(root, "name", "missing, and the file name %q is not a valid sweep name: add a name: key", filepath.Base(d.file))
		}
	}

	// base
	s.base, err = d.decodeBase(fields["base"])
	if err != nil {
		return nil, err
	}

	// grid
	used := map[string]*yaml.Node{}
	if v := fields["grid"]; v != nil {
		if s.grid, err = d.decodeGrid(v, s.base, used); err != nil {
			return nil, err
		}
	}

	// random
	if v := fields["random"]; v != nil {
		if s.samples, err = d.decodeRandom(fields["@random"], v, s.base, used); err != nil {
			return nil, err
		}
	}
	if fields["grid"] == nil && fields["random"] == nil {
		return nil, d.errf(root, "grid", "a sweep needs a grid: (or a random:) section")
	}

	// seeds
	if s.Seeds, err = d.decodeSeeds(fields["@seeds"], fields["seeds"], s.base); err != nil {
		return nil, err
	}

	// size
	total := uint64(len(s.Seeds))
	for _, a := range s.grid {
		total *= uint64(len(a.values))
		if total > MaxRuns {
			break
		}
	}
	if len(s.samples) > 0 && total <= MaxRuns {
		total *= uint64(len(s.samples))
	}
	if total > MaxRuns {
		return nil, d.errf(root, "", "the sweep expands to more than %d runs; split it", MaxRuns)
	}
	return s, nil
}

// parseYAML parses src, which must hold one YAML document, and returns its root node
// (nil when empty).
func parseYAML(file string, src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, 0, err)
	}
	// The decoder stops after the first document: a second one would be ignored. A
	// trailing empty document ('---' with nothing after it) is harmless.
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, 0, err)
	} else if err == nil && (len(next.Content) != 1 || next.Content[0].Kind != yaml.ScalarNode || next.Content[0].Tag != "!!null") {
		return nil, &experiments.Error{File: file, Line: max(next.Line, 1), Msg: "a sweep file or config is one YAML document, but a second one starts here (a '---' line)"}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	if doc.Kind == 0 {
		return nil, nil
	}
	return &doc, nil
}

// noAliases rejects anchors and aliases: a sweep edits node trees, and an alias into a
// subtree that a grid key replaces would silently change meaning.
func (d *decoder) noAliases(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return d.errf(n, "", "YAML anchors and aliases are not supported in sweep files and their base configs")
	}
	for _, c := range n.Content {
		if err := d.noAliases(c); err != nil {
			return err
		}
	}
	return nil
}

// decodeBase returns the default config overlaid with the base (inline mapping or file),
// after checking the base's keys and value types against experiments.Config.
func (d *decoder) decodeBase(v *yaml.Node) (*yaml.Node, error) {
	def, err := parseYAML("<default>", experiments.DefaultYAML())
	if err != nil || def == nil || def.Kind != yaml.MappingNode {
		panic(fmt.Sprintf("sweep: the embedded default config does not parse: %v", err))
	}
	if v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		return def, nil
	}
	bd := d // errors in an inline base are in the sweep file
	var base *yaml.Node
	switch {
	case v.Kind == yaml.MappingNode:
		base = v
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value != "":
		p := v.Value
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(d.file), p)
		}
		src, err := readBase(p)
		if err != nil {
			return nil, d.errf(v, "base", "cannot read the base config %s: %v", p, err)
		}
		bd = &decoder{file: p}
		base, err = parseYAML(p, src)
		if err != nil {
			return nil, err
		}
		if base == nil || (base.Kind == yaml.ScalarNode && base.Tag == "!!null") {
			return def, nil
		}
		if base.Kind != yaml.MappingNode {
			return nil, bd.errf(base, "", "a config must be a mapping of keys to values")
		}
		if err := bd.noAliases(base); err != nil {
			return nil, err
		}
	default:
		return nil, d.errf(v, "base", "must be a config (a mapping) or the path of a config file, got %s", show(v))
	}
	if err := bd.checkValue(base, configType, ""); err != nil {
		return nil, err
	}
	return overlay(def, base), nil
}

func readBase(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, errors.New(readErrMsg(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > maxBaseBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxBaseBytes)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, errors.New(readErrMsg(err))
	}
	return b, nil
}

// checkKey checks that key names a config key that may be swept, that it overlaps no
// other swept key, and that it can be applied to the base; it returns its parsed path
// and the Go type of its value.
func (d *decoder) checkKey(k *yaml.Node, section string, base *yaml.Node, used map[string]*yaml.Node) ([]seg, reflect.Type, error) {
	if k.Kind != yaml.ScalarNode || k.Value == "" {
		return nil, nil, d.errf(k, section, "keys must be dotted config keys such as world.scenario.name, got %s", show(k))
	}
	key := k.Value
	path, err := parseKey(key)
	if err != nil {
		return nil, nil, d.errf(k, key, "%s key: %v", section, err)
	}
	if path[0].name == "seed" {
		return nil, nil, d.errf(k, key, "the seed is swept with seeds:, not in %s", section)
	}
	t, err := fieldType(path)
	if err != nil {
		return nil, nil, d.errf(k, key, "%s key is not a config key: %v", section, err)
	}
	others := make([]string, 0, len(used))
	for o := range used {
		others = append(others, o)
	}
	slices.Sort(others)
	for _, other := range others {
		on := used[other]
		if other == key {
			return nil, nil, d.errf(k, key, "%s key %q is already swept (line %d)", section, key, on.Line)
		}
		if strings.HasPrefix(key, other+".") || strings.HasPrefix(key, other+"[") ||
			strings.HasPrefix(other, key+".") || strings.HasPrefix(other, key+"[") {
			return nil, nil, d.errf(k, key, "%s key %q overlaps the swept key %q (line %d)", section, key, other, on.Line)
		}
	}
	if err := applicable(base, path); err != nil {
		return nil, nil, d.errf(k, key, "%v", err)
	}
	used[key] = k
	return path, t, nil
}

func (d *decoder) decodeGrid(v *yaml.Node, base *yaml.Node, used map[string]*yaml.Node) ([]axis, error) {
	if v.Kind != yaml.MappingNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		return nil, d.errf(v, "grid", "must be a mapping of dotted config keys to lists of values, got %s", show(v))
	}
	if len(v.Content) == 0 {
		return nil, d.errf(v, "grid", "empty grid: give at least one config key with a list of values")
	}
	var axes []axis
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, vals := v.Content[i], v.Content[i+1]
		path, t, err := d.checkKey(k, "grid", base, used)
		if err != nil {
			return nil, err
		}
		if vals.Kind != yaml.SequenceNode {
			return nil, d.errf(vals, k.Value, "grid values must be a list, e.g. [a, b], got %s", show(vals))
		}
		if len(vals.Content) == 0 {
			return nil, d.errf(vals, k.Value, "empty list of values in the grid")
		}
		a := axis{key: k.Value, path: path}
		seen := map[string]int{}
		for _, x := range vals.Content {
			if err := d.checkValue(x, t, k.Value); err != nil {
				return nil, err
			}
			j, err := canonJSON(x)
			if err != nil {
				return nil, d.errf(x, k.Value, "%v", err)
			}
			if line, dup := seen[j]; dup {
				return nil, d.errf(x, k.Value, "value %s appears twice in the grid (first on line %d)", show(x), line)
			}
			seen[j] = x.Line
			a.values = append(a.values, x)
		}
		axes = append(axes, a)
	}
	slices.SortFunc(axes, func(a, b axis) int { return strings.Compare(a.key, b.key) })
	return axes, nil
}

var randomKeys = []string{"params", "samples", "seed"}
var distKinds = []string{"choices", "log_uniform", "uniform"}

// dist is one random key's distribution.
type dist struct {
	key     string
	path    []seg
	kind    string
	choices []*yaml.Node
	lo, hi  float64
}

func (d *decoder) decodeRandom(key, v *yaml.Node, base *yaml.Node, used map[string]*yaml.Node) ([][]param, error) {
	if v.Kind != yaml.MappingNode {
		return nil, d.errf(v, "random", "must be a mapping with the keys %s, got %s", strings.Join(randomKeys, ", "), show(v))
	}
	var samples int
	var seed uint64
	var params *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, x := v.Content[i], v.Content[i+1]
		p := "random." + k.Value
		if !slices.Contains(randomKeys, k.Value) {
			return nil, d.errf(k, p, "unknown key %q in random (valid keys: %s)", k.Value, strings.Join(randomKeys, ", "))
		}
		if seen[k.Value] {
			return nil, d.errf(k, p, "key %q appears twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "samples":
			if x.Kind != yaml.ScalarNode || x.Decode(&samples) != nil || samples < 1 || samples > MaxRuns {
				return nil, d.errf(x, p, "must be a whole number from 1 to %d, got %s", MaxRuns, show(x))
			}
		case "seed":
			if x.Kind != yaml.ScalarNode || x.Decode(&seed) != nil {
				return nil, d.errf(x, p, "must be a non-negative whole number, got %s", show(x))
			}
		case "params":
			params = x
		}
	}
	if samples == 0 {
		return nil, d.errf(key, "random.samples", "missing: say how many samples to draw")
	}
	if params == nil || params.Kind != yaml.MappingNode || len(params.Content) == 0 {
		n := key
		if params != nil {
			n = params
		}
		return nil, d.errf(n, "random.params", "must map at least one dotted config key to {choices: [...]}, {uniform: [lo, hi]} or {log_uniform: [lo, hi]}")
	}
	var dists []dist
	for i := 0; i+1 < len(params.Content); i += 2 {
		k, x := params.Content[i], params.Content[i+1]
		path, t, err := d.checkKey(k, "random", base, used)
		if err != nil {
			return nil, err
		}
		ds, err := d.decodeDist(k.Value, x, t)
		if err != nil {
			return nil, err
		}
		ds.path = path
		dists = append(dists, ds)
	}
	slices.SortFunc(dists, func(a, b dist) int { return strings.Compare(a.key, b.key) })
	return drawSamples(dists, samples, seed)
}

func (d *decoder) decodeDist(key string, x *yaml.Node, t reflect.Type) (dist, error) {
	ds := dist{key: key}
	if x.Kind != yaml.MappingNode || len(x.Content) != 2 || !slices.Contains(distKinds, x.Content[0].Value) {
		return ds, d.errf(x, key, "a random key takes exactly one of {choices: [...]}, {uniform: [lo, hi]}, {log_uniform: [lo, hi]}, got %s", show(x))
	}
	ds.kind = x.Content[0].Value
	arg := x.Content[1]
	if arg.Kind != yaml.SequenceNode {
		return ds, d.errf(arg, key, "%s takes a list, got %s", ds.kind, show(arg))
	}
	if ds.kind == "choices" {
		if len(arg.Content) == 0 {
			return ds, d.errf(arg, key, "empty list of choices")
		}
		for _, c := range arg.Content {
			if err := d.checkValue(c, t, key); err != nil {
				return ds, err
			}
			if _, err := canonJSON(c); err != nil {
				return ds, d.errf(c, key, "%v", err)
			}
		}
		ds.choices = arg.Content
		return ds, nil
	}
	ft := t
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if ft.Kind() != reflect.Float64 && ft.Kind() != reflect.Float32 {
		return ds, d.errf(x, key, "%s draws real numbers, but %s is not a real number (use choices)", ds.kind, key)
	}
	var b []float64
	if len(arg.Content) != 2 || arg.Decode(&b) != nil || len(b) != 2 {
		return ds, d.errf(arg, key, "%s takes [lo, hi], got %s", ds.kind, show(arg))
	}
	ds.lo, ds.hi = b[0], b[1]
	if !finite(ds.lo) || !finite(ds.hi) || !(ds.lo < ds.hi) {
		return ds, d.errf(arg, key, "%s needs finite bounds with lo < hi, got [%g, %g]", ds.kind, ds.lo, ds.hi)
	}
	if ds.kind == "log_uniform" && !(ds.lo > 0) {
		return ds, d.errf(arg, key, "log_uniform needs lo > 0, got %g", ds.lo)
	}
	if ft.Kind() == reflect.Float32 && (math.Abs(ds.lo) > math.MaxFloat32 || math.Abs(ds.hi) > math.MaxFloat32) {
		return ds, d.errf(arg, key, "bounds out of range for %s", key)
	}
	return ds, nil
}

// drawSamples draws n samples from the stream "sweep/random" of seed, keys in sorted
// order within a sample; a sample equal to an earlier one is dropped.
func drawSamples(dists []dist, n int, seed uint64) ([][]param, error) {
	r := rng.New(seed, "sweep/random")
	seen := map[string]bool{}
	var out [][]param
	for range n {
		sample := make([]param, 0, len(dists))
		var sig strings.Builder
		for _, ds := range dists {
			var node *yaml.Node
			text := ""
			switch ds.kind {
			case "choices":
				node = ds.choices[r.IntN(len(ds.choices))]
			case "uniform":
				x := ds.lo + (ds.hi-ds.lo)*r.Float64()
				node, text = floatNode(x), strconv.FormatFloat(x, 'g', 4, 64)
			case "log_uniform":
				x := math.Exp(math.Log(ds.lo) + (math.Log(ds.hi)-math.Log(ds.lo))*r.Float64())
				node, text = floatNode(x), strconv.FormatFloat(x, 'g', 4, 64)
			}
			p, err := newParam(ds.key, ds.path, node)
			if err != nil {
				return nil, err
			}
			if text != "" {
				p.text = text
			}
			sample = append(sample, p)
			sig.WriteString(p.json)
			sig.WriteByte(0)
		}
		if seen[sig.String()] {
			continue
		}
		seen[sig.String()] = true
		out = append(out, sample)
	}
	return out, nil
}

func floatNode(x float64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
}

func newParam(key string, path []seg, n *yaml.Node) (param, error) {
	j, err := canonJSON(n)
	if err != nil {
		return param{}, err
	}
	text := j
	if n.Kind == yaml.ScalarNode {
		text = n.Value
	}
	return param{key: key, path: path, node: n, json: j, text: text}, nil
}

var seedsKeys = []string{"count", "start"}

func (d *decoder) decodeSeeds(key, v *yaml.Node, base *yaml.Node) ([]uint64, error) {
	if v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		seed := experiments.DefaultConfig().Seed
		if n := lookup(base, "seed"); n != nil {
			if err := n.Decode(&seed); err != nil {
				return nil, d.errf(n, "seed", "the base config's seed must be a non-negative whole number, got %s", show(n))
			}
		}
		return []uint64{seed}, nil
	}
	switch v.Kind {
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, d.errf(v, "seeds", "empty list of seeds")
		}
		if len(v.Content) > MaxRuns {
			return nil, d.errf(v, "seeds", "more than %d seeds", MaxRuns)
		}
		seen := map[uint64]int{}
		out := make([]uint64, 0, len(v.Content))
		for _, x := range v.Content {
			var s uint64
			if x.Kind != yaml.ScalarNode || x.Decode(&s) != nil {
				return nil, d.errf(x, "seeds", "a seed must be a non-negative whole number, got %s", show(x))
			}
			if line, dup := seen[s]; dup {
				return nil, d.errf(x, "seeds", "seed %d appears twice (first on line %d)", s, line)
			}
			seen[s] = x.Line
			out = append(out, s)
		}
		return out, nil
	case yaml.MappingNode:
		count, start := -1, uint64(1)
		seen := map[string]bool{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, x := v.Content[i], v.Content[i+1]
			p := "seeds." + k.Value
			if !slices.Contains(seedsKeys, k.Value) {
				return nil, d.errf(k, p, "unknown key %q in seeds (valid keys: count, start)", k.Value)
			}
			if seen[k.Value] {
				return nil, d.errf(k, p, "key %q appears twice", k.Value)
			}
			seen[k.Value] = true
			switch k.Value {
			case "count":
				if x.Kind != yaml.ScalarNode || x.Decode(&count) != nil || count < 1 || count > MaxRuns {
					return nil, d.errf(x, p, "must be a whole number from 1 to %d, got %s", MaxRuns, show(x))
				}
			case "start":
				if x.Kind != yaml.ScalarNode || x.Decode(&start) != nil {
					return nil, d.errf(x, p, "must be a non-negative whole number, got %s", show(x))
				}
			}
		}
		if count < 0 {
			return nil, d.errf(key, "seeds.count", "missing: say how many seeds")
		}
		if start > math.MaxUint64-uint64(count-1) {
			return nil, d.errf(key, "seeds.start", "start + count overflows a 64-bit seed")
		}
		out := make([]uint64, count)
		for i := range out {
			out[i] = start + uint64(i)
		}
		return out, nil
	}
	return nil, d.errf(v, "seeds", "must be a list of seeds, e.g. [1, 2, 3], or {count: N, start: S}, got %s", show(v))
}

// checkValue checks a YAML value against the Go type of the config key at path: every
// mapping key must exist in the type (with its line when not), and the value must
// decode into the type.
func (d *decoder) checkValue(n *yaml.Node, t reflect.Type, path string) error {
	if err := d.checkKeys(n, t, path); err != nil {
		return err
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return yamlError(d.file, n.Line, err, path)
	}
	return nil
}

func (d *decoder) checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isUnmarshaler(t) {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlkeys.Fields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				where := "at the top level of the config"
				if path != "" {
					where = "in " + path
				}
				return d.errf(k, join(path, k.Value), "unknown key %q %s (valid keys: %s)", k.Value, where, strings.Join(yamlkeys.Names(fields), ", "))
			}
			if seen[k.Value] {
				return d.errf(k, join(path, k.Value), "key %q appears twice", k.Value)
			}
			seen[k.Value] = true
			if err := d.checkKeys(v, f, join(path, k.Value)); err != nil {
				return err
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, v := range n.Content {
			if err := d.checkKeys(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := d.checkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
var goTypeName = regexp.MustCompile(` in type [\w./]+`)

// yamlError turns a decoder error ("yaml: line 3: ...") into an *experiments.Error with
// the file and line (line when the message has none), without Go type names.
func yamlError(file string, line int, err error, path ...string) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimSpace(msg)
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	e := &experiments.Error{File: file, Line: line, Msg: goTypeName.ReplaceAllString(msg, "")}
	if len(path) > 0 {
		e.Path = path[0]
	}
	return e
}

// show quotes a node for an error message, shortened.
func show(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "an alias"
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func readErrMsg(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// DecodeSeeds decodes a seeds value as the sweep file's seeds: key takes (a list of
// distinct non-negative integers, or {count: N, start: S}), for other files with the
// same key (the scoreboard's). key is the key's node, for errors that name it; errors
// are *experiments.Error naming file, line and key.
func DecodeSeeds(file string, key, v *yaml.Node) ([]uint64, error) {
	if v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		return nil, (&decoder{file: file}).errf(key, "seeds", "must be a list of seeds, e.g. [1, 2, 3], or {count: N, start: S}")
	}
	return (&decoder{file: file}).decodeSeeds(key, v, nil)
}
