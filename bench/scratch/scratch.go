// Package scratch makes throw-away roots for plugins under test: a
// directory mounted as a shared mount, as a managed plugin's propagated
// mount is, and removed with everything mounted in it at the end.
package scratch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Kind says what a Root is made of.
type Kind string

const (
	// Disk is a bind of a directory on parent's filesystem onto itself:
	// fsync costs what it costs there.
	Disk Kind = "disk"
	// Tmpfs is a tmpfs: fsync costs nothing, so it shows a plugin's cost
	// without the disk's.
	Tmpfs Kind = "tmpfs"
)

// Root is a scratch directory mounted rshared, so that mounts made inside
// it propagate as they do under a managed plugin's propagated mount.
type Root struct {
	Dir  string
	Kind Kind
}

// New makes a Root of the given kind in a new directory under parent.
func New(parent string, kind Kind) (_ *Root, err error) {
	dir, err := os.MkdirTemp(parent, "vmbench-")
	if err != nil {
		return nil, err
	}
	r := &Root{Dir: dir, Kind: kind}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.Close())
		}
	}()
	switch kind {
	case Disk:
		err = unix.Mount(dir, dir, "", unix.MS_BIND, "")
	case Tmpfs:
		err = unix.Mount("vmbench", dir, "tmpfs", 0, "mode=0755")
	default:
		err = fmt.Errorf("unknown scratch kind %q", kind)
	}
	if err != nil {
		return r, fmt.Errorf("mount scratch root %s: %w", dir, err)
	}
	// Private first, so that the shared mount is a peer group of its own
	// and mounts inside it reach no other mount namespace.
	for _, flags := range []uintptr{unix.MS_PRIVATE, unix.MS_SHARED} {
		if err := unix.Mount("", dir, "", flags|unix.MS_REC, ""); err != nil {
			return r, fmt.Errorf("set propagation of %s: %w", dir, err)
		}
	}
	return r, nil
}

// Path joins elem to the root's directory.
func (r *Root) Path(elem ...string) string {
	return filepath.Join(append([]string{r.Dir}, elem...)...)
}

// Close unmounts everything at or below the root, deepest first, and then
// deletes the directory; it deletes nothing while anything stays mounted
// there, as a bind mount could lead to files that are not ours.
func (r *Root) Close() error {
	points, err := mountsUnder(r.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, 0); err != nil {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
			}
		}
	}
	left, err := mountsUnder(r.Dir)
	if err == nil && len(left) > 0 {
		err = fmt.Errorf("mounts remain under %s: %v; not deleting it", r.Dir, left)
	}
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	return errors.Join(append(errs, os.RemoveAll(r.Dir))...)
}

func mountsUnder(dir string) ([]string, error) {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil, err
	}
	points := make([]string, 0, len(infos))
	for _, info := range infos {
		points = append(points, info.Mountpoint)
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	return points, nil
}

// Filesystem describes the filesystem holding dir: type and source, as
// the mount table gives them.
func Filesystem(dir string) (string, error) {
	infos, err := mountinfo.GetMounts(mountinfo.ParentsFilter(dir))
	if err != nil {
		return "", err
	}
	if len(infos) == 0 {
		return "", fmt.Errorf("no mount holds %s", dir)
	}
	sort.Slice(infos, func(i, j int) bool {
		return len(infos[i].Mountpoint) > len(infos[j].Mountpoint)
	})
	return fmt.Sprintf("%s on %s", infos[0].FSType, infos[0].Source), nil
}
