package data

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	ethFile     = "../examples/data/eth-usd-daily.csv"
	belgiumFile = "../examples/data/belgium-day-ahead-hourly.csv"
)

func ethOpts() CSVOptions {
	return CSVOptions{TimeColumn: "Date", ValueColumn: "Close", Layout: "2006-01-02", Empty: EmptySkip, NullTokens: []string{"null"}}
}

func belgiumOpts(empty string) CSVOptions {
	return CSVOptions{TimeColumn: "time", ValueColumn: "DAM_price", Layout: "02jan2006 15:04:05", Empty: empty}
}

func wantCSVError(t *testing.T, err error, file string, line int, frag string) {
	t.Helper()
	var ce *CSVError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *CSVError", err)
	}
	if ce.File != file || ce.Line != line {
		t.Errorf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, file, line, err)
	}
	if !strings.Contains(err.Error(), frag) {
		t.Errorf("error %q does not contain %q", err, frag)
	}
	if want := file + ":"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}

// TestLoadETH reads the real ETH file: 2,302 daily rows (lines 2-2303), of which 4 are
// "null" days. The
// first and last closes are read off the file.
func TestLoadETH(t *testing.T) {
	s, err := LoadCSV(ethFile, ethOpts())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Values) != 2298 || s.Skipped != 4 {
		t.Errorf("got %d values, %d skipped; want 2298 and 4", len(s.Values), s.Skipped)
	}
	if s.Values[0] != 2.772120 || !s.Times[0].Equal(time.Date(2015, 8, 7, 0, 0, 0, 0, time.UTC)) || s.Lines[0] != 2 {
		t.Errorf("first sample %v %g (line %d), want 2015-08-07 2.772120 (line 2)", s.Times[0], s.Values[0], s.Lines[0])
	}
	last := len(s.Values) - 1
	if s.Values[last] != 4286.681641 || !s.Times[last].Equal(time.Date(2021, 11, 24, 0, 0, 0, 0, time.UTC)) || s.Lines[last] != 2303 {
		t.Errorf("last sample %v %g (line %d)", s.Times[last], s.Values[last], s.Lines[last])
	}
	// With the null days as errors: the first is 2020-04-17 on line 1717.
	o := ethOpts()
	o.Empty = EmptyError
	_, err = LoadCSV(ethFile, o)
	wantCSVError(t, err, ethFile, 1717, `empty cell in column "Close"`)
	// Without the null token, "null" is not a number.
	o.NullTokens = nil
	_, err = LoadCSV(ethFile, o)
	wantCSVError(t, err, ethFile, 1717, `value "null" in column "Close" is not a number`)
}

// TestLoadBelgium reads the real Belgian file with its lowercase month names, its DST
// hours and its empty cells: 26,307 rows, 3,724 empty (see examples/data/README.md),
// 618 negative prices.
func TestLoadBelgium(t *testing.T) {
	s, err := LoadCSV(belgiumFile, belgiumOpts(EmptySkip))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Values) != 26307-3724 || s.Skipped != 3724 {
		t.Errorf("got %d values and %d skipped, want %d and 3724", len(s.Values), s.Skipped, 26307-3724)
	}
	neg := 0
	maxV := 0.0
	for _, v := range s.Values {
		if v < 0 {
			neg++
		}
		maxV = math.Max(maxV, v)
	}
	if neg != 618 {
		t.Errorf("%d negative hours, want 618", neg)
	}
	if math.Abs(maxV-0.871) > 0.0005 {
		t.Errorf("max price %g, want about 0.871", maxV)
	}
	if !s.Times[0].Equal(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)) || s.Values[0] != 0.0820199966430664 {
		t.Errorf("first sample %v %g", s.Times[0], s.Values[0])
	}
	// A month that only a case-insensitive layout token reads: line 746 is
	// 01feb2022 00:00 (line 2 + 31 days * 24 hours).
	found := false
	for i, l := range s.Lines {
		if l == 746 {
			found = true
			if !s.Times[i].Equal(time.Date(2022, 2, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("line 746 read as %v, want 2022-02-01 00:00", s.Times[i])
			}
		}
	}
	if !found {
		t.Errorf("line 746 missing")
	}
	// The October DST hour is repeated: equal timestamps are kept in order.
	dup := 0
	for i := 1; i < len(s.Times); i++ {
		if s.Times[i].Equal(s.Times[i-1]) {
			dup++
		}
	}
	// October 2022 and 2023; October 2024 is inside the empty tail.
	if dup != 2 {
		t.Errorf("%d repeated timestamps, want 2 (October 2022 and 2023)", dup)
	}
	// Error mode: the first empty cell is the skipped March hour on line 2044.
	_, err = LoadCSV(belgiumFile, belgiumOpts(EmptyError))
	wantCSVError(t, err, belgiumFile, 2044, `empty cell in column "DAM_price"`)
}

