package driver

import (
	"os"
	"path/filepath"
	"testing"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/mounter"
)

// newTestDriver returns a driver on a fresh root with a fake mounter.
func newTestDriver(t *testing.T) (*Driver, *mounter.Fake) {
	t.Helper()
	fake := mounter.NewFake()
	return reopen(t, t.TempDir(), fake), fake
}

// reopen starts a driver on an existing root, as a plugin restart does.
func reopen(t *testing.T, root string, fake *mounter.Fake) *Driver {
	t.Helper()
	d, err := New(Config{Root: root, Mounter: fake})
	require.NoError(t, err)
	return d
}

func create(t *testing.T, d *Driver, name string, opts map[string]string) {
	t.Helper()
	require.NoError(t, d.Create(&api.CreateRequest{Name: name, Options: opts}),
		"Create(%q, %v)", name, opts)
}

func mount(t *testing.T, d *Driver, name, id string) string {
	t.Helper()
	resp, err := d.Mount(&api.MountRequest{Name: name, ID: id})
	require.NoError(t, err, "Mount(%q, %q)", name, id)
	return resp.Mountpoint
}

func unmount(t *testing.T, d *Driver, name, id string) {
	t.Helper()
	require.NoError(t, d.Unmount(&api.UnmountRequest{Name: name, ID: id}),
		"Unmount(%q, %q)", name, id)
}

// entries lists every path below root except root itself, to show that a
// failed request left nothing behind.
func entries(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(path string, _ os.DirEntry, err error) error {
		if err == nil && path != root {
			paths = append(paths, path)
		}
		return err
	})
	require.NoError(t, err)
	return paths
}

var tmpfsOpts = map[string]string{"type": "tmpfs", "device": "tmpfs",
	"o": "size=10m,uid=1000"}
