package driver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/mounter"
)

// fakeResolver knows a few names and counts its look-ups.
type fakeResolver struct{ calls []string }

func (r *fakeResolver) resolve(_ context.Context, host string) (string, error) {
	r.calls = append(r.calls, host)
	switch host {
	case "nfs.example":
		return "192.0.2.10", nil
	case "smb.example":
		return "192.0.2.20", nil
	case "v6.example":
		return "2001:db8::1", nil
	}
	return "", fmt.Errorf("lookup %s: no such host", host)
}

func newNetworkDriver(t *testing.T, timeout time.Duration) (*Driver, *mounter.Fake, *fakeResolver, string) {
	t.Helper()
	fake, res, creds := mounter.NewFake(), &fakeResolver{}, t.TempDir()
	d, err := New(Config{Root: t.TempDir(), Mounter: fake, Resolver: res.resolve,
		CredentialsDir: creds, MountTimeout: timeout})
	require.NoError(t, err)
	return d, fake, res, creds
}

// TestNetworkMountArguments pins the exact source and data handed to
// mount(2) for every accepted form of a network volume.
func TestNetworkMountArguments(t *testing.T) {
	tests := []struct {
		name    string
		opts    map[string]string
		creds   string
		source  string
		data    string
		flags   uintptr
		lookups []string
	}{
		{"nfs v3 address", map[string]string{"type": "nfs", "device": ":/export",
			"o": "addr=192.0.2.1,vers=3,nolock"}, "",
			":/export", "addr=192.0.2.1,vers=3,nolock", 0, nil},
		{"nfs name in addr", map[string]string{"type": "nfs", "device": ":/var/docker-nfs",
			"o": "addr=nfs.example,rw,nfsvers=4,async"}, "",
			":/var/docker-nfs", "addr=192.0.2.10,nfsvers=4", 0, []string{"nfs.example"}},
		{"nfs4 name in device", map[string]string{"type": "nfs4", "device": "nfs.example:/srv",
			"o": "vers=4.2"}, "",
			"nfs.example:/srv", "vers=4.2,addr=192.0.2.10", 0, []string{"nfs.example"}},
		{"nfs addr wins over device", map[string]string{"type": "nfs", "device": "other.example:/srv",
			"o": "addr=nfs.example,vers=4.1"}, "",
			"other.example:/srv", "addr=192.0.2.10,vers=4.1", 0, []string{"nfs.example"}},
		{"nfs ipv6 literal", map[string]string{"type": "nfs", "device": "[2001:db8::5]:/srv",
			"o": "addr=2001:db8::5,vers=4.2"}, "",
			"[2001:db8::5]:/srv", "addr=2001:db8::5,vers=4.2", 0, nil},
		{"nfs literal in device goes to addr", map[string]string{"type": "nfs",
			"device": "192.0.2.5:/srv", "o": "vers=4.2"}, "",
			"192.0.2.5:/srv", "vers=4.2,addr=192.0.2.5", 0, nil},
		{"nfs ipv6 literal in device goes to addr", map[string]string{"type": "nfs4",
			"device": "[2001:db8::5]:/srv", "o": "vers=4.1"}, "",
			"[2001:db8::5]:/srv", "vers=4.1,addr=2001:db8::5", 0, nil},
		{"cifs ipv6 literal UNC", map[string]string{"type": "cifs",
			"device": "//2001:db8::7/share", "o": "vers=3.0"}, "",
			"//2001:db8::7/share", "vers=3.0", 0, nil},
		{"cifs inline password, name in UNC", map[string]string{"type": "cifs",
			"device": "//smb.example/share", "o": "username=u,password=p,vers=3.0,ro"}, "",
			"//smb.example/share", "username=u,password=p,vers=3.0,addr=192.0.2.20",
			unix.MS_RDONLY, []string{"smb.example"}},
		{"cifs ip literal UNC", map[string]string{"type": "cifs",
			"device": "//192.0.2.7/share/sub", "o": "vers=3.1.1,username=u,password=a,,b"}, "",
			"//192.0.2.7/share/sub", "vers=3.1.1,username=u,password=a,,b", 0, nil},
		{"cifs addr name", map[string]string{"type": "cifs",
			"device": "//fileserver/share", "o": "addr=smb.example,vers=3.0"}, "",
			"//fileserver/share", "addr=192.0.2.20,vers=3.0", 0, []string{"smb.example"}},
		{"cifs ip= alias keeps its key", map[string]string{"type": "cifs",
			"device": "//fileserver/share", "o": "ip=v6.example"}, "",
			"//fileserver/share", "ip=2001:db8::1", 0, []string{"v6.example"}},
		{"cifs credentials file", map[string]string{"type": "cifs",
			"device": "//smb.example/share", "o": "vers=3.0", "credentials": "team"},
			"username=svc\npassword=p,a=s $%' \"x\ndomain=CORP\n",
			"//smb.example/share",
			"vers=3.0,addr=192.0.2.20,username=svc,password=p,,a=s $%' \"x,domain=CORP",
			0, []string{"smb.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, fake, res, creds := newNetworkDriver(t, time.Second)
			if tt.creds != "" {
				require.NoError(t, os.WriteFile(filepath.Join(creds, tt.opts["credentials"]),
					[]byte(tt.creds), 0o600))
			}
			create(t, d, "net", tt.opts)
			mp := mount(t, d, "net", "id1")
			spec, ok := fake.Mounted(mp)
			require.True(t, ok)
			assert.Equal(t, mounter.Spec{Source: tt.source, Target: mp, FSType: tt.opts["type"],
				Flags: tt.flags, Data: tt.data}, spec)
			assert.Equal(t, tt.lookups, res.calls, "one resolution per Mount")

			unmount(t, d, "net", "id1")
			mount(t, d, "net", "id2")
			assert.Len(t, res.calls, 2*len(tt.lookups), "names are resolved at every Mount")
		})
	}
}

