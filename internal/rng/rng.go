// Package rng derives the named, seeded random streams that every other package uses.
//
// One run seed fixes everything. Each consumer (a series generator, an agent, the job
// arrival process) asks for its own stream by name, so adding a consumer or drawing more
// numbers from one stream never shifts the numbers another stream sees. Streams are PCG
// generators from math/rand/v2; the global source and the wall clock are never used.
package rng

import "math/rand/v2"

// New returns a PCG-backed generator for the stream called name under the run seed.
// The same (seed, name) always gives the same sequence; distinct names give
// independent-looking sequences.
func New(seed uint64, name string) *rand.Rand {
	return rand.New(NewSource(seed, name))
}

// NewSource returns the PCG source behind New, for callers that store the source itself
// (to copy or reseed it without allocating a new *rand.Rand).
func NewSource(seed uint64, name string) *rand.PCG {
	h := Hash(name)
	return rand.NewPCG(mix(seed^h), mix(seed+0x9e3779b97f4a7c15^(h<<1|1)))
}

// Hash is the 64-bit FNV-1a hash of s. It names a stream; it is not a cryptographic hash.
func Hash(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// mix is the SplitMix64 finalizer (Steele, Lea, Flood 2014), which spreads nearby seeds
// (0, 1, 2, ...) over the whole state space.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
