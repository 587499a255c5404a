//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunMountCreatesVolume guards issue 2's `docker run --mount
// type=volume,...,volume-driver=volmount`: the run creates the volume,
// and `docker inspect` of the container shows it.
func TestRunMountCreatesVolume(t *testing.T) {
	vol := uniqueName(t, "v")
	removeVolumeLater(t, vol)
	ctr := startContainer(t, "--mount", mountFlag(vol, "/d"), testImage,
		"sh", "-c", idleScript("echo from-run > /d/f"))

	m := mountAt(t, ctr, "/d")
	assert.Equal(t, "volume", m.Type)
	assert.Equal(t, vol, m.Name)
	assert.Equal(t, driverRef, m.Driver)
	assert.True(t, m.RW)

	v := inspectVolume(t, vol)
	assert.Equal(t, driverRef, v.Driver)
	assert.Equal(t, propagatedMount+"/"+vol, v.Mountpoint)
	out := runOnce(t, "--mount", mountFlag(vol, "/d"), testImage, "cat", "/d/f")
	assert.Equal(t, "from-run", out, "another container reads what the first one wrote")
}

// TestRunVolumeFlagWithVolumeDriver guards issue 2's `-v N:/d
// --volume-driver volmount`: the volume is created on first use and its
// data outlives the container.
func TestRunVolumeFlagWithVolumeDriver(t *testing.T) {
	vol := uniqueName(t, "v")
	removeVolumeLater(t, vol)
	runOnce(t, "--volume-driver", driverName, "-v", vol+":/d", testImage,
		"sh", "-c", "echo hello > /d/greeting")

	assert.Equal(t, driverRef, inspectVolume(t, vol).Driver)
	assert.Equal(t, "hello", runOnce(t, "--volume-driver", driverName, "-v", vol+":/d", testImage,
		"cat", "/d/greeting"))
}

// TestRunPopulatesNewVolumeFromImage guards issue 2's copy-up: a new,
// empty volume mounted over image content gets a copy of that content.
func TestRunPopulatesNewVolumeFromImage(t *testing.T) {
	vol := uniqueName(t, "v")
	removeVolumeLater(t, vol)
	assert.Equal(t, seedText, runOnce(t, "--mount", mountFlag(vol, "/data"), testImage,
		"cat", "/data/seed.txt"))

	// The copy lives in the volume, not in the image: another path shows it.
	assert.Equal(t, seedText, runOnce(t, "--mount", mountFlag(vol, "/elsewhere"), testImage,
		"cat", "/elsewhere/seed.txt"))
}

// TestRunVolumeNocopy guards issue 2's volume-nocopy: the image content
// at the target is not copied into the new volume.
func TestRunVolumeNocopy(t *testing.T) {
	vol := uniqueName(t, "v")
	removeVolumeLater(t, vol)
	out := runOnce(t, "--mount", mountFlag(vol, "/data", "volume-nocopy"), testImage,
		"sh", "-c", "ls -A /data; test ! -e /data/seed.txt && echo no-seed")
	assert.Equal(t, "no-seed", out, "the volume is empty")
}

// TestRunReadOnlyBesideReadWrite guards issue 2's read-only mounts:
// `--mount ...,readonly` and `-v N:/d:ro` cannot write, while a running
// read-write user of the same volume still can, and the read-only
// readers see what it writes.
func TestRunReadOnlyBesideReadWrite(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol)
	writer := startContainer(t, "-v", vol+":/d", testImage,
		"sh", "-c", idleScript("echo first > /d/from-writer"))
	waitInContainer(t, writer, "test -s /d/from-writer")

	readOnly := map[string][]string{
		"--mount readonly": {"--mount", mountFlag(vol, "/d", "readonly")},
		"-v :ro":           {"--volume-driver", driverName, "-v", vol + ":/d:ro"},
	}
	for name, flags := range readOnly {
		t.Run(name, func(t *testing.T) {
			r := tryRunOnce(append(flags, testImage, "touch", "/d/from-reader")...)
			require.Error(t, r.err, "writing through a read-only mount must fail:\n%s", r)
			assert.Contains(t, r.Combined(), "Read-only file system", r.String())

			docker(t, "exec", writer, "sh", "-c", "echo "+slugify(name)+" >> /d/from-writer")
			out := runOnce(t, append(flags, testImage, "cat", "/d/from-writer")...)
			assert.Contains(t, out, slugify(name), "the reader sees the writer's latest line")
			assert.Equal(t, "ro", mountOptionAt(t, flags, "/d"), "the mount is read-only")
		})
	}
	assert.Equal(t, "no-reader-file",
		docker(t, "exec", writer, "sh", "-c", "test -e /d/from-reader || echo no-reader-file"))
}

