//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// composeFile uses volmount the three ways a compose project can: a
// volume with `driver: volmount`, one with driver_opts, and an external
// volume created beforehand. Placeholders: %IMAGE%, %DRIVER%, %EXTERNAL%.
const composeFile = `services:
  app:
    image: %IMAGE%
    pull_policy: never
    network_mode: none
    command:
      - sh
      - -c
      - "echo from-compose > /data/f; trap 'exit 0' TERM; while :; do sleep 1 & wait $$!; done"
    volumes:
      - data:/data
      - cache:/cache
      - ext:/ext
volumes:
  data:
    driver: %DRIVER%
  cache:
    driver: %DRIVER%
    driver_opts:
      type: tmpfs
      device: tmpfs
      o: "size=32m,uid=1000"
  ext:
    external: true
    name: %EXTERNAL%
`

// TestComposeProject guards issue 2's compose workflow: `docker compose
// up` creates the project's volmount volumes with their driver_opts and
// uses the external one; `down -v` removes the project's volumes and
// keeps the external one with its data.
func TestComposeProject(t *testing.T) {
	ext := uniqueName(t, "v")
	createVolume(t, ext)
	runOnce(t, "-v", ext+":/ext", testImage, "sh", "-c", "echo kept > /ext/f")

	project := uniqueName(t, "p")
	data, cache := project+"_data", project+"_cache"
	removeVolumeLater(t, data)
	removeVolumeLater(t, cache)
	file := filepath.Join(t.TempDir(), "compose.yaml")
	text := strings.NewReplacer("%IMAGE%", testImage, "%DRIVER%", driverName,
		"%EXTERNAL%", ext).Replace(composeFile)
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	compose := func(args ...string) string {
		t.Helper()
		return docker(t, append([]string{"compose", "--project-name", project, "--file", file,
			"--progress", "plain"}, args...)...)
	}
	t.Cleanup(func() {
		r := tryDocker("compose", "--project-name", project, "--file", file,
			"down", "--volumes", "--timeout", "1")
		if r.err != nil {
			t.Errorf("cleanup: compose down failed:\n%s", r)
		}
	})

	compose("up", "--wait")
	out := compose("exec", "-T", "app", "sh", "-c",
		"cat /ext/f; cat /data/f; stat -c '%u' /cache; df -k /cache | tail -n 1")
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 4, out)
	assert.Equal(t, "kept", lines[0], "the external volume's data")
	assert.Equal(t, "from-compose", lines[1], "the service wrote to its volume")
	assert.Equal(t, "1000", lines[2], "driver_opts o=uid=1000 reached mount(2)")
	assert.Equal(t, "32768", strings.Fields(lines[3])[1], "driver_opts o=size=32m: %s", lines[3])

	for _, name := range []string{data, cache} {
		v := inspectVolume(t, name)
		assert.Equal(t, driverRef, v.Driver, name)
		assert.Equal(t, project, v.Labels["com.docker.compose.project"], name)
	}
	assertStatusOptions(t, inspectVolume(t, cache), "tmpfs", "tmpfs", "size=32m,uid=1000")

	compose("down", "--volumes", "--timeout", "1")
	assertNoVolume(t, data)
	assertNoVolume(t, cache)
	assert.Equal(t, "kept", runOnce(t, "-v", ext+":/ext", testImage, "cat", "/ext/f"),
		"down -v keeps the external volume")
}
