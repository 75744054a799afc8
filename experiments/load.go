package experiments

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/yamlkeys"
	"go.yaml.in/yaml/v3"
)

// Error is a problem with a config file, located by file, line and key path. The CLI
// prints it as one line and exits 2.
type Error struct {
	File string // file name as given, or "<default>" for the embedded config
	Line int    // 1-based; 0 when unknown
	Path string // dotted YAML key path, e.g. "metrics.eta"; empty for syntax errors
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// DefaultConfig returns the embedded default config, decoded.
func DefaultConfig() Config {
	c, err := decode("<default>", defaultYAML, Config{})
	if err != nil {
		// The embedded file is part of the binary and covered by tests.
		panic("experiments: embedded default config is invalid: " + err.Error())
	}
	return c
}

// MaxConfigBytes caps the size of a config file. The largest useful config (dozens of
// policy groups, every key written out) is a few tens of KiB; without a cap a 100 MB
// file took seconds and hundreds of MB to be refused.
const MaxConfigBytes = 1 << 20

// LoadFile reads the YAML config at path over the defaults and validates it. A file
// without a single key (empty, or only comments) is an error: the caller meant some
// config, and running the defaults in its place would hide the mistake.
func LoadFile(path string) (Config, error) {
	b, err := ReadConfigFile(path)
	if err != nil {
		return Config{}, err
	}
	return loadFileBytes(path, b)
}

// loadFileBytes is LoadFile on the bytes b read from path.
func loadFileBytes(path string, b []byte) (Config, error) {
	if emptyYAML(b) {
		return Config{}, &Error{File: path, Msg: "the config is empty (no keys); to run the defaults, leave out the config file (hivegym config default prints them)"}
	}
	return Load(path, b)
}

// ReadConfigFile reads a config-like YAML file (config, sweep, scoreboard, tournament),
// refusing one larger than MaxConfigBytes before reading it whole.
func ReadConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: readErrMsg(err)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, &Error{File: path, Msg: readErrMsg(err)}
	}
	if len(b) > MaxConfigBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("the file is larger than %d KiB, the most a config may be", MaxConfigBytes>>10)}
	}
	return b, nil
}

// emptyYAML reports whether src holds no document, or only a null one.
func emptyYAML(src []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return false // the decoder reports it
	}
	if doc.Kind == 0 {
		return true
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	return root.Kind == yaml.ScalarNode && root.Tag == "!!null"
}

// legacyKeys are the keys whose default changed after run directories without them were
// written. A run's config.yaml is the whole resolved config, so one that lacks such a key
// was written before the key existed, and the run used the value given here, not today's
// default. LoadRunConfig applies them; a config a user writes gets today's defaults.
var legacyKeys = []struct {
	path []string
	set  func(*Config)
}{
	// Before it existed every critic was local; the default is now the centralized one.
	{[]string{"training", "central_critic"}, func(c *Config) { c.Training.CentralCritic = false }},
	// Before it existed every offer was anchored at the incoming price.
	{[]string{"env", "actions", "reservation_anchor"}, func(c *Config) { c.Env.Actions.ReservationAnchor = false }},
}

// LoadRunConfig reads a run directory's config.yaml as LoadFile does, then gives each key
// of legacyKeys the file does not hold the value the run used: a run written by an older
// hivegym resumes, evaluates and plays in tournaments as it was trained.
func LoadRunConfig(path string) (Config, error) {
	b, err := ReadConfigFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := loadFileBytes(path, b)
	if err != nil {
		return cfg, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Config{}, yamlError(path, err) // LoadFile decoded it: not reached
	}
	for _, k := range legacyKeys {
		if !hasKey(&doc, k.path) {
			k.set(&cfg)
		}
	}
	return cfg, nil
}

