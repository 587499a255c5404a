package mounter

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// requireRoot skips kernel tests unless they run as root and were asked
// for, as `make test-unit` does: they mount real filesystems.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 || os.Getenv("VOLMOUNT_ROOT_TESTS") != "1" {
		t.Skip("needs root and VOLMOUNT_ROOT_TESTS=1")
	}
}

func mountedAt(t *testing.T, target string) bool {
	t.Helper()
	points, err := System{}.MountsUnder(target)
	require.NoError(t, err)
	return len(points) > 0 && points[len(points)-1] == filepath.Clean(target)
}

func TestSystemTmpfs(t *testing.T) {
	requireRoot(t)
	target := t.TempDir()
	flags, data := ParseOptions("size=4m,mode=0710,noexec")
	spec := Spec{Source: "tmpfs", Target: target, FSType: "tmpfs", Flags: flags, Data: data}
	require.NoError(t, System{}.Mount(spec))
	t.Cleanup(func() { System{}.Unmount(target, 0) })

	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(target, &st))
	assert.Equal(t, uint64(4<<20), st.Blocks*uint64(st.Bsize), "tmpfs size")
	info, err := os.Stat(target)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o710), info.Mode().Perm(), "tmpfs mode")
	assert.NotZero(t, st.Flags&unix.ST_NOEXEC, "noexec flag")

	require.NoError(t, System{}.Unmount(target, 0))
	assert.False(t, mountedAt(t, target))
	assert.NoError(t, System{}.Unmount(target, 0), "second unmount is a no-op")
}

func TestSystemReadOnlyBind(t *testing.T) {
	requireRoot(t)
	source, target := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(source, "f"), []byte("x"), 0o644))
	flags, data := ParseOptions("bind,ro")
	require.NoError(t, System{}.Mount(Spec{Source: source, Target: target, Flags: flags, Data: data}))
	t.Cleanup(func() { System{}.Unmount(target, 0) })

	_, err := os.ReadFile(filepath.Join(target, "f"))
	require.NoError(t, err)
	err = os.WriteFile(filepath.Join(target, "g"), []byte("y"), 0o644)
	assert.ErrorIs(t, err, unix.EROFS, "write through a read-only bind")
}

func TestSystemMountError(t *testing.T) {
	requireRoot(t)
	target := t.TempDir()
	err := System{}.Mount(Spec{Source: "none", Target: target, FSType: "no-such-fs",
		Data: "password=hunter2"})
	var merr *Error
	require.ErrorAs(t, err, &merr)
	assert.ErrorIs(t, err, unix.ENODEV)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, err.Error(), "no-such-fs")
}

func TestSystemMountsUnderDeepestFirst(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	inner := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "a"), 0o755))
	tmpfs := Spec{Source: "tmpfs", FSType: "tmpfs"}
	outer := tmpfs
	outer.Target = filepath.Join(root, "a")
	require.NoError(t, System{}.Mount(outer))
	t.Cleanup(func() { System{}.Unmount(outer.Target, 0) })
	require.NoError(t, os.Mkdir(inner, 0o755))
	deep := tmpfs
	deep.Target = inner
	require.NoError(t, System{}.Mount(deep))
	t.Cleanup(func() { System{}.Unmount(inner, 0) })

	points, err := System{}.MountsUnder(root)
	require.NoError(t, err)
	assert.Equal(t, []string{inner, outer.Target}, points)
}