func TestNetworkCreateRules(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"port in UNC", map[string]string{"type": "cifs", "device": "//srv:445/share"},
			`a port in the UNC (//srv:445/share) is not allowed: give it as o=port=N`},
		{"not a UNC", map[string]string{"type": "cifs", "device": "srv:/share"},
			`must be a UNC path //host/share`},
		{"UNC without share", map[string]string{"type": "smb3", "device": "//srv"},
			`must be a UNC path //host/share`},
		{"credentials for nfs", map[string]string{"type": "nfs", "device": ":/x",
			"credentials": "c"}, `option "credentials" is only for type cifs or smb3`},
		{"credentials leaving the directory", map[string]string{"type": "cifs",
			"device": "//s/x", "credentials": "../etc/shadow"}, `is not a file name`},
		{"password twice", map[string]string{"type": "cifs", "device": "//s/x",
			"credentials": "c", "o": "password=x"}, `either in option "o" or in the "credentials" file`},
		{"credentials alone", map[string]string{"credentials": "c"},
			`option "credentials" needs option "type"`},
		{"bracketed UNC", map[string]string{"type": "cifs", "device": "//[::1]/share"},
			`reads no brackets in a UNC`},
		{"addr twice", map[string]string{"type": "nfs", "device": ":/x",
			"o": "addr=a.example,addr=b.example"}, `names the server more than once`},
		{"ip and addr", map[string]string{"type": "cifs", "device": "//s/x",
			"o": "ip=a.example,addr=b.example"}, `names the server more than once`},
		{"empty addr", map[string]string{"type": "nfs", "device": "nfs.example:/x",
			"o": "addr=,vers=4.2"}, `addr= is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, _, _ := newNetworkDriver(t, time.Second)
			err := d.Create(&api.CreateRequest{Name: "net", Options: tt.opts})
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tt.want)
			assert.ElementsMatch(t, []string{".volmount"}, topLevel(t, d.root))
		})
	}
}

func TestUnresolvableServer(t *testing.T) {
	d, fake, _, _ := newNetworkDriver(t, time.Second)
	create(t, d, "net", map[string]string{"type": "nfs", "device": ":/x",
		"o": "addr=nowhere.example,vers=4"})
	_, err := d.Mount(&api.MountRequest{Name: "net", ID: "a"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `resolve server "nowhere.example" (from o=addr)`)
	assert.Zero(t, fake.Calls, "nothing was mounted")
	assert.Contains(t, status(t, d, "net")["last_error"], "nowhere.example")
}

func TestCredentialsErrorsNeverShowSecrets(t *testing.T) {
	d, _, _, creds := newNetworkDriver(t, time.Second)
	opts := map[string]string{"type": "cifs", "device": "//192.0.2.7/s", "credentials": "c"}
	create(t, d, "net", opts)

	_, err := d.Mount(&api.MountRequest{Name: "net", ID: "a"})
	assert.ErrorContains(t, err, `credentials "c": no such file`)

	for _, line := range []string{"passwd=hunter2", "password hunter2", "hunter2",
		"password: hunter2", "password"} {
		require.NoError(t, os.WriteFile(filepath.Join(creds, "c"),
			[]byte("username=u\n"+line+"\n"), 0o600))
		_, err = d.Mount(&api.MountRequest{Name: "net", ID: "a"})
		assert.ErrorContains(t, err, `credentials "c" line 2 is not a username=`)
		assert.NotContains(t, err.Error(), "hunter2")
		assert.NotContains(t, status(t, d, "net")["last_error"], "hunter2")
	}
}

func TestMountTimeout(t *testing.T) {
	d, fake, _, _ := newNetworkDriver(t, 100*time.Millisecond)
	create(t, d, "net", map[string]string{"type": "nfs", "device": ":/x",
		"o": "addr=192.0.2.1,vers=4"})
	create(t, d, "other", tmpfsOpts)
	release := make(chan struct{})
	fake.OnMount = func(s mounter.Spec) error {
		if s.FSType == "nfs" {
			<-release
		}
		return nil
	}

	_, err := d.Mount(&api.MountRequest{Name: "net", ID: "a"})
	require.ErrorIs(t, err, ErrTimeout)
	assert.Contains(t, err.Error(),
		`mount :/x (type "nfs", options "addr=192.0.2.1,vers=4"): no answer within 100ms`)

	_, err = d.Mount(&api.MountRequest{Name: "net", ID: "b"})
	assert.ErrorIs(t, err, ErrTimeout, "the volume stays busy while its mount(2) runs")
	assert.ErrorContains(t, err, `volume "net" is busy`)
	mount(t, d, "other", "c")

	close(release) // the late mount succeeds: it must be undone
	vol := lookupVolume(t, d, "net")
	require.True(t, vol.op.lockWithin(2*time.Second), "the late mount lets go of the volume")
	vol.op.unlock()
	_, mounted := fake.Mounted(filepath.Join(d.root, "net"))
	assert.False(t, mounted, "a mount that finished after its deadline is undone")
	assert.Equal(t, 0, status(t, d, "net")["mounts"])
}

// TestCredentialsReadIsBounded: a credentials file that blocks its reader
// (a FIFO here; a hung network filesystem in life) must not hold Mount
// past the mount timeout.
func TestCredentialsReadIsBounded(t *testing.T) {
	d, fake, _, creds := newNetworkDriver(t, 200*time.Millisecond)
	fifo := filepath.Join(creds, "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o600))
	create(t, d, "net", map[string]string{"type": "cifs", "device": "//192.0.2.7/s",
		"credentials": "fifo"})

	start := time.Now()
	_, err := d.Mount(&api.MountRequest{Name: "net", ID: "a"})
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Less(t, time.Since(start), time.Second)

	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // unblocks the reader
	require.NoError(t, err)
	w.Close()
	vol := lookupVolume(t, d, "net")
	require.True(t, vol.op.lockWithin(2*time.Second), "the late call lets go of the volume")
	vol.op.unlock()
	_, mounted := fake.Mounted(filepath.Join(d.root, "net"))
	assert.False(t, mounted)
}

// lookupVolume returns the in-memory volume, for tests of its lock.
func lookupVolume(t *testing.T, d *Driver, name string) *volume {
	t.Helper()
	vol, err := d.lookup(name)
	require.NoError(t, err)
	return vol
}

func TestUnmountEscalates(t *testing.T) {
	d, fake, _, _ := newNetworkDriver(t, 300*time.Millisecond)
	create(t, d, "net", map[string]string{"type": "nfs", "device": ":/x",
		"o": "addr=192.0.2.1"})
	mount(t, d, "net", "a")
	var mu sync.Mutex
	var tried []int
	dead := make(chan struct{})
	t.Cleanup(func() { close(dead) })
	fake.OnUnmount = func(_ string, flags int) error {
		mu.Lock()
		tried = append(tried, flags)
		mu.Unlock()
		switch flags {
		case 0:
			<-dead // a dead server: umount(2) does not return
		case unix.MNT_FORCE:
			return unix.EBUSY
		}
		return nil
	}
	start := time.Now()
	unmount(t, d, "net", "a")
	assert.Less(t, time.Since(start), time.Second)
	mu.Lock()
	assert.Equal(t, []int{0, unix.MNT_FORCE, unix.MNT_DETACH}, tried)
	mu.Unlock()
	assert.Equal(t, false, status(t, d, "net")["mounted"])
}

func TestStaleMountIsReplaced(t *testing.T) {
	d, fake, _, _ := newNetworkDriver(t, time.Second)
	create(t, d, "net", map[string]string{"type": "nfs", "device": ":/x",
		"o": "addr=192.0.2.1"})
	mount(t, d, "net", "a")
	fake.CheckErr = &mounter.Error{Op: "statfs", Target: "x", Err: unix.ESTALE}
	mounts := fake.Calls

	mount(t, d, "net", "a") // the same ID again, as after a failed Unmount
	assert.Equal(t, mounts+2, fake.Calls, "one unmount and one fresh mount")

	mount(t, d, "net", "b") // another user shares the mount: left alone
	assert.Equal(t, mounts+2, fake.Calls)
}

func TestScope(t *testing.T) {
	d, err := New(Config{Root: t.TempDir(), Mounter: mounter.NewFake(), Scope: "global"})
	require.NoError(t, err)
	assert.Equal(t, "global", d.Capabilities().Capabilities.Scope)
	_, err = New(Config{Root: t.TempDir(), Mounter: mounter.NewFake(), Scope: "cluster"})
	assert.ErrorContains(t, err, `scope "cluster": use local or global`)
}

// TestStaleReplacementKeepsTheDeadline: probing a dead mount, failing to
// unmount it and failing to mount anew must all fit in one mount timeout.
func TestStaleReplacementKeepsTheDeadline(t *testing.T) {
	const timeout = time.Second
	d, fake, _, _ := newNetworkDriver(t, timeout)
	create(t, d, "net", map[string]string{"type": "nfs", "device": ":/x",
		"o": "addr=192.0.2.1"})
	mount(t, d, "net", "a")

	dead := make(chan struct{})
	t.Cleanup(func() { close(dead) })
	fake.CheckErr = unix.ESTALE
	fake.OnUnmount = func(string, int) error { <-dead; return nil }
	fake.OnMount = func(mounter.Spec) error { <-dead; return nil }

	start := time.Now()
	_, err := d.Mount(&api.MountRequest{Name: "net", ID: "a"})
	took := time.Since(start)
	assert.Error(t, err)
	assert.Less(t, took, timeout+3*minStep+100*time.Millisecond, "Mount took %v", took)
}

func TestCredentialsFileForms(t *testing.T) {
	d, fake, _, creds := newNetworkDriver(t, time.Second)
	create(t, d, "net", map[string]string{"type": "cifs", "device": "//192.0.2.7/s",
		"credentials": "c"})
	write := func(content string) {
		require.NoError(t, os.WriteFile(filepath.Join(creds, "c"), []byte(content), 0o600))
	}

	write("\ufeffusername=u\r\npassword=a,b=c\r\n# comment\n\ndomain=D\n")
	mp := mount(t, d, "net", "a")
	spec, _ := fake.Mounted(mp)
	assert.Equal(t, "username=u,password=a,,b=c,domain=D", spec.Data,
		"a byte order mark and CRLF are read; only the password's commas are doubled")
	unmount(t, d, "net", "a")

	write("username=a,b\npassword=x\n")
	_, err := d.Mount(&api.MountRequest{Name: "net", ID: "b"})
	assert.ErrorContains(t, err, `credentials "c" line 1: a username cannot hold a comma`)
}

func TestUnmountErrorNamesEachStep(t *testing.T) {
	d, fake, _, _ := newNetworkDriver(t, 300*time.Millisecond)
	create(t, d, "net", map[string]string{"type": "nfs", "device": ":/x",
		"o": "addr=192.0.2.1"})
	mount(t, d, "net", "a")
	fake.OnUnmount = func(string, int) error { return unix.EBUSY }
	err := d.Unmount(&api.UnmountRequest{Name: "net", ID: "a"})
	for _, step := range []string{"umount: ", "forced umount: ", "lazy umount: "} {
		assert.ErrorContains(t, err, step)
	}
	assert.ErrorIs(t, err, unix.EBUSY)
}
