//go:build integration

package integration

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSwarmService guards issue 2's swarm workflow: a service whose
// --mount names volume-driver=volmount and volume-opt creates a tmpfs
// volmount volume for its task, the task runs with it, and removing the
// service releases the mount but keeps the volume (swarm never removes
// volumes, PROTOCOL §9).
func TestSwarmService(t *testing.T) {
	joinSwarm(t)
	vol := uniqueName(t, "v")
	removeVolumeLater(t, vol)
	svc := uniqueName(t, "s")
	removeServiceLater(t, svc)

	mount := "type=volume,source=" + vol + ",target=/d,volume-driver=" + driverName +
		",volume-opt=type=tmpfs,volume-opt=device=tmpfs"
	docker(t, "service", "create", "--detach", "--name", svc, "--no-resolve-image",
		"--restart-condition", "none", "--stop-grace-period", "1s",
		"--mount", mount, testImage, "sh", "-c", idleScript("echo from-task > /d/f"))

	ctr := runningTask(t, svc)
	waitInContainer(t, ctr, "test -s /d/f")
	out := docker(t, "exec", ctr, "sh", "-c", "cat /d/f; grep ' /d ' /proc/mounts")
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 2, out)
	assert.Equal(t, "from-task", lines[0])
	assert.Equal(t, "tmpfs", strings.Fields(lines[1])[2],
		"the task's volume is a tmpfs: %s", lines[1])

	v := inspectVolume(t, vol)
	assert.Equal(t, driverRef, v.Driver)
	assertStatusOptions(t, v, "tmpfs", "tmpfs", "")
	assertMounts(t, vol, true, 1)

	docker(t, "service", "rm", svc)
	waitServiceGone(t, svc)
	assertMounts(t, vol, false, 0)
	assert.Contains(t, listVolumes(t), vol, "the service's volume stays")
}

// joinSwarm makes the engine a single-node swarm manager that listens on
// loopback only, unless it already is in a swarm; a swarm it made is left
// when the test ends.
func joinSwarm(t *testing.T) {
	t.Helper()
	state := docker(t, "info", "--format", "{{.Swarm.LocalNodeState}}")
	if state == "active" {
		return
	}
	require.Equal(t, "inactive", state, "swarm state")
	port := freeLoopbackPort(t)
	// 198.19.0.0/16 is a test-only range (RFC 2544), as the engine's own
	// address pool is; swarm's default would be 10.0.0.0/8.
	docker(t, "swarm", "init", "--advertise-addr", "127.0.0.1",
		"--listen-addr", "127.0.0.1:"+strconv.Itoa(port),
		"--default-addr-pool", "198.19.0.0/16")
	t.Cleanup(func() {
		if r := tryDocker("swarm", "leave", "--force"); r.err != nil {
			t.Errorf("cleanup: could not leave the swarm:\n%s", r)
		}
	})
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// removeServiceLater removes the service when the test ends and waits for
// its containers to go, so that its volumes can be removed after it.
func removeServiceLater(t *testing.T, svc string) {
	t.Helper()
	t.Cleanup(func() {
		r := tryDocker("service", "rm", svc)
		if r.err != nil && !strings.Contains(r.Combined(), "not found") {
			t.Errorf("cleanup: could not remove service %s:\n%s", svc, r)
		}
		waitServiceGone(t, svc)
	})
}

// serviceContainers lists the IDs of the service's task containers.
func serviceContainers(t *testing.T, svc string, all bool) []string {
	t.Helper()
	argv := []string{"ps", "--quiet", "--filter", "label=com.docker.swarm.service.name=" + svc}
	if all {
		argv = append(argv, "--all")
	}
	return strings.Fields(docker(t, argv...))
}

// runningTask waits until the service's one task runs and returns its
// container; a task that failed ends the test with swarm's error.
func runningTask(t *testing.T, svc string) string {
	t.Helper()
	eventually(t, 60*time.Second, "a running task of "+svc, func() (bool, string) {
		out := docker(t, "service", "ps", "--no-trunc", "--format",
			"{{.CurrentState}}|{{.Error}}", svc)
		state, errText, _ := strings.Cut(out, "|")
		if strings.HasPrefix(state, "Failed") || strings.HasPrefix(state, "Rejected") {
			require.FailNow(t, "the task of "+svc+" did not start", "%s: %s", state, errText)
		}
		running := strings.HasPrefix(state, "Running")
		return running && len(serviceContainers(t, svc, false)) == 1, out
	})
	return serviceContainers(t, svc, false)[0]
}

// waitServiceGone waits until no container of the service is left.
func waitServiceGone(t *testing.T, svc string) {
	t.Helper()
	eventually(t, 60*time.Second, "the containers of "+svc+" to be removed", func() (bool, string) {
		left := serviceContainers(t, svc, true)
		return len(left) == 0, strings.Join(left, " ")
	})
}
