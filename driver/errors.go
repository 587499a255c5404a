package driver

import (
	"errors"
	"fmt"
)

// Kinds of error callers can test with errors.Is. Every error the driver
// returns is of one of these kinds or wraps a *mounter.Error.
var (
	// ErrNotFound means there is no volume of that name.
	ErrNotFound = errors.New("no such volume")
	// ErrInUse means the volume, or something in it, is still mounted.
	ErrInUse = errors.New("volume is in use")
	// ErrInvalid means the request itself is wrong: a bad name, ID or
	// option. Retrying the same request cannot succeed.
	ErrInvalid = errors.New("invalid request")
	// ErrConflict means a Create named an existing volume with other
	// options.
	ErrConflict = errors.New("volume exists with other options")
	// ErrTimeout means a mount, an unmount or the wait for the volume
	// took longer than the mount timeout; the call may still finish.
	ErrTimeout = errors.New("timed out")
)

// kindError is an error of one of the kinds above whose text is its own
// message: the kind is for errors.Is, not for the user to read twice.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// errorf formats an error of the given kind; %w in format wraps as usual.
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}