func TestCSVErrors(t *testing.T) {
	cases := []struct {
		name, src string
		opts      CSVOptions
		line      int
		frag      string
	}{
		{"non-monotonic", "t,v\n2024-01-01,1\n2024-01-03,2\n2024-01-02,3\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			4, "timestamp 2024-01-02T00:00:00Z is before the one on line 3"},
		{"NaN", "t,v\n2024-01-01,1\n2024-01-02,NaN\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			3, `value "NaN" in column "v" is not finite`},
		{"Inf", "t,v\n2024-01-01,-Inf\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			2, "not finite"},
		{"missing value column", "t,v\n2024-01-01,1\n", CSVOptions{TimeColumn: "t", ValueColumn: "price", Layout: "2006-01-02"},
			1, `no column "price" in the header (columns: t, v)`},
		{"missing time column", "t,v\n2024-01-01,1\n", CSVOptions{TimeColumn: "Date", ValueColumn: "v", Layout: "2006-01-02"},
			1, `no column "Date"`},
		{"bad timestamp", "t,v\n2024-01-01,1\n01/02/2024,2\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			3, `timestamp "01/02/2024" does not match the layout "2006-01-02"`},
		{"not a number", "t,v\n2024-01-01,1.2.3\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			2, `value "1.2.3" in column "v" is not a number`},
		{"field count", "t,v\n2024-01-01,1\n2024-01-02,2,3\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			3, "wrong number of fields"},
		{"empty cell", "t,v\n2024-01-01,1\n2024-01-02,\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			3, `empty cell in column "v"`},
		{"empty file", "", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			1, "empty file"},
		{"no rows", "t,v\n2024-01-01,\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02", Empty: EmptySkip},
			2, "no data rows (1 skipped"},
		{"bare quote", "t,v\n2024-01-01,\"1\n", CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006-01-02"},
			2, "quote"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".csv")
			if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCSV(p, c.opts)
			if err == nil {
				t.Fatal("no error")
			}
			wantCSVError(t, err, p, c.line, c.frag)
		})
	}
	_, err := LoadCSV(filepath.Join(dir, "nope.csv"), CSVOptions{TimeColumn: "t", ValueColumn: "v", Layout: "2006"})
	var ce *CSVError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "nope.csv: no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestNormalizeLayout(t *testing.T) {
	cases := map[string]string{
		"02jan2006 15:04:05":        "02Jan2006 15:04:05",
		"02Jan2006":                 "02Jan2006",
		"january 2, 2006":           "January 2, 2006",
		"mon, 02 JAN 2006":          "Mon, 02 Jan 2006",
		"MONDAY 2006-01-02":         "Monday 2006-01-02",
		"2006-01-02T15:04:05Z07:00": "2006-01-02T15:04:05Z07:00",
		"month 01":                  "month 01", // "mon" inside a word is literal
		"janx":                      "janx",
	}
	for in, want := range cases {
		if got := normalizeLayout(in); got != want {
			t.Errorf("normalizeLayout(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestResample checks hold and average on a hand-made hourly series resampled to
// 30-minute and 2-hour ticks.
func TestResample(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Series{Name: "s", Lines: []int{2, 3, 4, 5}}
	for i, v := range []float64{1, 2, 4, 8} {
		s.Times = append(s.Times, t0.Add(time.Duration(i)*time.Hour))
		s.Values = append(s.Values, v)
	}
	// 30-minute ticks from 00:00, hold: 1 1 2 2 4 4 8 8 8 (held past the end).
	got, err := s.Resample(t0, 30*time.Minute, 9, ResampleHold)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 1, 2, 2, 4, 4, 8, 8, 8}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hold 30m = %v, want %v", got, want)
		}
	}
	// 2-hour ticks, average: [00,02) -> (1+2)/2 = 1.5; [02,04) -> (4+8)/2 = 6; then 8 held.
	got, _ = s.Resample(t0, 2*time.Hour, 3, ResampleAverage)
	want = []float64{1.5, 6, 8}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("average 2h = %v, want %v", got, want)
		}
	}
	// Average with ticks finer than the data holds between samples: 30m from 00:00.
	got, _ = s.Resample(t0, 30*time.Minute, 4, ResampleAverage)
	want = []float64{1, 1, 2, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("average 30m = %v, want %v", got, want)
		}
	}
	// Starting at 01:30: hold gives 2, then 4 at 02:30... with 1h ticks: 2, 4, 8.
	got, _ = s.Resample(t0.Add(90*time.Minute), time.Hour, 3, ResampleHold)
	want = []float64{2, 4, 8}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hold from 01:30 = %v, want %v", got, want)
		}
	}
	if _, err := s.Resample(t0.Add(-time.Hour), time.Hour, 1, ResampleHold); err == nil {
		t.Errorf("start before the first sample: no error")
	}
}