// hasKey reports whether the YAML document n holds the mapping key path.
func hasKey(n *yaml.Node, path []string) bool {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range path {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// Load decodes src (named name in errors) over the defaults, strictly: an unknown key,
// a duplicate key or a value of the wrong type is an *Error naming the key and its line.
// The result is validated; validation errors carry the line of the offending key.
func Load(name string, src []byte) (Config, error) {
	return decode(name, src, DefaultConfig())
}

func decode(name string, src []byte, base Config) (Config, error) {
	cfg := base
	if len(src) > MaxConfigBytes {
		return Config{}, &Error{File: name, Msg: fmt.Sprintf("the config is larger than %d KiB, the most a config may be", MaxConfigBytes>>10)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamlError(name, err)
	}
	// The decoder stops after the first document: a second one would be ignored.
	if line, err := secondDocument(dec); err != nil {
		return Config{}, yamlError(name, err)
	} else if line > 0 {
		return Config{}, &Error{File: name, Line: line, Msg: "a config is one YAML document, but a second one starts here (a '---' line)"}
	}
	if doc.Kind == 0 { // empty file: all defaults
		return cfg, nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil
	}
	if root.Kind != yaml.MappingNode {
		return Config{}, &Error{File: name, Line: root.Line, Msg: "a config must be a mapping of keys to values"}
	}
	if err := checkKeys(name, root, reflect.TypeFor[Config](), ""); err != nil {
		return Config{}, err
	}
	if err := root.Decode(&cfg); err != nil {
		return Config{}, yamlError(name, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, locate(name, root, err)
	}
	return cfg, nil
}

// secondDocument reads on after the first document of dec and returns the line where a
// second, non-empty document starts (0 when there is none; a trailing empty document,
// '---' with nothing after it, is harmless).
func secondDocument(dec *yaml.Decoder) (int, error) {
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		return 0, err
	}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		return 0, nil
	}
	return max(doc.Line, 1), nil
}

// checkKeys walks the YAML mapping against the Go type and reports the first key that
// the type does not have, with its line and the keys that are valid there.
func checkKeys(file string, n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[yaml.Node]() || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return nil // a raw node, checked by its user, or a type that decodes itself
	}
	// The decoder reports a text unmarshaler's error (time.Time's) without the line, so
	// such a value is tried here, where the node and the key are known.
	if n.Kind == yaml.ScalarNode && reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				return nil // has its line; the full decode reports it
			}
			msg := err.Error()
			if t == reflect.TypeFor[time.Time]() {
				msg = fmt.Sprintf("want an RFC 3339 time such as 2024-01-01T00:00:00Z, got %q", n.Value)
			}
			return &Error{File: file, Line: n.Line, Path: path, Msg: msg}
		}
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if msg := shapeMismatch(n, t); msg != "" {
		return &Error{File: file, Line: n.Line, Path: path, Msg: msg}
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlkeys.Fields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				where := "at the top level"
				if path != "" {
					where = "in " + path
				}
				return &Error{File: file, Line: k.Line, Path: join(path, k.Value),
					Msg: fmt.Sprintf("unknown key %q %s (valid keys: %s)", k.Value, where, strings.Join(yamlkeys.Names(fields), ", "))}
			}
			if err := checkKeys(file, v, f, join(path, k.Value)); err != nil {
				return err
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, v := range n.Content {
			if err := checkKeys(file, v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKeys(file, n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

// shapeMismatch says, in the config's words, why node n cannot hold a value of type t
// ("" when it can, or when the full decode is left to judge). The decoder's own
// message names Go types ("cannot unmarshal !!str into agents.GroupConfig") and no key,
// and repeats itself once per alias of a bad anchor.
func shapeMismatch(n *yaml.Node, t reflect.Type) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return "" // an empty value leaves the default
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return "want a mapping of keys to values, got " + nodeWords(n)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return "want a list, got " + nodeWords(n)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return "want a mapping, got " + nodeWords(n)
		}
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode {
			return "want " + scalarWords(t) + ", got " + nodeWords(n)
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return "want " + scalarWords(t) + ", got " + nodeWords(n)
		}
		// The decoder truncates 1.5 into an integer field silently.
		if isInteger(t) && n.ShortTag() == "!!float" {
			if f, err := strconv.ParseFloat(n.Value, 64); err != nil || f != math.Trunc(f) {
				return "want " + scalarWords(t) + ", got " + nodeWords(n)
			}
		}
	}
	return ""
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// scalarWords names what a scalar of type t must be.
func scalarWords(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<(t.Bits()-1)*2-1)
	default:
		return fmt.Sprintf("a whole number from %d to %d", -(int64(1) << (t.Bits() - 1)), int64(uint64(1)<<(t.Bits()-1)-1))
	}
}

// nodeWords describes what the file holds at n.
func nodeWords(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return strconv.Quote(v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the decoder's messages ("yaml: line 3: ...") into *Error values
// with the file name and line, dropping Go type names that mean nothing to a user.
func yamlError(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		e := &Error{File: file, Msg: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
		}
		e.Msg = goTypeName.ReplaceAllString(e.Msg, "")
		if slices.ContainsFunc(errs, func(x error) bool { return x.Error() == e.Error() }) {
			continue // an alias repeats its anchor's error
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

var goTypeName = regexp.MustCompile(` in type [\w./]+`)

// Locate turns err, an error of Config.Validate (paths absolute), into *Error values
// naming the file name and, when src holds that file's YAML, the line of each key (or of
// its deepest ancestor present in the file, for a key left at its default). Callers
// that change a loaded config (a command-line override) and validate it again use it
// to report the problem like Load would. Other errors keep their message, with the file name.
func Locate(name string, src []byte, err error) error {
	if err == nil {
		return nil
	}
	var doc yaml.Node
	root := &doc
	if yaml.Unmarshal(src, &doc) == nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	return locate(name, root, err)
}

// locate gives each validation error the line of the key its path names.
func locate(file string, root *yaml.Node, err error) error {
	var errs []error
	for _, e := range flatten(err) {
		var fe *fieldpath.Error
		if errors.As(e, &fe) {
			errs = append(errs, &Error{File: file, Line: lineOf(root, fe.Path), Path: fe.Path, Msg: fe.Msg})
			continue
		}
		errs = append(errs, &Error{File: file, Msg: e.Error()})
	}
	return errors.Join(errs...)
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

var pathPart = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// lineOf returns the line of the node at a dotted path like "world.locations[2].mean",
// or of the deepest ancestor present in the file (a defaulted key has no line of its own),
// or 0.
func lineOf(root *yaml.Node, path string) int {
	n, line := root, 0
	for _, m := range pathPart.FindAllStringSubmatch(path, -1) {
		var next *yaml.Node
		switch {
		case m[1] != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			if i, _ := strconv.Atoi(m[2]); i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

func readErrMsg(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
