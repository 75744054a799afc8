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

// TestSplitGemmBitIdentical: splitGemm, which computes half of C on a helper goroutine,
// gives exactly the bits of one serialGemm call (signed zeros included) for every
// transpose, for products split by rows and by columns, and allocates nothing once its
// helper runs.
func TestSplitGemmBitIdentical(t *testing.T) {
	r := rng.New(3, "splitgemm")
	k32 := kernelsFor[float32]()
	o := new(int) // the helper's owner: its collection would end the helper
	var h *gemmHelper[float32]
	shapes := [][3]int{{300, 70, 64}, {1, 200, 700}, {64, 37, 1500}, {513, 1, 300}, {2, 2, 40000}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		if m*n*k < parMinWork {
			t.Fatalf("shape %v does not reach the split threshold %d", sh, parMinWork)
		}
		for _, ops := range [][2]blas.Transpose{{blas.NoTrans, blas.NoTrans}, {blas.NoTrans, blas.Trans}, {blas.Trans, blas.NoTrans}, {blas.Trans, blas.Trans}} {
			a, b := make([]float32, m*k), make([]float32, k*n)
			for i := range a {
				a[i] = float32(r.NormFloat64())
				if i%7 == 0 {
					a[i] = 0 // gonum skips zero multipliers: the split must too
				}
			}
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			lda, ldb := k, n
			if ops[0] == blas.Trans {
				lda = m
			}
			if ops[1] == blas.Trans {
				ldb = k
			}
			for _, beta := range []float32{0, 1} {
				c0 := make([]float32, m*n)
				for i := range c0 {
					c0[i] = float32(r.NormFloat64())
					if i%5 == 0 {
						c0[i] = float32(math.Copysign(0, -1))
					}
				}
				want := append([]float32(nil), c0...)
				serialGemm(k32.gemm, ops[0], ops[1], m, n, k, a, lda, b, ldb, beta, want, n)
				got := append([]float32(nil), c0...)
				splitGemm(o, &h, k32.gemm, ops[0], ops[1], m, n, k, a, lda, b, ldb, beta, got, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("ops %v shape %v beta %g: C[%d] = %g (%#x), serial %g (%#x)", ops, sh, beta, i,
							got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	}
	if h == nil {
		t.Fatal("no product was split")
	}
	m, n, k := 300, 64, 64
	a, b, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	if allocs := testing.AllocsPerRun(20, func() {
		splitGemm(o, &h, k32.gemm, blas.NoTrans, blas.Trans, m, n, k, a, k, b, k, 0, c, n)
	}); allocs != 0 {
		t.Errorf("splitGemm allocates %g times per call", allocs)
	}
}

// TestBackwardSingleOutputBitIdentical: the input gradient of a layer with one output,
// which backward computes without gemm, has exactly the bits of the gemm call it
// replaces (0 + (0 + dz·w), so -0 becomes +0), on a linear model In → 1 where the
// layer's input gradient is the module's.
func TestBackwardSingleOutputBitIdentical(t *testing.T) {
	spec := MLPSpec{In: 5, Out: 1, Activation: Tanh, HiddenGain: HiddenGain, OutGain: 1}
	m, err := newMLP[float32](spec, 4)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 6
	x := make([]float32, batch*spec.In)
	r := rng.New(4, "single")
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	out := make([]float32, batch)
	if err := m.Forward(out, x, batch); err != nil {
		t.Fatal(err)
	}
	negZero := float32(math.Copysign(0, -1))
	gradOut := []float32{0.5, negZero, -1.25, 0, 3, -0.75}
	ly := m.layers[0]
	m.params[ly.w+2] = negZero // a -0 weight: dz·w = ±0 in every row
	got := make([]float32, batch*spec.In)
	if err := m.Backward(got, gradOut); err != nil {
		t.Fatal(err)
	}
	// Reference: the gemm call backward makes for wider layers (dz batch×1, Wᵀ in×1).
	want := make([]float32, batch*spec.In)
	m.k.gemm(blas.NoTrans, blas.Trans, batch, ly.in, 1, 1, gradOut, 1, m.params[ly.w:ly.b], 1, 0, want, ly.in)
	negProducts := 0
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("dInput[%d] = %g (%#x), want %g (%#x)", i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
		if p := gradOut[i/spec.In] * m.params[ly.w+i%spec.In]; p == 0 && math.Signbit(float64(p)) {
			negProducts++
		}
	}
	if negProducts == 0 {
		t.Fatal("no product is -0: the signed-zero case is not exercised")
	}
}
