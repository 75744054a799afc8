package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// log2Pi is log(2π).
var log2Pi = math.Log(2 * math.Pi)

// DiagGaussian is a Gaussian with diagonal covariance, N(Mean, diag(exp(LogStd))²), for a
// continuous action (CleanRL's ppo_continuous_action: the network gives the mean, the log
// standard deviation is a learned vector or a second head). It holds the caller's slices
// and never allocates. Arithmetic is in float64.
type DiagGaussian struct {
	Mean, LogStd []float32
}

// NewDiagGaussian checks that mean and logStd have the same length and finite values.
func NewDiagGaussian(mean, logStd []float32) (DiagGaussian, error) {
	if len(mean) != len(logStd) {
		return DiagGaussian{}, fmt.Errorf("nn: gaussian: %d means but %d log-stds: %w", len(mean), len(logStd), ErrShape)
	}
	if !allFinite(mean) || !allFinite(logStd) {
		return DiagGaussian{}, fmt.Errorf("nn: gaussian: mean or log-std: %w", ErrNonFinite)
	}
	return DiagGaussian{Mean: mean, LogStd: logStd}, nil
}

// Dim returns the number of action dimensions.
func (g DiagGaussian) Dim() int { return len(g.Mean) }

func (g DiagGaussian) check(n int, what string) error {
	if len(g.LogStd) != len(g.Mean) {
		return fmt.Errorf("nn: gaussian: %d means but %d log-stds: %w", len(g.Mean), len(g.LogStd), ErrShape)
	}
	if n != len(g.Mean) {
		return fmt.Errorf("nn: gaussian: %s has %d entries for %d dimensions: %w", what, n, len(g.Mean), ErrShape)
	}
	return nil
}

// Sample writes Mean + exp(LogStd)·ε into dst, ε drawn with r.NormFloat64 per dimension
// in order.
func (g DiagGaussian) Sample(dst []float32, r *rand.Rand) error {
	if err := g.check(len(dst), "dst"); err != nil {
		return err
	}
	for i, mu := range g.Mean {
		dst[i] = float32(float64(mu) + math.Exp(float64(g.LogStd[i]))*r.NormFloat64())
	}
	return nil
}

// LogProb returns log density of x: Σ -(x-μ)²/(2σ²) - log σ - ½ log 2π.
func (g DiagGaussian) LogProb(x []float32) (float64, error) {
	if err := g.check(len(x), "x"); err != nil {
		return 0, err
	}
	var lp float64
	for i, mu := range g.Mean {
		ls := float64(g.LogStd[i])
		z := (float64(x[i]) - float64(mu)) * math.Exp(-ls)
		lp += -0.5*z*z - ls - 0.5*log2Pi
	}
	return lp, nil
}

// Entropy returns Σ log σ + ½(1 + log 2π).
func (g DiagGaussian) Entropy() float64 {
	var h float64
	for _, ls := range g.LogStd {
		h += float64(ls) + 0.5*(1+log2Pi)
	}
	return h
}

// AddGradLogProb adds coef·∂log p(x)/∂Mean to dMean and coef·∂log p(x)/∂LogStd to
// dLogStd: (x-μ)/σ² and ((x-μ)/σ)² - 1 per dimension. Either destination may be nil.
func (g DiagGaussian) AddGradLogProb(dMean, dLogStd, x []float32, coef float64) error {
	if err := g.check(len(x), "x"); err != nil {
		return err
	}
	if dMean != nil {
		if err := g.check(len(dMean), "dMean"); err != nil {
			return err
		}
	}
	if dLogStd != nil {
		if err := g.check(len(dLogStd), "dLogStd"); err != nil {
			return err
		}
	}
	for i, mu := range g.Mean {
		inv := math.Exp(-float64(g.LogStd[i]))
		z := (float64(x[i]) - float64(mu)) * inv
		if dMean != nil {
			dMean[i] += float32(coef * z * inv)
		}
		if dLogStd != nil {
			dLogStd[i] += float32(coef * (z*z - 1))
		}
	}
	return nil
}

// AddGradEntropy adds coef·∂H/∂LogStd = coef to every entry of dLogStd.
func (g DiagGaussian) AddGradEntropy(dLogStd []float32, coef float64) error {
	if err := g.check(len(dLogStd), "dLogStd"); err != nil {
		return err
	}
	for i := range dLogStd {
		dLogStd[i] += float32(coef)
	}
	return nil
}
