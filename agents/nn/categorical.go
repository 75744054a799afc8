package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Categorical is a categorical distribution over K actions given by unnormalized
// log-probabilities (logits), with illegal actions masked out: a masked action has
// log-probability -Inf, probability 0, is never sampled and does not count in the entropy.
// This is the "invalid action masking" of Huang and Ontañón (2022, "A Closer Look at
// Invalid Action Masking in Policy Gradient Algorithms"): masking the logits, so the
// gradient of a masked logit is zero.
//
// The zero value is ready; Set loads one row of logits and may be called again for the
// next row. Buffers grow to the largest K seen, so a steady state allocates nothing. All
// arithmetic is in float64, with the log-sum-exp shifted by the largest legal logit.
type Categorical struct {
	logp  []float64 // -Inf where masked
	p     []float64
	legal []bool
	ent   float64
	last  int // the highest legal action with positive probability
}

// Set makes c the distribution softmax(logits) restricted to the actions whose mask entry
// is true. A nil mask allows every action. It returns an error if the lengths differ, if
// no action is legal, if a legal logit is NaN or +Inf, or if every legal logit is -Inf.
// A legal logit of -Inf gives that action probability 0.
func (c *Categorical) Set(logits []float32, mask []bool) error {
	k := len(logits)
	if mask != nil && len(mask) != k {
		return fmt.Errorf("nn: categorical: %d logits but %d mask entries: %w", k, len(mask), ErrShape)
	}
	if cap(c.logp) < k {
		c.logp, c.p, c.legal = make([]float64, k), make([]float64, k), make([]bool, k)
	}
	c.logp, c.p, c.legal = c.logp[:k], c.p[:k], c.legal[:k]
	hi := math.Inf(-1)
	anyLegal := false
	for j, z := range logits {
		ok := mask == nil || mask[j]
		c.legal[j] = ok
		if !ok {
			continue
		}
		anyLegal = true
		v := float64(z)
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return fmt.Errorf("nn: categorical: logit %d is %g: %w", j, v, ErrNonFinite)
		}
		hi = math.Max(hi, v)
	}
	if !anyLegal {
		return ErrNoLegalAction
	}
	if math.IsInf(hi, -1) {
		return fmt.Errorf("nn: categorical: every legal logit is -Inf: %w", ErrNoLegalAction)
	}
	var sum float64
	for j, z := range logits {
		if c.legal[j] {
			sum += math.Exp(float64(z) - hi)
		}
	}
	logSum := math.Log(sum) // log Σ exp(z - hi); log P(j) = (z_j - hi) - logSum, no cancellation
	c.ent = 0
	c.last = -1
	for j, z := range logits {
		if !c.legal[j] {
			c.logp[j], c.p[j] = math.Inf(-1), 0
			continue
		}
		lp := (float64(z) - hi) - logSum
		p := math.Exp(lp)
		c.logp[j], c.p[j] = lp, p
		if p > 0 {
			c.ent -= p * lp
			c.last = j
		}
	}
	return nil
}

// Len returns the number of actions K.
func (c *Categorical) Len() int { return len(c.logp) }

// Legal reports whether action a is allowed by the mask.
func (c *Categorical) Legal(a int) bool { return a >= 0 && a < len(c.legal) && c.legal[a] }

// LogProb returns log P(a): -Inf for a masked action or one outside [0, K).
func (c *Categorical) LogProb(a int) float64 {
	if a < 0 || a >= len(c.logp) {
		return math.Inf(-1)
	}
	return c.logp[a]
}

// Prob returns P(a): 0 for a masked action or one outside [0, K).
func (c *Categorical) Prob(a int) float64 {
	if a < 0 || a >= len(c.p) {
		return 0
	}
	return c.p[a]
}

// Entropy returns -Σ p log p over the legal actions (masked actions contribute nothing).
func (c *Categorical) Entropy() float64 { return c.ent }

