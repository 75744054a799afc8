package strategy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// ErrUnknown is returned (wrapped) by ByName for a name not in Names.
var ErrUnknown = errors.New("unknown strategy")

// Params configures a strategy made by ByName.
type Params struct {
	// Values overrides parameters by name (see ByName); an unknown name is an error.
	Values map[string]float64
	// Rand is the random source of the stochastic strategies (tit-for-tat-random,
	// random), seeded by the caller (internal/rng, a stream per agent); required by them
	// and ignored by the others.
	Rand *rand.Rand
}

// names lists the registry in a fixed order.
var names = []string{
	"accepter", "rejecter", "kalman", "boulware", "conceder",
	"tit-for-tat", "tit-for-tat-random", "tit-for-tat-avg",
	"cost-plus", "budget", "random",
}

// Names returns the registry's strategy names in a fixed order.
func Names() []string { return slices.Clone(names) }

// param is one settable parameter of a strategy.
type param struct {
	name string
	set  func(v float64) error
}

func float(name string, dst *float64) param {
	return param{name, func(v float64) error { *dst = v; return nil }}
}

func integer(name string, dst *int) param {
	return param{name, func(v float64) error {
		if v != math.Trunc(v) || math.Abs(v) > maxWindow {
			return fieldpath.Errorf(name, "must be an integer in [1, %d], got %g", maxWindow, v)
		}
		*dst = int(v)
		return nil
	}}
}

func family(dst *Family) param {
	return param{"exponential", func(v float64) error {
		switch v {
		case 0:
			*dst = Polynomial
		case 1:
			*dst = Exponential
		default:
			return fieldpath.Errorf("exponential", "must be 0 (polynomial) or 1 (exponential), got %g", v)
		}
		return nil
	}}
}

// ByName returns a new strategy by registry name, with its defaults overridden by
// p.Values, validated. Names and parameters (defaults in the types' documentation):
//
//	accepter, rejecter      none
//	kalman                  prior, prior_var, q, r, tolerance
//	boulware, conceder      kappa, beta, exponential (0 polynomial, 1 exponential)
//	tit-for-tat             delta
//	tit-for-tat-random      delta, m            (needs p.Rand)
//	tit-for-tat-avg         gamma
//	cost-plus               margin, min_margin
//	budget                  open_fraction
//	random                  none                (needs p.Rand)
//
// Errors: ErrUnknown (wrapped, listing the valid names) for an unknown name; otherwise a
// join of fieldpath errors, one per unknown or invalid parameter, with the parameter name
// as the path.
func ByName(name string, p Params) (Strategy, error) {
	var (
		s  Strategy
		ps []param
		v  func() error
	)
	switch name {
	case "accepter":
		s = &NaiveAccepter{}
	case "rejecter":
		s = &NaiveRejecter{}
	case "kalman":
		k := NewKalmanValuation()
		s, v = k, k.Validate
		ps = []param{float("prior", &k.Prior), float("prior_var", &k.PriorVar),
			float("q", &k.ProcessNoise), float("r", &k.MeasurementNoise), float("tolerance", &k.Tolerance)}
	case "boulware", "conceder":
		t := NewBoulware()
		if name == "conceder" {
			t = NewConceder()
		}
		s, v = t, t.Validate
		ps = []param{float("kappa", &t.K), float("beta", &t.Beta), family(&t.Family)}
	case "tit-for-tat":
		t := NewTitForTat()
		s, v = t, t.Validate
		ps = []param{integer("delta", &t.Delta)}
	case "tit-for-tat-random":
		t := NewTitForTatRandom(p.Rand)
		s, v = t, t.Validate
		ps = []param{integer("delta", &t.Delta), float("m", &t.M)}
	case "tit-for-tat-avg":
		t := NewTitForTatAvg()
		s, v = t, t.Validate
		ps = []param{integer("gamma", &t.Gamma)}
	case "cost-plus":
		c := NewCostPlus()
		s, v = c, c.Validate
		ps = []param{float("margin", &c.Margin), float("min_margin", &c.MinMargin)}
	case "budget":
		b := NewBudgetAware()
		s, v = b, b.Validate
		ps = []param{float("open_fraction", &b.OpenFraction)}
	case "random":
		r := NewRandomLegal(p.Rand)
		s, v = r, r.Validate
	default:
		return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknown, name, strings.Join(names, ", "))
	}

	// Apply overrides in sorted key order so that the errors come out in a fixed order.
	keys := make([]string, 0, len(p.Values))
	for key := range p.Values {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	var errs []error
	for _, key := range keys {
		i := slices.IndexFunc(ps, func(q param) bool { return q.name == key })
		if i < 0 {
			valid := "none"
			if len(ps) > 0 {
				vs := make([]string, len(ps))
				for j, q := range ps {
					vs[j] = q.name
				}
				valid = strings.Join(vs, ", ")
			}
			errs = append(errs, fieldpath.Errorf(key, "unknown parameter of %s (valid: %s)", name, valid))
			continue
		}
		if err := ps[i].set(p.Values[key]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if v != nil {
		if err := v(); err != nil {
			return nil, err
		}
	}
	return s, nil
}
