package driver

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// load rebuilds the volumes from their records and reconciles each with
// the mount table, read once.
func (d *Driver) load() error {
	recs, skipped, err := d.store.load()
	if err != nil {
		return err
	}
	for _, err := range skipped {
		d.log.Warn("skipping unreadable volume record", "error", err)
	}
	points, err := d.mnt.MountsUnder(d.root)
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	mounted := make(map[string]bool, len(points))
	for _, p := range points {
		mounted[p] = true
	}
	for _, rec := range recs {
		opts, err := parseOptions(rec.Options)
		if err != nil {
			d.log.Warn("skipping volume record with bad options",
				"volume", rec.Name, "error", err)
			continue
		}
		v := d.newVolume(rec.Name, opts, rec.CreatedAt)
		v.setIDs(rec.MountIDs)
		v.mounted = mounted[v.mountpoint]
		v.ready = true
		d.reconcile(v, len(rec.MountIDs))
		d.volumes[v.name] = v
	}
	d.log.Info("volumes loaded", "count", len(d.volumes), "root", d.root)
	return nil
}

// reconcile makes a loaded volume's mount IDs agree with the mount table.
//
// A backend still mounted with no IDs was left by a crash between mount(2)
// and saving the record: it is unmounted. IDs whose backend is no longer
// mounted belong to a previous run whose mounts were torn down (the daemon
// unmounts everything of a plugin it disables or stops); containers that
// survived that keep their own copy of the mount and the daemon still
// refuses to remove a volume they use, so the IDs are dropped: keeping them
// would block Remove forever, as their Unmount never comes.
func (d *Driver) reconcile(v *volume, ids int) {
	switch {
	case v.mounted && ids == 0:
		// Nobody uses it, so a lazy detach is safe, and it never waits
		// on a dead server: start-up must answer within the daemon's 9 s.
		if err := d.mnt.Unmount(v.mountpoint, unix.MNT_DETACH); err != nil {
			d.log.Warn("could not unmount unused volume", "volume", v.name,
				"error", err)
			return
		}
		v.mounted = false
		d.log.Info("unmounted unused volume", "volume", v.name)
	case !v.mounted && ids > 0:
		v.setIDs(nil)
		if err := d.store.update(v.record(nil)); err != nil {
			d.log.Warn("could not save volume record", "volume", v.name,
				"error", err)
		}
		d.log.Info("dropped mount IDs of a mount that did not survive the restart",
			"volume", v.name, "ids", ids)
	}
}
