package driver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/mounter"
)

func TestCreateGetList(t *testing.T) {
	d, _ := newTestDriver(t)
	create(t, d, "plain", nil)
	create(t, d, "fast", tmpfsOpts)

	got, err := d.Get(&api.GetRequest{Name: "fast"})
	require.NoError(t, err)
	assert.Equal(t, "fast", got.Volume.Name)
	assert.Equal(t, filepath.Join(d.root, "fast"), got.Volume.Mountpoint)
	assert.DirExists(t, got.Volume.Mountpoint)
	_, err = time.Parse(time.RFC3339, got.Volume.CreatedAt)
	assert.NoError(t, err, "CreatedAt %q is RFC 3339", got.Volume.CreatedAt)
	assert.Equal(t, map[string]any{"type": "tmpfs", "device": "tmpfs",
		"o": "size=10m,uid=1000", "mounted": false, "mounts": 0}, got.Volume.Status)

	plain, err := d.Get(&api.GetRequest{Name: "plain"})
	require.NoError(t, err)
	assert.Equal(t, "directory", plain.Volume.Status["type"])

	list, err := d.List()
	require.NoError(t, err)
	var names []string
	for _, v := range list.Volumes {
		names = append(names, v.Name)
		assert.True(t, strings.HasPrefix(v.Mountpoint, d.root+"/"), v.Mountpoint)
	}
	assert.ElementsMatch(t, []string{"plain", "fast"}, names)
}

func TestGetUnknown(t *testing.T) {
	d, _ := newTestDriver(t)
	_, err := d.Get(&api.GetRequest{Name: "nope"})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.EqualError(t, err, `volume "nope" does not exist`)
}

func TestCreateIsIdempotent(t *testing.T) {
	d, _ := newTestDriver(t)
	create(t, d, "v1", tmpfsOpts)
	create(t, d, "v1", map[string]string{"o": "size=10m,uid=1000",
		"device": "tmpfs", "type": "tmpfs"})

	err := d.Create(&api.CreateRequest{Name: "v1", Options: map[string]string{
		"type": "tmpfs", "device": "tmpfs", "o": "size=20m"}})
	assert.ErrorIs(t, err, ErrConflict)
	assert.EqualError(t, err, `volume "v1" exists with other values for "o"`)

	err = d.Create(&api.CreateRequest{Name: "v1"})
	assert.EqualError(t, err,
		`volume "v1" exists with other values for "device", "o", "type"`)
}

func TestCreateRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "a", "../x", "a/b", "..", ".hidden",
		"-dash", "with space", "x\x00y", strings.Repeat("n", 201)} {
		t.Run(name, func(t *testing.T) {
			d, _ := newTestDriver(t)
			err := d.Create(&api.CreateRequest{Name: name})
			assert.ErrorIs(t, err, ErrInvalid, "Create(%q)", name)
			assert.Contains(t, err.Error(), "volume name")
			assert.Empty(t, entries(t, filepath.Join(d.root, ".volmount", "state")))
			assert.ElementsMatch(t, []string{".volmount"}, topLevel(t, d.root))
		})
	}
	d, _ := newTestDriver(t)
	for _, name := range []string{"ab", "a.b-c_d", "0x", strings.Repeat("n", 200)} {
		create(t, d, name, nil)
	}
}

