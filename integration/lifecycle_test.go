//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lifecycleVolumes are the volumes a lifecycle test checks before and
// after the plugin or the engine goes away: a directory volume with data
// and a label, a tmpfs volume with options, and an ext4 loop device with
// data.
type lifecycleVolumes struct {
	dir, tmpfs, block, dev string
}

func makeLifecycleVolumes(t *testing.T) lifecycleVolumes {
	t.Helper()
	v := lifecycleVolumes{dev: attachLoop(t, ext4Image(t, 32<<20))}
	v.dir, v.tmpfs, v.block = uniqueName(t, "v"), uniqueName(t, "v"), uniqueName(t, "v")
	createVolume(t, v.dir, "--label", "keep=dir")
	createVolume(t, v.tmpfs, "--label", "keep=tmpfs",
		"-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=24m,mode=0750")
	createVolume(t, v.block, "-o", "type=ext4", "-o", "device="+v.dev)
	runOnce(t, "-v", v.dir+":/d", testImage, "sh", "-c", "echo dir-data > /d/before")
	runOnce(t, "-v", v.block+":/d", testImage, "sh", "-c", "echo block-data > /d/before")
	return v
}

// check asserts that every volume kept its record, options, labels and
// data, and that each one mounts again.
func (v lifecycleVolumes) check(t *testing.T) {
	t.Helper()
	listed := listVolumes(t)
	for _, name := range []string{v.dir, v.tmpfs, v.block} {
		assert.Contains(t, listed, name, "volume ls")
	}
	dir := inspectVolume(t, v.dir)
	assert.Equal(t, map[string]string{"keep": "dir"}, dir.Labels, "the daemon kept the labels")
	assert.Equal(t, "directory", toString(dir.Status["type"]))
	tmpfs := inspectVolume(t, v.tmpfs)
	assert.Equal(t, map[string]string{"keep": "tmpfs"}, tmpfs.Labels, "the daemon kept the labels")
	assertStatusOptions(t, tmpfs, "tmpfs", "tmpfs", "size=24m,mode=0750")
	assertStatusOptions(t, inspectVolume(t, v.block), "ext4", v.dev, "")

	assert.Equal(t, "dir-data", runOnce(t, "-v", v.dir+":/d", testImage, "cat", "/d/before"))
	assert.Equal(t, "block-data", runOnce(t, "-v", v.block+":/d", testImage, "cat", "/d/before"))
	out := runOnce(t, "-v", v.tmpfs+":/d", testImage,
		"sh", "-c", "stat -c '%a' /d; df -k /d | tail -n 1")
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 2, out)
	assert.Equal(t, "750", lines[0], "the tmpfs is mounted with its mode")
	assert.Equal(t, "24576", strings.Fields(lines[1])[1], "the tmpfs is mounted with its size")
}

// countLines returns how many lines /d/count of vol has.
func countLines(t *testing.T, vol string) int {
	t.Helper()
	out := runOnce(t, "-v", vol+":/d", testImage, "sh", "-c", "wc -l < /d/count")
	n, err := strconv.Atoi(strings.TrimSpace(out))
	require.NoError(t, err, out)
	return n
}

