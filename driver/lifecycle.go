package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/mounter"
)

// Create makes a volume, or accepts a repeat of an earlier identical
// Create. Options that differ from the existing volume's are an error
// naming the keys that differ.
func (d *Driver) Create(req *api.CreateRequest) error {
	if err := validateName(req.Name); err != nil {
		return err
	}
	opts, err := parseOptions(req.Options)
	if err == nil && opts.isBind() {
		err = d.checkBindSource(opts.device)
	}
	if err == nil && !isNetwork(opts.fsType) {
		_, data := mounter.ParseOptions(opts.o)
		err = d.checkDataPaths(data, false)
	}
	if err != nil {
		return fmt.Errorf("create volume %q: %w", req.Name, err)
	}
	for {
		v, claimed := d.claim(req.Name, opts)
		if claimed {
			return d.provision(v)
		}
		// Another request may be creating this name: wait for it, then
		// look again.
		s := v.snapshot()
		if !s.ready && !s.gone {
			v.op.lock()
			s = v.snapshot()
			v.op.unlock()
		}
		if s.gone {
			continue
		}
		if keys := differingKeys(v.opts.raw, opts.raw); len(keys) > 0 {
			return errorf(ErrConflict, "volume %q exists with other values for %s",
				req.Name, quoteAll(keys))
		}
		return nil
	}
}

// claim returns the volume called name. If there was none, it inserts a new
// one, with its op lock held, and reports that the caller must provision it.
func (d *Driver) claim(name string, opts options) (*volume, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.volumes[name]; ok {
		return v, false
	}
	v := d.newVolume(name, opts, d.now())
	v.op.lock()
	d.volumes[name] = v
	return v, true
}

// provision makes a claimed volume's directories and saves its record.
// On failure it removes what it made and the claim.
func (d *Driver) provision(v *volume) (err error) {
	defer v.op.unlock()
	var made []string
	defer func() {
		if err == nil {
			v.setReady()
			d.log.Info("volume created", "volume", v.name, "options", v.opts.redacted())
			return
		}
		for i := len(made) - 1; i >= 0; i-- {
			if rmErr := removeEmptyDir(made[i]); rmErr != nil {
				err = multierror.Append(err, rmErr)
			}
		}
		v.setGone()
		d.forget(v)
	}()
	for _, dir := range []string{v.mountpoint, v.dataDir} {
		if dir == "" {
			continue
		}
		created, err := mkdir(dir)
		if err != nil {
			return fmt.Errorf("create volume %q: %w", v.name, err)
		}
		if created {
			made = append(made, dir)
		}
	}
	return d.store.create(v.record(nil))
}

// mkdir makes dir and reports whether it made it; an existing directory is
// accepted as it is.
func mkdir(dir string) (bool, error) {
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrExist) {
		if info, statErr := os.Stat(dir); statErr == nil && info.IsDir() {
			return false, nil
		}
	}
	return false, err
}

// Mount adds req.ID to the volume's users, mounting the backend for the
// first one, and returns the mountpoint. It answers within the mount
// timeout, waiting for the volume included.
func (d *Driver) Mount(req *api.MountRequest) (_ *api.MountResponse, err error) {
	if err := validateID(req.ID); err != nil {
		return nil, err
	}
	v, deadline, err := d.lockVolume(req.Name)
	if err != nil {
		return nil, err
	}
	handedOff := false
	defer func() {
		if !handedOff {
			v.op.unlock()
		}
	}()
	s := v.snapshot()
	if s.gone {
		return nil, errorf(ErrNotFound, "volume %q does not exist", v.name)
	}
	if s.mounted && s.ids <= 1 && (s.ids == 0 || v.hasID(req.ID)) {
		// Nobody else uses the mount: make sure it still answers.
		if err := d.replaceIfStale(v, deadline); err != nil {
			return nil, err
		}
		s.mounted = v.snapshot().mounted
	}
	if !s.mounted {
		handedOff, err = d.mountBackend(v, deadline)
		v.setLastErr(err)
		if err != nil {
			return nil, err
		}
	}
	if v.hasID(req.ID) {
		return &api.MountResponse{Mountpoint: v.mountpoint}, nil
	}
	ids := v.idsWith(req.ID, true)
	if err := d.store.update(v.record(ids)); err != nil {
		if s.ids == 0 {
			err = multierror.Append(err, d.release(v, deadline))
		}
		return nil, err
	}
	v.setIDs(ids)
	return &api.MountResponse{Mountpoint: v.mountpoint}, nil
}