// FuzzLoadCSV feeds arbitrary bytes to the reader. It must never panic; a success
// has non-decreasing timestamps and finite values; a failure is a *CSVError whose
// text starts with "name:".
func FuzzLoadCSV(f *testing.F) {
	f.Add([]byte("time,DAM_price\n01jan2022 00:00:00,.08\n01jan2022 01:00:00,\n"), true)
	f.Add([]byte("time,DAM_price\n01jan2022 00:00:00,NaN\n"), false)
	f.Add([]byte("time,DAM_price\n02jan2022 00:00:00,1\n01jan2022 00:00:00,2\n"), false)
	f.Add([]byte("x,y\n1,2\n"), false)
	f.Add([]byte("time,DAM_price\r\n01feb2022 00:00:00,-0.5\r\n01feb2022 00:00:00,1e3\r\n"), true)
	f.Add([]byte("\ufefftime,DAM_price\n\"01jan2022 00:00:00\",\"1\"\n"), false)
	f.Fuzz(func(t *testing.T, src []byte, skip bool) {
		opts := CSVOptions{TimeColumn: "time", ValueColumn: "DAM_price", Layout: "02jan2006 15:04:05", NullTokens: []string{"null"}}
		if skip {
			opts.Empty = EmptySkip
		}
		s, err := ReadCSV(strings.NewReader(string(src)), "f.csv", opts)
		if err != nil {
			var ce *CSVError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "f.csv:") {
				t.Fatalf("error %q is not a *CSVError naming the file", err)
			}
			return
		}
		if len(s.Values) == 0 || len(s.Values) != len(s.Times) || len(s.Lines) != len(s.Values) {
			t.Fatalf("inconsistent series: %d values, %d times, %d lines", len(s.Values), len(s.Times), len(s.Lines))
		}
		for i, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("value %d not finite: %g", i, v)
			}
			if i > 0 && (s.Times[i].Before(s.Times[i-1]) || s.Lines[i] <= s.Lines[i-1]) {
				t.Fatalf("sample %d out of order", i)
			}
		}
		if _, err := s.Resample(s.Times[0], time.Hour, 10, ResampleAverage); err != nil {
			t.Fatalf("resample: %v", err)
		}
	})
}
