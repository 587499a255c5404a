package driver

// validName applies Docker's own rule for volume names,
// [a-zA-Z0-9][a-zA-Z0-9_.-]+. The daemon does not enforce it for plugins
// on Linux, so volmount does, before a name is ever joined to a path: it
// admits no "/", no "..", no leading dot, no spaces. A loop, not a regexp:
// Get checks a name on every call.
func validName(name string) bool {
	if len(name) < 2 || !isAlnum(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

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
	case !validName(name):
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
