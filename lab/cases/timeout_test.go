//go:build lab

package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/driver"
)

const (
	// mountTimeout is the MOUNT_TIMEOUT the cases give the driver.
	mountTimeout = 4 * time.Second
	// slack is what a bounded call may take beyond mountTimeout under
	// software emulation.
	slack = 6 * time.Second
	// quick bounds a call that must not wait for anything slow.
	quick = 3 * time.Second
)

// TestMountTimeout mounts servers that never answer: each Mount fails
// within MOUNT_TIMEOUT with an error that names what was tried, leaves
// nothing mounted, and stalls no other volume meanwhile.
func TestMountTimeout(t *testing.T) {
	tests := []struct {
		name    string
		opts    func(port int) map[string]string
		closed  bool // nothing listens: the kernel is refused, not ignored
		timeout bool // the error must be driver.ErrTimeout
	}{
		{"nfs v4.2 silent server", func(p int) map[string]string {
			return nfsOpts("nfs", fmt.Sprintf("addr=127.0.0.1,vers=4.2,port=%d", p))
		}, false, true},
		{"nfs v3 silent server", func(p int) map[string]string {
			return nfsOpts("nfs", fmt.Sprintf(
				"addr=127.0.0.1,vers=3,proto=tcp,port=%d,mountport=%d,mountproto=tcp", p, p))
		}, false, true},
		{"cifs silent server", func(p int) map[string]string {
			return cifsOpts("cifs", "//127.0.0.1",
				fmt.Sprintf("%s,vers=3.1.1,port=%d", inlineLogin(plainUser), p))
		}, false, true},
		{"nfs v4.2 refused", func(p int) map[string]string {
			return nfsOpts("nfs", fmt.Sprintf("addr=127.0.0.1,vers=4.2,port=%d", p))
		}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := 0
			if tt.closed {
				port = closedPort(t)
			} else {
				port = silentServer(t)
			}
			d, _ := newDriver(t, driver.Config{MountTimeout: mountTimeout})
			name := volumeName(t)
			create(t, d, name, tt.opts(port))

			var err error
			start := time.Now()
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, err = d.Mount(&api.MountRequest{Name: name, ID: "c1"})
			}()
			if !tt.closed {
				otherVolumesAnswer(t, d, name)
			}
			select {
			case <-done:
			case <-time.After(mountTimeout + slack):
				t.Fatalf("Mount(%q) of a dead server did not return within %v",
					name, mountTimeout+slack)
			}
			t.Logf("Mount(%q) failed after %v: %v", name,
				time.Since(start).Round(time.Millisecond), err)
			require.Error(t, err, "Mount(%q) of a dead server", name)
			assert.Contains(t, err.Error(), "127.0.0.1", "error says what was tried")
			if tt.timeout {
				assert.ErrorIs(t, err, driver.ErrTimeout)
			}
			assertNotMounted(t, mountpointOf(t, d, name))
		})
	}
}

// otherVolumesAnswer checks, while a Mount of volume stuck hangs, that
// Get, List and another volume's whole life answer at normal speed.
func otherVolumesAnswer(t *testing.T, d *driver.Driver, stuck string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // let the stuck Mount reach mount(2)
	getAnswers(t, d, stuck)
	within(t, quick+slack, "another volume's Create, Mount and Unmount", func() {
		assert.NoError(t, lifeOf(d, stuck+"-other"), "another volume's life")
	})
}

// getAnswers checks that Get and List answer quickly and that Get shows
// the volume unmounted. It may run while name's Mount or Unmount hangs.
func getAnswers(t *testing.T, d *driver.Driver, name string) {
	t.Helper()
	within(t, quick, "Get", func() {
		resp, err := d.Get(&api.GetRequest{Name: name})
		if assert.NoError(t, err, "Get(%q)", name) {
			assert.Equal(t, false, resp.Volume.Status["mounted"], "Status mounted")
		}
	})
	within(t, quick, "List", func() {
		_, err := d.List()
		assert.NoError(t, err, "List")
	})
}

