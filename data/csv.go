package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Empty-cell policies of CSVOptions.Empty.
const (
	EmptyError = "error" // an empty (or null) cell is an error naming its line
	EmptySkip  = "skip"  // rows with an empty cell are dropped and counted
)

// Resampling modes of CSVSource.Resample.
const (
	ResampleHold    = "hold"    // the last sample at or before the tick's start
	ResampleAverage = "average" // the mean of the samples inside the tick; hold if none
)

// CSVSource is the config of a series read from a CSV file instead of generated. Empty
// resample and empty fields mean "hold" and "error"; a zero scale means 1.
type CSVSource struct {
	// Path of the file, relative to the working directory.
	Path string `yaml:"path"`
	// TimeColumn and ValueColumn name the header cells of the two columns used.
	TimeColumn  string `yaml:"time_column"`
	ValueColumn string `yaml:"value_column"`
	// Layout is the Go time layout of the timestamps (e.g. "2006-01-02", or
	// "02jan2006 15:04:05": month and weekday names match in any case). Times without a
	// zone are UTC.
	Layout string `yaml:"layout"`
	// Resample is "hold" or "average".
	Resample string `yaml:"resample"`
	// Empty is "error" or "skip": what an empty cell does.
	Empty string `yaml:"empty"`
	// NullTokens are cell texts that count as empty (e.g. "null" in Yahoo exports).
	NullTokens []string `yaml:"null_tokens"`
	// Scale multiplies every value (a unit or currency conversion).
	Scale float64 `yaml:"scale"`
	// From is the RFC 3339 time of the sample that tick 0 replays; empty means the
	// first sample. After the last sample the series holds its last value.
	From string `yaml:"from"`
}

// Options returns the reading options of the source.
func (s *CSVSource) Options() CSVOptions {
	return CSVOptions{TimeColumn: s.TimeColumn, ValueColumn: s.ValueColumn, Layout: s.Layout, Empty: s.Empty, NullTokens: s.NullTokens}
}

func (s *CSVSource) scale() float64 {
	if s.Scale == 0 {
		return 1
	}
	return s.Scale
}

func (s *CSVSource) resample() string {
	if s.Resample == "" {
		return ResampleHold
	}
	return s.Resample
}

// CSVOptions says how to read a real series from a CSV file.
type CSVOptions struct {
	TimeColumn  string
	ValueColumn string
	Layout      string
	// Empty is EmptyError (the default when empty) or EmptySkip.
	Empty      string
	NullTokens []string
}

// Series is a real series as read: timestamps in non-decreasing order and finite values.
type Series struct {
	// Name is the file name the series was read from.
	Name   string
	Times  []time.Time
	Values []float64
	// Lines are the 1-based file lines of the samples.
	Lines []int
	// Skipped counts rows dropped for an empty cell (EmptySkip only).
	Skipped int
}

// CSVError is a problem in a CSV file, at a line (0 when the whole file is at fault).
// Its text is "file:line: message". The CLI exits 2 on it.
type CSVError struct {
	File string
	Line int
	Msg  string
}

func (e *CSVError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadCSV reads the series at path with opts.
func LoadCSV(path string, opts CSVOptions) (*Series, error) {
	f, err := os.Open(path)
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &CSVError{File: path, Msg: msg}
	}
	defer f.Close()
	return ReadCSV(f, path, opts)
}

// ReadCSV reads a series from r; name is the file name used in errors.
//
// The first record is the header. Timestamps must not decrease (equal timestamps are
// kept: local-time exports repeat an hour when daylight saving time ends); values must
// be finite numbers. An empty cell, or one equal to a null token (any case), is an
// error or a skipped row as opts.Empty says.
func ReadCSV(r io.Reader, name string, opts CSVOptions) (*Series, error) {
	bad := func(line int, format string, args ...any) error {
		return &CSVError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	switch opts.Empty {
	case "", EmptyError, EmptySkip:
	default:
		return nil, bad(0, "empty-cell policy must be %q or %q, got %q", EmptyError, EmptySkip, opts.Empty)
	}
	if opts.Layout == "" {
		return nil, bad(0, "no time layout given")
	}
	layout := normalizeLayout(opts.Layout)
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, bad(1, "empty file: no header line")
		}
		return nil, csvParseError(name, err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		cols[i] = strings.TrimSpace(h)
	}
	ti, vi := -1, -1
	for i, h := range cols {
		if h == opts.TimeColumn && ti < 0 {
			ti = i
		}
		if h == opts.ValueColumn && vi < 0 {
			vi = i
		}
	}
	for _, c := range []struct {
		name string
		idx  int
	}{{opts.TimeColumn, ti}, {opts.ValueColumn, vi}} {
		if c.idx < 0 {
			return nil, bad(1, "no column %q in the header (columns: %s)", c.name, strings.Join(cols, ", "))
		}
	}
	s := &Series{Name: name}
	var prev time.Time
	prevLine := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvParseError(name, err)
		}
		line, _ := cr.FieldPos(0)
		tc, vc := strings.TrimSpace(rec[ti]), strings.TrimSpace(rec[vi])
		if isNull(tc, opts.NullTokens) || isNull(vc, opts.NullTokens) {
			if opts.Empty == EmptySkip {
				s.Skipped++
				continue
			}
			col := opts.ValueColumn
			if isNull(tc, opts.NullTokens) {
				col = opts.TimeColumn
			}
			return nil, bad(line, "empty cell in column %q (set empty: skip to drop such rows)", col)
		}
		t, err := time.Parse(layout, tc)
		if err != nil {
			return nil, bad(line, "timestamp %q does not match the layout %q", tc, opts.Layout)
		}
		v, err := strconv.ParseFloat(vc, 64)
		if err != nil {
			return nil, bad(line, "value %q in column %q is not a number", vc, opts.ValueColumn)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, bad(line, "value %q in column %q is not finite", vc, opts.ValueColumn)
		}
		if prevLine > 0 && t.Before(prev) {
			return nil, bad(line, "timestamp %s is before the one on line %d (%s): timestamps must not decrease",
				t.Format(time.RFC3339), prevLine, prev.Format(time.RFC3339))
		}
		prev, prevLine = t, line
		s.Times = append(s.Times, t)
		s.Values = append(s.Values, v)
		s.Lines = append(s.Lines, line)
	}
	if len(s.Values) == 0 {
		line := 1
		if l, _ := cr.FieldPos(0); l > 0 {
			line = l
		}
		return nil, bad(line, "no data rows (%d skipped for empty cells)", s.Skipped)
	}
	return s, nil
}

