package mounter

import (
	"path/filepath"
	"sync"
)

// Fake is an in-memory Mounter for tests. It records every mount by target
// and can be told to fail the next calls.
type Fake struct {
	mu     sync.Mutex
	mounts map[string]Spec
	// OnMount, when set, runs before each mount outside the fake's lock;
	// an error it returns fails the mount. Tests use it to make a mount
	// fail or block.
	OnMount func(Spec) error
	// OnUnmount, when set, runs before each unmount of a mounted target
	// outside the fake's lock, with the umount2(2) flags; an error it
	// returns fails the unmount.
	OnUnmount func(target string, flags int) error
	// CheckErr, when set, is returned by Check of any target.
	CheckErr error
	// Calls counts the mounts and unmounts the fake carried out.
	Calls int
}

var _ Mounter = (*Fake)(nil)

// NewFake returns a Fake with nothing mounted.
func NewFake() *Fake {
	return &Fake{mounts: make(map[string]Spec)}
}

// Mount records spec as mounted on its target.
func (f *Fake) Mount(spec Spec) error {
	if f.OnMount != nil {
		if err := f.OnMount(spec); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls++
	f.mounts[filepath.Clean(spec.Target)] = spec
	return nil
}

// Unmount forgets the mount on target.
func (f *Fake) Unmount(target string, flags int) error {
	target = filepath.Clean(target)
	if _, ok := f.Mounted(target); ok && f.OnUnmount != nil {
		if err := f.OnUnmount(target, flags); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls++
	delete(f.mounts, target)
	return nil
}

// Check fails with CheckErr, if set, for any target.
func (f *Fake) Check(string) error {
	return f.CheckErr
}

// MountsUnder returns the recorded targets at or below any of dirs,
// deepest first.
func (f *Fake) MountsUnder(dirs ...string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var points []string
	for target := range f.mounts {
		if under(target, dirs) {
			points = append(points, target)
		}
	}
	deepestFirst(points)
	return points, nil
}

// Mounted returns the spec mounted on target, if any.
func (f *Fake) Mounted(target string) (Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	spec, ok := f.mounts[filepath.Clean(target)]
	return spec, ok
}
