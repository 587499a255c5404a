//go:build integration

package integration

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShareBetweenRunningContainers guards issue 2's shared volume: two
// running containers use one volume, the first stops, the second keeps
// writing, and a third container still sees the first one's file and
// the second one's new lines. For a tmpfs volume this means the first
// container's stop must not unmount (or replace) the tmpfs that the
// second still uses.
func TestShareBetweenRunningContainers(t *testing.T) {
	tests := []struct {
		name string
		opts []string
	}{
		{name: "directory"},
		{name: "tmpfs", opts: []string{"-o", "type=tmpfs", "-o", "device=tmpfs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vol := uniqueName(t, "v")
			createVolume(t, vol, tc.opts...)
			first := startContainer(t, "-v", vol+":/d", testImage,
				"sh", "-c", idleScript("echo first > /d/first.txt"))
			waitInContainer(t, first, "test -s /d/first.txt")

			second := startContainer(t, "-v", vol+":/d", testImage,
				"sh", "-c", counterScript("/d/second.log"))
			waitInContainer(t, second, "test -s /d/second.log")
			assert.Equal(t, "first", docker(t, "exec", second, "cat", "/d/first.txt"),
				"both containers see one volume")

			docker(t, "stop", first)
			assert.Equal(t, "true", docker(t, "inspect", "--format", "{{.State.Running}}", second))

			lines := func() int {
				out := runOnce(t, "-v", vol+":/d", testImage,
					"sh", "-c", "cat /d/first.txt; wc -l < /d/second.log")
				got := strings.Split(out, "\n")
				require.Len(t, got, 2, out)
				require.Equal(t, "first", got[0], "a third container sees the stopped one's file")
				n, err := strconv.Atoi(strings.TrimSpace(got[1]))
				require.NoError(t, err, out)
				return n
			}
			start := lines()
			what := "the second container to keep writing"
			eventually(t, 20*time.Second, what, func() (bool, string) {
				n := lines()
				return n > start, fmt.Sprintf("second.log has %d lines, had %d", n, start)
			})
			assert.Equal(t, "second-still-writes", docker(t, "exec", second,
				"sh", "-c", "echo x > /d/after-stop && echo second-still-writes"))
		})
	}
}

// TestBackupRestoreWithVolumesFrom guards issue 2's backup recipe from
// Docker's documentation: tar a volume through --volumes-from into a
// bind-mounted host directory, untar it into a new volume, and compare.
func TestBackupRestoreWithVolumesFrom(t *testing.T) {
	backupDir := t.TempDir()
	vol := uniqueName(t, "v")
	createVolume(t, vol)
	dbstore := uniqueName(t, "c")
	removeContainerLater(t, dbstore)
	docker(t, "run", "--pull=never", "--name", dbstore, "--network", "none", "-v", vol+":/dbdata", testImage,
		"sh", "-c", "mkdir -p /dbdata/sub && echo one > /dbdata/a.txt && "+
			"echo two > /dbdata/sub/b.txt && chmod 600 /dbdata/sub/b.txt")

	runOnce(t, "--volumes-from", dbstore, "-v", backupDir+":/backup", testImage,
		"tar", "cvf", "/backup/backup.tar", "/dbdata")
	require.FileExists(t, filepath.Join(backupDir, "backup.tar"), "the backup is on the host")

	restored := uniqueName(t, "v")
	createVolume(t, restored)
	dbstore2 := uniqueName(t, "c")
	removeContainerLater(t, dbstore2)
	docker(t, "run", "--pull=never", "--name", dbstore2, "--network", "none", "-v", restored+":/dbdata",
		testImage, "true")
	runOnce(t, "--volumes-from", dbstore2, "-v", backupDir+":/backup", testImage,
		"sh", "-c", "cd /dbdata && tar xvf /backup/backup.tar --strip-components 1")

	const listing = "cd /dbdata && find . | sort && find . -type f | sort | xargs md5sum && " +
		"stat -c '%a %n' sub/b.txt"
	want := runOnce(t, "-v", vol+":/dbdata", testImage, "sh", "-c", listing)
	require.Contains(t, want, "./sub/b.txt")
	assert.Equal(t, want, runOnce(t, "-v", restored+":/dbdata", testImage, "sh", "-c", listing),
		"the restored volume matches the original")
}

// TestTmpfsSizeAndMode guards issue 2's tmpfs options: o=size=...,mode=...
// reach mount(2), as df, stat and a write past the size show.
func TestTmpfsSizeAndMode(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol, "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=16m,mode=1770")

	out := runOnce(t, "-v", vol+":/d", testImage,
		"sh", "-c", "stat -c '%a' /d; df -k /d | tail -n 1; grep ' /d ' /proc/mounts")
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 3, out)
	assert.Equal(t, "1770", lines[0], "mode=1770")
	assert.Equal(t, "16384", strings.Fields(lines[1])[1], "size=16m: %s", lines[1])
	mount := strings.Fields(lines[2])
	require.Len(t, mount, 6, lines[2])
	assert.Equal(t, "tmpfs", mount[2], lines[2])
	assert.Contains(t, mount[3], "size=16384k", lines[2])
	assert.Contains(t, mount[3], "mode=1770", lines[2])

	r := tryRunOnce("-v", vol+":/d", testImage,
		"dd", "if=/dev/zero", "of=/d/big", "bs=1M", "count=20")
	require.Error(t, r.err, "writing 20 MiB into a 16 MiB tmpfs must fail:\n%s", r)
	assert.Contains(t, r.Combined(), "No space left on device", r.String())
}
