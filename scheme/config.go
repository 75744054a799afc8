package scheme

import (
	"errors"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Signature modes (Config.Signatures).
const (
	SignaturesNone    = "none"    // the environment stamps the sender; nothing is verified
	SignaturesEd25519 = "ed25519" // every agent message is verified with crypto/ed25519
)

// Escrow verification modes (Config.Verify).
const (
	VerifyScheme = "scheme" // the scheme refuses attestation:start without escrow (ErrNoEscrow)
	VerifyAgent  = "agent"  // the provider's policy decides whether to check; starting blind is legal
)

// Config is the scheme section of a run config.
type Config struct {
	// Scheme names the scheme: "compute-marketplace" (default) or "coophive-apiary".
	Scheme string `yaml:"scheme"`
	// Signatures is "none" or "ed25519".
	Signatures string `yaml:"signatures"`
	// Verify is "scheme" or "agent" (compute-marketplace only: coophive-apiary always
	// needs the escrow, since the sell attestation references the buy attestation).
	Verify string `yaml:"verify"`
	// MaxRounds is the maximum number of offers in a thread, both sides counted.
	MaxRounds int `yaml:"max_rounds"`
	// TicksPerHour converts the hourly price to the job cost; 12 for 5-minute ticks.
	TicksPerHour int64 `yaml:"ticks_per_hour"`
	// IdleTimeout is how many ticks a thread before Running may go without an accepted
	// message before a Tick terminates it with reason timeout; 0 disables it.
	IdleTimeout int64 `yaml:"idle_timeout"`
	// Default deadline windows, for agents and the environment building a request
	// (see Deadlines); Step checks the deadlines in the terms, not these.
	OfferWindow       int64 `yaml:"offer_window"`       // offer deadline = now + OfferWindow
	JobSlack          int64 `yaml:"job_slack"`          // job deadline = start + duration + JobSlack
	ArbitrationWindow int64 `yaml:"arbitration_window"` // arbitration deadline = job deadline + ArbitrationWindow
}

// DefaultConfig returns the defaults: compute-marketplace, no signatures, the scheme
// verifies escrow, 8 offer rounds, 5-minute ticks, one hour idle timeout, offers open for
// one hour, one hour of slack for the job, one day for arbitration.
func DefaultConfig() Config {
	return Config{
		Scheme:            ComputeMarketplace,
		Signatures:        SignaturesNone,
		Verify:            VerifyScheme,
		MaxRounds:         8,
		TicksPerHour:      12,
		IdleTimeout:       12,
		OfferWindow:       12,
		JobSlack:          12,
		ArbitrationWindow: 288,
	}
}

// Validate checks every field and returns the errors.Join of *fieldpath.Error values
// with paths relative to the scheme section.
func (c Config) Validate() error {
	var errs []error
	if !registered(c.Scheme) {
		errs = append(errs, fieldpath.Errorf("scheme", "unknown scheme %q (known: %v)", c.Scheme, Names()))
	}
	if c.Signatures != SignaturesNone && c.Signatures != SignaturesEd25519 {
		errs = append(errs, fieldpath.Errorf("signatures", "must be %q or %q, got %q", SignaturesNone, SignaturesEd25519, c.Signatures))
	}
	if c.Verify != VerifyScheme && c.Verify != VerifyAgent {
		errs = append(errs, fieldpath.Errorf("verify", "must be %q or %q, got %q", VerifyScheme, VerifyAgent, c.Verify))
	}
	if c.MaxRounds < 1 || c.MaxRounds > 1<<15 {
		errs = append(errs, fieldpath.Errorf("max_rounds", "must be in [1, 32768], got %d", c.MaxRounds))
	}
	if c.TicksPerHour < 1 || c.TicksPerHour > 3600 {
		errs = append(errs, fieldpath.Errorf("ticks_per_hour", "must be in [1, 3600], got %d", c.TicksPerHour))
	}
	if c.IdleTimeout < 0 || c.IdleTimeout > MaxTick {
		errs = append(errs, fieldpath.Errorf("idle_timeout", "must be in [0, %d], got %d", MaxTick, c.IdleTimeout))
	}
	if c.OfferWindow < 1 || c.OfferWindow > MaxTick {
		errs = append(errs, fieldpath.Errorf("offer_window", "must be in [1, %d], got %d", MaxTick, c.OfferWindow))
	}
	if c.JobSlack < 0 || c.JobSlack > MaxTick {
		errs = append(errs, fieldpath.Errorf("job_slack", "must be in [0, %d], got %d", MaxTick, c.JobSlack))
	}
	if c.ArbitrationWindow < 1 || c.ArbitrationWindow > MaxTick {
		errs = append(errs, fieldpath.Errorf("arbitration_window", "must be in [1, %d], got %d", MaxTick, c.ArbitrationWindow))
	}
	return errors.Join(errs...)
}

// Deadlines returns default deadlines for a request made at now for a job of duration
// ticks starting at start: offer = now + OfferWindow, job = max(start + duration, offer
// + 1) + JobSlack, arbitration = job + ArbitrationWindow. They satisfy offer < job <
// arbitration and start + duration <= job.
func (c Config) Deadlines(now, start, duration int64) (offer, job, arbitration int64) {
	offer = now + c.OfferWindow
	end := start + duration
	if end < offer+1 {
		end = offer + 1
	}
	job = end + c.JobSlack
	return offer, job, job + c.ArbitrationWindow
}
