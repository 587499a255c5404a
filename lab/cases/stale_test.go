//go:build lab

package cases

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/driver"
)

// TestStaleMountReplaced makes the server's export new under a mounted
// volume, so that the mount only answers ESTALE. A Mount that finds such
// a mount with no other user must replace it with a fresh one.
func TestStaleMountReplaced(t *testing.T) {
	t.Run("repeated Mount of its only user", func(t *testing.T) {
		d, _ := newDriver(t, driver.Config{MountTimeout: mountTimeout})
		name := volumeName(t)
		create(t, d, name, nfsOpts("nfs", "addr=127.0.0.1,vers=4.2"))
		mp := mount(t, d, name, "c1")
		writeFile(t, mp)
		replaceExport(t)
		requireStale(t, mp)

		var got string
		within(t, mountTimeout+slack, "Mount over a stale mount", func() {
			resp, err := d.Mount(&api.MountRequest{Name: name, ID: "c1"})
			if assert.NoError(t, err, "Mount(%q) again", name) {
				got = resp.Mountpoint
			}
		})
		require.Equal(t, mp, got)
		assertFresh(t, mp)
		unmount(t, d, name, "c1")
		assertNotMounted(t, mp)
	})
	t.Run("left mounted with no user across a restart", func(t *testing.T) {
		// The state a crash between mount(2) and saving the record leaves,
		// here with a file open in it and the export gone stale: the
		// restart detaches it lazily, without waiting on the server, and
		// the next Mount gets a fresh mount.
		cfg := driver.Config{MountTimeout: mountTimeout}
		d, root := newDriver(t, cfg)
		name := volumeName(t)
		opts := nfsOpts("nfs", "addr=127.0.0.1,vers=4.2")
		create(t, d, name, opts)
		mp := mountBehindDriver(t, d, name, opts)
		file, _ := writeFile(t, mp)
		f, err := os.Open(filepath.Join(mp, file))
		require.NoError(t, err)
		defer f.Close()
		replaceExport(t)
		requireStale(t, mp)

		within(t, slack, "restart over a stale mount with a file open", func() {
			d = reopen(t, root, cfg)
		})
		assert.Empty(t, mountsAt(t, mp), "the restart detached the unused mount")

		within(t, mountTimeout+slack, "Mount after the restart", func() {
			_, err := d.Mount(&api.MountRequest{Name: name, ID: "c1"})
			assert.NoError(t, err, "Mount(%q) after the restart", name)
		})
		assertFresh(t, mp)
		unmount(t, d, name, "c1")
		assertNotMounted(t, mp)
	})
}

// requireStale checks that the lab made the mount on mp stale: statfs(2)
// of it fails with ESTALE, as it does for the driver.
func requireStale(t *testing.T, mp string) {
	t.Helper()
	var st unix.Statfs_t
	var err error
	for deadline := time.Now().Add(quick); time.Now().Before(deadline); {
		if err = unix.Statfs(mp, &st); errors.Is(err, unix.ESTALE) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the lab could not make %s stale: statfs gave %v, want ESTALE", mp, err)
}

// assertFresh checks that exactly one mount is on mp and that it works: a
// file written there lands in the server's new export.
func assertFresh(t *testing.T, mp string) {
	t.Helper()
	assert.Len(t, mountsAt(t, mp), 1, "mounts on %s", mp)
	_, err := os.ReadDir(mp)
	require.NoError(t, err, "list the replaced mount")
	file, content := writeFile(t, mp)
	assertFile(t, lab.nfsExport, file, content)
}
