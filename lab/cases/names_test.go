//go:build lab

package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/moby/sys/mountinfo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/driver"
	"github.com/volmount/volmount/mounter"
)

// resolveLimit bounds a Mount or Create that fails on a name: no server is
// contacted, so it must not wait for one.
const resolveLimit = 5 * time.Second

// TestHostNames mounts by names that only the guest's /etc/hosts knows,
// through the driver's default resolver. The kernel resolves no names:
// volmount must hand it the address, and keep the user's options as they
// were written.
func TestHostNames(t *testing.T) {
	tests := []struct {
		name      string
		opts      map[string]string
		serverDir func() string
		fsType    string
		vers      string
		addr      string // the addr= the kernel must report
		source    string // the source the kernel must report; "" for any
	}{
		{"nfs v3 addr=nfs.lab", nfsOpts("nfs", "addr=nfs.lab,vers=3"),
			nfsDir, "nfs", "3", "127.0.0.1", ""},
		{"nfs v4.2 addr=nfs.lab", nfsOpts("nfs4", "addr=nfs.lab,vers=4.2"),
			nfsDir, "nfs4", "4.2", "127.0.0.1", ""},
		{"nfs v4.1 host in device", map[string]string{"type": "nfs",
			"device": "nfs.lab:" + lab.nfsExport, "o": "vers=4.1"},
			nfsDir, "nfs4", "4.1", "127.0.0.1", "nfs.lab:" + lab.nfsExport},
		{"nfs v4.2 IPv6-only name", nfsOpts("nfs", "addr=nfs6.lab,vers=4.2"),
			nfsDir, "nfs4", "4.2", "::1", ""},
		{"cifs host in UNC", cifsOpts("cifs", "//smb.lab", inlineLogin(plainUser)+",vers=3.1.1"),
			smbDir, "cifs", "3.1.1", "127.0.0.1", "//smb.lab/" + lab.smbShare},
		{"cifs ip=smb.lab", cifsOpts("cifs", "//smb.lab",
			inlineLogin(plainUser)+",ip=smb.lab,vers=3.0"),
			smbDir, "cifs", "3.0", "127.0.0.1", "//smb.lab/" + lab.smbShare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			roundTrip(t, d, trip{opts: tt.opts, serverDir: tt.serverDir(),
				fsType: tt.fsType, vers: tt.vers,
				mounted: func(t *testing.T, name string, m *mountinfo.Info) {
					assert.Equal(t, tt.addr, superOption(m, "addr"),
						"addr= the kernel got (options %s)", m.VFSOptions)
					if tt.source != "" {
						assert.Equal(t, tt.source, m.Source, "source the kernel reports")
					}
					assert.Equal(t, mounter.Redact(tt.opts["o"]), status(t, d, name)["o"],
						"Status o keeps the options as written")
				}})
		})
	}
}

// TestHostNameErrors checks that a name that does not resolve fails the
// Mount at once with an error naming it, and that a port in a UNC is
// refused at Create.
func TestHostNameErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts map[string]string
	}{
		{"nfs addr", nfsOpts("nfs", "addr=nowhere.lab,vers=4.2")},
		{"nfs device", map[string]string{"type": "nfs", "device": "nowhere.lab:" + lab.nfsExport,
			"o": "vers=3"}},
		{"cifs UNC", cifsOpts("cifs", "//nowhere.lab", inlineLogin(plainUser)+",vers=3.1.1")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			name := volumeName(t)
			create(t, d, name, tt.opts)
			var err error
			within(t, resolveLimit, "Mount of an unresolvable name", func() {
				_, err = d.Mount(&api.MountRequest{Name: name, ID: "c1"})
			})
			require.Error(t, err, "Mount(%q) of nowhere.lab", name)
			assert.Contains(t, err.Error(), "nowhere.lab", "Mount error names the host")
			assert.Contains(t, fmt.Sprint(status(t, d, name)["last_error"]), "nowhere.lab",
				"Status last_error")
			assertNotMounted(t, mountpointOf(t, d, name))
		})
	}
	t.Run("port in UNC", func(t *testing.T) {
		d, _ := newDriver(t, driver.Config{})
		err := d.Create(&api.CreateRequest{Name: volumeName(t),
			Options: cifsOpts("cifs", "//smb.lab:445", "vers=3.1.1")})
		assert.ErrorIs(t, err, driver.ErrInvalid, "Create with //smb.lab:445/lab")
		if err != nil {
			assert.Contains(t, err.Error(), "port=", "Create error gives the hint")
		}
	})
}

