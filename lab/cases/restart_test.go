//go:build lab

package cases

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/driver"
	"github.com/volmount/volmount/mounter"
)

// restartVolumes are network volumes with options other than the
// defaults, so that a restart that lost them would show.
var restartVolumes = []struct {
	name      string
	opts      func() map[string]string
	serverDir func() string
	vers      string
}{
	{"nfs v4.1", func() map[string]string { return nfsOpts("nfs4", "addr=127.0.0.1,vers=4.1") },
		nfsDir, "4.1"},
	{"cifs 3.0", func() map[string]string {
		return cifsOpts("cifs", "//127.0.0.1", inlineLogin(oddUser)+",vers=3.0")
	}, smbDir, "3.0"},
}

// TestRestartKeepsMounts restarts volmount (a new driver on the same
// root) while a network volume is mounted: the new process knows the
// volume, its options and its mount ID, and shares the surviving mount.
func TestRestartKeepsMounts(t *testing.T) {
	for _, vol := range restartVolumes {
		t.Run(vol.name, func(t *testing.T) {
			cfg := driver.Config{MountTimeout: mountTimeout}
			d1, root := newDriver(t, cfg)
			name := volumeName(t)
			create(t, d1, name, vol.opts())
			mp := mount(t, d1, name, "c1")
			file, content := writeFile(t, mp)
			before := status(t, d1, name)

			d2 := reopen(t, root, cfg)
			assert.Equal(t, before, status(t, d2, name), "Status after the restart")
			assert.Equal(t, mp, mount(t, d2, name, "c2"), "Mountpoint after the restart")
			assert.Len(t, mountsAt(t, mp), 1, "mounts on %s: the restart kept the mount", mp)
			assertFile(t, mp, file, content)

			unmount(t, d2, name, "c1")
			assert.Len(t, mountsAt(t, mp), 1, "mounts on %s while c2 uses it", mp)
			unmount(t, d2, name, "c2")
			assertNotMounted(t, mp)
			remove(t, d2, name)
			assertFile(t, vol.serverDir(), file, content)
		})
	}
}

// TestRestartRemounts restarts volmount after its mounts were torn down
// (the daemon unmounts a plugin's mounts when it stops it): the next Mount
// mounts again with the very options the volume was created with.
func TestRestartRemounts(t *testing.T) {
	for _, vol := range restartVolumes {
		t.Run(vol.name, func(t *testing.T) {
			cfg := driver.Config{MountTimeout: mountTimeout}
			d1, root := newDriver(t, cfg)
			name := volumeName(t)
			create(t, d1, name, vol.opts())
			mp := mount(t, d1, name, "c1")
			file, content := writeFile(t, mp)
			require.NoError(t, unix.Unmount(mp, 0), "tear the mount down")

			d2 := reopen(t, root, cfg)
			st := status(t, d2, name)
			assert.Equal(t, false, st["mounted"], "Status mounted after the restart")
			assert.Equal(t, 0, st["mounts"], "Status mounts after the restart")
			mp = mount(t, d2, name, "c2")
			assertVers(t, mountedAt(t, mp), vol.vers)
			assertFile(t, mp, file, content)
			unmount(t, d2, name, "c2")
			assertNotMounted(t, mp)
		})
	}
}

// TestRestartWhileServerDown restarts volmount while the NFS server is
// down: the new driver must come up within MOUNT_TIMEOUT whatever its
// mounts do, including a leftover mount it has to unmount.
func TestRestartWhileServerDown(t *testing.T) {
	cfg := driver.Config{MountTimeout: mountTimeout}
	d1, root := newDriver(t, cfg)
	used, left := volumeName(t)+"-used", volumeName(t)+"-left"
	create(t, d1, used, nfsOpts("nfs", "addr=127.0.0.1,vers=4.2"))
	leftOpts := nfsOpts("nfs", "addr=127.0.0.1,vers=4.2")
	create(t, d1, left, leftOpts)
	mount(t, d1, used, "c1")
	// left's backend is mounted but its record has no mount ID, as after
	// a crash between mount(2) and saving the record: the restart
	// unmounts it.
	mountBehindDriver(t, d1, left, leftOpts)

	stopNFS(t)
	start := time.Now()
	var d2 *driver.Driver
	within(t, mountTimeout+slack, "driver.New with the server down", func() {
		var err error
		d2, err = driver.New(driver.Config{Root: root, Mounter: mounter.System{},
			MountTimeout: cfg.MountTimeout})
		assert.NoError(t, err, "driver.New")
	})
	t.Logf("driver.New took %v with the server down", time.Since(start).Round(time.Millisecond))
	if d2 == nil {
		return
	}
	getAnswers(t, d2, left)
}
