//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlockDeviceVolume guards issue 2's block device backend: an ext4
// filesystem on a host loop device, created with `-o type=ext4 -o
// device=/dev/loopN`, is what containers see; the last container's exit
// unmounts it; data written through it is there after a re-mount and is
// really in the image behind the loop device.
func TestBlockDeviceVolume(t *testing.T) {
	img := ext4Image(t, 64<<20)
	dev := attachLoop(t, img)
	vol := uniqueName(t, "v")
	createVolume(t, vol, "-o", "type=ext4", "-o", "device="+dev)
	assertStatusOptions(t, inspectVolume(t, vol), "ext4", dev, "")

	out := runOnce(t, "-v", vol+":/d", testImage,
		"sh", "-c", "grep ' /d ' /proc/mounts; echo via-loop > /d/hello.txt")
	fields := strings.Fields(out)
	require.GreaterOrEqual(t, len(fields), 3, out)
	assert.Equal(t, "ext4", fields[2], "the container sees the ext4 filesystem: %s", out)

	what := dev + " to be unmounted after the last container"
	eventually(t, 30*time.Second, what, func() (bool, string) {
		mounted, detail := hostMounted(t, dev)
		return !mounted, detail
	})
	assertMounts(t, vol, false, 0)
	assert.Equal(t, "via-loop", debugfsCat(t, img, "/hello.txt"),
		"the file is in the ext4 image, not in a directory")

	assert.Equal(t, "via-loop", runOnce(t, "-v", vol+":/d", testImage, "cat", "/d/hello.txt"),
		"the data is there after a re-mount")
}

// ext4Image makes a sparse file of size bytes with an ext4 filesystem in
// a directory that is removed when the test ends.
func ext4Image(t *testing.T, size int64) string {
	t.Helper()
	dir, err := os.MkdirTemp("", namePrefix+"loop-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	img := filepath.Join(dir, "disk.img")
	f, err := os.Create(img)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(size))
	require.NoError(t, f.Close())
	r := execute(nil, "mkfs.ext4", "-q", "-F", img)
	require.NoError(t, r.err, r.String())
	return img
}

// attachLoop attaches img to a free loop device and detaches it when the
// test ends; register it before the volume that uses the device.
func attachLoop(t *testing.T, img string) string {
	t.Helper()
	r := execute(nil, "losetup", "--find", "--show", img)
	require.NoError(t, r.err, r.String())
	dev := r.Out()
	require.True(t, strings.HasPrefix(dev, "/dev/loop"), r.String())
	t.Cleanup(func() {
		if r := execute(nil, "losetup", "--detach", dev); r.err != nil {
			t.Errorf("cleanup: could not detach %s:\n%s", dev, r)
		}
	})
	return dev
}

// hostMounted reports whether dev is mounted anywhere on the host; the
// plugin's mounts under its propagated mount show there too.
func hostMounted(t *testing.T, dev string) (bool, string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if _, post, ok := strings.Cut(line, " - "); ok {
			if f := strings.Fields(post); len(f) >= 2 && f[1] == dev {
				lines = append(lines, line)
			}
		}
	}
	return len(lines) > 0, strings.Join(lines, "\n")
}

// debugfsCat reads a file from an unmounted ext4 image.
func debugfsCat(t *testing.T, img, path string) string {
	t.Helper()
	r := execute(nil, "debugfs", "-R", "cat "+path, img)
	require.NoError(t, r.err, r.String())
	return r.Out()
}
