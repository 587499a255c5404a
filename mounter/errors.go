package mounter

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Error reports a failed mount or unmount with everything that was asked of
// the kernel. Data is kept masked (see Redact), so the error can be logged
// and returned to Docker as it is.
type Error struct {
	Op     string // "mount", "unmount" or "statfs"
	Source string
	Target string
	FSType string
	Flags  uintptr
	Data   string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Source != "" {
		fmt.Fprintf(&b, " %s on", e.Source)
	}
	fmt.Fprintf(&b, " %s", e.Target)
	switch {
	case e.Op == "mount":
		fmt.Fprintf(&b, " (type %q, flags %#x, data %q)", e.FSType, e.Flags, e.Data)
	case e.Flags != 0:
		fmt.Fprintf(&b, " (flags %#x)", e.Flags)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Op == "mount" && errors.Is(e.Err, unix.ENODEV) {
		fmt.Fprintf(&b, " (this kernel does not support filesystem type %q)", e.FSType)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Redact masks the value of every password= (and pass=) option in a
// comma-separated option string, for use in anything that may be read by
// someone else: errors, logs, Status. It splits as SplitOptions does, so a
// password holding escaped commas is masked whole, and it drops the bare
// words that follow a password, which may be the rest of a password whose
// comma was not escaped.
func Redact(opts string) string {
	if !strings.Contains(strings.ToLower(opts), "pass") {
		return opts
	}
	var out []string
	secret := false
	for _, word := range SplitOptions(opts) {
		key, _, ok := strings.Cut(word, "=")
		switch {
		case ok && isSecretKey(key):
			out = append(out, key+"=********")
			secret = true
		case secret && !ok:
			// A bare word after a password may be the rest of a
			// password written with an unescaped comma: mask it too.
		default:
			out = append(out, word)
			secret = false
		}
	}
	return strings.Join(out, ",")
}

func isSecretKey(key string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "password", "pass", "password2":
		return true
	}
	return false
}
