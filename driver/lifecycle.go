package driver

import (
	"errors"
	"fmt"
	"os"
	"strings"

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
	if err != nil {
		return fmt.Errorf("create volume %q: %w", req.Name, err)
	}
	for {
		v, claimed := d.claim(req.Name, opts)
		if claimed {
			return d.provision(v)
		}
		// Another request is creating or removing this name: wait for it,
		// then look again.
		v.op.Lock()
		s := v.snapshot()
		v.op.Unlock()
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
	v.op.Lock()
	d.volumes[name] = v
	return v, true
}

// provision makes a claimed volume's directories and saves its record.
// On failure it removes what it made and the claim.
func (d *Driver) provision(v *volume) (err error) {
	defer v.op.Unlock()
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
	return d.store.save(v.record(nil))
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
// first one, and returns the mountpoint.
func (d *Driver) Mount(req *api.MountRequest) (*api.MountResponse, error) {
	if err := validateID(req.ID); err != nil {
		return nil, err
	}
	v, err := d.lookup(req.Name)
	if err != nil {
		return nil, err
	}
	v.op.Lock()
	defer v.op.Unlock()
	s := v.snapshot()
	if s.gone {
		return nil, errorf(ErrNotFound, "volume %q does not exist", v.name)
	}
	if s.mounted && v.hasID(req.ID) {
		return &api.MountResponse{Mountpoint: v.mountpoint}, nil
	}
	if !s.mounted {
		if err := d.mountBackend(v); err != nil {
			return nil, err
		}
	}
	ids := v.idsWith(req.ID, true)
	if err := d.store.save(v.record(ids)); err != nil {
		if s.ids == 0 {
			err = multierror.Append(err, d.unmountBackend(v))
		}
		return nil, err
	}
	v.setIDs(ids)
	return &api.MountResponse{Mountpoint: v.mountpoint}, nil
}

// Unmount removes req.ID from the volume's users and unmounts the backend
// when it was the last. An ID the volume does not know is ignored: after a
// restart the daemon may send IDs this process never saw.
func (d *Driver) Unmount(req *api.UnmountRequest) error {
	if err := validateID(req.ID); err != nil {
		return err
	}
	v, err := d.lookup(req.Name)
	if err != nil {
		return err
	}
	v.op.Lock()
	defer v.op.Unlock()
	if !v.hasID(req.ID) {
		return nil
	}
	ids := v.idsWith(req.ID, false)
	if len(ids) == 0 && v.snapshot().mounted {
		if err := d.unmountBackend(v); err != nil {
			return err
		}
	}
	v.setIDs(ids)
	return d.store.save(v.record(ids))
}

// Remove deletes a volume that no container uses: its mountpoint, its
// record and, for a directory volume, its data. It refuses while any mount
// ID is active, and deletes nothing while anything is mounted at or below
// the volume's directories.
func (d *Driver) Remove(req *api.RemoveRequest) error {
	v, err := d.lookup(req.Name)
	if err != nil {
		return err
	}
	v.op.Lock()
	defer v.op.Unlock()
	s := v.snapshot()
	switch {
	case s.gone:
		return errorf(ErrNotFound, "volume %q does not exist", v.name)
	case s.ids > 0:
		return errorf(ErrInUse, "volume %q is mounted for %d container(s)",
			v.name, s.ids)
	case s.mounted:
		if err := d.unmountBackend(v); err != nil {
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
	for _, dir := range []string{v.mountpoint, v.dataDir} {
		if dir == "" {
			continue
		}
		points, err := d.mnt.MountsUnder(dir)
		if err != nil {
			return fmt.Errorf("read mount table: %w", err)
		}
		if len(points) > 0 {
			return errorf(ErrInUse, "%s is still mounted; nothing was deleted",
				strings.Join(points, ", "))
		}
	}
	if err := removeEmptyDir(v.mountpoint); err != nil {
		return err
	}
	if v.dataDir == "" {
		return nil
	}
	return os.RemoveAll(v.dataDir)
}

// mountBackend mounts the volume's backend on its mountpoint: the data
// directory for a directory volume, the type/device/o mount otherwise.
func (d *Driver) mountBackend(v *volume) error {
	if _, err := mkdir(v.mountpoint); err != nil {
		return fmt.Errorf("mount volume %q: %w", v.name, err)
	}
	spec := v.opts.spec(v.mountpoint)
	if v.opts.isDirectory() {
		if _, err := mkdir(v.dataDir); err != nil {
			return fmt.Errorf("mount volume %q: %w", v.name, err)
		}
		spec = mounter.Spec{Source: v.dataDir, Target: v.mountpoint, Flags: unix.MS_BIND}
	}
	if err := d.mnt.Mount(spec); err != nil {
		return fmt.Errorf("mount volume %q: %w", v.name, err)
	}
	v.setMounted(true)
	return nil
}

func (d *Driver) unmountBackend(v *volume) error {
	if err := d.mnt.Unmount(v.mountpoint); err != nil {
		return fmt.Errorf("unmount volume %q: %w", v.name, err)
	}
	v.setMounted(false)
	return nil
}
