//go:build lab

package cases

import (
	"os"
	"path/filepath"
	"testing"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/driver"
)

// TestRemoveKeepsServerFiles removes network volumes in every state a
// careless cleanup could meet them in, and checks that the server's files
// are all still there: only volmount's own mountpoint may go.
func TestRemoveKeepsServerFiles(t *testing.T) {
	volumes := []struct {
		name      string
		opts      func() map[string]string
		serverDir func() string
	}{
		{"nfs", func() map[string]string { return nfsOpts("nfs", "addr=127.0.0.1,vers=4.2") },
			func() string { return lab.nfsExport }},
		{"cifs", func() map[string]string {
			return cifsOpts("cifs", "//127.0.0.1", inlineLogin(plainUser)+",vers=3.1.1")
		}, func() string { return lab.smbDir }},
	}
	for _, vol := range volumes {
		t.Run(vol.name+" after unmount", func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			name := volumeName(t)
			create(t, d, name, vol.opts())
			mp := mount(t, d, name, "c1")
			file, content := writeTree(t, mp)
			unmount(t, d, name, "c1")

			remove(t, d, name)
			assert.NoDirExists(t, mp)
			assertTree(t, vol.serverDir(), file, content)
		})
		t.Run(vol.name+" while in use", func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			name := volumeName(t)
			create(t, d, name, vol.opts())
			mp := mount(t, d, name, "c1")
			file, content := writeTree(t, mp)

			err := d.Remove(&api.RemoveRequest{Name: name})
			assert.ErrorIs(t, err, driver.ErrInUse, "Remove(%q) while mounted", name)
			assertTree(t, mp, file, content)
			assertTree(t, vol.serverDir(), file, content)
			unmount(t, d, name, "c1")
			remove(t, d, name)
			assertTree(t, vol.serverDir(), file, content)
		})
		t.Run(vol.name+" mounted behind the driver's back", func(t *testing.T) {
			// The backend is mounted on the mountpoint but the driver does
			// not know (another process did it): Remove must notice the
			// mount and delete nothing.
			d, _ := newDriver(t, driver.Config{})
			name := volumeName(t)
			opts := vol.opts()
			create(t, d, name, opts)
			mp := mountBehindDriver(t, d, name, opts)
			file, content := writeTree(t, mp)

			err := d.Remove(&api.RemoveRequest{Name: name})
			t.Logf("Remove(%q) = %v", name, err)
			assertTree(t, vol.serverDir(), file, content)
		})
	}
}

// writeTree writes a file and a directory with a file in it into dir,
// and returns the file's name and content.
func writeTree(t *testing.T, dir string) (string, string) {
	t.Helper()
	file, content := writeFile(t, dir)
	sub := filepath.Join(dir, file+".d")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "inner"), []byte(content), 0o644))
	return file, content
}

// assertTree checks what writeTree wrote is in dir.
func assertTree(t *testing.T, dir, file, content string) {
	t.Helper()
	assertFile(t, dir, file, content)
	assertFile(t, filepath.Join(dir, file+".d"), "inner", content)
}