// TestPluginDisableEnable guards issue 2's `docker plugin disable -f` and
// `enable`: volumes, options, labels and data are intact afterwards, a
// setting changed meanwhile (LOG_LEVEL=debug) takes effect, and a
// container that ran through it can still be stopped and its volume
// removed. A new plugin process gets the Unmount of a mount ID the old
// one recorded (PROTOCOL §5).
func TestPluginDisableEnable(t *testing.T) {
	vols := makeLifecycleVolumes(t)
	writer := startContainer(t, "-v", vols.dir+":/d", testImage,
		"sh", "-c", counterScript("/d/count"))
	waitInContainer(t, writer, "test -s /d/count")
	logPath := engineLog(t)
	logStart := fileSize(logPath)

	level := pluginSetting(t, "LOG_LEVEL")
	docker(t, "plugin", "disable", "-f", driverName)
	t.Cleanup(func() { restorePlugin(t, level) })
	docker(t, "plugin", "set", driverName, "LOG_LEVEL=debug")
	docker(t, "plugin", "enable", driverName)
	waitPluginEnabled(t)

	vols.check(t)
	assert.Equal(t, "true", docker(t, "inspect", "--format", "{{.State.Running}}", writer),
		"the container ran on through disable and enable")
	before := countLines(t, vols.dir)
	eventually(t, 20*time.Second, "the container to keep writing", func() (bool, string) {
		n := countLines(t, vols.dir)
		return n > before, strconv.Itoa(n) + " lines"
	})

	docker(t, "stop", writer)
	assertMounts(t, vols.dir, false, 0)
	docker(t, "rm", writer)
	assert.Equal(t, vols.dir, docker(t, "volume", "rm", vols.dir),
		"the volume is free once the container that outlived the old plugin stopped")

	if logPath == "" {
		t.Log("the engine does not log to a file: LOG_LEVEL=debug not checked")
		return
	}
	logged := logSince(t, logPath, logStart)
	assert.Contains(t, logged, vols.tmpfs, "with LOG_LEVEL=debug the plugin logs each request")
	assert.Contains(t, strings.ToLower(logged), "level=debug",
		"with LOG_LEVEL=debug the plugin logs each request")
}

// TestPluginDebugLogMasksPassword guards issue 2's rule that a password in
// o is masked everywhere, the plugin's debug log included.
func TestPluginDebugLogMasksPassword(t *testing.T) {
	logPath := engineLog(t)
	if logPath == "" {
		t.Skip("the engine does not log to a file: nothing to read")
	}
	level := pluginSetting(t, "LOG_LEVEL")
	if level != "debug" {
		docker(t, "plugin", "disable", "-f", driverName)
		t.Cleanup(func() { restorePlugin(t, level) })
		docker(t, "plugin", "set", driverName, "LOG_LEVEL=debug")
		docker(t, "plugin", "enable", driverName)
		waitPluginEnabled(t)
	}
	logStart := fileSize(logPath)

	vol := uniqueName(t, "v")
	const secret = "hunter2-" + "log"
	createVolume(t, vol, "-o", "type=cifs", "-o", "device=//127.0.0.1/share",
		"-o", "o=username=bob,password="+secret)
	dockerFails(t, "volume", "create", "-d", driverName, "-o", "bogus=password="+secret,
		uniqueName(t, "v"))

	logged := logSince(t, logPath, logStart)
	assert.Contains(t, logged, vol, "the Create was logged")
	assert.NotContains(t, logged, secret, "the log shows no password")
}

// TestEngineRestart guards issue 2's daemon restart: after dockerd stops
// and starts again, volumes keep their options, labels (a failing Get at
// restore would purge them, PROTOCOL §4) and data, and a container with
// a restart policy is back on its volume.
func TestEngineRestart(t *testing.T) {
	vols := makeLifecycleVolumes(t)
	always := startContainer(t, "--restart", "always", "-v", vols.dir+":/d", testImage,
		"sh", "-c", idleScript("echo boot >> /d/boots"))
	waitInContainer(t, always, "test -s /d/boots")

	restartEngine(t)
	t.Cleanup(func() { waitPluginEnabled(t) })

	vols.check(t)
	what := "the restart-always container to run again"
	eventually(t, 60*time.Second, what, func() (bool, string) {
		r := tryDocker("exec", always, "sh", "-c", "wc -l < /d/boots")
		return r.err == nil && r.Out() == "2", r.String()
	})
	assertMounts(t, vols.dir, true, 1)
	docker(t, "stop", always)
	assertMounts(t, vols.dir, false, 0)
}

