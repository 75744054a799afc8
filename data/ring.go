package data

// Ring is a fixed-capacity trailing window of float64 observations: Push overwrites
// the oldest value once the ring is full, and nothing allocates after NewRing.
type Ring struct {
	buf   []float64
	start int // index of the oldest value
	n     int
}

// NewRing returns an empty ring that keeps the last capacity values (capacity >= 1).
func NewRing(capacity int) *Ring {
	if capacity < 1 {
		panic("data: ring capacity must be at least 1")
	}
	return &Ring{buf: make([]float64, capacity)}
}

// Push appends x, dropping the oldest value when the ring is full.
func (r *Ring) Push(x float64) {
	if r.n < len(r.buf) {
		i := r.start + r.n
		if i >= len(r.buf) {
			i -= len(r.buf)
		}
		r.buf[i] = x
		r.n++
		return
	}
	r.buf[r.start] = x
	r.start++
	if r.start == len(r.buf) {
		r.start = 0
	}
}

// Len is the number of values held.
func (r *Ring) Len() int { return r.n }

// Cap is the capacity.
func (r *Ring) Cap() int { return len(r.buf) }

// At returns the i-th value, oldest first (0 <= i < Len).
func (r *Ring) At(i int) float64 {
	if i < 0 || i >= r.n {
		panic("data: ring index out of range")
	}
	j := r.start + i
	if j >= len(r.buf) {
		j -= len(r.buf)
	}
	return r.buf[j]
}

// Last returns the newest value (0 when empty).
func (r *Ring) Last() float64 {
	if r.n == 0 {
		return 0
	}
	return r.At(r.n - 1)
}

// Segments returns the values oldest first as two slices that alias the ring: a then b.
// They are valid until the next Push.
func (r *Ring) Segments() (a, b []float64) {
	end := r.start + r.n
	if end <= len(r.buf) {
		return r.buf[r.start:end], nil
	}
	return r.buf[r.start:], r.buf[:end-len(r.buf)]
}

// AppendTo appends the values, oldest first, to dst and returns it.
func (r *Ring) AppendTo(dst []float64) []float64 {
	a, b := r.Segments()
	return append(append(dst, a...), b...)
}

// Reset empties the ring.
func (r *Ring) Reset() { r.start, r.n = 0, 0 }