func isNull(cell string, tokens []string) bool {
	if cell == "" {
		return true
	}
	for _, t := range tokens {
		if strings.EqualFold(cell, strings.TrimSpace(t)) {
			return true
		}
	}
	return false
}

func csvParseError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "wrong number of fields (the header has a different count)"
		}
		return &CSVError{File: name, Line: pe.Line, Msg: msg}
	}
	return &CSVError{File: name, Msg: err.Error()}
}

// normalizeLayout turns month and weekday names written in any case in a layout
// ("02jan2006") into Go's tokens ("02Jan2006"). Go matches the names in values without
// regard to case, but recognizes the tokens in the layout only as Jan, January, Mon and
// Monday; a lowercase "jan" would be literal text that only January matches.
func normalizeLayout(layout string) string {
	tokens := []string{"January", "Monday", "Jan", "Mon"} // longest first
	var b strings.Builder
	for i := 0; i < len(layout); {
		matched := false
		for _, tok := range tokens {
			if len(layout)-i >= len(tok) && strings.EqualFold(layout[i:i+len(tok)], tok) &&
				!isLetter(before(layout, i)) && !isLetter(after(layout, i+len(tok))) {
				b.WriteString(tok)
				i += len(tok)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(layout[i])
			i++
		}
	}
	return b.String()
}

func before(s string, i int) byte {
	if i == 0 {
		return 0
	}
	return s[i-1]
}

func after(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	return s[i]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Resample returns n values of s on the tick grid start + k*tick, k = 0..n-1, by mode.
// start must not be before the first sample.
func (s *Series) Resample(start time.Time, tick time.Duration, n int, mode string) ([]float64, error) {
	rs, err := newResampler(s, start, tick, mode)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for k := range out {
		out[k] = rs.next()
	}
	return out, nil
}

// resampler walks a Series along the tick grid without allocating.
type resampler struct {
	times  []int64 // unix nanoseconds
	values []float64
	scale  float64
	t      int64 // start of the next tick
	tick   int64
	i      int     // index of the first sample not yet consumed
	last   float64 // last value held
	mode   string
}

func newResampler(s *Series, start time.Time, tick time.Duration, mode string) (*resampler, error) {
	if len(s.Values) == 0 {
		return nil, &CSVError{File: s.Name, Msg: "no samples"}
	}
	if tick <= 0 {
		return nil, fmt.Errorf("resample %s: tick must be positive, got %s", s.Name, tick)
	}
	if mode != ResampleHold && mode != ResampleAverage {
		return nil, fmt.Errorf("resample %s: mode must be %q or %q, got %q", s.Name, ResampleHold, ResampleAverage, mode)
	}
	if start.Before(s.Times[0]) {
		return nil, &CSVError{File: s.Name, Line: s.Lines[0], Msg: fmt.Sprintf("the first sample (%s) is after the start %s",
			s.Times[0].Format(time.RFC3339), start.Format(time.RFC3339))}
	}
	r := &resampler{values: s.Values, scale: 1, t: start.UnixNano(), tick: int64(tick), mode: mode}
	r.times = make([]int64, len(s.Times))
	for i, t := range s.Times {
		r.times[i] = t.UnixNano()
	}
	// Hold the last sample at or before start.
	for r.i < len(r.times) && r.times[r.i] <= r.t {
		r.last = r.values[r.i]
		r.i++
	}
	if r.mode == ResampleAverage {
		// Samples exactly at start belong to the first tick's average: step back over them.
		for r.i > 0 && r.times[r.i-1] == r.t {
			r.i--
		}
	}
	return r, nil
}

// next returns the value of the next tick.
func (r *resampler) next() float64 {
	t0, t1 := r.t, r.t+r.tick
	r.t = t1
	switch r.mode {
	case ResampleAverage:
		sum, n := 0.0, 0
		for r.i < len(r.times) && r.times[r.i] < t1 {
			if r.times[r.i] >= t0 {
				sum += r.values[r.i]
				n++
			}
			r.last = r.values[r.i]
			r.i++
		}
		if n > 0 {
			return r.scale * sum / float64(n)
		}
		return r.scale * r.last
	default: // hold: the last sample at or before t0
		v := r.last
		for r.i < len(r.times) && r.times[r.i] <= t0 {
			v = r.values[r.i]
			r.i++
		}
		r.last = v
		return r.scale * v
	}
}
