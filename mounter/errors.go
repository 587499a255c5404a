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
// password holding escaped commas is masked whole. A password written with
// an unescaped comma cannot be told from the options after it, so after a
// password every word is masked too until one is a mount flag or a common
// NFS or CIFS option (vers=, uid=, sec= ...).
func Redact(opts string) string {
	if !strings.Contains(strings.ToLower(opts), "pass") {
		return opts
	}
	var out []string
	secret := false
	for _, word := range SplitOptions(opts) {
		key, _, hasValue := strings.Cut(word, "=")
		switch {
		case hasValue && isSecretKey(key):
			out = append(out, key+"=********")
			secret = true
		case secret && !knownOption(key, hasValue):
			// Perhaps the rest of the password: leave it out.
		default:
			out = append(out, word)
			secret = false
		}
	}
	return strings.Join(out, ",")
}

// commonOptions are option keys of the NFS and CIFS clients that end a
// password's masking in Redact.
var commonOptions = map[string]bool{
	"vers": true, "nfsvers": true, "sec": true, "uid": true, "gid": true,
	"forceuid": true, "forcegid": true, "file_mode": true, "dir_mode": true,
	"username": true, "user": true, "domain": true, "dom": true, "port": true,
	"addr": true, "ip": true, "iocharset": true, "cache": true, "actimeo": true,
	"rsize": true, "wsize": true, "timeo": true, "retrans": true, "proto": true,
	"mountport": true, "mountproto": true, "nolock": true, "soft": true,
	"hard": true, "noperm": true, "seal": true, "nounix": true,
	"serverino": true, "noserverino": true, "mfsymlinks": true, "nobrl": true,
}

func knownOption(key string, hasValue bool) bool {
	if _, ok := flags[key]; ok && !hasValue {
		return true
	}
	return commonOptions[key]
}

func isSecretKey(key string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "password", "pass", "password2":
		return true
	}
	return false
}
