package checkpoint

import (
	"fmt"
	"sort"
	"strings"
)

// Metadata keys hivegym writes in a checkpoint's __metadata__ (all values are strings,
// as safetensors requires). The learners fill them; this package only names them.
const (
	// MetaFormat is always "hivegym" (FormatName).
	MetaFormat = "format"
	// MetaVersion is the checkpoint layout version, "1" (FormatVersion).
	MetaVersion = "hivegym.version"
	// MetaConfigHash is the hash of the run's resolved config, hex.
	MetaConfigHash = "hivegym.config_hash"
	// MetaObsSpace describes the observation space the policy was trained on (the env's
	// own canonical string, e.g. its feature names and size); a mismatch refuses the load.
	MetaObsSpace = "hivegym.observation_space"
	// MetaActionSpace describes the action space, likewise.
	MetaActionSpace = "hivegym.action_space"
	// MetaStep is the number of environment steps (decisions) trained so far, decimal.
	MetaStep = "hivegym.step"
	// MetaPolicy names the policy group the tensors belong to.
	MetaPolicy = "hivegym.policy"
	// MetaAlgorithm is the learner ("ppo", "dsr").
	MetaAlgorithm = "hivegym.algorithm"
	// MetaBackend is the backend that wrote the file ("go", "torch"); informational,
	// since every backend reads every checkpoint.
	MetaBackend = "hivegym.backend"
	// MetaSpec is the JSON of the networks' nn.MLPSpec values, keyed by name.
	MetaSpec = "hivegym.spec"
)

// Values of MetaFormat and MetaVersion.
const (
	FormatName    = "hivegym"
	FormatVersion = "1"
)

// CheckMeta compares the metadata a checkpoint holds with what the caller requires
// (for example the current observation and action spaces) and returns one error naming
// every key that is missing or differs, or nil.
func CheckMeta(meta, want map[string]string) error {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var bad []string
	for _, k := range keys {
		got, ok := meta[k]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s is missing (want %q)", k, want[k]))
		case got != want[k]:
			bad = append(bad, fmt.Sprintf("%s is %q, want %q", k, got, want[k]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: checkpoint does not match: %s", ErrMismatch, strings.Join(bad, "; "))
	}
	return nil
}
