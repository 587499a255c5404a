//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPluginCreateOfExistingVolume guards issue 2's Create contract,
// which the CLI cannot reach (the daemon skips Create when Get succeeds,
// PROTOCOL §3): a repeated Create with the same options succeeds, one
// with other options fails naming exactly the keys that differ.
func TestPluginCreateOfExistingVolume(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol, "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=8m")
	sock := pluginSocket(t)

	create := func(device, o string) string {
		opts := map[string]string{"type": "tmpfs", "device": device, "o": o}
		return callPlugin(t, sock, "Create", map[string]any{"Name": vol, "Opts": opts})
	}
	assert.Empty(t, create("tmpfs", "size=8m"), "the same Create again succeeds")

	errText := create("none", "size=16m")
	assert.Contains(t, errText, vol, "the error names the volume")
	assert.Contains(t, errText, `"device"`, "the error names the differing keys")
	assert.Contains(t, errText, `"o"`, "the error names the differing keys")
	assert.NotContains(t, errText, `"type"`, "type is the same and is not named")

	assertStatusOptions(t, inspectVolume(t, vol), "tmpfs", "tmpfs", "size=8m")
}

// TestPluginRejectsEmptyBody guards issue 2's rule that a request with an
// empty or malformed body (the daemon resends a call without its body
// after a plugin crash, PROTOCOL §1) gets a clear error and changes
// nothing.
func TestPluginRejectsEmptyBody(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol)
	sock := pluginSocket(t)

	for _, method := range []string{"Create", "Mount", "Unmount", "Remove", "Get"} {
		status, errText := postPlugin(t, sock, method, "")
		assert.NotEqual(t, http.StatusOK, status, "%s with an empty body", method)
		assert.Contains(t, errText, "empty request body", "%s with an empty body", method)

		status, errText = postPlugin(t, sock, method, "{not json")
		assert.NotEqual(t, http.StatusOK, status, "%s with a malformed body", method)
		assert.Contains(t, errText, "malformed request body", "%s with a malformed body", method)
	}
	v := inspectVolume(t, vol)
	assert.Equal(t, false, v.Status["mounted"], "nothing was mounted: %v", v.Status)
	assert.Contains(t, listVolumes(t), vol, "nothing was removed")
}

// TestPluginMountIDSet guards issue 2's mount-ID set, which the daemon
// relies on without counting itself (PROTOCOL §5): a repeated Mount ID is
// harmless, an unknown ID's Unmount is a no-op, and the volume is
// released only when its last ID is unmounted.
func TestPluginMountIDSet(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol, "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=4m")
	sock := pluginSocket(t)
	call := func(method, id string) string {
		t.Helper()
		return callPlugin(t, sock, method, map[string]string{"Name": vol, "ID": id})
	}
	t.Cleanup(func() { call("Unmount", "it-a"); call("Unmount", "it-b") })

	require.Empty(t, call("Mount", "it-a"))
	require.Empty(t, call("Mount", "it-a"), "the same ID again")
	assertMounts(t, vol, true, 1)
	require.Empty(t, call("Mount", "it-b"))
	assertMounts(t, vol, true, 2)

	assert.Empty(t, call("Unmount", "it-unknown"), "an unknown ID")
	assertMounts(t, vol, true, 2)
	assert.Empty(t, call("Unmount", "it-a"))
	assertMounts(t, vol, true, 1)
	assert.Empty(t, call("Unmount", "it-b"))
	assertMounts(t, vol, false, 0)
	assert.Empty(t, call("Unmount", "it-b"), "an ID already unmounted")
}

// TestPluginRefusesRemoveWhileMounted guards issue 2's rule that Remove
// refuses while any mount ID is active: after a transient Get error the
// daemon forgets a volume's users and sends Remove for a mounted volume
// (PROTOCOL §4), which must not delete the data under a container.
func TestPluginRefusesRemoveWhileMounted(t *testing.T) {
	vol := uniqueName(t, "v")
	createVolume(t, vol)
	ctr := startContainer(t, "-v", vol+":/d", testImage,
		"sh", "-c", idleScript("echo precious > /d/f"))
	waitInContainer(t, ctr, "test -s /d/f")

	errText := callPlugin(t, pluginSocket(t), "Remove", map[string]string{"Name": vol})
	assert.Contains(t, errText, "mounted", "Remove of a mounted volume is refused")
	assert.Equal(t, "precious", docker(t, "exec", ctr, "cat", "/d/f"), "the data is intact")
	assert.Contains(t, listVolumes(t), vol)
}

// pluginSocket finds volmount's socket on the host: the daemon keeps it
// in <exec-root>/plugins/<plugin id>/<interface socket>.
func pluginSocket(t *testing.T) string {
	t.Helper()
	out := docker(t, "plugin", "inspect", "--format",
		"{{.Id}} {{.Config.Interface.Socket}}", driverName)
	id, sock, _ := strings.Cut(out, " ")
	for _, dir := range []string{"/run/docker/plugins", "/run/*/plugins",
		"/run/*/*/plugins", "/run/*/*/*/plugins"} {
		found, _ := filepath.Glob(filepath.Join(dir, id, sock))
		if len(found) == 1 {
			return found[0]
		}
	}
	require.FailNow(t, "cannot find the plugin socket", "no %s/%s under /run/**/plugins", id, sock)
	return ""
}

// callPlugin sends one Volume Plugin API request as the daemon does and
// returns the answer's Err ("" for success).
func callPlugin(t *testing.T, sock, method string, req any) string {
	t.Helper()
	body, err := json.Marshal(req)
	require.NoError(t, err)
	_, errText := postPlugin(t, sock, method, string(body)+"\n")
	return errText
}

// postPlugin posts body to /VolumeDriver.<method> on the plugin socket
// and returns the HTTP status and the answer's Err.
func postPlugin(t *testing.T, sock, method, body string) (int, string) {
	t.Helper()
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}
	client := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: dial}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPost, "http://plugin/VolumeDriver."+method,
		strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.docker.plugins.v1.2+json")
	resp, err := client.Do(req)
	require.NoError(t, err, "POST /VolumeDriver.%s", method)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var answer struct{ Err string }
	require.NoError(t, json.Unmarshal(raw, &answer),
		"POST /VolumeDriver.%s answered %q", method, raw)
	return resp.StatusCode, answer.Err
}
