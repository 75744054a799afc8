// Package fieldpath is the error type that config validation returns: the dotted path
// of the offending key (as it is spelled in the YAML file) and what is wrong with it.
//
// Each library package validates its own section of the config and reports paths
// relative to that section; the caller that embeds the section prefixes them with
// Under. The config loader (package experiments) then looks the full path up in the
// YAML document to add a line number, so users read "config.yaml:14: world.eth.sigma:
// must be positive" instead of a Go field name.
package fieldpath

import (
	"errors"
	"fmt"
)

// Error says that the config value at Path is invalid.
type Error struct {
	Path string // dotted YAML path, e.g. "world.locations[2].mean"
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errorf returns an *Error for path with a formatted message.
func Errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Under prefixes the path of every *Error in err (joined errors included) with
// prefix, so a section's relative paths become absolute. Other errors pass through.
func Under(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = Under(prefix, e)
		}
		return errors.Join(out...)
	}
	var fe *Error
	if errors.As(err, &fe) {
		p := prefix
		switch {
		case fe.Path == "":
		case fe.Path[0] == '[':
			p += fe.Path
		default:
			p += "." + fe.Path
		}
		return &Error{Path: p, Msg: fe.Msg}
	}
	return err
}
