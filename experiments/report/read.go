package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"go.yaml.in/yaml/v3"
)

// The readers of the run-directory files of docs/run-dir.md. Each takes the file's
// name (for errors) and its content; a problem is an *experiments.Error naming the
// file and the 1-based line. Readers accept extra columns and extra JSON keys, so
// that a newer run directory still reports.

// The files of a run directory that the report reads.
const (
	fileRun      = "run.json"
	fileConfig   = "config.yaml"
	fileMetrics  = "metrics.json"
	fileCurves   = "curves.csv"
	fileEpisodes = "episodes.csv"
	fileEquity   = "equity.csv"
	fileMarket   = "market.csv"
	fileSeries   = "series.csv"
	fileThreads  = "threads.jsonl"
	fileStore    = "runs.db"
)

// runInfo is run.json and groupInfo one of its policy groups, as experiments writes
// them.
type (
	runInfo   = experiments.RunInfo
	groupInfo = experiments.RunGroup
)

// metricsDoc is metrics.json (the `hivegym eval --json` document).
type metricsDoc struct {
	Groups []metricsGroup `json:"groups"`
}

type metricsGroup struct {
	Name    string                 `json:"name"`
	Role    string                 `json:"role"`
	Kind    string                 `json:"kind"`
	Metrics map[string]metricValue `json:"metrics"`
}

type metricValue struct {
	Mean jsonfloat.Float   `json:"mean"`
	CI95 []jsonfloat.Float `json:"ci95"`
}

// sample is one row of curves.csv (Key = iteration) or episodes.csv (Key = seed).
type sample struct {
	Key    int64
	Group  string
	Metric string
	Value  float64
}

// equityRow is one row of equity.csv.
type equityRow struct {
	Seed   uint64
	Tick   int64
	Group  string
	Wealth float64
}

// marketColumns are the value columns of market.csv, in file order.
var marketColumns = []string{"deals", "requests", "deal_rate", "price_per_gpu_hour", "utilization", "gas_usd", "timeouts", "slashes"}

// marketRow is one row of market.csv; Values follow marketColumns (NaN when a column
// is absent).
type marketRow struct {
	Seed   uint64
	Tick   int64
	Values []float64
}

// seriesTable is series.csv: a time column and named value columns.
type seriesTable struct {
	Columns []string
	Times   []time.Time
	Values  [][]float64 // [column][row]
}

// thread is one line of threads.jsonl.
type thread struct {
	Thread   string  `json:"thread"`
	Provider string  `json:"provider"`
	Client   string  `json:"client"`
	Outcome  string  `json:"outcome"`
	Offers   []offer `json:"offers"`
}

type offer struct {
	Round int             `json:"round"`
	From  string          `json:"from"`
	Price jsonfloat.Float `json:"price_per_hour_usd"`
}

// configSummary is what the header shows of config.yaml.
type configSummary struct {
	Seed     string
	Scenario string
	Scheme   string
	Tick     time.Duration // 0 when unknown
	Start    time.Time     // zero when unknown
	Counts   []kv          // agent counts found in the config, e.g. market.providers
	Text     string        // the whole file
}

type kv struct{ K, V string }

func fileErr(file string, line int, format string, args ...any) error {
	return &experiments.Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// readOptional returns the content of dir/name, or nil when the file does not exist.
// An empty file counts as missing.
func readOptional(dir, name string) ([]byte, string, error) {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, p, nil
	}
	if err != nil {
		var pe *os.PathError
		msg := err.Error()
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, p, &experiments.Error{File: p, Msg: msg}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, p, nil
	}
	return b, p, nil
}

