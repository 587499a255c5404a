package mounter

// Spec describes one mount(2) call, or the short sequence of calls that
// mount(8) would make for the same options (see System.Mount).
type Spec struct {
	// Source is the device, export or directory: mount(2)'s first argument.
	Source string
	// Target is the directory to mount on.
	Target string
	// FSType is the filesystem type; empty for bind mounts.
	FSType string
	// Flags are the MS_* flags parsed from the options.
	Flags uintptr
	// Data is what remains of the options, passed to the filesystem as is.
	Data string
}

// Mounter is what the driver needs from the kernel. Implementations must be
// safe for concurrent use on distinct targets.
type Mounter interface {
	// Mount mounts spec.Source on spec.Target.
	Mount(spec Spec) error
	// Unmount unmounts target with umount2(2) flags (0, MNT_FORCE,
	// MNT_DETACH). A target that is not mounted is not an error:
	// unmounting is idempotent.
	Unmount(target string, flags int) error
	// Check asks the filesystem mounted on target to answer a statfs(2).
	// A dead server makes it block or fail; a stale handle fails.
	Check(target string) error
	// MountsUnder returns every mountpoint at or below any of dirs,
	// deepest first, read from the mount table in one pass.
	MountsUnder(dirs ...string) ([]string, error)
}
