package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/volmount/volmount/bench/scratch"
	"github.com/volmount/volmount/bench/stats"
)

// Goals of the issue (issue 3), in one place.
const (
	goalCycle        = 1.25 // cycle time against the floor's
	goalGetRatio     = 1.10 // Get p50 against the floor's, 10,000 volumes
	goalList         = 10 * time.Millisecond
	goalStartUp      = 500 * time.Millisecond
	goalRSS          = 40 << 20
	goalSpeedup      = 1.7 // 64 concurrent cycles against one worker
	goalStuckP99     = 2.0 // healthy p99 with a stuck Mount against without
	linearSlack      = 1.2 // growth may exceed linear by this much (noise)
	statePerCycleTxt = "1 new record, 2 updates, 1 deletion"
)

// cycle measures the Create → Mount → Unmount → Remove cycle of a
// directory volume through the socket against the floor; then how much of
// it the fsynced state writes take, and the same cycle with volmount's
// root on a tmpfs, where fsync costs nothing.
func (h *harness) cycle() error {
	vm, err := h.startVolmount(h.root, "volmount")
	if err != nil {
		return err
	}
	defer vm.stop()
	fl, err := h.startFloor("floor")
	if err != nil {
		return err
	}
	defer fl.stop()

	k := h.scaled(100)
	a, b, err := h.pairedCycles(vm, fl, h.cfg.pairs, k)
	if err != nil {
		return err
	}
	rs := stats.Ratios(a, b)
	ratio := stats.Median(rs)
	h.add(Row{Measure: fmt.Sprintf(
		"round trip: cycle, directory volume, root on disk (vmbench, %d×%d)", len(a), k),
		Volmount: dur(stats.Median(a)), Reference: "floor " + dur(stats.Median(b)),
		Ratio: spread(rs), Goal: fmt.Sprintf("≤ %.2f×", goalCycle),
		Met: met(ratio <= goalCycle)})

	created, updated, unlink, err := stateWriteCost(h.root.Path("fsync-probe"), h.scaled(200))
	if err != nil {
		return err
	}
	state := created + 2*updated + unlink
	h.add(Row{Measure: "  of which fsynced state writes (" + statePerCycleTxt + ")",
		Volmount: dur(state), Reference: "cycle " + dur(stats.Median(a)),
		Ratio: fmt.Sprintf("%.0f%%", 100*state/stats.Median(a)), Goal: noGoal, Met: noGoal})
	h.add(Row{Measure: "  a new record (temp, fsync, rename, fsync dir); an update (no dir fsync)",
		Volmount: dur(created) + "; " + dur(updated), Reference: "unlink+dir fsync " + dur(unlink),
		Ratio: noGoal, Goal: noGoal, Met: noGoal})
	return h.tmpfsCycle(fl, k)
}

// tmpfsCycle repeats the cycle with volmount's root on a tmpfs: what
// volmount costs without the disk.
func (h *harness) tmpfsCycle(fl *plugin, k int) (err error) {
	root, err := scratch.New(h.cfg.scratch, scratch.Tmpfs)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, root.Close()) }()
	vm, err := h.startVolmount(root, "volmount")
	if err != nil {
		return err
	}
	defer vm.stop()
	n := max(h.cfg.pairs/2, 3)
	a, b, err := h.pairedCycles(vm, fl, n, k)
	if err != nil {
		return err
	}
	h.add(Row{Measure: fmt.Sprintf("  same cycle, root on tmpfs: no fsync cost (%d×%d)", n, k),
		Volmount: dur(stats.Median(a)), Reference: "floor " + dur(stats.Median(b)),
		Ratio: spread(stats.Ratios(a, b)), Goal: noGoal, Met: noGoal})
	return nil
}

// pairedCycles warms both plugins up, then runs n pairs of k cycles.
func (h *harness) pairedCycles(vm, fl *plugin, n, k int) ([]float64, []float64, error) {
	for _, pl := range []*plugin{vm, fl} {
		if _, err := h.cycleBatch(pl, 10); err != nil {
			return nil, nil, err
		}
	}
	return paired(n,
		func() (float64, error) { return h.cycleBatch(vm, k) },
		func() (float64, error) { return h.cycleBatch(fl, k) })
}

// cycleBatch runs k cycles, one after another, each on a new volume, and
// returns the median cycle time in seconds.
func (h *harness) cycleBatch(pl *plugin, k int) (float64, error) {
	ds := make([]float64, 0, k)
	for range k {
		name, id := h.name("c"), h.mountID()
		start := time.Now()
		if err := pl.c.Cycle(h.ctx, name, id); err != nil {
			return 0, fmt.Errorf("%s: %w", pl.name, err)
		}
		ds = append(ds, time.Since(start).Seconds())
	}
	return stats.Median(ds), nil
}

// stateWriteCost measures, in dir, the median times of the state writes
// volmount makes in a cycle (driver/state.go): a new record at Create
// (temp file, write, fsync, close, rename, fsync of the directory), an
// update at Mount and Unmount (the same without the directory's fsync),
// and a record's deletion at Remove (unlink, fsync of the directory).
func stateWriteCost(dir string, n int) (created, updated, unlink float64, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	record := []byte(`{"name":"c-123456","created_at":"2026-01-02T03:04:05.123456789Z",` +
		`"mount_ids":["0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]}`)
	var cs, ws, us []float64
	for i := range n {
		path := filepath.Join(dir, fmt.Sprintf("v%d", i))
		start := time.Now()
		if err := writeAtomic(path, record, true); err != nil {
			return 0, 0, 0, err
		}
		cs = append(cs, time.Since(start).Seconds())
		start = time.Now()
		if err := writeAtomic(path, record, false); err != nil {
			return 0, 0, 0, err
		}
		ws = append(ws, time.Since(start).Seconds())
		start = time.Now()
		if err := os.Remove(path); err != nil {
			return 0, 0, 0, err
		}
		if err := syncDir(dir); err != nil {
			return 0, 0, 0, err
		}
		us = append(us, time.Since(start).Seconds())
	}
	return stats.Median(cs), stats.Median(ws), stats.Median(us), nil
}

func writeAtomic(path string, data []byte, syncParent bool) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil || !syncParent {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
