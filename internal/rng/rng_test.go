package rng

import "testing"

func TestSameSeedSameStream(t *testing.T) {
	a, b := New(42, "eth"), New(42, "eth")
	for i := 0; i < 1000; i++ {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("draw %d: %d != %d", i, x, y)
		}
	}
}

func TestStreamsDiffer(t *testing.T) {
	cases := []struct {
		seedA uint64
		nameA string
		seedB uint64
		nameB string
	}{
		{1, "eth", 1, "gas"},
		{1, "eth", 2, "eth"},
		{0, "", 1, ""},
		{0, "a", 0, "b"},
	}
	for _, c := range cases {
		a, b := New(c.seedA, c.nameA), New(c.seedB, c.nameB)
		same := 0
		for i := 0; i < 64; i++ {
			if a.Uint64() == b.Uint64() {
				same++
			}
		}
		if same > 0 {
			t.Errorf("(%d,%q) and (%d,%q) share %d of 64 draws", c.seedA, c.nameA, c.seedB, c.nameB, same)
		}
	}
}

func TestHashFNV1a(t *testing.T) {
	// Reference values of 64-bit FNV-1a from the algorithm's published test vectors.
	cases := map[string]uint64{
		"":  0xcbf29ce484222325,
		"a": 0xaf63dc4c8601ec8c,
	}
	for s, want := range cases {
		if got := Hash(s); got != want {
			t.Errorf("Hash(%q) = %#x, want %#x", s, got, want)
		}
	}
}