// lifeOf creates, mounts, writes to, unmounts and removes an NFS volume.
func lifeOf(d *driver.Driver, name string) error {
	opts := nfsOpts("nfs", "addr=127.0.0.1,vers=4.2")
	if err := d.Create(&api.CreateRequest{Name: name, Options: opts}); err != nil {
		return err
	}
	resp, err := d.Mount(&api.MountRequest{Name: name, ID: "o1"})
	if err != nil {
		return err
	}
	err = os.WriteFile(filepath.Join(resp.Mountpoint, name), []byte(name), 0o644)
	if err != nil {
		return err
	}
	if err := d.Unmount(&api.UnmountRequest{Name: name, ID: "o1"}); err != nil {
		return err
	}
	return d.Remove(&api.RemoveRequest{Name: name})
}

// TestLateMountUndone mounts through a server that answers only after
// MOUNT_TIMEOUT: Mount fails on time, the mount(2) that completes later is
// undone, and the next Mount, once the server answers at once, works.
func TestLateMountUndone(t *testing.T) {
	late := mountTimeout + 2*time.Second
	port, answered := slowProxy(t, "127.0.0.1:2049", late)
	d, _ := newDriver(t, driver.Config{MountTimeout: mountTimeout})
	name := volumeName(t)
	create(t, d, name, nfsOpts("nfs", fmt.Sprintf("addr=127.0.0.1,vers=4.2,port=%d", port)))
	mp := mountpointOf(t, d, name)

	var err error
	within(t, mountTimeout+slack, "Mount of a late server", func() {
		_, err = d.Mount(&api.MountRequest{Name: name, ID: "c1"})
	})
	require.ErrorIs(t, err, driver.ErrTimeout, "Mount(%q) of a late server", name)

	// Watch the mount(2) complete late and the driver undo it: once the
	// server answers, give both settle time.
	const settle = 3 * time.Second
	seen := false
	deadline := time.Now().Add(late - mountTimeout + slack)
	for time.Now().Before(deadline) {
		seen = seen || len(mountsAt(t, mp)) > 0
		if answered.Load() > 0 && deadline.Sub(time.Now()) > settle {
			deadline = time.Now().Add(settle)
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotZero(t, answered.Load(), "the late server never answered the kernel")
	t.Logf("late mount seen on %s before it was undone: %v", mp, seen)
	assertNotMounted(t, mp)
}

// TestDeadServerUnmount stops the NFS server under a mounted volume:
// Unmount still answers within MOUNT_TIMEOUT and leaves nothing mounted,
// and Get and List answer meanwhile.
func TestDeadServerUnmount(t *testing.T) {
	d, _ := newDriver(t, driver.Config{MountTimeout: mountTimeout})
	name := volumeName(t)
	create(t, d, name, nfsOpts("nfs", "addr=127.0.0.1,vers=4.2"))
	mp := mount(t, d, name, "c1")
	writeFile(t, mp)

	stopNFS(t)
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = d.Unmount(&api.UnmountRequest{Name: name, ID: "c1"})
	}()
	time.Sleep(500 * time.Millisecond) // let Unmount reach umount(2)
	within(t, quick, "Get while Unmount waits for a dead server", func() {
		_, err := d.Get(&api.GetRequest{Name: name})
		assert.NoError(t, err, "Get(%q)", name)
	})
	within(t, quick, "List while Unmount waits for a dead server", func() {
		_, err := d.List()
		assert.NoError(t, err, "List")
	})
	select {
	case <-done:
	case <-time.After(mountTimeout + slack):
		t.Fatalf("Unmount(%q) of a dead server did not return within %v",
			name, mountTimeout+slack)
	}
	assert.NoError(t, err, "Unmount(%q) of a dead server", name)
	assertNotMounted(t, mp)
	assert.Equal(t, false, status(t, d, name)["mounted"], "Status mounted")
}
