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

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
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
