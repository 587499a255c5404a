package mounter

import (
	"errors"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// eintrRetries bounds retries of a call interrupted by a signal. The Go
// runtime's preemption signal can interrupt a slow mount(2), for example
// while CIFS connects.
const eintrRetries = 5

// System is the Mounter that calls the kernel.
type System struct{}

var _ Mounter = System{}

// Mount mounts spec the way mount(8) would:
//  1. mount(2) with every flag except propagation ones;
//  2. for a read-only bind, a remount, since the kernel ignores MS_RDONLY
//     on the first bind call;
//  3. the propagation flags, in a call of their own.
func (System) Mount(spec Spec) error {
	first := spec.Flags &^ propagation
	if err := mount(spec, spec.Source, spec.FSType, first, spec.Data); err != nil {
		return err
	}
	if first&unix.MS_BIND != 0 && first&unix.MS_RDONLY != 0 {
		remount := first | unix.MS_REMOUNT
		if err := mount(spec, "", "", remount, ""); err != nil {
			return errors.Join(err, unmountQuiet(spec.Target))
		}
	}
	if prop := spec.Flags & (propagation | unix.MS_REC); prop&propagation != 0 {
		if err := mount(spec, "", "", prop, ""); err != nil {
			return errors.Join(err, unmountQuiet(spec.Target))
		}
	}
	return nil
}

func mount(spec Spec, source, fstype string, flags uintptr, data string) error {
	var err error
	for range eintrRetries {
		err = unix.Mount(source, spec.Target, fstype, flags, data)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil {
		return nil
	}
	return &Error{Op: "mount", Source: source, Target: spec.Target,
		FSType: fstype, Flags: flags, Data: Redact(data), Err: err}
}

// Unmount unmounts target. EINVAL means target is not a mountpoint and
// ENOENT that it does not exist; both count as already unmounted.
func (System) Unmount(target string, flags int) error {
	var err error
	for range eintrRetries {
		err = unix.Unmount(target, flags)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil || err == unix.EINVAL || err == unix.ENOENT {
		return nil
	}
	return &Error{Op: "unmount", Target: target, Flags: uintptr(flags), Err: err}
}

func unmountQuiet(target string) error {
	return System{}.Unmount(target, unix.MNT_DETACH)
}

// Check stats the filesystem mounted on target.
func (System) Check(target string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return &Error{Op: "statfs", Target: target, Err: err}
	}
	return nil
}

// MountsUnder reads the mount table once and returns the mountpoints at or
// below any of dirs, deepest first so that they can be unmounted in that
// order.
func (System) MountsUnder(dirs ...string) ([]string, error) {
	infos, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return !under(m.Mountpoint, dirs), false
	})
	if err != nil {
		return nil, err
	}
	points := make([]string, 0, len(infos))
	for _, info := range infos {
		points = append(points, info.Mountpoint)
	}
	deepestFirst(points)
	return points, nil
}
