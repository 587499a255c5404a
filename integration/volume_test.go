//go:build integration

package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVolumeCreateListInspectRemove guards the basic volume commands of
// issue 2: create, ls, inspect and rm with -d volmount.
func TestVolumeCreateListInspectRemove(t *testing.T) {
	name := uniqueName(t, "v")
	before := time.Now()
	createVolume(t, name, "--label", "team=storage")

	v := inspectVolume(t, name)
	assert.Equal(t, name, v.Name)
	assert.Equal(t, driverRef, v.Driver)
	assert.Equal(t, propagatedMount+"/"+name, v.Mountpoint)
	assert.Equal(t, "local", v.Scope)
	assert.Equal(t, map[string]string{"team": "storage"}, v.Labels)
	assert.NotEmpty(t, v.Status, "inspect shows the plugin's Status")
	created, err := time.Parse(time.RFC3339, v.CreatedAt)
	require.NoError(t, err, "CreatedAt %q is not RFC 3339", v.CreatedAt)
	assert.WithinRange(t, created, before.Add(-2*time.Minute), time.Now().Add(2*time.Minute),
		"CreatedAt is the creation time")

	// The daemon keeps a managed plugin's driver name with its tag, so a
	// user filters on volmount:latest; `driver=volmount` matches nothing
	// on Docker 26 (PROTOCOL §3).
	assert.Contains(t, listVolumes(t), name, "volume ls --filter driver=%s", driverRef)
	listed := docker(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}")
	assert.Contains(t, strings.Split(listed, "\n"), driverRef+" "+name)

	assert.Equal(t, name, docker(t, "volume", "rm", name))
	r := tryDocker("volume", "inspect", name)
	assert.True(t, isNoSuchVolume(r), "inspect after rm says no such volume:\n%s", r)
	assert.NotContains(t, listVolumes(t), name, "volume ls after rm")
}

// TestVolumeCreateWithOptions guards issue 2's options: type, device and
// o are kept and shown in Status; creating the name again with other
// options is silently ignored by the daemon (it skips Create when Get
// succeeds, PROTOCOL §3), so the volume keeps its first options.
func TestVolumeCreateWithOptions(t *testing.T) {
	name := uniqueName(t, "v")
	createVolume(t, name, "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=8m,uid=1000")

	v := inspectVolume(t, name)
	assertStatusOptions(t, v, "tmpfs", "tmpfs", "size=8m,uid=1000")
	assert.Equal(t, map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=8m,uid=1000"},
		v.Options, "the daemon's record of the options")

	docker(t, "volume", "create", "-d", driverName, "-o", "type=tmpfs", "-o", "device=tmpfs",
		"-o", "o=size=16m", name)
	assertStatusOptions(t, inspectVolume(t, name), "tmpfs", "tmpfs", "size=8m,uid=1000")
}

// TestVolumeStatusMasksPassword guards issue 2's rule that a password in
// o never shows: Status masks it while the volume is only created (a
// CIFS volume is never mounted here, so no server is needed).
func TestVolumeStatusMasksPassword(t *testing.T) {
	name := uniqueName(t, "v")
	const secret = "s3cret-Pa55"
	createVolume(t, name, "-o", "type=cifs", "-o", "device=//127.0.0.1/share",
		"-o", "o=username=alice,password="+secret+",vers=3.0")

	v := inspectVolume(t, name)
	assertStatusOptions(t, v, "cifs", "//127.0.0.1/share",
		"username=alice,password=********,vers=3.0")
	for k, val := range v.Status {
		assert.NotContains(t, toString(val), secret, "Status[%q] leaks the password", k)
	}
	assert.NotContains(t, docker(t, "volume", "ls"), secret)
}

// TestVolumeCreateRejectsBadOptions guards issue 2's option rules: an
// unknown key, o or device without type, and type without device fail
// at create with an error naming the key, and leave no volume behind.
func TestVolumeCreateRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []string
		want []string // substrings of the error
	}{
		{name: "unknown key", opts: []string{"bogus=1"}, want: []string{"bogus"}},
		{
			name: "unknown key beside valid ones",
			opts: []string{"type=tmpfs", "device=tmpfs", "size=1m"},
			want: []string{"size"},
		},
		{name: "o without type", opts: []string{"o=size=1m"}, want: []string{`"o"`, "type"}},
		{name: "device without type", opts: []string{"device=/dev/loop0"},
			want: []string{"device", "type"}},
		{name: "type without device", opts: []string{"type=tmpfs"},
			want: []string{"type", "device"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName(t, "v")
			removeVolumeLater(t, name)
			argv := []string{"volume", "create", "-d", driverName}
			for _, o := range tc.opts {
				argv = append(argv, "-o", o)
			}
			r := dockerFails(t, append(argv, name)...)
			assert.Contains(t, r.stderr, "VolumeDriver.Create", "the plugin refused it:\n%s", r)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w, "the error names the problem:\n%s", r)
			}
			assertNoVolume(t, name)
		})
	}
}

