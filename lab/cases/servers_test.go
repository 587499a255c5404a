//go:build lab

package cases

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// smbUser is an account on the lab's SMB server.
type smbUser struct {
	name     string
	password string
}

var (
	// plainUser has a password with nothing special in it.
	plainUser = smbUser{"labuser", "lab-Pass.1"}
	// oddUser's password holds = $ % spaces and both quotes: all of it
	// passes through o= as it is, since only a comma splits options.
	oddUser = smbUser{"odduser", `a=b $HOME %s 'one' "two"  x`}
	// commaUser's password adds commas to that. Inline it is ambiguous; a
	// credentials file carries it, and the CIFS client takes it doubled.
	commaUser = smbUser{"commauser", `p,w=$% 'q' "d",,x,`}
)

var smbUsers = []smbUser{plainUser, oddUser, commaUser}

// addSMBUsers adds smbUsers to ksmbd's user database; ksmbd.adduser tells
// the running ksmbd.mountd to reload it.
func addSMBUsers() error {
	for _, u := range smbUsers {
		out, err := exec.Command("ksmbd.adduser", "-a", "-p", u.password, u.name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ksmbd.adduser -a %s: %w: %s", u.name, err, out)
		}
	}
	return nil
}

// cifsData is the mount(2) data that logs u in, its password encoded the
// way the kernel's CIFS client reads it: a comma doubled.
func cifsData(u smbUser, vers string) string {
	return fmt.Sprintf("username=%s,password=%s,vers=%s",
		u.name, strings.ReplaceAll(u.password, ",", ",,"), vers)
}

// waitSMBLogin mounts the lab share as u with mount(2), until it works or
// wait has passed: ksmbd.mountd reloads its users asynchronously.
func waitSMBLogin(u smbUser, wait time.Duration) error {
	dir, err := os.MkdirTemp("", "smb-probe-")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	source := "//127.0.0.1/" + lab.smbShare
	deadline := time.Now().Add(wait)
	for {
		err = unix.Mount(source, dir, "cifs", 0, cifsData(u, "3.1.1"))
		if err == nil {
			return unix.Unmount(dir, 0)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("log in to %s as %s: %w", source, u.name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// run runs a server command in the guest and fails the test if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}

// stopNFS stops the kernel NFS server: its threads exit and it closes its
// sockets, so clients see a dead server. The test's cleanup starts it
// again.
func stopNFS(t *testing.T) {
	t.Helper()
	run(t, "rpc.nfsd", "0")
	t.Cleanup(func() { startNFS(t) })
}

// startNFS starts the NFS server's threads and ends the grace period that
// a restart begins: no client of the lab has state to reclaim, and v4
// opens would wait 90 s for it.
func startNFS(t *testing.T) {
	t.Helper()
	run(t, "rpc.nfsd")
	err := os.WriteFile("/proc/fs/nfsd/v4_end_grace", []byte("Y"), 0)
	require.NoError(t, err, "end the NFSv4 grace period")
}

// replaceExport puts a fresh, empty filesystem under the NFS export and
// exports it with a new fsid, so that every file handle a client holds,
// the root's included, is stale. The old filesystem stays mounted,
// detached, while nfsd holds it.
func replaceExport(t *testing.T) {
	t.Helper()
	exports, err := os.ReadFile("/etc/exports")
	require.NoError(t, err)
	fsid := regexp.MustCompile(`fsid=(\d+)`)
	m := fsid.FindSubmatch(exports)
	require.NotNil(t, m, "/etc/exports has no fsid=")
	n, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	exports = fsid.ReplaceAll(exports, []byte("fsid="+strconv.Itoa(n+1)))

	require.NoError(t, unix.Unmount(lab.nfsExport, unix.MNT_DETACH))
	require.NoError(t, unix.Mount("export", lab.nfsExport, "tmpfs", 0, "size=64m,mode=0755"))
	require.NoError(t, os.WriteFile("/etc/exports", exports, 0o644))
	run(t, "exportfs", "-ra")
	run(t, "exportfs", "-f")
}

// silentServer listens on the guest's loopback and accepts connections but
// never answers, like a server that hangs. It returns the port.
func silentServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err == nil {
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// slowProxy listens on the guest's loopback and forwards each connection
// to target, but only after holding it silent for delay: a server that
// answers late. It returns the port and a count of the bytes the late
// server sent back.
func slowProxy(t *testing.T, target string, delay time.Duration) (int, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	answered := new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go forwardLater(c, target, delay, answered)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, answered
}

func forwardLater(c net.Conn, target string, delay time.Duration, answered *atomic.Int64) {
	defer c.Close()
	time.Sleep(delay)
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go io.Copy(up, c)
	io.Copy(countingWriter{c, answered}, up)
}

// countingWriter adds the bytes written through it to n as they pass.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (cw countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n.Add(int64(n))
	return n, err
}
