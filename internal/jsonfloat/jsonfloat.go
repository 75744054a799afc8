// Package jsonfloat writes float64 values to JSON the way specs/cli.md says: finite
// numbers as JSON numbers, and NaN, +Inf and -Inf as the strings "NaN", "+Inf" and
// "-Inf" (encoding/json refuses non-finite numbers outright).
package jsonfloat

import (
	"fmt"
	"math"
	"strconv"
)

// Float is a float64 that marshals non-finite values as strings and reads them back.
type Float float64

// NonFinite returns how hivegym spells a non-finite x in every output, JSON, CSV and
// tables alike: "NaN", "+Inf" or "-Inf"; ok is false for a finite x.
func NonFinite(x float64) (s string, ok bool) {
	switch {
	case math.IsNaN(x):
		return "NaN", true
	case math.IsInf(x, 1):
		return "+Inf", true
	case math.IsInf(x, -1):
		return "-Inf", true
	}
	return "", false
}

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if s, ok := NonFinite(float64(f)); ok {
		return []byte(`"` + s + `"`), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = Float(math.NaN())
		return nil
	case `"+Inf"`, `"Inf"`:
		*f = Float(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = Float(math.Inf(-1))
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("jsonfloat: not a number: %s", b)
	}
	*f = Float(x)
	return nil
}
