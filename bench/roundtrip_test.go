package bench_test

import (
	"context"
	"os"
	"testing"

	"github.com/volmount/volmount/bench/proc"
	"github.com/volmount/volmount/bench/scratch"
	"github.com/volmount/volmount/bench/wire"
)

// BenchmarkRoundTrip sends the Create → Mount → Unmount → Remove cycle of
// a directory volume through the plugin socket, as the daemon sends it, to
// the volmount binary (root on the disk) and to the protocol floor, each
// a process of its own. One op is one cycle.
func BenchmarkRoundTrip(b *testing.B) {
	skipUnlessRoot(b)
	bin := volmountBinary(b)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("disk", func(b *testing.B) {
		root := newRoot(b, scratch.Disk)
		vm := startPlugin(b, proc.Spec{
			Argv: []string{bin, "--root", root.Path("volmount"),
				"--socket", root.Path("volmount.sock")},
			Env:    []string{"LOG_LEVEL=info"},
			Socket: root.Path("volmount.sock"),
		})
		floor := startPlugin(b, proc.Spec{
			Argv:   []string{self},
			Env:    []string{floorEnv + "=" + root.Path("floor.sock")},
			Socket: root.Path("floor.sock"),
		})
		pairwise(b, "floor", cycles(vm), cycles(floor))
	})
}

// cycles returns a benchmark running one cycle per op against c.
func cycles(c *wire.Client) func(*testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			if err := c.Cycle(ctx, newName(), newID()); err != nil {
				b.Fatal(err)
			}
		}
	}
}
