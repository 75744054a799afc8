package experiments

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// ReadReturnsFile reads a returns CSV from path; see ReadReturns.
func ReadReturnsFile(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: readErrMsg(err)}
	}
	defer f.Close()
	return ReadReturns(path, f)
}

// ReadReturns reads one column of per-period simple returns, as `hivegym metrics` takes
// them: an optional header on the first line, one number per line, and an empty cell or
// NaN (any case) for a missing value, which is kept as NaN so that metrics that count
// rows (the annual return) see it. Anything else, including a second column or an
// infinite or out-of-range value, is an *Error naming the file and line, and so is a
// file without a single number (empty, a header alone, or only missing values).
func ReadReturns(name string, r io.Reader) ([]float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var out []float64
	numbers := 0 // rows that hold a number, not a missing value
	for line := 1; sc.Scan(); line++ {
		cell := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == 1 {
			cell = strings.TrimPrefix(cell, "\ufeff") // byte-order mark
		}
		if strings.Contains(cell, ",") {
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("want one column of returns, found %d", strings.Count(cell, ",")+1)}
		}
		if cell == "" || strings.EqualFold(cell, "nan") {
			out = append(out, math.NaN())
			continue
		}
		x, err := strconv.ParseFloat(cell, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("return %s is out of range (beyond ±%.3g)", cell, math.MaxFloat64)}
		}
		if err != nil {
			if line == 1 && !looksNumeric(cell) {
				continue // header
			}
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("not a number: %q", cell)}
		}
		if math.IsInf(x, 0) {
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("infinite return %q", cell)}
		}
		if x <= -1 {
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("a simple return must be greater than -1 (a loss of more than everything), got %s", cell)}
		}
		out = append(out, x)
		numbers++
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if numbers == 0 {
		what := "no rows"
		if len(out) > 0 {
			what = "only missing values"
		}
		return nil, &Error{File: name, Msg: "no returns to score: the file has " + what + " (a header alone is not a series)"}
	}
	return out, nil
}

// looksNumeric reports whether s starts like a number, so that "1.2x" on line 1 is an
// error rather than a header.
func looksNumeric(s string) bool {
	c := s[0]
	return c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')
}