// jsonLine returns the 1-based line of byte offset off in b.
func jsonLine(b []byte, off int64) int {
	if off < 0 {
		off = 0
	}
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

// decodeJSON decodes one JSON document from b into v, mapping syntax and type errors
// to the line they occur on.
func decodeJSON(file string, b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	err := dec.Decode(v)
	if err == nil {
		if _, e := dec.Token(); !errors.Is(e, io.EOF) {
			return fileErr(file, jsonLine(b, dec.InputOffset()), "unexpected data after the JSON document")
		}
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fileErr(file, jsonLine(b, se.Offset), "invalid JSON: %s", se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fileErr(file, jsonLine(b, te.Offset), "%s: expected %s, got JSON %s", field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fileErr(file, jsonLine(b, int64(len(b))), "truncated JSON document")
	}
	// An error from a value's own UnmarshalJSON (a number field holding "high") carries
	// no offset: locate the value it quotes.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	line := jsonLine(b, dec.InputOffset())
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		if j := bytes.Index(b, []byte(msg[i+2:])); j >= 0 {
			line = jsonLine(b, int64(j))
		}
	}
	return fileErr(file, line, "%s", msg)
}

func parseRun(file string, b []byte) (*runInfo, error) {
	var r runInfo
	if err := decodeJSON(file, b, &r); err != nil {
		return nil, err
	}
	for i, g := range r.Groups {
		if g.Name == "" {
			return nil, fileErr(file, lineOfKey(b, "groups"), "groups[%d]: a group needs a name", i)
		}
	}
	return &r, nil
}

// lineOfKey returns the line of the first occurrence of the JSON key "key", or 0.
func lineOfKey(b []byte, key string) int {
	i := bytes.Index(b, []byte(`"`+key+`"`))
	if i < 0 {
		return 0
	}
	return jsonLine(b, int64(i))
}

func parseMetrics(file string, b []byte) (*metricsDoc, error) {
	var m metricsDoc
	if err := decodeJSON(file, b, &m); err != nil {
		return nil, err
	}
	for i, g := range m.Groups {
		if g.Name == "" {
			return nil, fileErr(file, lineOfKey(b, "groups"), "groups[%d]: a group needs a name", i)
		}
		for _, name := range sortedKeys(g.Metrics) {
			if v := g.Metrics[name]; v.CI95 != nil && len(v.CI95) != 2 {
				return nil, fileErr(file, lineOfKey(b, name), "groups[%d].metrics.%s.ci95: want [lo, hi], got %d numbers", i, name, len(v.CI95))
			}
		}
	}
	return &m, nil
}

// csvTable reads a CSV file with a header, checks that the required columns are
// there (in any order; other columns are ignored) and calls row for each record with
// a lookup of the required columns and the record's line.
func csvTable(file string, b []byte, required []string, optional []string, row func(get func(col string) (string, bool), line int) error) error {
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = true
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err != nil {
		return csvErr(file, err)
	}
	idx := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := idx[h]; dup {
			return fileErr(file, 1, "duplicate column %q", h)
		}
		idx[h] = i
	}
	for _, c := range required {
		if _, ok := idx[c]; !ok {
			return fileErr(file, 1, "missing column %q (header must have %s)", c, strings.Join(required, ","))
		}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvErr(file, err)
		}
		line, _ := r.FieldPos(0)
		get := func(col string) (string, bool) {
			i, ok := idx[col]
			if !ok {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		if err := row(get, line); err != nil {
			return err
		}
	}
}

func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileErr(file, pe.Line, "%s", pe.Err.Error())
	}
	if errors.Is(err, io.EOF) {
		return fileErr(file, 1, "no header line")
	}
	return fileErr(file, 0, "%s", err.Error())
}

func parseFloat(file string, line int, col, s string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fileErr(file, line, "column %q: not a number: %q", col, s)
	}
	return x, nil
}

func parseInt(file string, line int, col, s string) (int64, error) {
	x, err := strconv.ParseInt(s, 10, 64)
	if err != nil || x < 0 {
		return 0, fileErr(file, line, "column %q: not a non-negative integer: %q", col, s)
	}
	return x, nil
}

func parseUint(file string, line int, col, s string) (uint64, error) {
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fileErr(file, line, "column %q: not a non-negative integer: %q", col, s)
	}
	return x, nil
}

