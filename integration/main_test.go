//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const (
	// defaultDockerHost is the private test engine's socket; scripts/engine.sh
	// start-test serves it. VOLMOUNT_TEST_DOCKER_HOST overrides it.
	defaultDockerHost = "unix:///run/volmount-test/docker.sock"

	// propagatedMount is where the plugin mounts volumes (config.json); the
	// Mountpoint it reports is propagatedMount/<name>.
	propagatedMount = "/mnt/volumes"

	// seedText is the content of /data/seed.txt in testImage.
	seedText = "seeded-from-image"

	// namePrefix starts every name the tests create, so leftovers are found.
	namePrefix = "vmit-"

	// testLabel marks every container the tests run, named or not.
	testLabel = "volmount-integration=1"
)

var (
	// driverName is the plugin's name as users type it: volmount, or
	// VOLMOUNT_PLUGIN (the Makefile's PLUGIN:TAG) without a :latest tag.
	driverName = "volmount"

	// driverRef is the name the daemon stores and prints for the driver:
	// a managed plugin's name with its tag (PROTOCOL §8).
	driverRef = "volmount:latest"

	// testImage is the only image the tests run (no image can be pulled):
	// busybox-static with /data/seed.txt. VOLMOUNT_TEST_IMAGE overrides it.
	testImage = "volmount-test/busybox:latest"
)

// env is the environment every command of the run uses.
var env struct {
	host string   // the engine's DOCKER_HOST
	vars []string // os.Environ() pointed at that engine only
}

// TestMain runs the tests only with VOLMOUNT_INTEGRATION=1, fails at once
// when the engine or the enabled plugin is missing (a CI run that skipped
// issue 2's integration tests would prove nothing) and fails the run when
// the tests left containers, volumes, services or loop devices behind.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("VOLMOUNT_INTEGRATION") != "1" {
		fmt.Println("SKIP: integration tests need a private engine with the " +
			"volmount plugin; run `make test-integration` (it sets VOLMOUNT_INTEGRATION=1)")
		return 0
	}
	cfgDir, err := os.MkdirTemp("", "volmount-it-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: integration setup:", err)
		return 1
	}
	defer os.RemoveAll(cfgDir)
	setEnv(cfgDir)

	if err := checkEngine(); err != nil {
		fmt.Fprintf(os.Stderr,
			"FAIL: integration tests cannot run (VOLMOUNT_INTEGRATION=1): %v\n", err)
		return 1
	}
	code := m.Run()
	if err := checkLeftovers(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: tests left resources behind:", err)
		return 1
	}
	return code
}

// setEnv builds the commands' environment: the private engine, a CLI
// configuration of our own and no variable that could redirect the CLI
// or compose elsewhere.
func setEnv(cfgDir string) {
	env.host = os.Getenv("VOLMOUNT_TEST_DOCKER_HOST")
	if env.host == "" {
		env.host = defaultDockerHost
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DOCKER_") || strings.HasPrefix(k, "COMPOSE_") {
			continue
		}
		env.vars = append(env.vars, kv)
	}
	if ref := os.Getenv("VOLMOUNT_PLUGIN"); ref != "" {
		if !strings.Contains(ref, ":") {
			ref += ":latest"
		}
		driverRef, driverName = ref, strings.TrimSuffix(ref, ":latest")
	}
	if image := os.Getenv("VOLMOUNT_TEST_IMAGE"); image != "" {
		testImage = image
	}
	env.vars = append(env.vars,
		"DOCKER_HOST="+env.host,
		"DOCKER_CONFIG="+cfgDir,
		"DOCKER_CLI_HINTS=false",
	)
}

// checkEngine makes sure the engine answers, the plugin is enabled and
// the test image exists (building it from busybox-static if needed).
func checkEngine() error {
	if r := tryDocker("version", "--format", "{{.Server.Version}}"); r.err != nil {
		return fmt.Errorf("no engine at %s (start it with scripts/engine.sh start-test):\n%s",
			env.host, r)
	}
	r := tryDocker("plugin", "inspect", "--format", "{{.Enabled}}", driverName)
	if r.err != nil {
		return fmt.Errorf("plugin %q is not installed in the engine at %s:\n%s",
			driverName, env.host, r)
	}
	if r.Out() != "true" {
		return fmt.Errorf("plugin %q is installed but not enabled in the engine at %s",
			driverName, env.host)
	}
	if tryDocker("image", "inspect", testImage).err == nil {
		return nil
	}
	return buildTestImage()
}

// buildTestImage imports testImage from the host's static busybox: /bin
// with busybox and relative applet links, and /data/seed.txt.
func buildTestImage() error {
	bb, err := staticBusybox()
	if err != nil {
		return err
	}
	applets, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return fmt.Errorf("list busybox applets: %w", err)
	}
	bin, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	add := func(h *tar.Header, body []byte) {
		h.ModTime = now
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(body)
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755,
		Size: int64(len(bin))}, bin)
	for _, a := range strings.Fields(string(applets)) {
		if a != "busybox" {
			add(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink,
				Linkname: "busybox", Mode: 0o777}, nil)
		}
	}
	for _, d := range []string{"data/", "tmp/", "etc/", "proc/", "sys/", "dev/"} {
		add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	}
	seed := []byte(seedText + "\n")
	add(&tar.Header{Name: "data/seed.txt", Typeflag: tar.TypeReg, Mode: 0o644,
		Size: int64(len(seed))}, seed)
	if err := tw.Close(); err != nil {
		return err
	}

	r := execute(buf.Bytes(), "docker", "image", "import",
		"--change", "ENV PATH=/bin", "--change", `CMD ["sh"]`, "-", testImage)
	if r.err != nil {
		return fmt.Errorf("build %s:\n%s", testImage, r)
	}
	return nil
}

// staticBusybox finds a statically linked busybox (Debian: busybox-static).
func staticBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", errors.New("no static busybox in /bin or /usr/bin: install busybox-static")
}

// checkLeftovers lists containers, services and volumes that a test
// created and did not remove.
func checkLeftovers() error {
	var left []string
	for _, argv := range [][]string{
		{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + testLabel},
		{"ps", "-a", "--format", "{{.Names}}", "--filter", "name=" + namePrefix},
		{"volume", "ls", "--format", "{{.Name}}"},
		{"service", "ls", "--format", "{{.Name}}"},
	} {
		r := tryDocker(argv...)
		if r.err != nil {
			continue // service ls fails when no swarm is active
		}
		for _, name := range strings.Fields(r.stdout) {
			if argv[0] == "ps" || strings.Contains(name, namePrefix) {
				left = append(left, argv[0]+" "+name)
			}
		}
	}
	r := execute(nil, "losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE")
	if r.err == nil {
		for _, line := range strings.Split(r.Out(), "\n") {
			if strings.Contains(line, namePrefix) {
				left = append(left, "loop device "+line)
			}
		}
	}
	if len(left) > 0 {
		return errors.New(strings.Join(left, ", "))
	}
	return nil
}
