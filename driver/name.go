package driver

import (
	"regexp"
)

// namePattern is Docker's own rule for volume names. The daemon does not
// enforce it for plugins on Linux, so volmount does, before a name is ever
// joined to a path: it admits no "/", no "..", no leading dot, no spaces.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// maxNameLen keeps a name usable as one path component with room for the
// suffix of a temporary state file.
const maxNameLen = 200

func validateName(name string) error {
	switch {
	case name == "":
		return errorf(ErrInvalid, "volume name is empty")
	case len(name) > maxNameLen:
		return errorf(ErrInvalid, "volume name %.20q... is longer than %d characters",
			name, maxNameLen)
	case !namePattern.MatchString(name):
		return errorf(ErrInvalid, "volume name %q is not allowed: use 2 or more of "+
			"[a-zA-Z0-9_.-], starting with a letter or digit", name)
	}
	return nil
}

func validateID(id string) error {
	if id == "" {
		return errorf(ErrInvalid, "mount ID is empty")
	}
	return nil
}
