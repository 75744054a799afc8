package scheme

import (
	"fmt"
	"slices"
	"sync"
)

// Names of the built-in schemes.
const (
	ComputeMarketplace = "compute-marketplace"
	CoopHiveApiary     = "coophive-apiary"
)

// Scheme is a negotiation protocol enforced as a per-thread state machine. The market is
// written against this interface, so a scheme plugs in by registering a Constructor.
// Implementations must be safe for concurrent use by several goroutines stepping
// different threads, and Step must be pure: its outcome depends only on its arguments
// and the scheme's configuration.
type Scheme interface {
	// Name is the registry name, e.g. "compute-marketplace".
	Name() string
	// Config is the configuration the scheme was built with.
	Config() Config
	// Legal is the set of message types that role may send (or, for RoleSystem, the
	// system events that apply) in state s: the action mask. A type outside the set is
	// rejected by Step with ErrWrongRole or ErrWrongState (ErrTerminal in a terminal
	// state); a well-formed message of a type inside it is accepted.
	Legal(s State, r Role) MsgSet
	// Step applies m to t at tick now. On success it updates *t and returns dst with
	// the message's effects appended. On error *t is unchanged and dst is returned as
	// it was (same length); the error wraps one of the rejection sentinels.
	Step(t *Thread, m *Message, now int64, dst []Effect) ([]Effect, error)
	// TypeName is the scheme's own name for a message type (coophive-apiary calls
	// Accept "buyAttest"), for traces and transcripts.
	TypeName(t MsgType) string
}

// Constructor builds a scheme from a validated config. keys may be nil when
// cfg.Signatures is "none".
type Constructor func(cfg Config, keys Keys) (Scheme, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Constructor{
		ComputeMarketplace: func(cfg Config, keys Keys) (Scheme, error) { return newMachine(cfg, keys, &marketplaceDef) },
		CoopHiveApiary:     func(cfg Config, keys Keys) (Scheme, error) { return newMachine(cfg, keys, &apiaryDef) },
	}
)

// Register adds a scheme under name. It fails if the name is taken or empty.
func Register(name string, c Constructor) error {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" || c == nil {
		return fmt.Errorf("scheme: register: empty name or nil constructor")
	}
	if _, dup := registry[name]; dup {
		return fmt.Errorf("scheme: register %q: name already registered", name)
	}
	registry[name] = c
	return nil
}

func registered(name string) bool {
	registryMu.RLock()
	defer registryMu.RUnlock()
	_, ok := registry[name]
	return ok
}

// Names returns the registered scheme names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ByName returns the scheme called name with DefaultConfig (signatures "none").
func ByName(name string) (Scheme, error) {
	cfg := DefaultConfig()
	cfg.Scheme = name
	return New(cfg, nil)
}

// New validates cfg and builds the scheme it names. With signatures "ed25519", keys must
// not be nil.
func New(cfg Config, keys Keys) (Scheme, error) {
	registryMu.RLock()
	c, ok := registry[cfg.Scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownScheme, cfg.Scheme, Names())
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Signatures == SignaturesEd25519 && keys == nil {
		return nil, fmt.Errorf("scheme: signatures %q needs public keys", SignaturesEd25519)
	}
	return c(cfg, keys)
}
