//go:build lab

package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/moby/sys/mountinfo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/driver"
	"github.com/volmount/volmount/mounter"
)

// newDriver starts a driver on a fresh root with the real mounter, as the
// plugin does. cfg may set anything but Root and Mounter.
func newDriver(t *testing.T, cfg driver.Config) (*driver.Driver, string) {
	t.Helper()
	root := t.TempDir()
	// Runs before TempDir's removal, which must never walk into a mount:
	// it would delete the server's files.
	t.Cleanup(func() { detachAll(t, root) })
	return reopen(t, root, cfg), root
}

// reopen starts a driver on an existing root, as a plugin restart does.
func reopen(t *testing.T, root string, cfg driver.Config) *driver.Driver {
	t.Helper()
	cfg.Root = root
	cfg.Mounter = mounter.System{}
	d, err := driver.New(cfg)
	require.NoError(t, err, "driver.New(Root: %s)", root)
	return d
}

// detachAll detaches every mount at or below dir, deepest first.
func detachAll(t *testing.T, dir string) {
	t.Helper()
	for _, m := range mountsUnder(t, dir) {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil {
			t.Errorf("detach leftover mount %s: %v", m.Mountpoint, err)
		}
	}
}

// mountsUnder lists the mounts at or below dir, deepest first.
func mountsUnder(t *testing.T, dir string) []*mountinfo.Info {
	t.Helper()
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	require.NoError(t, err)
	for i, j := 0, len(infos)-1; i < j; i, j = i+1, j-1 {
		infos[i], infos[j] = infos[j], infos[i]
	}
	return infos
}

// mountsAt lists the mounts stacked exactly on dir, bottom first.
func mountsAt(t *testing.T, dir string) []*mountinfo.Info {
	t.Helper()
	infos, err := mountinfo.GetMounts(func(m *mountinfo.Info) (bool, bool) {
		return m.Mountpoint != dir, false
	})
	require.NoError(t, err)
	return infos
}

// mountedAt returns the topmost mount on dir, failing the test if none.
func mountedAt(t *testing.T, dir string) *mountinfo.Info {
	t.Helper()
	infos := mountsAt(t, dir)
	require.NotEmpty(t, infos, "nothing is mounted on %s", dir)
	return infos[len(infos)-1]
}

// superOption returns the value of key in a mount's superblock options,
// where the kernel reports what it negotiated (vers=, addr=).
func superOption(m *mountinfo.Info, key string) string {
	for _, opt := range strings.Split(m.VFSOptions, ",") {
		if k, v, ok := strings.Cut(opt, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// volumeName makes a volume name from the test's name.
func volumeName(t *testing.T) string {
	name := regexp.MustCompile(`[^a-zA-Z0-9_.-]+`).ReplaceAllString(t.Name(), "-")
	return strings.Trim(strings.ToLower(name), "-.")
}

func create(t *testing.T, d *driver.Driver, name string, opts map[string]string) {
	t.Helper()
	require.NoError(t, d.Create(&api.CreateRequest{Name: name, Options: opts}),
		"Create(%q, %v)", name, redactedOpts(opts))
}

func mount(t *testing.T, d *driver.Driver, name, id string) string {
	t.Helper()
	resp, err := d.Mount(&api.MountRequest{Name: name, ID: id})
	require.NoError(t, err, "Mount(%q, %q)", name, id)
	return resp.Mountpoint
}

func unmount(t *testing.T, d *driver.Driver, name, id string) {
	t.Helper()
	require.NoError(t, d.Unmount(&api.UnmountRequest{Name: name, ID: id}),
		"Unmount(%q, %q)", name, id)
}

func remove(t *testing.T, d *driver.Driver, name string) {
	t.Helper()
	require.NoError(t, d.Remove(&api.RemoveRequest{Name: name}), "Remove(%q)", name)
}

func status(t *testing.T, d *driver.Driver, name string) map[string]any {
	t.Helper()
	resp, err := d.Get(&api.GetRequest{Name: name})
	require.NoError(t, err, "Get(%q)", name)
	return resp.Volume.Status
}

// redactedOpts masks the o option for failure messages.
func redactedOpts(opts map[string]string) map[string]string {
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		out[k] = v
	}
	if o, ok := out["o"]; ok {
		out["o"] = mounter.Redact(o)
	}
	return out
}

// writeFile writes a file named after the test into dir and returns its
// name and content.
func writeFile(t *testing.T, dir string) (string, string) {
	t.Helper()
	name := volumeName(t) + ".txt"
	content := fmt.Sprintf("written by %s at %s\n", t.Name(), time.Now().Format(time.RFC3339Nano))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644),
		"write %s through the volume", name)
	return name, content
}

