package experiments

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
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

// LoadFile reads the YAML config at path over the defaults and validates it.
func LoadFile(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &Error{File: path, Msg: readErrMsg(err)}
	}
	return Load(path, b)
}

// Load decodes src (named name in errors) over the defaults, strictly: an unknown key,
// a duplicate key or a value of the wrong type is an *Error naming the key and its line.
// The result is validated; validation errors carry the line of the offending key.
func Load(name string, src []byte) (Config, error) {
	return decode(name, src, DefaultConfig())
}

func decode(name string, src []byte, base Config) (Config, error) {
	cfg := base
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