// lockVolume finds the volume called name and takes its op lock, waiting
// no longer than the mount timeout. It returns the deadline by which the
// caller must answer, counted from the request's arrival.
func (d *Driver) lockVolume(name string) (*volume, time.Time, error) {
	deadline := time.Now().Add(d.timeout)
	v, err := d.lookup(name)
	if err != nil {
		return nil, deadline, err
	}
	if !v.op.lockWithin(d.timeout) {
		return nil, deadline, errorf(ErrTimeout, "volume %q is busy: an earlier mount "+
			"or unmount of it has not finished within %v (is its server down?)",
			v.name, d.timeout)
	}
	return v, deadline, nil
}

// Unmount removes req.ID from the volume's users and unmounts the backend
// when it was the last. An ID the volume does not know is ignored: after a
// restart the daemon may send IDs this process never saw.
func (d *Driver) Unmount(req *api.UnmountRequest) error {
	if err := validateID(req.ID); err != nil {
		return err
	}
	v, deadline, err := d.lockVolume(req.Name)
	if err != nil {
		return err
	}
	defer v.op.unlock()
	if !v.hasID(req.ID) {
		return nil
	}
	ids := v.idsWith(req.ID, false)
	if len(ids) == 0 && v.snapshot().mounted {
		if err := d.release(v, deadline); err != nil {
			return err
		}
	}
	v.setIDs(ids)
	return d.store.update(v.record(ids))
}

// Remove deletes a volume that no container uses: its mountpoint, its
// record and, for a directory volume, its data. It refuses while any mount
// ID is active, and deletes nothing while anything is mounted at or below
// the volume's directories.
func (d *Driver) Remove(req *api.RemoveRequest) error {
	v, deadline, err := d.lockVolume(req.Name)
	if err != nil {
		return err
	}
	defer v.op.unlock()
	s := v.snapshot()
	switch {
	case s.gone:
		return errorf(ErrNotFound, "volume %q does not exist", v.name)
	case s.ids > 0:
		return errorf(ErrInUse, "volume %q is mounted for %d container(s)",
			v.name, s.ids)
	case s.mounted:
		if err := d.release(v, deadline); err != nil {
			return err
		}
	}
	if err := d.deleteFiles(v); err != nil {
		return fmt.Errorf("remove volume %q: %w", v.name, err)
	}
	if err := d.store.delete(v.name); err != nil {
		return err
	}
	v.setGone()
	d.forget(v)
	d.log.Info("volume removed", "volume", v.name)
	return nil
}

// deleteFiles removes the volume's mountpoint and data directory after
// checking that nothing is mounted in either.
func (d *Driver) deleteFiles(v *volume) error {
	dirs := []string{v.mountpoint}
	if v.dataDir != "" {
		dirs = append(dirs, v.dataDir)
	}
	points, err := d.mnt.MountsUnder(dirs...)
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	if len(points) > 0 {
		return errorf(ErrInUse, "%s is still mounted; nothing was deleted",
			strings.Join(points, ", "))
	}
	if err := removeEmptyDir(v.mountpoint); err != nil {
		return err
	}
	if v.dataDir == "" {
		return nil
	}
	return os.RemoveAll(v.dataDir)
}

