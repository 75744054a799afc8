package experiments

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
)

// Spaces returns the descriptions of the observation and action spaces of cfg's
// environment as checkpoints record them (checkpoint.MetaObsSpace, MetaActionSpace):
// sizes and a hash of the feature and action names, computed from the environment at
// run time.
func Spaces(cfg Config) (obs, act string, err error) {
	e, err := env.New(cfg.Settings())
	if err != nil {
		return "", "", err
	}
	obs, act = spaces(e)
	return obs, act, nil
}

// PPOCheckpoint is a PPO policy file on its own, for playing a trained group in another
// population than the one it was trained in (tournaments, league opponents).
type PPOCheckpoint struct {
	Path string
	// Config is the config the network was trained under: the run directory's
	// config.yaml when the file sits in a run's checkpoints/ directory, else the caller's.
	Config Config
	// Meta is the file's metadata.
	Meta map[string]string

	fromRun bool // Config is the run directory's
}

// ReadPPOCheckpoint reads the PPO checkpoint at path and checks that it can act in an
// environment of cfg: its algorithm is PPO and its observation and action spaces are
// those of cfg's environment (Spaces, at run time). The network's hyperparameters come
// from the run's config.yaml beside the checkpoints/ directory when there is one, else
// from cfg. With role set, a policy trained for the other role (Role) is refused.
// Problems are *Error values naming the file.
func ReadPPOCheckpoint(path, role string, cfg Config) (*PPOCheckpoint, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: readErrMsg(err)}
	}
	_, meta, err := checkpoint.Load(bytes.NewReader(b))
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error()}
	}
	if a := meta[checkpoint.MetaAlgorithm]; a != ppo.Algorithm {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("a %q checkpoint, not a PPO policy", a)}
	}
	obs, act, err := Spaces(cfg)
	if err != nil {
		return nil, nil, err
	}
	if got := meta[checkpoint.MetaObsSpace]; got != obs {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("observation space %q, the environment's is %q (trained on another version of the features)", got, obs)}
	}
	if got := meta[checkpoint.MetaActionSpace]; got != act {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("action space %q, the environment's is %q", got, act)}
	}
	ck := &PPOCheckpoint{Path: path, Config: cfg, Meta: meta}
	if dir := filepath.Dir(path); filepath.Base(dir) == "checkpoints" {
		runCfg := filepath.Join(filepath.Dir(dir), "config.yaml")
		if _, err := os.Stat(runCfg); err == nil {
			c, err := LoadRunConfig(runCfg)
			if err != nil {
				return nil, nil, err
			}
			ck.Config = c
			ck.fromRun = true
		}
	}
	if got := ck.Role(); role != "" && got != "" && got != role {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("a %s policy (group %q), not a %s one", got, meta[checkpoint.MetaPolicy], role)}
	}
	return ck, b, nil
}

// Role is the role the policy was trained for: the file's MetaRole, or for a file
// written before MetaRole in a run's checkpoints/ directory, the role of its group in
// the run's config.yaml; "" when neither tells.
func (ck *PPOCheckpoint) Role() string {
	if r := ck.Meta[MetaRole]; r != "" {
		return r
	}
	if !ck.fromRun {
		return ""
	}
	for _, g := range ck.Config.Population {
		if g.Name == ck.Meta[checkpoint.MetaPolicy] {
			return g.Role
		}
	}
	return ""
}

// LoadPPOCheckpoint reads a PPO checkpoint (ReadPPOCheckpoint) and returns its learner,
// named name, ready to act for role in an environment of cfg.
func LoadPPOCheckpoint(path, name, role string, cfg Config) (*ppo.Learner, error) {
	ck, b, err := ReadPPOCheckpoint(path, role, cfg)
	if err != nil {
		return nil, err
	}
	_, nAct, err := dims(cfg)
	if err != nil {
		return nil, err
	}
	return ck.learner(name, b, nAct, cfg.Training.PPO.Backend)
}

// learner builds a learner named name with ck's network (the config it was trained
// under) on backend, for nAct actions, and restores it from b, the file's bytes.
func (ck *PPOCheckpoint) learner(name string, b []byte, nAct int, backend string) (*ppo.Learner, error) {
	pc := ck.Config.Training.ppoConfig()
	pc.Backend = backend
	// The critic is the checkpoint's, whatever the config says: acting never reads it,
	// and a file copied out of its run may meet a config of the other kind.
	tc := ck.Config.Training
	tc.CentralCritic = ck.Meta[ppo.MetaStateSize] != ""
	l, err := tc.newLearner(name, pc, nAct, 0)
	if err != nil {
		return nil, err
	}
	want := map[string]string{checkpoint.MetaObsSpace: ck.Meta[checkpoint.MetaObsSpace], checkpoint.MetaActionSpace: ck.Meta[checkpoint.MetaActionSpace]}
	if err := l.Restore(bytes.NewReader(b), want); err != nil {
		return nil, &Error{File: ck.Path, Msg: err.Error()}
	}
	return l, nil
}

// dims returns the observation size and the number of actions of cfg's environment.
func dims(cfg Config) (int, int, error) {
	e, err := env.New(cfg.Settings())
	if err != nil {
		return 0, 0, err
	}
	return env.ObsDim, e.NumActions(), nil
}
