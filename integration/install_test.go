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

// TestPluginInstallFromRegistry guards issue 2's `docker plugin install`:
// the plugin, assembled by `make rootfs` and through the Dockerfile, is
// pushed to a local registry, installed from there under an alias, and
// serves volumes under that alias. The Makefile's test-integration runs
// the registry (VOLMOUNT_REGISTRY) and assembles both plugin directories
// (VOLMOUNT_PLUGIN_DIR, VOLMOUNT_DOCKER_PLUGIN_DIR).
func TestPluginInstallFromRegistry(t *testing.T) {
	registry := os.Getenv("VOLMOUNT_REGISTRY")
	if registry == "" {
		t.Skip("VOLMOUNT_REGISTRY is not set: no registry to push to " +
			"(make test-integration runs one)")
	}
	tests := []struct {
		name   string
		dirEnv string
	}{
		{name: "make rootfs", dirEnv: "VOLMOUNT_PLUGIN_DIR"},
		{name: "Dockerfile", dirEnv: "VOLMOUNT_DOCKER_PLUGIN_DIR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := os.Getenv(tc.dirEnv)
			if dir == "" {
				t.Skip(tc.dirEnv + " is not set: no plugin directory to push")
			}
			require.FileExists(t, filepath.Join(dir, "config.json"))
			ref := registry + "/" + uniqueName(t, "plugin") + ":it"
			alias := pushAndInstall(t, dir, ref)

			out := docker(t, "plugin", "inspect", "--format",
				"{{.Enabled}} {{.PluginReference}}", alias)
			assert.Equal(t, "true "+ref, out, "installed from the registry and enabled")

			vol := uniqueName(t, "v")
			removeVolumeLater(t, vol)
			assert.Equal(t, vol, docker(t, "volume", "create", "-d", alias, vol))
			assert.Equal(t, alias+":latest", inspectVolume(t, vol).Driver)
			runOnce(t, "--volume-driver", alias, "-v", vol+":/d", testImage,
				"sh", "-c", "echo installed > /d/f")
			assert.Equal(t, "installed", runOnce(t, "--volume-driver", alias, "-v", vol+":/d",
				testImage, "cat", "/d/f"))
		})
	}
}

// pushAndInstall pushes dir as ref, then installs ref under a new alias,
// which it returns; the alias is removed when the test ends (after its
// volumes, if registered first).
func pushAndInstall(t *testing.T, dir, ref string) string {
	t.Helper()
	push(t, dir, ref)
	alias := uniqueName(t, "alias")
	t.Cleanup(func() {
		if r := tryDocker("plugin", "rm", "--force", alias); r.err != nil {
			t.Errorf("cleanup: could not remove plugin %s:\n%s", alias, r)
		}
	})
	docker(t, "plugin", "install", "--grant-all-permissions", "--alias", alias, ref)
	return alias
}

// push creates plugin ref from dir, pushes it and removes the local copy.
//
// It creates the plugin from a fresh copy of dir: Docker 26 refuses to
// create a plugin whose rootfs layer is byte for byte one it already has
// ("content sha256:...: already exists"), as the enabled plugin's is when
// both come from the same directory; a copy has new times, so a new layer.
func push(t *testing.T, dir, ref string) {
	t.Helper()
	copied := t.TempDir()
	r := execute(nil, "cp", "-r", dir+"/.", copied)
	require.NoError(t, r.err, r.String())
	docker(t, "plugin", "create", ref, copied)
	pushed := tryDocker("plugin", "push", ref)
	docker(t, "plugin", "rm", "--force", ref)
	require.NoError(t, pushed.err, pushed.String())
}

// TestPluginUpgradeKeepsVolumes guards issue 2's rule that volmount's
// state lives outside the rootfs: `docker plugin upgrade` replaces the
// rootfs (PROTOCOL §8), and volumes, options, labels and data must be
// intact afterwards.
func TestPluginUpgradeKeepsVolumes(t *testing.T) {
	registry, dir := os.Getenv("VOLMOUNT_REGISTRY"), os.Getenv("VOLMOUNT_PLUGIN_DIR")
	if registry == "" || dir == "" {
		t.Skip("VOLMOUNT_REGISTRY or VOLMOUNT_PLUGIN_DIR is not set: nothing to upgrade to " +
			"(make test-integration sets both)")
	}
	vols := makeLifecycleVolumes(t)
	ref := registry + "/" + uniqueName(t, "plugin") + ":upgrade"
	push(t, dir, ref)

	level := pluginSetting(t, "LOG_LEVEL")
	docker(t, "plugin", "disable", "-f", driverName)
	t.Cleanup(func() { restorePlugin(t, level) })
	docker(t, "plugin", "upgrade", "--grant-all-permissions", "--skip-remote-check",
		driverName, ref)
	docker(t, "plugin", "enable", driverName)
	waitPluginEnabled(t)

	assert.Equal(t, ref, docker(t, "plugin", "inspect", "--format", "{{.PluginReference}}",
		driverName), "the plugin was upgraded")
	vols.check(t)
}

// TestReinstallUpgradesInPlace guards issue 2's `make install`, run again
// over an installed plugin that has volumes: scripts/plugin.sh create
// (what make install calls) must upgrade the plugin in place, keeping
// volumes, options and data, instead of removing it, which would delete
// them.
func TestReinstallUpgradesInPlace(t *testing.T) {
	registry, dir := os.Getenv("VOLMOUNT_REGISTRY"), os.Getenv("VOLMOUNT_PLUGIN_DIR")
	if registry == "" || dir == "" {
		t.Skip("VOLMOUNT_REGISTRY or VOLMOUNT_PLUGIN_DIR is not set " +
			"(make test-integration sets both)")
	}
	vols := makeLifecycleVolumes(t)
	level := pluginSetting(t, "LOG_LEVEL")
	t.Cleanup(func() { restorePlugin(t, level) })

	copied := t.TempDir() // a new rootfs layer: see push
	r := execute(nil, "cp", "-r", dir+"/.", copied)
	require.NoError(t, r.err, r.String())
	r = execute(nil, "bash", "-c", `cd .. && FORCE= scripts/plugin.sh create "$0" "$1"`,
		driverRef, copied)
	require.NoError(t, r.err, r.String())
	assert.Contains(t, r.stdout, "upgraded "+driverRef+" in place", r.String())
	docker(t, "plugin", "enable", driverName)
	waitPluginEnabled(t)

	vols.check(t)
	assert.True(t, strings.HasPrefix(docker(t, "plugin", "inspect", "--format",
		"{{.PluginReference}}", driverName), registry+"/volmount-upgrade:"),
		"the plugin was upgraded, not removed and created")
}
