package nn

import (
	"errors"
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

func TestGaussianByHand(t *testing.T) {
	// Standard normal in 1-D: log p(0) = -½ log 2π = -0.918938533204673,
	// entropy ½ log(2πe) = 1.418938533204673.
	g, err := NewDiagGaussian([]float32{0}, []float32{0})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := g.LogProb([]float32{0})
	if err != nil || math.Abs(lp-(-0.918938533204673)) > 1e-12 {
		t.Errorf("log p(0) = %.15g, %v", lp, err)
	}
	if h := g.Entropy(); math.Abs(h-1.418938533204673) > 1e-12 {
		t.Errorf("entropy %.15g", h)
	}
	// 2-D, μ = (1, -2), log σ = (ln 2, 0), x = (3, -2): z = (1, 0);
	// log p = (-½ - ln 2 - ½ ln 2π) + (0 - 0 - ½ ln 2π).
	g, _ = NewDiagGaussian([]float32{1, -2}, []float32{float32(math.Ln2), 0})
	lp, _ = g.LogProb([]float32{3, -2})
	want := -0.5 - math.Ln2 - math.Log(2*math.Pi)
	if math.Abs(lp-want) > 1e-7 { // ln 2 is rounded to float32
		t.Errorf("log p = %.15g, want %.15g", lp, want)
	}
	if h, w := g.Entropy(), math.Ln2+1+math.Log(2*math.Pi); math.Abs(h-w) > 1e-7 {
		t.Errorf("entropy %.15g, want %.15g", h, w)
	}
}

func TestGaussianSampling(t *testing.T) {
	g, _ := NewDiagGaussian([]float32{1.5, -3}, []float32{0, float32(math.Log(0.5))})
	r := rng.New(1, "gauss")
	const n = 50000
	var sum, sq [2]float64
	x := make([]float32, 2)
	for i := 0; i < n; i++ {
		if err := g.Sample(x, r); err != nil {
			t.Fatal(err)
		}
		for d := range x {
			sum[d] += float64(x[d])
			sq[d] += float64(x[d]) * float64(x[d])
		}
	}
	for d, sigma := range []float64{1, 0.5} {
		mean := sum[d] / n
		sd := math.Sqrt(sq[d]/n - mean*mean)
		// Standard errors: σ/√n for the mean, σ/√(2n) for the sd; allow 5 of them.
		if math.Abs(mean-float64(g.Mean[d])) > 5*sigma/math.Sqrt(n) {
			t.Errorf("dim %d: sample mean %g, want %g", d, mean, g.Mean[d])
		}
		if math.Abs(sd-sigma) > 5*sigma/math.Sqrt(2*n) {
			t.Errorf("dim %d: sample sd %g, want %g", d, sd, sigma)
		}
	}
}

// TestGaussianGradients checks the gradient helpers against central differences of
// LogProb and Entropy (h = 2⁻¹⁰, exact in float32 here; tolerance 1e-5).
func TestGaussianGradients(t *testing.T) {
	mean := []float32{0.5, -1}
	logStd := []float32{-0.25, 0.5}
	x := []float32{1.25, -0.5}
	const h, coef, tol = 1.0 / 1024, 1.3, 1e-5
	g, _ := NewDiagGaussian(mean, logStd)
	dm, ds := make([]float32, 2), make([]float32, 2)
	if err := g.AddGradLogProb(dm, ds, x, coef); err != nil {
		t.Fatal(err)
	}
	de := make([]float32, 2)
	if err := g.AddGradEntropy(de, coef); err != nil {
		t.Fatal(err)
	}
	lp := func(m, s []float32) float64 {
		v, err := DiagGaussian{Mean: m, LogStd: s}.LogProb(x)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for d := range mean {
		up, down := append([]float32(nil), mean...), append([]float32(nil), mean...)
		up[d] += h
		down[d] -= h
		if want := coef * (lp(up, logStd) - lp(down, logStd)) / (2 * h); math.Abs(float64(dm[d])-want) > tol {
			t.Errorf("d log p / d mean%d = %g, finite difference %g", d, dm[d], want)
		}
		up, down = append([]float32(nil), logStd...), append([]float32(nil), logStd...)
		up[d] += h
		down[d] -= h
		if want := coef * (lp(mean, up) - lp(mean, down)) / (2 * h); math.Abs(float64(ds[d])-want) > tol {
			t.Errorf("d log p / d logstd%d = %g, finite difference %g", d, ds[d], want)
		}
		hu := DiagGaussian{Mean: mean, LogStd: up}.Entropy()
		hd := DiagGaussian{Mean: mean, LogStd: down}.Entropy()
		if want := coef * (hu - hd) / (2 * h); math.Abs(float64(de[d])-want) > tol {
			t.Errorf("d H / d logstd%d = %g, finite difference %g", d, de[d], want)
		}
	}
}

func TestGaussianErrors(t *testing.T) {
	if _, err := NewDiagGaussian([]float32{0, 1}, []float32{0}); !errors.Is(err, ErrShape) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, err := NewDiagGaussian([]float32{0}, []float32{float32(math.NaN())}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN log-std: %v", err)
	}
	g, _ := NewDiagGaussian([]float32{0, 1}, []float32{0, 0})
	r := rng.New(1, "g")
	if err := g.Sample(make([]float32, 3), r); !errors.Is(err, ErrShape) {
		t.Errorf("Sample into 3: %v", err)
	}
	if _, err := g.LogProb([]float32{1}); !errors.Is(err, ErrShape) {
		t.Errorf("LogProb of 1: %v", err)
	}
	if err := g.AddGradLogProb(make([]float32, 1), nil, []float32{0, 0}, 1); !errors.Is(err, ErrShape) {
		t.Errorf("short dMean: %v", err)
	}
	if err := g.AddGradEntropy(nil, 1); !errors.Is(err, ErrShape) {
		t.Errorf("nil dLogStd: %v", err)
	}
	if err := (DiagGaussian{Mean: []float32{0}}).AddGradEntropy([]float32{0}, 1); !errors.Is(err, ErrShape) {
		t.Errorf("mismatched struct: %v", err)
	}
}