// TestRunVolumeSubpath guards issue 2's volume-subpath: an existing
// subdirectory is mounted alone, and a missing one fails with an error
// naming it. The daemon sends Unmount after that failure, so the volume
// can still be removed.
func TestRunVolumeSubpath(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol)
	runOnce(t, "-v", vol+":/d", testImage,
		"sh", "-c", "mkdir -p /d/sub && echo inner > /d/sub/inner.txt && echo top > /d/top.txt")

	out := runOnce(t, "--mount", mountFlag(vol, "/s", "volume-subpath=sub"), testImage,
		"sh", "-c", "ls -A /s; cat /s/inner.txt")
	assert.Equal(t, "inner.txt\ninner", out, "only the subdirectory is visible")

	ctr := uniqueName(t, "c")
	removeContainerLater(t, ctr)
	r := dockerFails(t, "run", "--pull=never", "--name", ctr, "--network", "none",
		"--mount", mountFlag(vol, "/s", "volume-subpath=missing"), testImage, "true")
	assert.Contains(t, r.stderr, "missing", "the error names the subpath:\n%s", r)
	assert.Contains(t, r.stderr, "no such file or directory", r.String())

	docker(t, "rm", ctr)
	assert.Equal(t, vol, docker(t, "volume", "rm", vol), "the failed start released its mount")
}

// TestRunRmRemovesAnonymousVolume guards issue 2's `docker run --rm`: the
// anonymous volmount volume goes with the container, the named one stays.
func TestRunRmRemovesAnonymousVolume(t *testing.T) {
	named := uniqueName(t, "v")
	removeVolumeLater(t, named)
	ctr := uniqueName(t, "c")
	removeContainerLater(t, ctr)
	docker(t, "run", "--pull=never", "-d", "--rm", "--name", ctr, "--network", "none",
		"--volume-driver", driverName, "-v", "/anon", "-v", named+":/named",
		testImage, "sh", "-c", idleScript("echo a > /anon/f; echo n > /named/f"))

	anon := mountAt(t, ctr, "/anon")
	require.Len(t, anon.Name, 64, "an anonymous volume has a random 64-hex name")
	removeVolumeLater(t, anon.Name)
	assert.Equal(t, driverRef, anon.Driver)
	assert.Contains(t, listVolumes(t), anon.Name)

	docker(t, "stop", ctr)
	waitGone(t, ctr)
	waitNoVolume(t, anon.Name)
	assert.Equal(t, "n", runOnce(t, "-v", named+":/named", testImage, "cat", "/named/f"),
		"the named volume and its data stay")
}

// TestRunMountOptionsAsQuotedCSV guards issue 2's volume-opt given as a
// quoted CSV field: `"volume-opt=o=size=64m,uid=1000"` keeps its comma.
func TestRunMountOptionsAsQuotedCSV(t *testing.T) {
	vol := uniqueName(t, "v")
	removeVolumeLater(t, vol)
	flag := mountFlag(vol, "/d", "volume-opt=type=tmpfs", "volume-opt=device=tmpfs",
		`"volume-opt=o=size=64m,uid=1000"`)
	out := runOnce(t, "--mount", flag, testImage,
		"sh", "-c", "stat -c '%u' /d; df -k /d | tail -n 1; grep ' /d ' /proc/mounts")

	lines := strings.Split(out, "\n")
	require.Len(t, lines, 3, out)
	assert.Equal(t, "1000", lines[0], "uid=1000 reached mount(2)")
	assert.Equal(t, "65536", strings.Fields(lines[1])[1], "size=64m reached mount(2): %s", lines[1])
	assert.Equal(t, "tmpfs", strings.Fields(lines[2])[2], "the volume is a tmpfs: %s", lines[2])
	assertStatusOptions(t, inspectVolume(t, vol), "tmpfs", "tmpfs", "size=64m,uid=1000")
}

// waitInContainer polls `docker exec CTR sh -c SCRIPT` until it exits 0,
// for example until a container's setup wrote its file.
func waitInContainer(t *testing.T, ctr, script string) {
	t.Helper()
	eventually(t, 30*time.Second, "`"+script+"` in "+ctr, func() (bool, string) {
		r := tryDocker("exec", ctr, "sh", "-c", script)
		return r.err == nil, r.String()
	})
}

// mountOptionAt runs a container with flags and returns "ro" or "rw" for
// its mount at dst, as /proc/mounts shows it.
func mountOptionAt(t *testing.T, flags []string, dst string) string {
	t.Helper()
	line := runOnce(t, append(flags, testImage, "grep", " "+dst+" ", "/proc/mounts")...)
	fields := strings.Fields(line)
	require.GreaterOrEqual(t, len(fields), 4, line)
	opt, _, _ := strings.Cut(fields[3], ",")
	return opt
}
