//go:build integration

package integration

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMountFailureShowsInStatus guards issue 2's rule that a backend
// problem never turns into a Get error (which would make the daemon purge
// the volume, PROTOCOL §4): a volume whose device is missing fails to
// mount with an error naming the device, and afterwards is still there
// with its labels, shows the problem in its Status and can be removed.
func TestMountFailureShowsInStatus(t *testing.T) {
	vol := uniqueName(t, "v")
	dev := "/dev/" + uniqueName(t, "missing")
	createVolume(t, vol, "--label", "keep=yes", "-o", "type=ext4", "-o", "device="+dev)

	r := tryRunOnce("-v", vol+":/d", testImage, "true")
	assert.Error(t, r.err, "mounting a missing device must fail:\n%s", r)
	assert.Contains(t, r.stderr, "VolumeDriver.Mount", r.String())
	assert.Contains(t, r.stderr, dev, "the error names the device:\n%s", r)
	assert.Contains(t, r.stderr, "no such file or directory", r.String())

	v := inspectVolume(t, vol)
	assert.Equal(t, map[string]string{"keep": "yes"}, v.Labels, "the volume was not purged")
	assert.Contains(t, toString(v.Status["last_error"]), dev, "Status shows the problem: %v", v.Status)
	assertMounts(t, vol, false, 0)
	assert.Equal(t, vol, docker(t, "volume", "rm", vol))
}

// TestMountErrorMasksPassword guards issue 2's rule that a password in o
// is masked everywhere: in the error a failed mount shows the user, in
// Status and in the engine's log. The kernel here has no CIFS, so the
// mount fails at once without any server.
func TestMountErrorMasksPassword(t *testing.T) {
	logPath := engineLog(t)
	logStart := fileSize(logPath)
	vol := uniqueName(t, "v")
	const secret = "Tr0ub4dor-" + "mount"
	createVolume(t, vol, "-o", "type=cifs", "-o", "device=//127.0.0.1/share",
		"-o", "o=username=carol,password="+secret+",vers=3.0")

	r := tryRunOnce("-v", vol+":/d", testImage, "true")
	assert.Error(t, r.err, "mounting CIFS must fail on this kernel:\n%s", r)
	assert.Contains(t, r.stderr, "VolumeDriver.Mount", r.String())
	assert.Contains(t, r.stderr, "password=********", r.String())
	assert.NotContains(t, r.Combined(), secret, "the error shows no password")

	st := inspectVolume(t, vol).Status
	assert.NotEmpty(t, st["last_error"], "Status shows the problem: %v", st)
	assert.NotContains(t, toString(st["last_error"]), secret, "Status shows no password")
	if logPath != "" {
		assert.NotContains(t, logSince(t, logPath, logStart), secret, "the log shows no password")
	}
}
