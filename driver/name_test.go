package driver

import (
	"regexp"
	"testing"
)

// dockerNamePattern is Docker's own rule, which validName implements
// without a regexp.
var dockerNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func FuzzValidName(f *testing.F) {
	for _, seed := range []string{"", "a", "ab", "../x", "a/b", ".x", "x.", "a b",
		"é1", "A_-.9", "\x00a"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := validName(name), dockerNamePattern.MatchString(name); got != want {
			t.Errorf("validName(%q) = %v, Docker's pattern says %v", name, got, want)
		}
	})
}