// fakeResolver answers from a map that a case may change between mounts,
// and records the names it was asked for.
type fakeResolver struct {
	mu    sync.Mutex
	addrs map[string]string
	asked []string
}

func (r *fakeResolver) resolve(_ context.Context, host string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	if addr, ok := r.addrs[host]; ok {
		return addr, nil
	}
	return "", errors.New("no such host")
}

func (r *fakeResolver) set(host, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs[host] = addr
}

// takeAsked returns the names asked for since the last call.
func (r *fakeResolver) takeAsked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	asked := r.asked
	r.asked = nil
	return asked
}

// TestResolvedAtEveryMount gives the driver a Resolver whose answer
// changes: each Mount must ask again, exactly once, and mount the new
// address.
func TestResolvedAtEveryMount(t *testing.T) {
	t.Run("nfs server moves", func(t *testing.T) {
		r := &fakeResolver{addrs: map[string]string{"moving.lab": "127.0.0.1"}}
		d, _ := newDriver(t, driver.Config{Resolver: r.resolve})
		name := volumeName(t)
		create(t, d, name, nfsOpts("nfs", "addr=moving.lab,vers=4.2"))
		r.takeAsked()

		mp := mount(t, d, name, "c1")
		assert.Equal(t, "127.0.0.1", superOption(mountedAt(t, mp), "addr"))
		assert.Equal(t, []string{"moving.lab"}, r.takeAsked(), "names resolved by Mount 1")
		file, content := writeFile(t, mp)
		unmount(t, d, name, "c1")

		r.set("moving.lab", "::1")
		mp = mount(t, d, name, "c2")
		assert.Equal(t, "::1", superOption(mountedAt(t, mp), "addr"))
		assert.Equal(t, []string{"moving.lab"}, r.takeAsked(), "names resolved by Mount 2")
		assertFile(t, mp, file, content)
		unmount(t, d, name, "c2")
	})
	t.Run("cifs ip= wins over the UNC host", func(t *testing.T) {
		r := &fakeResolver{addrs: map[string]string{"moving.lab": "127.0.0.1"}}
		d, _ := newDriver(t, driver.Config{Resolver: r.resolve})
		name := volumeName(t)
		create(t, d, name, cifsOpts("cifs", "//unc-name.lab",
			inlineLogin(plainUser)+",ip=moving.lab,vers=3.1.1"))
		r.takeAsked()

		mp := mount(t, d, name, "c1")
		m := mountedAt(t, mp)
		assert.Equal(t, "127.0.0.1", superOption(m, "addr"))
		assert.Equal(t, "//unc-name.lab/"+lab.smbShare, m.Source, "the UNC keeps its name")
		assert.Equal(t, []string{"moving.lab"}, r.takeAsked(), "names resolved by Mount")
		unmount(t, d, name, "c1")
	})
	t.Run("resolver error", func(t *testing.T) {
		r := &fakeResolver{addrs: map[string]string{}}
		d, _ := newDriver(t, driver.Config{Resolver: r.resolve})
		name := volumeName(t)
		create(t, d, name, nfsOpts("nfs", "addr=down.lab,vers=3"))
		_, err := d.Mount(&api.MountRequest{Name: name, ID: "c1"})
		require.Error(t, err, "Mount(%q) when down.lab does not resolve", name)
		assert.Contains(t, err.Error(), "down.lab", "Mount error names the host")
		assert.True(t, strings.Contains(err.Error(), "no such host"),
			"Mount error keeps the resolver's reason: %v", err)
	})
}

func nfsDir() string { return lab.nfsExport }
func smbDir() string { return lab.smbDir }