// TestVolumeCreateRejectsBadNames guards issue 2's name validation: the
// daemon passes any name to the plugin on Linux (PROTOCOL §4), so the
// plugin must refuse names outside [a-zA-Z0-9][a-zA-Z0-9_.-]+ with a
// clear error and create nothing.
func TestVolumeCreateRejectsBadNames(t *testing.T) {
	suffix := uniqueName(t, "n")
	tests := []struct {
		name string
		vol  string
	}{
		{name: "slash", vol: suffix + "/b"},
		{name: "parent directory", vol: "../" + suffix},
		{name: "space", vol: suffix + " b"},
		{name: "leading dot", vol: "." + suffix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tryDocker("volume", "create", "-d", driverName, tc.vol)
			if r.err == nil {
				removeVolumeLater(t, tc.vol) // the API cannot remove every such name
				require.Fail(t, "command succeeded but should have failed", r.String())
			}
			assert.Contains(t, r.stderr, "VolumeDriver.Create", "the plugin refused it:\n%s", r)
			assert.Contains(t, r.stderr, "volume name",
				"the error says the name is the problem:\n%s", r)
			assert.Contains(t, r.stderr, tc.vol, "the error shows the name:\n%s", r)
			assert.NotContains(t, docker(t, "volume", "ls", "--format", "{{.Name}}"), suffix,
				"no volume was created")
		})
	}
}

// assertStatusOptions checks the options volmount shows in a volume's
// Status.
func assertStatusOptions(t *testing.T, v volumeInfo, typ, device, o string) {
	t.Helper()
	assert.Equal(t, typ, toString(v.Status["type"]), "Status type in %v", v.Status)
	assert.Equal(t, device, toString(v.Status["device"]), "Status device in %v", v.Status)
	assert.Equal(t, o, toString(v.Status["o"]), "Status o in %v", v.Status)
}

// assertNoVolume checks that neither the daemon nor the plugin knows name.
func assertNoVolume(t *testing.T, name string) {
	t.Helper()
	r := tryDocker("volume", "inspect", name)
	assert.True(t, isNoSuchVolume(r), "inspect says no such volume:\n%s", r)
	assert.NotContains(t, listVolumes(t), name, "volume ls")
}

// waitNoVolume waits until the daemon removed a volume on its own, as
// it does with a --rm container's anonymous volumes after the container
// is gone, then checks it with assertNoVolume.
func waitNoVolume(t *testing.T, name string) {
	t.Helper()
	eventually(t, 30*time.Second, "volume "+name+" to be removed", func() (bool, string) {
		r := tryDocker("volume", "inspect", name)
		return isNoSuchVolume(r), r.String()
	})
	assertNoVolume(t, name)
}

// TestVolumeStatusShowsMounts guards issue 2's Status: a directory
// volume shows its type, whether it is mounted and how many containers
// use it, counting each running container once.
func TestVolumeStatusShowsMounts(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol)
	assertMounts(t, vol, false, 0)
	assert.Equal(t, "directory", toString(inspectVolume(t, vol).Status["type"]))

	first := startContainer(t, "-v", vol+":/d", testImage, "sh", "-c", idleScript(""))
	assertMounts(t, vol, true, 1)
	second := startContainer(t, "-v", vol+":/d", testImage, "sh", "-c", idleScript(""))
	assertMounts(t, vol, true, 2)

	docker(t, "stop", first)
	assertMounts(t, vol, true, 1)
	docker(t, "stop", second)
	assertMounts(t, vol, false, 0)
}

// assertMounts checks a volume's Status fields mounted and mounts. It
// polls for a few seconds: the daemon may send the Unmount of a stopped
// container after the CLI has returned.
func assertMounts(t *testing.T, vol string, mounted bool, mounts int) {
	t.Helper()
	eventually(t, 10*time.Second, "Status of "+vol+" to show mounted="+
		strconv.FormatBool(mounted)+" mounts="+strconv.Itoa(mounts), func() (bool, string) {
		st := inspectVolume(t, vol).Status
		return st["mounted"] == mounted && st["mounts"] == float64(mounts), fmt.Sprint(st)
	})
}
