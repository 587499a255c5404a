//go:build integration

package integration

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// engineStopWait bounds a dockerd shutdown: it stops containers with a
// 10 s grace and then the plugin with another 10 s.
const engineStopWait = 90 * time.Second

// enginePID returns the pid of the dockerd serving env.host, from the
// peer credentials of a connection to its socket.
func enginePID(t *testing.T) int {
	t.Helper()
	path, ok := strings.CutPrefix(env.host, "unix://")
	require.True(t, ok, "the engine at %s is not on a unix socket", env.host)
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	raw, err := conn.(*net.UnixConn).SyscallConn()
	require.NoError(t, err)
	var cred *unix.Ucred
	var credErr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}))
	require.NoError(t, credErr)
	return int(cred.Pid)
}

// engineLog returns the file dockerd writes its log (and so the plugin's
// output) to, or "" if it does not write to a regular file.
func engineLog(t *testing.T) string {
	t.Helper()
	path, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(enginePID(t)), "fd", "2"))
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return path
}

// restartEngine restarts the engine as a service manager would: SIGTERM,
// wait for dockerd to exit, start the same command line again with the
// same environment and log file. scripts/engine.sh stop-test deletes the
// engine's data, so it cannot serve here.
func restartEngine(t *testing.T) {
	t.Helper()
	pid := enginePID(t)
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	exe, err := os.Readlink(filepath.Join(proc, "exe"))
	require.NoError(t, err)
	argv := readNulList(t, filepath.Join(proc, "cmdline"))
	environ := readNulList(t, filepath.Join(proc, "environ"))
	cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
	require.NoError(t, err)
	logPath := engineLog(t)

	t.Logf("restarting dockerd (pid %d): %s", pid, quoteArgs(argv))
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	eventually(t, engineStopWait, "dockerd to exit", func() (bool, string) {
		return !processAlive(pid), "pid " + strconv.Itoa(pid) + " still runs"
	})

	cmd := exec.Command(exe, argv[1:]...)
	cmd.Env, cmd.Dir = environ, cwd
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	require.NoError(t, cmd.Start())
	go cmd.Wait() // reap it if it dies while the tests run

	eventually(t, 60*time.Second, "the restarted engine to answer", func() (bool, string) {
		r := tryDocker("version", "--format", "{{.Server.Version}}")
		if r.err != nil && !processAlive(cmd.Process.Pid) {
			require.FailNow(t, "dockerd exited while starting", "see %s", logPath)
		}
		return r.err == nil, r.String()
	})
	waitPluginEnabled(t)
}

// waitPluginEnabled waits until the plugin is enabled and answers a
// volume ls through its List.
func waitPluginEnabled(t *testing.T) {
	t.Helper()
	eventually(t, 60*time.Second, "the plugin to be enabled", func() (bool, string) {
		r := tryDocker("plugin", "inspect", "--format", "{{.Enabled}}", driverName)
		if r.err != nil || r.Out() != "true" {
			return false, r.String()
		}
		r = tryDocker("volume", "ls", "--quiet", "--filter", "driver="+driverRef)
		return r.err == nil, r.String()
	})
}

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func readNulList(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	list := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	require.NotEmpty(t, list, path)
	return list
}

// logSince returns what was appended to the engine's log after offset.
func logSince(t *testing.T, path string, offset int64) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(offset, 0)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	require.NoError(t, err)
	return buf.String()
}

// fileSize returns the size of path, or 0 if it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || err != nil {
		return 0
	}
	return fi.Size()
}
