package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// gram returns WᵀW (cols×cols) if tall, else WWᵀ (rows×rows), of a row-major rows×cols W.
func gram(w []float64, rows, cols int) ([]float64, int) {
	if rows >= cols {
		g := make([]float64, cols*cols)
		for i := 0; i < cols; i++ {
			for j := 0; j < cols; j++ {
				for k := 0; k < rows; k++ {
					g[i*cols+j] += w[k*cols+i] * w[k*cols+j]
				}
			}
		}
		return g, cols
	}
	g := make([]float64, rows*rows)
	for i := 0; i < rows; i++ {
		for j := 0; j < rows; j++ {
			for k := 0; k < cols; k++ {
				g[i*rows+j] += w[i*cols+k] * w[j*cols+k]
			}
		}
	}
	return g, rows
}

// checkIdentity reports the largest |G/gain² - I| entry.
func identityError(g []float64, n int, gain float64) float64 {
	var worst float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			worst = math.Max(worst, math.Abs(g[i*n+j]/(gain*gain)-want))
		}
	}
	return worst
}

func TestOrthogonal(t *testing.T) {
	for _, c := range []struct{ rows, cols int }{{64, 64}, {64, 10}, {10, 64}, {1, 1}, {1, 5}, {5, 1}, {3, 2}} {
		const gain = 1.7
		w := Orthogonal(c.rows, c.cols, gain, rng.New(1, "orth"))
		if len(w) != c.rows*c.cols {
			t.Fatalf("%d×%d: %d values", c.rows, c.cols, len(w))
		}
		g, n := gram(w, c.rows, c.cols)
		if e := identityError(g, n, gain); e > 1e-12 {
			t.Errorf("%d×%d: Gram matrix / gain² is off the identity by %g", c.rows, c.cols, e)
		}
		// Not a signed permutation of the identity: some entry is strictly between 0 and gain.
		if c.rows > 1 && c.cols > 1 {
			mixed := false
			for _, v := range w {
				if a := math.Abs(v); a > 1e-3 && a < gain-1e-3 {
					mixed = true
				}
			}
			if !mixed {
				t.Errorf("%d×%d: matrix looks like a signed permutation", c.rows, c.cols)
			}
		}
	}
	a := Orthogonal(8, 8, 1, rng.New(1, "orth"))
	b := Orthogonal(8, 8, 1, rng.New(2, "orth"))
	same := true
	for i := range a {
		same = same && a[i] == b[i]
	}
	if same {
		t.Error("seeds 1 and 2 gave the same matrix")
	}
}

func TestInitParamsGains(t *testing.T) {
	spec := PolicySpec("actor", 64, []int{64, 32}, 16)
	ps, err := InitParams(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"actor.0.weight", "actor.0.bias", "actor.2.weight", "actor.2.bias", "actor.4.weight", "actor.4.bias"}
	wantShapes := [][]int{{64, 64}, {64}, {32, 64}, {32}, {16, 32}, {16}}
	wantGains := []float64{math.Sqrt2, 0, math.Sqrt2, 0, 0.01, 0}
	if len(ps) != len(wantNames) {
		t.Fatalf("%d tensors, want %d", len(ps), len(wantNames))
	}
	for i, p := range ps {
		if p.Name != wantNames[i] || !slices.Equal(p.Shape, wantShapes[i]) || len(p.Data) != p.Size() {
			t.Fatalf("tensor %d: %s %v with %d values, want %s %v", i, p.Name, p.Shape, len(p.Data), wantNames[i], wantShapes[i])
		}
		if wantGains[i] == 0 { // bias
			for _, v := range p.Data {
				if v != 0 {
					t.Fatalf("%s: bias %g, want 0", p.Name, v)
				}
			}
			continue
		}
		w := make([]float64, len(p.Data))
		for j, v := range p.Data {
			w[j] = float64(v)
		}
		g, n := gram(w, p.Shape[0], p.Shape[1])
		// float32 rounding of the entries leaves ~1e-7 relative error in the Gram matrix.
		if e := identityError(g, n, wantGains[i]); e > 1e-5 {
			t.Errorf("%s: Gram/gain² off the identity by %g (gain %g)", p.Name, e, wantGains[i])
		}
	}
	again, _ := InitParams(spec, 3)
	for i := range ps {
		for j := range ps[i].Data {
			if math.Float32bits(ps[i].Data[j]) != math.Float32bits(again[i].Data[j]) {
				t.Fatalf("same seed, different %s[%d]", ps[i].Name, j)
			}
		}
	}
	// The stream depends on the name: a critic built from the same seed differs.
	other := spec
	other.Name = "critic"
	ops, _ := InitParams(other, 3)
	if ops[0].Data[0] == ps[0].Data[0] && ops[0].Data[1] == ps[0].Data[1] {
		t.Error("networks named actor and critic got the same initial weights from one seed")
	}
	if _, err := InitParams(MLPSpec{}, 1); err == nil {
		t.Error("InitParams of the zero spec succeeded")
	}
}
