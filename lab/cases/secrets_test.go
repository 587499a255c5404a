//go:build lab

package cases

import (
	"fmt"
	"strings"
	"testing"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/driver"
)

// TestStatusMasksPassword checks that Get never shows an inline password,
// before, during and after a mount.
func TestStatusMasksPassword(t *testing.T) {
	for _, u := range []smbUser{plainUser, oddUser} {
		t.Run(u.name, func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			name := volumeName(t)
			create(t, d, name, cifsOpts("cifs", "//127.0.0.1", inlineLogin(u)+",vers=3.0"))

			assertMasked(t, status(t, d, name), u.password)
			mount(t, d, name, "c1")
			st := status(t, d, name)
			assertMasked(t, st, u.password)
			assert.Equal(t, true, st["mounted"], "Status mounted while mounted")
			unmount(t, d, name, "c1")
			assertMasked(t, status(t, d, name), u.password)
		})
	}
}

// TestWrongPasswordMasked mounts with a wrong password: the mount fails
// at once, and neither the error nor Status shows the password.
func TestWrongPasswordMasked(t *testing.T) {
	d, _ := newDriver(t, driver.Config{})
	name := volumeName(t)
	wrong := smbUser{plainUser.name, "Wrong-Secret-77"}
	create(t, d, name, cifsOpts("cifs", "//127.0.0.1", inlineLogin(wrong)+",vers=3.1.1"))

	start := time.Now()
	resp, err := d.Mount(&api.MountRequest{Name: name, ID: "c1"})
	require.Error(t, err, "Mount(%q) with a wrong password returned %v", name, resp)
	t.Logf("Mount(%q) failed in %v: %v", name, time.Since(start).Round(time.Millisecond), err)
	assert.NotContains(t, err.Error(), wrong.password, "Mount error")
	assert.Contains(t, err.Error(), "//127.0.0.1/"+lab.smbShare, "Mount error names the share")
	assert.Contains(t, strings.ToLower(err.Error()), "permission denied",
		"Mount error says why")
	assertMasked(t, status(t, d, name), wrong.password)
	assertNotMounted(t, mountpointOf(t, d, name))
}

// assertMasked checks that no value of a Status holds password or any
// long part of it between commas.
func assertMasked(t *testing.T, status map[string]any, password string) {
	t.Helper()
	text := fmt.Sprint(status)
	assert.NotContains(t, text, password, "Status")
	for _, part := range strings.Split(password, ",") {
		if len(part) >= 4 {
			assert.NotContains(t, text, part, "Status")
		}
	}
	if o, ok := status["o"].(string); ok && strings.Contains(o, "password") {
		assert.Contains(t, o, "password=********", "Status o")
	}
}
