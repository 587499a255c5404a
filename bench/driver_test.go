package bench_test

import (
	"testing"

	"github.com/docker/docker/pkg/idtools"
	"github.com/docker/docker/volume/local"
	api "github.com/docker/go-plugins-helpers/volume"

	"github.com/volmount/volmount/bench/scratch"
	"github.com/volmount/volmount/driver"
	"github.com/volmount/volmount/mounter"
)

// BenchmarkDriverCycle calls the Create → Mount → Unmount → Remove cycle
// of a directory volume in process: volmount's driver/ with the system
// mounter against Docker's own local driver (moby v26.1.5 volume/local),
// their roots side by side on the same filesystem; first on the disk,
// then on a tmpfs, where fsync costs nothing. One op is one cycle.
func BenchmarkDriverCycle(b *testing.B) {
	skipUnlessRoot(b)
	for _, kind := range []scratch.Kind{scratch.Disk, scratch.Tmpfs} {
		b.Run(string(kind), func(b *testing.B) {
			root := newRoot(b, kind)
			vm, err := driver.New(driver.Config{Root: root.Path("volmount"),
				Mounter: mounter.System{}})
			if err != nil {
				b.Fatal(err)
			}
			lr, err := local.New(root.Path("local"), idtools.Identity{UID: 0, GID: 0})
			if err != nil {
				b.Fatal(err)
			}
			pairwise(b, "local", func(b *testing.B) {
				for b.Loop() {
					volmountCycle(b, vm, newName(), newID())
				}
			}, func(b *testing.B) {
				for b.Loop() {
					localCycle(b, lr, newName(), newID())
				}
			})
		})
	}
}

// BenchmarkDriverCycleParallel runs volmount's in-process cycle from
// GOMAXPROCS×64 goroutines (b.SetParallelism), each on volumes of its own:
// a profile of it shows what concurrent cycles wait for. It is not part of
// `make bench`'s table.
func BenchmarkDriverCycleParallel(b *testing.B) {
	skipUnlessRoot(b)
	root := newRoot(b, scratch.Disk)
	vm, err := driver.New(driver.Config{Root: root.Path("volmount"), Mounter: mounter.System{}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			volmountCycle(b, vm, newName(), newID())
		}
	})
}

func volmountCycle(b *testing.B, d *driver.Driver, name, id string) {
	if err := d.Create(&api.CreateRequest{Name: name}); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Mount(&api.MountRequest{Name: name, ID: id}); err != nil {
		b.Fatal(err)
	}
	if err := d.Unmount(&api.UnmountRequest{Name: name, ID: id}); err != nil {
		b.Fatal(err)
	}
	if err := d.Remove(&api.RemoveRequest{Name: name}); err != nil {
		b.Fatal(err)
	}
}

func localCycle(b *testing.B, r *local.Root, name, id string) {
	v, err := r.Create(name, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Mount(id); err != nil {
		b.Fatal(err)
	}
	if err := v.Unmount(id); err != nil {
		b.Fatal(err)
	}
	if err := r.Remove(v); err != nil {
		b.Fatal(err)
	}
}