// parseSamples reads curves.csv (keyCol "iteration") or episodes.csv (keyCol "seed").
func parseSamples(file string, b []byte, keyCol string) ([]sample, error) {
	var out []sample
	err := csvTable(file, b, []string{keyCol, "group", "metric", "value"}, nil, func(get func(string) (string, bool), line int) error {
		var s sample
		k, _ := get(keyCol)
		key, err := parseUint(file, line, keyCol, k)
		if err != nil {
			return err
		}
		if key > math.MaxInt64 {
			return fileErr(file, line, "column %q: %d is too large", keyCol, key)
		}
		s.Key = int64(key)
		s.Group, _ = get("group")
		s.Metric, _ = get("metric")
		if s.Group == "" || s.Metric == "" {
			return fileErr(file, line, "empty group or metric")
		}
		v, _ := get("value")
		if s.Value, err = parseFloat(file, line, "value", v); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

func parseEquity(file string, b []byte) ([]equityRow, error) {
	var out []equityRow
	err := csvTable(file, b, []string{"seed", "tick", "group", "wealth"}, nil, func(get func(string) (string, bool), line int) error {
		var r equityRow
		var err error
		s, _ := get("seed")
		if r.Seed, err = parseUint(file, line, "seed", s); err != nil {
			return err
		}
		s, _ = get("tick")
		if r.Tick, err = parseInt(file, line, "tick", s); err != nil {
			return err
		}
		if r.Group, _ = get("group"); r.Group == "" {
			return fileErr(file, line, "empty group")
		}
		s, _ = get("wealth")
		if r.Wealth, err = parseFloat(file, line, "wealth", s); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// parseMarket reads market.csv; seed and tick are required, and at least one of the
// statistics columns.
func parseMarket(file string, b []byte) ([]marketRow, error) {
	var out []marketRow
	var present []bool
	err := csvTable(file, b, []string{"seed", "tick"}, marketColumns, func(get func(string) (string, bool), line int) error {
		if present == nil {
			present = make([]bool, len(marketColumns))
			anyCol := false
			for i, c := range marketColumns {
				_, present[i] = get(c)
				anyCol = anyCol || present[i]
			}
			if !anyCol {
				return fileErr(file, 1, "no statistics column (want some of %s)", strings.Join(marketColumns, ","))
			}
		}
		var r marketRow
		var err error
		s, _ := get("seed")
		if r.Seed, err = parseUint(file, line, "seed", s); err != nil {
			return err
		}
		s, _ = get("tick")
		if r.Tick, err = parseInt(file, line, "tick", s); err != nil {
			return err
		}
		r.Values = make([]float64, len(marketColumns))
		for i, c := range marketColumns {
			r.Values[i] = math.NaN()
			if s, ok := get(c); ok && s != "" {
				if r.Values[i], err = parseFloat(file, line, c, s); err != nil {
					return err
				}
			}
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// parseSeries reads series.csv: the first column an RFC 3339 timestamp, the others
// numbers (an empty cell is NaN).
func parseSeries(file string, b []byte) (*seriesTable, error) {
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err != nil {
		return nil, csvErr(file, err)
	}
	if len(header) < 2 {
		return nil, fileErr(file, 1, "want a time column and at least one series column")
	}
	t := &seriesTable{Columns: append([]string(nil), header[1:]...)}
	t.Values = make([][]float64, len(t.Columns))
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(file, err)
		}
		line, _ := r.FieldPos(0)
		ts, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, fileErr(file, line, "column %q: not an RFC 3339 time: %q", header[0], rec[0])
		}
		if n := len(t.Times); n > 0 && ts.Before(t.Times[n-1]) {
			return nil, fileErr(file, line, "time %s is before the previous row's", rec[0])
		}
		t.Times = append(t.Times, ts)
		for i := range t.Columns {
			s := strings.TrimSpace(rec[i+1])
			x := math.NaN()
			if s != "" {
				if x, err = parseFloat(file, line, t.Columns[i], s); err != nil {
					return nil, err
				}
			}
			t.Values[i] = append(t.Values[i], x)
		}
	}
	return t, nil
}

// maxLine bounds one line of threads.jsonl.
const maxLine = 16 << 20

func parseThreads(file string, b []byte) ([]thread, error) {
	var out []thread
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var th thread
		if err := decodeJSON(file, text, &th); err != nil {
			var e *experiments.Error
			if errors.As(err, &e) {
				e.Line = line
			}
			return nil, err
		}
		if th.Thread == "" {
			return nil, fileErr(file, line, `missing "thread" id`)
		}
		for i, o := range th.Offers {
			if o.From != "client" && o.From != "provider" {
				return nil, fileErr(file, line, `offers[%d].from: want "client" or "provider", got %q`, i, o.From)
			}
			if o.Round < 0 {
				return nil, fileErr(file, line, "offers[%d].round: negative round %d", i, o.Round)
			}
		}
		out = append(out, th)
	}
	if err := sc.Err(); err != nil {
		return nil, fileErr(file, line+1, "%s", err.Error())
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseConfig reads the parts of config.yaml the header shows, leniently: the file
// must be YAML, but any keys may be there (it may come from another hivegym version).
func parseConfig(file string, b []byte) (*configSummary, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			// YAML counts a lone CR as a line break; editors and this error's reader
			// count LF.
			line = min(line, 1+bytes.Count(b, []byte("\n")))
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		msg = strings.TrimLeft(msg, ": ")
		return nil, fileErr(file, line, "invalid YAML: %s", msg)
	}
	c := &configSummary{Text: string(b)}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return c, nil
	}
	c.Seed = scalarAt(root, "seed")
	c.Scenario = scalarAt(root, "world.scenario.name")
	for _, k := range []string{"scheme.name", "scheme.kind", "scheme", "market.scheme.name", "market.scheme", "env.scheme"} {
		if v := scalarAt(root, k); v != "" {
			c.Scheme = v
			break
		}
	}
	if s := scalarAt(root, "world.tick"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			c.Tick = d
		}
	}
	if s := scalarAt(root, "world.start"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			c.Start = t.UTC()
		}
	}
	walkScalars(root, "", func(path, value string) {
		last := path[strings.LastIndex(path, ".")+1:]
		switch last {
		case "providers", "clients", "num_providers", "num_clients", "n_providers", "n_clients", "agents":
			if _, err := strconv.Atoi(value); err == nil {
				c.Counts = append(c.Counts, kv{path, value})
			}
		}
	})
	return c, nil
}

// scalarAt returns the scalar value at a dotted key path of a mapping, or "".
func scalarAt(n *yaml.Node, path string) string {
	for _, part := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return ""
		}
		n = next
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// walkScalars calls f for every scalar under mappings, in document order.
func walkScalars(n *yaml.Node, prefix string, f func(path, value string)) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		switch v.Kind {
		case yaml.ScalarNode:
			f(p, v.Value)
		case yaml.MappingNode:
			walkScalars(v, p, f)
		}
	}
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
