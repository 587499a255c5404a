package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/volmount/volmount/bench/stall"
	"github.com/volmount/volmount/bench/stats"
)

// healthyWorkers is how many calls run at once on healthy volumes; the
// daemon was seen with up to 4 in flight (shared/PROTOCOL.md §1).
const healthyWorkers = 4

// stuck measures the p99 latency of calls on healthy volumes while another
// volume's Mount is blocked in the kernel, against the p99 of the same
// calls with nothing blocked, in alternating phases.
func (h *harness) stuck() (err error) {
	dir := h.root.Path("stall")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	backend, err := stall.New(dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, backend.Close()) }()
	vm, err := h.startVolmount(h.root, "stuck")
	if err != nil {
		return err
	}
	defer vm.stop()
	defer backend.Thaw() // before the plugin stops: a blocked mount(2) cannot be killed

	const stuckName = "stuck"
	opts := map[string]string{"type": "ext4", "device": backend.Device}
	if err := vm.c.Create(h.ctx, stuckName, opts); err != nil {
		return err
	}
	ops := h.scaled(1200)
	if _, err := h.healthy(vm, ops/4); err != nil { // warm-up
		return err
	}
	var free, blocked, free50, blocked50 []float64
	for i := range h.cfg.pairs {
		for phase := range 2 {
			if (phase+i)%2 == 0 {
				ds, err := h.healthy(vm, ops)
				if err != nil {
					return err
				}
				free = append(free, stats.Percentile(ds, 99))
				free50 = append(free50, stats.Median(ds))
				continue
			}
			ds, err := h.healthyWhileStuck(vm, backend, stuckName, ops)
			if err != nil {
				return err
			}
			blocked = append(blocked, stats.Percentile(ds, 99))
			blocked50 = append(blocked50, stats.Median(ds))
		}
	}
	rs := stats.Ratios(blocked, free)
	r := stats.Median(rs)
	h.add(Row{Measure: fmt.Sprintf("stuck Mount: p99 of %d calls on healthy volumes (%d at once)",
		ops, healthyWorkers), Volmount: "stuck " + dur(stats.Median(blocked)),
		Reference: "free " + dur(stats.Median(free)), Ratio: spread(rs),
		Goal: fmt.Sprintf("≤ %.1f×", goalStuckP99), Met: met(r <= goalStuckP99)})
	h.add(Row{Measure: "  same calls, p50", Volmount: "stuck " + dur(stats.Median(blocked50)),
		Reference: "free " + dur(stats.Median(free50)),
		Ratio:     spread(stats.Ratios(blocked50, free50)), Goal: noGoal, Met: noGoal})
	return nil
}

// healthyWhileStuck freezes the backend, sends a Mount of the stuck volume
// and, once a thread of the plugin sleeps in the kernel for it, runs the
// healthy calls; then it thaws the backend, waits for the Mount's answer
// and unmounts it again.
func (h *harness) healthyWhileStuck(vm *plugin, b *stall.Backend, name string, ops int) (
	[]float64, error,
) {
	if err := b.Freeze(); err != nil {
		return nil, err
	}
	defer b.Thaw()
	id := h.mountID()
	mounted := make(chan error, 1)
	go func() {
		_, err := vm.c.Mount(h.ctx, name, id)
		mounted <- err
	}()
	if err := waitBlocked(vm, mounted); err != nil {
		return nil, err
	}
	ds, err := h.healthy(vm, ops)
	if err != nil {
		return nil, err
	}
	if waits, _ := vm.proc.Blocked(); len(waits) == 0 {
		return nil, errors.New("the stuck Mount stopped blocking before the healthy calls ended")
	}
	if err := b.Thaw(); err != nil {
		return nil, err
	}
	if err := <-mounted; err != nil {
		return nil, fmt.Errorf("the stuck Mount, once thawed: %w", err)
	}
	return ds, vm.c.Unmount(h.ctx, name, id)
}

// waitBlocked waits until a thread of the plugin sleeps uninterruptibly
// while the Mount has not answered.
func waitBlocked(vm *plugin, mounted <-chan error) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-mounted:
			return fmt.Errorf("the Mount of the frozen backend answered (%v) "+
				"instead of blocking", err)
		default:
		}
		if waits, err := vm.proc.Blocked(); err != nil || len(waits) > 0 {
			if err == nil {
				fmt.Printf("  Mount blocked in the kernel (in %v)\n", waits)
			}
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("no thread of the plugin blocked within 5 s of the Mount")
}

// healthy runs about ops calls on healthy directory volumes,
// healthyWorkers at a time, each worker on volumes of its own: Create,
// Get, Mount, Get, Unmount, Remove. It returns every call's latency.
func (h *harness) healthy(vm *plugin, ops int) ([]float64, error) {
	const callsPerRound = 6
	rounds := max(ops/(healthyWorkers*callsPerRound), 1)
	var mu sync.Mutex
	var all []float64
	errs := make(chan error, healthyWorkers)
	var wg sync.WaitGroup
	for range healthyWorkers {
		wg.Go(func() {
			ds, err := h.healthyRounds(vm, rounds)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			all = append(all, ds...)
			mu.Unlock()
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return all, nil
}

func (h *harness) healthyRounds(vm *plugin, rounds int) ([]float64, error) {
	var ds []float64
	timed := func(call func() error) error {
		start := time.Now()
		err := call()
		ds = append(ds, time.Since(start).Seconds())
		return err
	}
	for range rounds {
		name, id := h.name("h"), h.mountID()
		calls := []func() error{
			func() error { return vm.c.Create(h.ctx, name, nil) },
			func() error { _, err := vm.c.Get(h.ctx, name); return err },
			func() error { _, err := vm.c.Mount(h.ctx, name, id); return err },
			func() error { _, err := vm.c.Get(h.ctx, name); return err },
			func() error { return vm.c.Unmount(h.ctx, name, id) },
			func() error { return vm.c.Remove(h.ctx, name) },
		}
		for _, call := range calls {
			if err := timed(call); err != nil {
				return nil, err
			}
		}
	}
	return ds, nil
}
