//go:build lab

package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/moby/sys/mountinfo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/driver"
)

// credentialsDir writes a credentials file for each user, in the format
// mount.cifs reads, and returns the directory.
func credentialsDir(t *testing.T, files map[string]smbUser) string {
	t.Helper()
	dir := t.TempDir()
	for name, u := range files {
		text := fmt.Sprintf("username=%s\npassword=%s\ndomain=LAB\n", u.name, u.password)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	return dir
}

// withCredentials is a CIFS volume that logs in with credentials file
// name: credentials= is an option of its own, beside type, device and o.
func withCredentials(name, o string) map[string]string {
	opts := cifsOpts("cifs", "//127.0.0.1", o)
	opts["credentials"] = name
	return opts
}

// TestCredentialsFile logs in with credentials= files, passwords full of
// special characters included, and checks that no password reaches
// Status or the driver's state on disk.
func TestCredentialsFile(t *testing.T) {
	dir := credentialsDir(t, map[string]smbUser{
		"plain": plainUser, "odd": oddUser, "comma": commaUser})
	tests := []struct {
		name  string
		file  string
		user  smbUser
		vers  string
		extra string
	}{
		{"3.0 plain", "plain", plainUser, "3.0", ""},
		{"3.1.1 odd password", "odd", oddUser, "3.1.1", ""},
		{"3.1.1 comma password", "comma", commaUser, "3.1.1", ",rw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, root := newDriver(t, driver.Config{CredentialsDir: dir})
			opts := withCredentials(tt.file, "vers="+tt.vers+tt.extra)
			roundTrip(t, d, trip{opts: opts, serverDir: lab.smbDir, fsType: "cifs",
				vers: tt.vers,
				mounted: func(t *testing.T, name string, m *mountinfo.Info) {
					assert.Equal(t, tt.user.name, superOption(m, "username"),
						"the kernel's login")
					st := status(t, d, name)
					assert.Equal(t, tt.file, st["credentials"], "Status credentials")
					assertMasked(t, st, tt.user.password)
					assertNotInFiles(t, filepath.Join(root, ".volmount"), tt.user.password)
				}})
		})
	}
}

// TestCredentialsErrors covers credentials files that cannot work: none
// of them may leak a password, and each error names the file.
func TestCredentialsErrors(t *testing.T) {
	wrong := smbUser{plainUser.name, "Wrong,Secret=77"}
	dir := credentialsDir(t, map[string]smbUser{"wrong": wrong, "plain": plainUser})

	t.Run("missing file", func(t *testing.T) {
		d, _ := newDriver(t, driver.Config{CredentialsDir: dir})
		err := createAndMount(t, d, withCredentials("absent", "vers=3.1.1"))
		require.Error(t, err, "Create and Mount with credentials=absent")
		assert.Contains(t, err.Error(), `"absent"`, "error names the file")
	})
	t.Run("name leaving the directory", func(t *testing.T) {
		d, _ := newDriver(t, driver.Config{CredentialsDir: dir})
		err := d.Create(&api.CreateRequest{Name: volumeName(t),
			Options: withCredentials("../plain", "vers=3.1.1")})
		assert.ErrorIs(t, err, driver.ErrInvalid, "Create with credentials=../plain")
	})
	t.Run("password inline too", func(t *testing.T) {
		d, _ := newDriver(t, driver.Config{CredentialsDir: dir})
		err := d.Create(&api.CreateRequest{Name: volumeName(t),
			Options: withCredentials("plain", "password=x,vers=3.1.1")})
		assert.ErrorIs(t, err, driver.ErrInvalid, "Create with credentials= and password=")
	})
	t.Run("wrong password", func(t *testing.T) {
		d, root := newDriver(t, driver.Config{CredentialsDir: dir})
		name := volumeName(t)
		err := createAndMount(t, d, withCredentials("wrong", "vers=3.1.1"))
		require.Error(t, err, "Mount with a wrong password in the file")
		assert.Contains(t, strings.ToLower(err.Error()), "permission denied")
		for _, text := range []string{err.Error(), fmt.Sprint(status(t, d, name))} {
			assert.NotContains(t, text, "Wrong")
			assert.NotContains(t, text, "Secret=77")
		}
		assertNotInFiles(t, filepath.Join(root, ".volmount"), "Secret=77")
	})
}

// TestInlineCommaPassword writes a password with commas inline, doubled
// as the kernel's CIFS client reads them.
func TestInlineCommaPassword(t *testing.T) {
	d, _ := newDriver(t, driver.Config{})
	o := "username=" + commaUser.name + ",password=" +
		strings.ReplaceAll(commaUser.password, ",", ",,") + ",vers=3.1.1"
	roundTrip(t, d, trip{opts: cifsOpts("cifs", "//127.0.0.1", o), serverDir: lab.smbDir,
		fsType: "cifs", vers: "3.1.1",
		mounted: func(t *testing.T, name string, _ *mountinfo.Info) {
			assertMasked(t, status(t, d, name), commaUser.password)
		}})
}

// createAndMount creates a volume named after the test and mounts it; it
// returns the first error.
func createAndMount(t *testing.T, d *driver.Driver, opts map[string]string) error {
	t.Helper()
	name := volumeName(t)
	if err := d.Create(&api.CreateRequest{Name: name, Options: opts}); err != nil {
		return err
	}
	_, err := d.Mount(&api.MountRequest{Name: name, ID: "c1"})
	return err
}

// assertNotInFiles checks that no file below dir holds secret.
func assertNotInFiles(t *testing.T, dir, secret string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil {
			assert.NotContains(t, string(data), secret, "content of %s", path)
		}
		return err
	})
	assert.NoError(t, err)
}
