package scheme

import (
	"math"
	"math/bits"
)

// MaxTick bounds every tick value in Terms (start, duration, deadlines), so sums of two
// of them never overflow int64. At 5-minute ticks it is about ten million years.
const MaxTick int64 = 1 << 40

// Terms are the terms of a deal: the job's resources, its timing, its price and the
// collateral asked of the provider. The request carries them; offers repeat them with
// changes; accept and attestation:start restate them. All fields are fixed-size.
type Terms struct {
	// Resources.
	GPUModel    uint16 // catalog id of the GPU model; 0 = any model with MinGPUMemGB
	MinGPUMemGB uint16 // minimum memory per GPU, GB
	GPUCount    uint16
	CPUCores    uint16
	RAMGB       uint32

	Asset      Asset      // payment asset; collateral is held in the same asset
	Validation Validation // how the result is validated

	Duration     int64 // job length in ticks
	Start        int64 // proposed start tick
	PricePerHour int64 // base units of Asset per hour of job
	Collateral   int64 // base units of Asset the provider locks at start

	// Deadlines in ticks, offer < job < arbitration (CoopHive's resolver). An offer or
	// accept must come before OfferDeadline, the job must be delivered before
	// JobDeadline, and the validator must judge before ArbitrationDeadline.
	OfferDeadline       int64
	JobDeadline         int64
	ArbitrationDeadline int64
}

// JobCost is the escrowed payment for terms: ceil(PricePerHour x Duration /
// ticksPerHour) base units of the asset. ok is false if ticksPerHour is not positive,
// price or duration is negative, or the result does not fit in int64.
func JobCost(t *Terms, ticksPerHour int64) (cost int64, ok bool) {
	if ticksPerHour <= 0 || t.PricePerHour < 0 || t.Duration < 0 {
		return 0, false
	}
	// 128-bit product, then 128/64 division: exact for every int64 price and duration.
	hi, lo := bits.Mul64(uint64(t.PricePerHour), uint64(t.Duration))
	tph := uint64(ticksPerHour)
	if hi >= tph {
		return 0, false // quotient needs more than 64 bits
	}
	q, r := bits.Div64(hi, lo, tph)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}

func tickOK(x int64) bool { return x >= 0 && x <= MaxTick }

// check validates t on its own: positive price and duration, ticks in range,
// offer < job < arbitration deadlines, start + duration <= job deadline, enums in range,
// some compute asked for, and job cost + collateral fitting in int64.
func (t *Terms) check(ticksPerHour int64) error {
	switch {
	case t.Asset >= numAssets:
		return errTermsAsset
	case t.Validation >= numValidations:
		return errTermsValidation
	case t.GPUCount == 0 && t.CPUCores == 0:
		return errTermsResources
	case t.PricePerHour <= 0:
		return errTermsPrice
	case t.Duration <= 0 || t.Duration > MaxTick:
		return errTermsDuration
	case t.Collateral < 0:
		return errTermsCollateral
	case !tickOK(t.Start) || !tickOK(t.OfferDeadline) || !tickOK(t.JobDeadline) || !tickOK(t.ArbitrationDeadline):
		return errTermsTicks
	case !(t.OfferDeadline < t.JobDeadline && t.JobDeadline < t.ArbitrationDeadline):
		return errTermsOrder
	case t.Start+t.Duration > t.JobDeadline:
		return errTermsFit
	}
	cost, ok := JobCost(t, ticksPerHour)
	if !ok || cost > math.MaxInt64-t.Collateral {
		return errTermsOverflow
	}
	return nil
}

// sameFixed reports whether a and b agree on everything an offer may not change:
// resources, asset, validation method and the three deadlines.
func sameFixed(a, b *Terms) bool {
	return a.GPUModel == b.GPUModel && a.MinGPUMemGB == b.MinGPUMemGB &&
		a.GPUCount == b.GPUCount && a.CPUCores == b.CPUCores && a.RAMGB == b.RAMGB &&
		a.Asset == b.Asset && a.Validation == b.Validation &&
		a.OfferDeadline == b.OfferDeadline && a.JobDeadline == b.JobDeadline &&
		a.ArbitrationDeadline == b.ArbitrationDeadline
}
