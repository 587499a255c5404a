// Package stall makes a volume backend whose mount blocks on purpose and
// lets go on demand, with no network and no FUSE: an ext4 image on a loop
// device whose backing file lives on a second ext4 filesystem, which is
// frozen (FIFREEZE). Mounting the inner filesystem read-write makes the
// kernel write its superblock; that write reaches the frozen filesystem
// and waits there (in ext4_commit_super, state D) until it is thawed.
//
// A network backend cannot be used here: this machine's kernel has no nfs
// or cifs module (see /proc/filesystems).
package stall

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Backend is the blocking backend. Mount Device with type ext4.
type Backend struct {
	// Device is the loop device to mount; it holds a fresh ext4.
	Device string

	dir       string
	outerLoop string
	outer     string // where the outer filesystem is mounted
	frozen    bool
}

// New makes the backend's two images, loop devices and mount in dir, a
// new directory of its own.
func New(dir string) (_ *Backend, err error) {
	b := &Backend{dir: dir, outer: filepath.Join(dir, "outer")}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Close())
		}
	}()
	if err := os.Mkdir(b.outer, 0o700); err != nil {
		return nil, err
	}
	if b.outerLoop, err = newExt4Loop(filepath.Join(dir, "outer.img"), 64<<20); err != nil {
		return nil, err
	}
	if err := unix.Mount(b.outerLoop, b.outer, "ext4", 0, ""); err != nil {
		return nil, fmt.Errorf("mount %s on %s: %w", b.outerLoop, b.outer, err)
	}
	if b.Device, err = newExt4Loop(filepath.Join(b.outer, "inner.img"), 16<<20); err != nil {
		return nil, err
	}
	return b, nil
}

// newExt4Loop makes an image file of size bytes holding an empty ext4 and
// attaches it to a free loop device, which it returns.
func newExt4Loop(image string, size int64) (string, error) {
	f, err := os.OpenFile(image, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	err = f.Truncate(size)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return "", err
	}
	if _, err := run("mkfs.ext4", "-q", "-F", image); err != nil {
		return "", err
	}
	return run("losetup", "--find", "--show", image)
}

func run(argv ...string) (string, error) {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err,
			strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// The freeze ioctls of linux/fs.h, _IOWR('X', 119 and 120, int); x/sys
// does not name them.
const (
	fiFreeze = 0xc0045877
	fiThaw   = 0xc0045878
)

// Freeze makes every later mount of Device block.
func (b *Backend) Freeze() error {
	if err := ioctl(b.outer, fiFreeze); err != nil {
		return fmt.Errorf("freeze %s: %w", b.outer, err)
	}
	b.frozen = true
	return nil
}

// Thaw lets blocked mounts of Device go on.
func (b *Backend) Thaw() error {
	if !b.frozen {
		return nil
	}
	if err := ioctl(b.outer, fiThaw); err != nil {
		return fmt.Errorf("thaw %s: %w", b.outer, err)
	}
	b.frozen = false
	return nil
}

func ioctl(dir string, req uint) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.IoctlSetInt(fd, req, 0)
}

// Close thaws the backend and takes it apart: the inner loop device, the
// outer mount, the outer loop device, the images. Device must no longer be
// mounted.
func (b *Backend) Close() error {
	errs := []error{b.Thaw()}
	if b.Device != "" {
		errs = append(errs, detach(b.Device))
	}
	if err := unix.Unmount(b.outer, 0); err != nil && err != unix.EINVAL &&
		err != unix.ENOENT {
		// The outer image stays attached while it is mounted.
		return errors.Join(append(errs, fmt.Errorf("unmount %s: %w", b.outer, err))...)
	}
	if b.outerLoop != "" {
		errs = append(errs, detach(b.outerLoop))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.RemoveAll(b.dir)
}

func detach(loop string) error {
	_, err := run("losetup", "--detach", loop)
	return err
}