// mountBackend mounts the volume's backend on its mountpoint before
// deadline: the data directory for a directory volume, the type/device/o
// mount otherwise. Resolving the server, reading credentials and mount(2)
// all count. A call that outlives the deadline keeps running; it then owns
// the volume's op lock (handedOff) and, should it mount after all, undoes
// its mount before it lets go.
func (d *Driver) mountBackend(v *volume, deadline time.Time) (handedOff bool, err error) {
	err = bounded(time.Until(deadline), func() error {
		spec, err := d.spec(v, deadline)
		if err != nil {
			return err
		}
		return d.mnt.Mount(spec)
	}, func(late error) {
		if late == nil {
			d.mnt.Unmount(v.mountpoint, unix.MNT_DETACH)
		}
		v.op.unlock()
	})
	if errors.Is(err, ErrTimeout) {
		return true, fmt.Errorf("mount volume %q: mount %s (type %q, options %q): %w",
			v.name, v.opts.device, v.opts.fsType, mounter.Redact(v.opts.o), err)
	}
	if err != nil {
		return false, fmt.Errorf("mount volume %q: %w", v.name, err)
	}
	v.setMounted(true)
	return false, nil
}

// spec is the mount(2) call for the volume's backend, with servers
// resolved and credentials read, all before deadline.
func (d *Driver) spec(v *volume, deadline time.Time) (mounter.Spec, error) {
	if _, err := mkdir(v.mountpoint); err != nil {
		return mounter.Spec{}, err
	}
	if v.opts.isDirectory() {
		if _, err := mkdir(v.dataDir); err != nil {
			return mounter.Spec{}, err
		}
		return mounter.Spec{Source: v.dataDir, Target: v.mountpoint,
			Flags: unix.MS_BIND}, nil
	}
	spec := v.opts.spec(v.mountpoint)
	if v.opts.isBind() {
		// mount(2) follows symlinks, and a volume's content may hold one:
		// check, and mount, the path they lead to.
		source, err := filepath.EvalSymlinks(spec.Source)
		if err != nil {
			return spec, err
		}
		spec.Source = source
		return spec, d.checkBindSource(source)
	}
	if !isNetwork(v.opts.fsType) {
		return spec, d.checkDataPaths(spec.Data, true)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	data, err := d.networkData(ctx, v.opts, spec.Data)
	spec.Data = data
	return spec, err
}

// release unmounts the volume's backend before deadline, escalating as a
// dead server requires: a plain unmount, then a forced one (which aborts
// the server's pending requests), then a lazy detach, each with an equal
// share of the time left.
func (d *Driver) release(v *volume, deadline time.Time) error {
	rungs := []struct {
		name  string
		flags int
	}{{"umount", 0}, {"forced umount", unix.MNT_FORCE}, {"lazy umount", unix.MNT_DETACH}}
	var errs error
	for i, rung := range rungs {
		step := time.Until(deadline) / time.Duration(len(rungs)-i)
		err := bounded(step, func() error { return d.mnt.Unmount(v.mountpoint, rung.flags) }, nil)
		if err == nil {
			v.setMounted(false)
			if errs != nil {
				d.log.Warn("volume needed a forced unmount", "volume", v.name,
					"error", errs)
			}
			return nil
		}
		errs = multierror.Append(errs, fmt.Errorf("%s: %w", rung.name, err))
	}
	return fmt.Errorf("unmount volume %q: %w", v.name, errs)
}

// replaceIfStale checks that the volume's mount still answers and, if it
// does not (a dead server, a stale handle), releases it so that the next
// mount is a fresh one; all before deadline. Only network mounts can go
// stale this way.
func (d *Driver) replaceIfStale(v *volume, deadline time.Time) error {
	if !isNetwork(v.opts.fsType) {
		return nil
	}
	probe := min(d.timeout/4, time.Until(deadline)/3)
	err := bounded(probe, func() error { return d.mnt.Check(v.mountpoint) }, nil)
	if err == nil {
		return nil
	}
	d.log.Info("replacing a mount that does not answer", "volume", v.name, "error", err)
	// Leave half of the time that is left for the fresh mount.
	return d.release(v, time.Now().Add(time.Until(deadline)/2))
}
