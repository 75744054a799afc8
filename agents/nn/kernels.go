package nn

import (
	"math"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// scalar is the element type of the pure-Go implementation: float32 for the backend,
// float64 for the tests that check gradients against finite differences on the same code.
type scalar interface{ float32 | float64 }

// gemmFunc is the signature of gonum's Sgemm and Dgemm:
// C = alpha op(A) op(B) + beta C with row-major storage.
type gemmFunc[T scalar] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// kernels are the element-type-specific routines, chosen once when a module is built.
type kernels[T scalar] struct {
	gemm gemmFunc[T]
	tanh func(z []T) // in place
}

func kernelsFor[T scalar]() kernels[T] {
	var impl gonum.Implementation
	var zero T
	switch any(zero).(type) {
	case float32:
		return kernels[T]{
			gemm: any(gemmFunc[float32](impl.Sgemm)).(gemmFunc[T]),
			tanh: any(tanh32).(func([]T)),
		}
	default:
		return kernels[T]{
			gemm: any(gemmFunc[float64](impl.Dgemm)).(gemmFunc[T]),
			tanh: any(tanh64).(func([]T)),
		}
	}
}

// Tile bounds for serialGemm. gonum's gemm splits C into 64×64 blocks and runs them on
// goroutines once there are at least 4 blocks; a tile of at most 192×64 has at most 3,
// so each call stays on the calling goroutine and allocates nothing. Parallelism in
// hivegym is across environments, not inside one matrix product.
const (
	tileRows = 192
	tileCols = 64
)

// serialGemm computes C = op(A) op(B) + beta C (alpha = 1) tile by tile over C. Each
// element of C is still computed over the full inner dimension in one call, so the
// result does not depend on the tiling.
func serialGemm[T scalar](g gemmFunc[T], tA, tB blas.Transpose, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i0 := 0; i0 < m; i0 += tileRows {
		mt := min(tileRows, m-i0)
		aOff := i0 * lda // rows of A (NoTrans: m×k)
		if tA == blas.Trans {
			aOff = i0 // columns of A (Trans: k×m)
		}
		for j0 := 0; j0 < n; j0 += tileCols {
			nt := min(tileCols, n-j0)
			bOff := j0 // columns of B (NoTrans: k×n)
			if tB == blas.Trans {
				bOff = j0 * ldb // rows of B (Trans: n×k)
			}
			g(tA, tB, mt, nt, k, 1, a[aOff:], lda, b[bOff:], ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// tanh64 is math.Tanh elementwise.
func tanh64(z []float64) {
	for i, v := range z {
		z[i] = math.Tanh(v)
	}
}

// tanh32 applies fastTanh elementwise.
func tanh32(z []float32) {
	for i, v := range z {
		z[i] = fastTanh(v)
	}
}

// fastTanh is tanh in float32 by the 13/6-degree odd/even rational interpolant of Eigen's
// generic_fast_tanh_float (MathFunctionsImpl.h), accurate to a few ulp on [-9, 9] and
// clamped outside, where tanh is ±1 in float32. It is about ten times faster than
// float32(math.Tanh(float64(x))) and agrees with it to 4e-7 (tested).
func fastTanh(x float32) float32 {
	if x > 9 {
		x = 9
	} else if x < -9 {
		x = -9
	}
	x2 := x * x
	p := x2*-2.76076847742355e-16 + 2.00018790482477e-13
	p = p*x2 + -8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	p *= x
	q := x2*1.19825839466702e-06 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return p / q
}

// relu sets negative entries of z to zero, in place (NaN passes through, as in PyTorch).
func relu[T scalar](z []T) {
	for i, v := range z {
		if v < 0 {
			z[i] = 0
		}
	}
}

// parMinWork is the number of multiply-adds (m·n·k) from which a module's matrix
// product is split in two halves of C, one computed on the module's helper goroutine
// beside the other. Below it, handing work over costs about what it saves.
const parMinWork = 1 << 17

// gemmJob is one serialGemm call handed to a gemmHelper.
type gemmJob[T scalar] struct {
	g       gemmFunc[T]
	tA, tB  blas.Transpose
	m, n, k int
	a       []T
	lda     int
	b       []T
	ldb     int
	beta    T
	c       []T
	ldc     int
}

func (j *gemmJob[T]) run() {
	serialGemm(j.g, j.tA, j.tB, j.m, j.n, j.k, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
}

// gemmHelper is a long-lived goroutine that runs one gemmJob at a time, so that handing
// work over allocates nothing. It holds no reference to its module; a cleanup closes
// jobs, ending the goroutine, once the module is unreachable.
type gemmHelper[T scalar] struct {
	jobs chan *gemmJob[T]
	done chan struct{}
	job  gemmJob[T]
}

func (h *gemmHelper[T]) loop() {
	for j := range h.jobs {
		j.run()
		h.done <- struct{}{}
	}
}

// splitGemm computes what serialGemm(g, ...) computes, for a large enough product with
// half of C's rows (or, for a single row, of its columns) on helper's goroutine. Every
// element of C is computed by exactly the same operations, in the same order, as by
// serialGemm (each over the full inner dimension in one gemm call, from the same
// addresses), so the result is bit-identical whatever the scheduling and GOMAXPROCS.
// *helper is started on first use, with owner as the value whose collection ends it.
func splitGemm[T scalar, O any](owner *O, helper **gemmHelper[T], g gemmFunc[T], tA, tB blas.Transpose, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m*n*k < parMinWork || (m < 2 && n < 2) {
		serialGemm(g, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	h := *helper
	if h == nil {
		h = &gemmHelper[T]{jobs: make(chan *gemmJob[T]), done: make(chan struct{})}
		go h.loop()
		runtime.AddCleanup(owner, func(h *gemmHelper[T]) { close(h.jobs) }, h)
		*helper = h
	}
	j := &h.job
	*j = gemmJob[T]{g: g, tA: tA, tB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	if m >= 2 {
		h1 := m / 2
		aOff := h1 * lda // rows of A (NoTrans: m×k)
		if tA == blas.Trans {
			aOff = h1 // columns of A (Trans: k×m)
		}
		j.m, j.a, j.c = m-h1, a[aOff:], c[h1*ldc:]
		h.jobs <- j
		serialGemm(g, tA, tB, h1, n, k, a, lda, b, ldb, beta, c, ldc)
	} else {
		h1 := n / 2
		bOff := h1 // columns of B (NoTrans: k×n)
		if tB == blas.Trans {
			bOff = h1 * ldb // rows of B (Trans: n×k)
		}
		j.n, j.b, j.c = n-h1, b[bOff:], c[h1:]
		h.jobs <- j
		serialGemm(g, tA, tB, m, h1, k, a, lda, b, ldb, beta, c, ldc)
	}
	<-h.done
	*j = gemmJob[T]{}
}