// pluginSetting returns the value of the plugin's environment setting.
func pluginSetting(t *testing.T, name string) string {
	t.Helper()
	out := docker(t, "plugin", "inspect", "--format",
		`{{range .Settings.Env}}{{println .}}{{end}}`, driverName)
	for _, kv := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// restorePlugin makes sure the plugin is enabled again with LOG_LEVEL set
// back to level, whatever state a failed test left it in.
func restorePlugin(t *testing.T, level string) {
	t.Helper()
	if pluginSetting(t, "LOG_LEVEL") != level {
		tryDocker("plugin", "disable", "-f", driverName)
		if r := tryDocker("plugin", "set", driverName, "LOG_LEVEL="+level); r.err != nil {
			t.Errorf("cleanup: %s", r)
		}
	}
	if docker(t, "plugin", "inspect", "--format", "{{.Enabled}}", driverName) != "true" {
		docker(t, "plugin", "enable", driverName)
	}
	waitPluginEnabled(t)
}

// TestPluginCrash guards issue 2's crash recovery: when the plugin
// process dies, the daemon restarts it (PROTOCOL §5); the new process
// reloads volmount's state, so running containers keep their volumes, a
// new container shares a running one's tmpfs instead of getting a fresh
// one, and the volumes can be released and removed afterwards.
func TestPluginCrash(t *testing.T) {
	dir, tmpfs := uniqueName(t, "v"), uniqueName(t, "v")
	createVolume(t, dir)
	createVolume(t, tmpfs, "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=8m")
	ctr := startContainer(t, "-v", dir+":/d", "-v", tmpfs+":/t", testImage,
		"sh", "-c", idleScript("echo dir-data > /d/f; echo tmpfs-data > /t/f"))
	waitInContainer(t, ctr, "test -s /d/f && test -s /t/f")

	old := pluginPID(t)
	t.Logf("killing the plugin process (pid %d)", old)
	require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
	eventually(t, 30*time.Second, "the daemon to restart the plugin", func() (bool, string) {
		pid, ok := findPluginPID(t)
		return ok && pid != old && tryDocker("volume", "inspect", dir).err == nil,
			"plugin pid " + strconv.Itoa(pid)
	})

	assertMounts(t, dir, true, 1)
	assertMounts(t, tmpfs, true, 1)
	out := runOnce(t, "-v", dir+":/d", "-v", tmpfs+":/t", testImage, "cat", "/d/f", "/t/f")
	assert.Equal(t, "dir-data\ntmpfs-data", out, "a new container sees the running one's files")

	docker(t, "stop", ctr)
	assertMounts(t, dir, false, 0)
	assertMounts(t, tmpfs, false, 0)
	docker(t, "rm", ctr)
	assert.Equal(t, tmpfs, docker(t, "volume", "rm", tmpfs))
}

// pluginPID returns the pid of the plugin's process on the host.
func pluginPID(t *testing.T) int {
	t.Helper()
	pid, ok := findPluginPID(t)
	require.True(t, ok, "no process of plugin %s found", driverName)
	return pid
}

// findPluginPID looks for the plugin's entrypoint among the children of
// the containerd shim that runs the plugin: the shim's command line holds
// the plugin ID.
func findPluginPID(t *testing.T) (int, bool) {
	t.Helper()
	id := docker(t, "plugin", "inspect", "--format", "{{.Id}}", driverName)
	entry := docker(t, "plugin", "inspect", "--format",
		"{{index .Config.Entrypoint 0}}", driverName)
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || !processAlive(pid) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !strings.HasPrefix(string(cmdline), entry+"\x00") {
			continue
		}
		parent, err := os.ReadFile(filepath.Join("/proc", parentPID(pid), "cmdline"))
		if err == nil && strings.Contains(string(parent), id) {
			return pid, true
		}
	}
	return 0, false
}

// parentPID returns the parent pid of pid from /proc/PID/stat, or "0".
func parentPID(pid int) string {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "0"
	}
	i := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(fields) < 2 {
		return "0"
	}
	return fields[1]
}