// assertFile checks that dir/name holds want.
func assertFile(t *testing.T, dir, name, want string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, name))
	if assert.NoError(t, err, "read %s in %s", name, dir) {
		assert.Equal(t, want, string(got), "content of %s in %s", name, dir)
	}
}

// assertNotMounted checks that nothing is mounted on dir any more.
func assertNotMounted(t *testing.T, dir string) {
	t.Helper()
	assert.Empty(t, mountsAt(t, dir), "mounts left on %s", dir)
}

// within runs f and fails the test if it has not returned after limit. It
// returns whether f returned in time; if not, f goes on running. f runs on
// a goroutine of its own, so it must use assert, never require.
func within(t *testing.T, limit time.Duration, what string, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(limit):
		t.Errorf("%s did not return within %v", what, limit)
		return false
	}
}

// trip describes a network volume for roundTrip.
type trip struct {
	opts      map[string]string
	serverDir string // where the server keeps the volume's files
	fsType    string // the filesystem type the kernel reports
	// vers is the vers= superblock option the kernel reports; a trailing
	// "*" matches any suffix.
	vers string
	// mounted, if set, runs while the volume is mounted for the first
	// time, with the volume's name and its mount.
	mounted func(t *testing.T, name string, m *mountinfo.Info)
}

// roundTrip is the life of a network volume as Docker drives it: Create,
// Mount, write, Unmount, Mount again and read back, Unmount, Remove. It
// checks the mount the kernel made, and that the file is on the server
// throughout.
func roundTrip(t *testing.T, d *driver.Driver, tr trip) {
	t.Helper()
	name := volumeName(t)
	create(t, d, name, tr.opts)

	mp := mount(t, d, name, "c1")
	m := mountedAt(t, mp)
	assert.Equal(t, tr.fsType, m.FSType, "filesystem type mounted on %s", mp)
	assertVers(t, m, tr.vers)
	if tr.mounted != nil {
		tr.mounted(t, name, m)
	}
	file, content := writeFile(t, mp)
	unmount(t, d, name, "c1")
	assertNotMounted(t, mp)
	assertFile(t, tr.serverDir, file, content)

	mp2 := mount(t, d, name, "c2")
	assert.Equal(t, mp, mp2, "mountpoint of the second Mount")
	assertFile(t, mp2, file, content)
	unmount(t, d, name, "c2")
	assertNotMounted(t, mp2)

	remove(t, d, name)
	assert.NoDirExists(t, mp, "mountpoint after Remove")
	assertFile(t, tr.serverDir, file, content)
}

func assertVers(t *testing.T, m *mountinfo.Info, want string) {
	t.Helper()
	got := superOption(m, "vers")
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		assert.True(t, strings.HasPrefix(got, prefix),
			"vers= of %s is %q, want %q (options %s)", m.Mountpoint, got, want, m.VFSOptions)
		return
	}
	assert.Equal(t, want, got, "vers= of %s (options %s)", m.Mountpoint, m.VFSOptions)
}

// mountBehindDriver mounts volume name's backend, as opts describe it,
// on its mountpoint with mount(2), as another process or an earlier run
// of volmount might have: the driver has no record of it.
func mountBehindDriver(t *testing.T, d *driver.Driver, name string,
	opts map[string]string) string {
	t.Helper()
	mp := mountpointOf(t, d, name)
	flags, data := mounter.ParseOptions(opts["o"])
	require.NoError(t, unix.Mount(opts["device"], mp, opts["type"], flags, data),
		"mount %s on %s directly", opts["device"], mp)
	t.Cleanup(func() { unix.Unmount(mp, unix.MNT_DETACH) })
	return mp
}

func mountpointOf(t *testing.T, d *driver.Driver, name string) string {
	t.Helper()
	resp, err := d.Path(&api.PathRequest{Name: name})
	require.NoError(t, err, "Path(%q)", name)
	return resp.Mountpoint
}