// Mode returns the most probable legal action (the lowest index on ties).
func (c *Categorical) Mode() int {
	best := -1
	for j, ok := range c.legal {
		if ok && (best < 0 || c.logp[j] > c.logp[best]) {
			best = j
		}
	}
	return best
}

// Sample draws an action by inversion with one r.Float64(). A masked action, or a legal
// action of probability 0, is never returned.
func (c *Categorical) Sample(r *rand.Rand) int {
	u := r.Float64()
	var cum float64
	for j, p := range c.p {
		if p == 0 {
			continue
		}
		cum += p
		if u < cum {
			return j
		}
	}
	return c.last // u beyond the rounded total: the last action with positive probability
}

// AddGradLogProb adds coef·∂log P(a)/∂logits to dst (len K): coef·(1[j=a] - p_j) for
// each legal j, nothing for masked j. It returns an error if len(dst) != K or if a is
// masked or out of range (its log-probability has no gradient).
func (c *Categorical) AddGradLogProb(dst []float32, a int, coef float64) error {
	if len(dst) != len(c.p) {
		return fmt.Errorf("nn: categorical gradient: dst has %d entries for %d actions: %w", len(dst), len(c.p), ErrShape)
	}
	if !c.Legal(a) {
		return fmt.Errorf("nn: categorical gradient: action %d is masked or out of range [0, %d)", a, len(c.p))
	}
	for j, ok := range c.legal {
		if !ok {
			continue
		}
		d := -c.p[j]
		if j == a {
			d++
		}
		dst[j] += float32(coef * d)
	}
	return nil
}

// AddGradEntropy adds coef·∂H/∂logits to dst (len K): -coef·p_j (log p_j + H) for each
// legal j with p_j > 0, nothing otherwise.
func (c *Categorical) AddGradEntropy(dst []float32, coef float64) error {
	if len(dst) != len(c.p) {
		return fmt.Errorf("nn: categorical gradient: dst has %d entries for %d actions: %w", len(dst), len(c.p), ErrShape)
	}
	for j, p := range c.p {
		if p > 0 {
			dst[j] += float32(-coef * p * (c.logp[j] + c.ent))
		}
	}
	return nil
}

// KL returns the Kullback-Leibler divergence KL(c || q) = Σ p_j (log p_j - log q_j) over
// the actions c gives positive probability: +Inf if q gives one of them probability 0,
// and NaN if the two have different lengths.
func (c *Categorical) KL(q *Categorical) float64 {
	if len(q.logp) != len(c.logp) {
		return math.NaN()
	}
	var kl float64
	for j, p := range c.p {
		if p > 0 {
			kl += p * (c.logp[j] - q.logp[j])
		}
	}
	return kl
}

// AddGradKL adds coef·∂KL(c || q)/∂logits to dst (len K), the gradient with respect to
// c's logits with q held fixed: coef·p_j (log p_j - log q_j - KL(c || q)) for each j with
// p_j > 0, nothing otherwise, and returns KL(c || q), which the gradient needs. It
// returns an error if the lengths differ or if the divergence is not finite (q gives
// probability 0 to an action c can take).
func (c *Categorical) AddGradKL(dst []float32, q *Categorical, coef float64) (float64, error) {
	if len(dst) != len(c.p) || len(q.p) != len(c.p) {
		return 0, fmt.Errorf("nn: categorical KL gradient: dst has %d entries, q %d, for %d actions: %w", len(dst), len(q.p), len(c.p), ErrShape)
	}
	kl := c.KL(q)
	if math.IsInf(kl, 0) || math.IsNaN(kl) {
		return kl, fmt.Errorf("nn: categorical KL gradient: KL is %g: %w", kl, ErrNonFinite)
	}
	for j, p := range c.p {
		if p > 0 {
			dst[j] += float32(coef * p * (c.logp[j] - q.logp[j] - kl))
		}
	}
	return kl, nil
}
