//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// commandTimeout bounds every command a test runs, so that a hung daemon
// or plugin fails one test instead of the whole run's time budget.
const commandTimeout = 3 * time.Minute

// result is what one command printed and how it ended.
type result struct {
	cmd    string
	stdout string
	stderr string
	err    error
}

// Out is the trimmed standard output.
func (r result) Out() string { return strings.TrimSpace(r.stdout) }

// Combined is stdout and stderr together, for matching error texts.
func (r result) Combined() string { return r.stdout + r.stderr }

// String shows the command and everything it printed, for failure messages.
func (r result) String() string {
	status := "exit 0"
	if r.err != nil {
		status = r.err.Error()
	}
	return fmt.Sprintf("$ %s\n(%s)\nstdout:\n%s\nstderr:\n%s",
		r.cmd, status, indent(r.stdout), indent(r.stderr))
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// quoteArgs renders argv the way a user would type it in a shell.
func quoteArgs(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?;&|<>(){}!#~") {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// execute runs one program with the test environment and never fails the
// test itself.
func execute(stdin []byte, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env.vars
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", commandTimeout, err)
	}
	return result{
		cmd:    quoteArgs(append([]string{name}, args...)),
		stdout: stdout.String(),
		stderr: stderr.String(),
		err:    err,
	}
}

// tryDocker runs the docker CLI and returns its result without judging it.
func tryDocker(args ...string) result { return execute(nil, "docker", args...) }

// docker runs the docker CLI, fails the test with the full command and
// output unless it succeeds, and returns its trimmed stdout.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	r := tryDocker(args...)
	require.NoError(t, r.err, "command failed:\n%s", r)
	return r.Out()
}

// dockerFails runs the docker CLI and fails the test unless the command
// fails. It returns the result so the caller can check the error text.
func dockerFails(t *testing.T, args ...string) result {
	t.Helper()
	r := tryDocker(args...)
	require.Error(t, r.err, "command succeeded but should have failed:\n%s", r)
	return r
}

// uniqueName returns a name for a volume, container, service or project
// that no other test or run uses. It starts with namePrefix so leftovers
// can be found, holds a slug of the test name so a leftover points at
// its test, and fits Docker's strictest rules (service names: DNS label).
func uniqueName(t *testing.T, kind string) string {
	t.Helper()
	var b [4]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)

	slug := slugify(strings.TrimPrefix(t.Name(), "Test"))
	if len(slug) > 28 {
		slug = strings.Trim(slug[:28], "-")
	}
	return namePrefix + kind + "-" + slug + "-" + hex.EncodeToString(b[:])
}

func slugify(s string) string {
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
			dash = false
		} else if !dash {
			sb.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(sb.String(), "-")
}

// createVolume runs `docker volume create -d volmount ARGS... NAME` and
// removes the volume when the test ends.
func createVolume(t *testing.T, name string, args ...string) {
	t.Helper()
	removeVolumeLater(t, name)
	argv := append([]string{"volume", "create", "-d", driverName}, args...)
	require.Equal(t, name, docker(t, append(argv, name)...))
}

// removeVolumeLater removes the volume when the test ends, whoever
// created it (the test, docker run, compose or swarm). Register it before
// the containers that use the volume, so that they are removed first.
func removeVolumeLater(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		r := tryDocker("volume", "rm", "-f", name)
		if r.err != nil && !isNoSuchVolume(r) {
			t.Errorf("cleanup: could not remove volume %s:\n%s", name, r)
		}
	})
}

func isNoSuchVolume(r result) bool {
	return strings.Contains(r.Combined(), "no such volume")
}

// removeContainerLater force-removes the container (and its anonymous
// volumes) when the test ends.
func removeContainerLater(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		r := tryDocker("rm", "-f", "-v", name)
		if r.err != nil && !strings.Contains(r.Combined(), "No such container") {
			t.Errorf("cleanup: could not remove container %s:\n%s", name, r)
		}
	})
}

// idleScript returns a shell script that runs setup, then idles until
// `docker stop` and exits at once: busybox sh runs the trap while it
// waits for sleep.
func idleScript(setup string) string {
	if setup != "" {
		setup += "; "
	}
	return setup + "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"
}

