package bench_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/volmount/volmount/bench/proc"
	"github.com/volmount/volmount/bench/scratch"
	"github.com/volmount/volmount/bench/wire"
)

var (
	pairs = flag.Int("pairs", 1,
		"paired runs of each benchmark: sub-benchmarks pair=NN/volmount and pair=NN/<reference>")
	pluginBin = flag.String("plugin", "",
		"volmount binary for the round trip; empty builds ./plugin")
	scratchDir = flag.String("scratch", "/var/tmp",
		"directory on the disk the scratch roots are made in")
)

// floorEnv, set to a socket path, makes the test binary serve the protocol
// floor there instead of running tests: the round trip starts the floor as
// a process of its own, as it starts volmount.
const floorEnv = "VMBENCH_FLOOR_SOCKET"

func TestMain(m *testing.M) {
	if socket := os.Getenv(floorEnv); socket != "" {
		err := wire.NewFloor(filepath.Dir(socket)).Serve(socket)
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func skipUnlessRoot(b *testing.B) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root: volmount bind-mounts directory volumes")
	}
}

// newRoot makes a scratch root of the given kind, removed when b ends.
func newRoot(b *testing.B, kind scratch.Kind) *scratch.Root {
	b.Helper()
	root, err := scratch.New(*scratchDir, kind)
	if err != nil {
		b.Fatalf("scratch.New(%q, %s): %v", *scratchDir, kind, err)
	}
	b.Cleanup(func() {
		if err := root.Close(); err != nil {
			b.Errorf("remove scratch root: %v", err)
		}
	})
	return root
}

// names hands out volume names and mount IDs never used before in the
// process.
var names atomic.Int64

func newName() string { return "b" + strconv.FormatInt(names.Add(1), 10) }

func newID() string {
	return fmt.Sprintf("%064x", names.Add(1))
}

// pairwise runs, for each pair, the sub-benchmark pair=NN/volmount and then
// pair=NN/<ref>, or the other way round every other pair.
func pairwise(b *testing.B, ref string, vm, other func(*testing.B)) {
	for i := range *pairs {
		runs := []struct {
			name string
			f    func(*testing.B)
		}{{"volmount", vm}, {ref, other}}
		if i%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, r := range runs {
			b.Run(fmt.Sprintf("pair=%02d/%s", i, r.name), r.f)
		}
	}
}

// startPlugin starts a plugin process and stops it when b ends.
func startPlugin(b *testing.B, spec proc.Spec) *wire.Client {
	b.Helper()
	p, err := proc.Start(spec)
	if err != nil {
		b.Fatal(err)
	}
	c := wire.NewClient(spec.Socket)
	b.Cleanup(func() {
		c.Close()
		if err := p.Stop(); err != nil {
			b.Error(err)
		}
	})
	return c
}

// volmountBinary returns the volmount binary to measure, building it from
// ./plugin when -plugin is not given.
func volmountBinary(b *testing.B) string {
	b.Helper()
	if *pluginBin != "" {
		return *pluginBin
	}
	bin := filepath.Join(b.TempDir(), "volmount")
	cmd := exec.Command("go", "build", "-o", bin, "../plugin")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ../plugin: %v\n%s", err, out)
	}
	return bin
}
