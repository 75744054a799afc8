package main

import (
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/pflag"
)

// seedValue is a --seed flag: a whole number from 0 to 2^64-1. pflag's own uint64 flag
// reports a bad value with strconv's message ("strconv.ParseUint: parsing ...").
type seedValue uint64

func (s *seedValue) String() string { return strconv.FormatUint(uint64(*s), 10) }
func (s *seedValue) Type() string   { return "uint" }

func (s *seedValue) Set(v string) error {
	x, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		return fmt.Errorf("a seed is a whole number from 0 to %d", uint64(math.MaxUint64))
	}
	*s = seedValue(x)
	return nil
}

// seedVar defines a --seed flag on f that stores into p.
func seedVar(f *pflag.FlagSet, p *uint64, def uint64, usage string) {
	*p = def
	f.Var((*seedValue)(p), "seed", usage)
}