// counterScript returns a shell script that appends 1, 2, 3... to file,
// one line every 100 ms, until `docker stop`.
func counterScript(file string) string {
	return "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i >> " + file +
		"; sleep 0.1 & wait $!; done"
}

// startContainer runs `docker run -d --name NAME ARGS...` without a
// network, removes the container when the test ends and returns its
// name. ARGS holds the run options, the image and the command.
func startContainer(t *testing.T, args ...string) string {
	t.Helper()
	name := uniqueName(t, "c")
	removeContainerLater(t, name)
	docker(t, append([]string{"run", "-d", "--name", name}, runFlags(args)...)...)
	return name
}

// runFlags prepends what every test container gets: no pull, no network, a
// label by which leftovers are found even when the container has no name.
func runFlags(args []string) []string {
	return append([]string{"--pull=never", "--network", "none", "--label", testLabel}, args...)
}

// runOnce runs `docker run --rm ARGS...` without a network and returns
// its trimmed stdout; the test fails unless the container exits 0.
func runOnce(t *testing.T, args ...string) string {
	t.Helper()
	return docker(t, append([]string{"run", "--rm"}, runFlags(args)...)...)
}

// tryRunOnce is runOnce without the verdict.
func tryRunOnce(args ...string) result {
	return tryDocker(append([]string{"run", "--rm"}, runFlags(args)...)...)
}

// mountFlag builds a --mount value for a volmount volume; extra holds
// further fields such as "readonly" or "volume-opt=type=tmpfs".
func mountFlag(src, dst string, extra ...string) string {
	fields := []string{"type=volume", "dst=" + dst, "volume-driver=" + driverName}
	if src != "" {
		fields = append(fields, "src="+src)
	}
	return strings.Join(append(fields, extra...), ",")
}

// volumeInfo is what `docker volume inspect` prints for one volume.
type volumeInfo struct {
	Name       string
	Driver     string
	Mountpoint string
	CreatedAt  string
	Scope      string
	Status     map[string]any
	Labels     map[string]string
	Options    map[string]string
}

// inspectVolume runs `docker volume inspect NAME`.
func inspectVolume(t *testing.T, name string) volumeInfo {
	t.Helper()
	var infos []volumeInfo
	decodeJSON(t, docker(t, "volume", "inspect", name), &infos)
	require.Len(t, infos, 1)
	return infos[0]
}

// containerMount is one entry of `docker inspect`'s .Mounts.
type containerMount struct {
	Type        string
	Name        string
	Source      string
	Destination string
	Driver      string
	Mode        string
	RW          bool
}

// containerMounts returns the .Mounts of a container.
func containerMounts(t *testing.T, container string) []containerMount {
	t.Helper()
	var mounts []containerMount
	out := docker(t, "container", "inspect", "--format", "{{json .Mounts}}", container)
	decodeJSON(t, out, &mounts)
	return mounts
}

// mountAt returns the container's mount at dst.
func mountAt(t *testing.T, container, dst string) containerMount {
	t.Helper()
	mounts := containerMounts(t, container)
	for _, m := range mounts {
		if m.Destination == dst {
			return m
		}
	}
	require.FailNow(t, "no mount at "+dst, "container %s has mounts %+v", container, mounts)
	return containerMount{}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(s), v), "decode JSON:\n%s", s)
}

// listVolumes returns the names `docker volume ls` prints for volmount's
// volumes. The daemon stores a managed plugin's driver name with its tag,
// so the filter is volmount:latest (PROTOCOL §3).
func listVolumes(t *testing.T) []string {
	t.Helper()
	out := docker(t, "volume", "ls", "--quiet", "--filter", "driver="+driverRef)
	return strings.Fields(out)
}

// eventually polls cond every interval until it reports true or timeout
// passes; then it fails the test with what and cond's last detail.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out after "+timeout.String()+" waiting for "+what, detail)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitGone waits until `docker inspect` no longer finds the container,
// for example after a --rm container stopped.
func waitGone(t *testing.T, container string) {
	t.Helper()
	eventually(t, 30*time.Second, "container "+container+" to be removed", func() (bool, string) {
		r := tryDocker("container", "inspect", "--format", "{{.State.Status}}", container)
		return r.err != nil && strings.Contains(r.Combined(), "No such container"), r.String()
	})
}

// toString renders a Status value; a missing one is "".
func toString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