func topLevel(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestCreateRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"unknown key", map[string]string{"bogus": "1"},
			`unknown option "bogus": volmount accepts "credentials", "device", "o", "type"`},
		{"two unknown keys", map[string]string{"size": "1G", "zz": "1"},
			`unknown option "size", "zz"`},
		{"o without type", map[string]string{"o": "size=1m"},
			`option "o" needs option "type"`},
		{"o without device", map[string]string{"o": "size=1m", "type": "tmpfs"},
			`option "o" needs option "device"`},
		{"type without device", map[string]string{"type": "tmpfs"},
			`option "type" needs option "device"`},
		{"device without type", map[string]string{"device": "/dev/sdb1"},
			`option "device" needs option "type"`},
		{"empty value", map[string]string{"type": "", "device": "tmpfs"},
			`option "type" has an empty value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, fake := newTestDriver(t)
			err := d.Create(&api.CreateRequest{Name: "vol", Options: tt.opts})
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), `"vol"`)
			assert.ElementsMatch(t, []string{".volmount"}, topLevel(t, d.root))
			assert.Empty(t, entries(t, filepath.Join(d.root, ".volmount", "state")))
			assert.Zero(t, fake.Calls)
			_, err = d.Get(&api.GetRequest{Name: "vol"})
			assert.ErrorIs(t, err, ErrNotFound)
		})
	}
}

func TestMountIDSet(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "tv", tmpfsOpts)

	mp := mount(t, d, "tv", "id1")
	assert.Equal(t, filepath.Join(d.root, "tv"), mp)
	assert.DirExists(t, mp)
	spec, ok := fake.Mounted(mp)
	require.True(t, ok, "first Mount mounts the backend")
	assert.Equal(t, mounter.Spec{Source: "tmpfs", Target: mp, FSType: "tmpfs",
		Data: "size=10m,uid=1000"}, spec)

	assert.Equal(t, mp, mount(t, d, "tv", "id2"))
	assert.Equal(t, mp, mount(t, d, "tv", "id1"), "a repeated ID is harmless")
	assert.Equal(t, 1, fake.Calls, "later IDs reuse the mount")
	assert.Equal(t, 2, status(t, d, "tv")["mounts"])

	unmount(t, d, "tv", "never-seen")
	unmount(t, d, "tv", "id1")
	_, ok = fake.Mounted(mp)
	assert.True(t, ok, "still mounted while id2 uses it")
	unmount(t, d, "tv", "id1")
	unmount(t, d, "tv", "id2")
	_, ok = fake.Mounted(mp)
	assert.False(t, ok, "the last Unmount releases the backend")
	assert.Equal(t, false, status(t, d, "tv")["mounted"])
}

func status(t *testing.T, d *Driver, name string) map[string]any {
	t.Helper()
	got, err := d.Get(&api.GetRequest{Name: name})
	require.NoError(t, err)
	return got.Volume.Status
}

func TestDirectoryVolumeBindsItsData(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "dir", nil)
	mp := mount(t, d, "dir", "id1")
	spec, ok := fake.Mounted(mp)
	require.True(t, ok)
	assert.Equal(t, filepath.Join(d.root, ".volmount", "data", "dir"), spec.Source)
	assert.NotZero(t, spec.Flags)
	assert.DirExists(t, spec.Source)
}

func TestMountErrors(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "tv", tmpfsOpts)

	_, err := d.Mount(&api.MountRequest{Name: "tv"})
	assert.ErrorIs(t, err, ErrInvalid, "empty ID")
	_, err = d.Mount(&api.MountRequest{Name: "missing", ID: "x"})
	assert.ErrorIs(t, err, ErrNotFound)

	boom := errors.New("server unreachable")
	fake.OnMount = func(mounter.Spec) error { return boom }
	_, err = d.Mount(&api.MountRequest{Name: "tv", ID: "id1"})
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), `mount volume "tv"`)
	assert.Equal(t, 0, status(t, d, "tv")["mounts"], "a failed Mount keeps no ID")

	fake.OnMount = nil
	mount(t, d, "tv", "id1")
}

func TestRemove(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "dir", nil)
	mp := mount(t, d, "dir", "id1")
	require.NoError(t, os.WriteFile(filepath.Join(d.root, ".volmount", "data", "dir", "f"),
		[]byte("data"), 0o644))

	err := d.Remove(&api.RemoveRequest{Name: "dir"})
	assert.ErrorIs(t, err, ErrInUse)
	assert.EqualError(t, err, `volume "dir" is mounted for 1 container(s)`)
	assert.FileExists(t, filepath.Join(d.root, ".volmount", "data", "dir", "f"))

	unmount(t, d, "dir", "id1")
	require.NoError(t, d.Remove(&api.RemoveRequest{Name: "dir"}))
	assert.NoDirExists(t, mp)
	assert.ElementsMatch(t, []string{".volmount"}, topLevel(t, d.root))
	assert.Empty(t, entries(t, filepath.Join(d.root, ".volmount", "data")))
	assert.Empty(t, entries(t, filepath.Join(d.root, ".volmount", "state")))
	_, err = d.Get(&api.GetRequest{Name: "dir"})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, d.Remove(&api.RemoveRequest{Name: "dir"}), ErrNotFound)
	assert.Equal(t, 2, fake.Calls)

	create(t, d, "dir", tmpfsOpts)
}

func TestRemoveNeverDeletesThroughAMount(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "dir", nil)
	data := filepath.Join(d.root, ".volmount", "data", "dir")
	require.NoError(t, os.WriteFile(filepath.Join(data, "keep"), []byte("x"), 0o644))
	require.NoError(t, fake.Mount(mounter.Spec{Source: "srv:/export",
		Target: filepath.Join(data, "nested")}))

	err := d.Remove(&api.RemoveRequest{Name: "dir"})
	assert.ErrorIs(t, err, ErrInUse)
	assert.Contains(t, err.Error(), "nothing was deleted")
	assert.FileExists(t, filepath.Join(data, "keep"))
	_, err = d.Get(&api.GetRequest{Name: "dir"})
	assert.NoError(t, err, "the volume stays")
}

func TestStateSurvivesRestart(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "tv", tmpfsOpts)
	create(t, d, "dir", nil)
	mp := mount(t, d, "tv", "id1")
	mount(t, d, "tv", "id2")
	before, err := d.Get(&api.GetRequest{Name: "tv"})
	require.NoError(t, err)

	info, err := os.Stat(filepath.Join(d.root, ".volmount", "state", "tv"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "state file mode")

	again := reopen(t, d.root, fake)
	after, err := again.Get(&api.GetRequest{Name: "tv"})
	require.NoError(t, err)
	assert.Equal(t, before.Volume, after.Volume, "options, IDs and CreatedAt survive")

	unmount(t, again, "tv", "id1")
	unmount(t, again, "tv", "id2")
	_, ok := fake.Mounted(mp)
	assert.False(t, ok, "IDs from before the restart release the mount")
}

func TestRestartReconcilesWithMountTable(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "gone", tmpfsOpts)
	create(t, d, "leaked", tmpfsOpts)
	mount(t, d, "gone", "id1")

	// The daemon tore down the plugin's mounts (disable, daemon stop) and
	// a crash left a mount with no record of its ID.
	require.NoError(t, fake.Unmount(filepath.Join(d.root, "gone"), 0))
	require.NoError(t, fake.Mount(mounter.Spec{Target: filepath.Join(d.root, "leaked")}))

	again := reopen(t, d.root, fake)
	assert.Equal(t, 0, status(t, again, "gone")["mounts"], "stale IDs dropped")
	assert.NoError(t, again.Remove(&api.RemoveRequest{Name: "gone"}))
	_, ok := fake.Mounted(filepath.Join(d.root, "leaked"))
	assert.False(t, ok, "a mount without IDs is released")
	assert.Equal(t, false, status(t, again, "leaked")["mounted"])
}

func TestLoadSkipsBadRecords(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "good", nil)
	state := filepath.Join(d.root, ".volmount", "state")
	require.NoError(t, os.WriteFile(filepath.Join(state, "broken"), []byte("{"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(state, ".good"), []byte("{"), 0o600))

	again := reopen(t, d.root, fake)
	list, err := again.List()
	require.NoError(t, err)
	require.Len(t, list.Volumes, 1)
	assert.Equal(t, "good", list.Volumes[0].Name)
	assert.NoFileExists(t, filepath.Join(state, ".good"), "temp file removed")
	assert.FileExists(t, filepath.Join(state, "broken"), "kept for a person to read")
}

func TestSecretsMasked(t *testing.T) {
	d, fake := newTestDriver(t)
	opts := map[string]string{"type": "cifs", "device": "//srv/share",
		"o": "username=u,password=hunter2,vers=3.0"}
	create(t, d, "smb", opts)
	got := status(t, d, "smb")
	assert.Equal(t, "username=u,password=********,vers=3.0", got["o"])

	fake.OnMount = func(s mounter.Spec) error {
		return &mounter.Error{Op: "mount", Source: s.Source, Target: s.Target,
			FSType: s.FSType, Data: mounter.Redact(s.Data), Err: os.ErrPermission}
	}
	_, err := d.Mount(&api.MountRequest{Name: "smb", ID: "x"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestConcurrentMountsOfOneVolume(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "shared", tmpfsOpts)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "id" + string(rune('A'+i))
			mount(t, d, "shared", id)
			unmount(t, d, "shared", id)
		}()
	}
	wg.Wait()
	assert.Equal(t, 0, status(t, d, "shared")["mounts"])
	_, ok := fake.Mounted(filepath.Join(d.root, "shared"))
	assert.False(t, ok)
}

func TestStuckMountDoesNotBlockOthers(t *testing.T) {
	d, fake := newTestDriver(t)
	create(t, d, "stuck", tmpfsOpts)
	create(t, d, "fine", tmpfsOpts)
	release := make(chan struct{})
	entered := make(chan struct{})
	fake.OnMount = func(s mounter.Spec) error {
		if filepath.Base(s.Target) == "stuck" {
			close(entered)
			<-release
		}
		return nil
	}
	done := make(chan error)
	go func() {
		_, err := d.Mount(&api.MountRequest{Name: "stuck", ID: "a"})
		done <- err
	}()
	<-entered

	// While the stuck Mount holds its volume, the rest answers.
	mount(t, d, "fine", "b")
	_, err := d.Get(&api.GetRequest{Name: "stuck"})
	assert.NoError(t, err)
	_, err = d.List()
	assert.NoError(t, err)
	create(t, d, "new", nil)

	close(release)
	assert.NoError(t, <-done)
}

func TestBindCannotExposeStateOrCredentials(t *testing.T) {
	fake := mounter.NewFake()
	root, creds := t.TempDir(), t.TempDir()
	d, err := New(Config{Root: root, Mounter: fake, CredentialsDir: creds})
	require.NoError(t, err)
	for _, device := range []string{
		filepath.Join(root, ".volmount", "state"), filepath.Join(root, ".volmount"),
		root, "/", creds, filepath.Join(creds, "file"), filepath.Dir(creds),
	} {
		err := d.Create(&api.CreateRequest{Name: "peek", Options: map[string]string{
			"type": "none", "device": device, "o": "bind,ro"}})
		assert.ErrorIs(t, err, ErrInvalid, "device %s", device)
		assert.ErrorContains(t, err, "would expose volmount's own state or credentials")
	}
	for _, o := range []string{
		"lowerdir=" + creds + ":" + filepath.Join(root, ".volmount"),
		"lowerdir=/srv/a:/,upperdir=/srv/u,workdir=/srv/w",
	} {
		err := d.Create(&api.CreateRequest{Name: "peek", Options: map[string]string{
			"type": "overlay", "device": "overlay", "o": o}})
		assert.ErrorIs(t, err, ErrInvalid, "o=%s", o)
		assert.ErrorContains(t, err, "would expose volmount's own state or credentials")
	}

	// A symlink, say inside another volume, is followed before the check.
	outside := t.TempDir()
	link := filepath.Join(outside, "link")
	require.NoError(t, os.Symlink(filepath.Join(root, ".volmount", "state"), link))
	create(t, d, "peek", map[string]string{"type": "none", "device": link, "o": "bind"})
	_, err = d.Mount(&api.MountRequest{Name: "peek", ID: "a"})
	assert.ErrorContains(t, err, "would expose volmount's own state")
	assert.Zero(t, fake.Calls)

	require.NoError(t, os.Remove(link))
	require.NoError(t, os.Mkdir(link, 0o755))
	mp := mount(t, d, "peek", "b")
	spec, ok := fake.Mounted(mp)
	require.True(t, ok)
	assert.Equal(t, link, spec.Source)
}
