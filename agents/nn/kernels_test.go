package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/hivegym/hivegym/internal/rng"
)

func TestFastTanh(t *testing.T) {
	var worst float64
	for i := -1_200_000; i <= 1_200_000; i++ {
		x := float32(i) * 1e-5
		got := fastTanh(x)
		want := math.Tanh(float64(x))
		worst = math.Max(worst, math.Abs(float64(got)-want))
		if got != -fastTanh(-x) {
			t.Fatalf("fastTanh is not odd at %g", x)
		}
	}
	// float32 has 2^-24 ≈ 6e-8 relative precision; "a few ulp" is < 5e-7 absolute.
	if worst > 5e-7 {
		t.Errorf("max |fastTanh - tanh| on [-12, 12] = %g, want <= 5e-7", worst)
	}
	for _, x := range []float32{9, 20, float32(math.Inf(1))} {
		if got := fastTanh(x); math.Abs(float64(got)-1) > 1e-7 || fastTanh(-x) != -got {
			t.Errorf("fastTanh(±%g) = %g, want ±1", x, got)
		}
	}
	if fastTanh(0) != 0 {
		t.Error("fastTanh(0) != 0")
	}
	if v := fastTanh(float32(math.NaN())); !math.IsNaN(float64(v)) {
		t.Errorf("fastTanh(NaN) = %g, want NaN", v)
	}
}

// TestSerialGemm compares the tiled gemm with a triple loop on sizes around the tile
// bounds, for the three operand layouts the MLP uses.
func TestSerialGemm(t *testing.T) {
	r := rng.New(1, "gemm")
	k64 := kernelsFor[float64]()
	k32 := kernelsFor[float32]()
	// Tiles are 192 rows × 64 columns: cross both bounds.
	rowSizes, colSizes := []int{1, 65, 193}, []int{1, 64, 65, 129}
	for _, ops := range [][2]blas.Transpose{{blas.NoTrans, blas.Trans}, {blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}} {
		for _, m := range rowSizes {
			for _, n := range colSizes {
				k := 1 + (m*7+n)%70
				a := make([]float64, m*k)
				b := make([]float64, k*n)
				c0 := make([]float64, m*n)
				for i := range a {
					a[i] = r.NormFloat64()
				}
				for i := range b {
					b[i] = r.NormFloat64()
				}
				for i := range c0 {
					c0[i] = r.NormFloat64()
				}
				at := func(i, l int) float64 { // op(A)[i][l]
					if ops[0] == blas.Trans {
						return a[l*m+i]
					}
					return a[i*k+l]
				}
				bt := func(l, j int) float64 { // op(B)[l][j]
					if ops[1] == blas.Trans {
						return b[j*k+l]
					}
					return b[l*n+j]
				}
				lda, ldb := k, n
				if ops[0] == blas.Trans {
					lda = m
				}
				if ops[1] == blas.Trans {
					ldb = k
				}
				for _, beta := range []float64{0, 1} {
					c := append([]float64(nil), c0...)
					serialGemm(k64.gemm, ops[0], ops[1], m, n, k, a, lda, b, ldb, beta, c, n)
					c32 := make([]float32, len(c0))
					a32, b32 := make([]float32, len(a)), make([]float32, len(b))
					for i, v := range c0 {
						c32[i] = float32(v)
					}
					for i, v := range a {
						a32[i] = float32(v)
					}
					for i, v := range b {
						b32[i] = float32(v)
					}
					serialGemm(k32.gemm, ops[0], ops[1], m, n, k, a32, lda, b32, ldb, float32(beta), c32, n)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							want := beta * c0[i*n+j]
							for l := 0; l < k; l++ {
								want += at(i, l) * bt(l, j)
							}
							if got := c[i*n+j]; math.Abs(got-want) > 1e-12*(1+math.Abs(want))*float64(k) {
								t.Fatalf("ops %v m %d n %d k %d beta %g: C[%d,%d] = %g, want %g", ops, m, n, k, beta, i, j, got, want)
							}
							if got := float64(c32[i*n+j]); math.Abs(got-want) > 1e-5*(1+math.Abs(want))*math.Sqrt(float64(k)) {
								t.Fatalf("float32 ops %v m %d n %d k %d beta %g: C[%d,%d] = %g, want %g", ops, m, n, k, beta, i, j, got, want)
							}
						}
					}
				}
			}
		}
	}
}
