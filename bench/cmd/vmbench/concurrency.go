package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/volmount/volmount/bench/stats"
)

// concurrency measures the throughput of 64 workers each running cycles
// on volumes of their own against one worker running them one after
// another, for volmount and, for context, for the floor.
func (h *harness) concurrency() error {
	const workers = 64
	vm, err := h.startVolmount(h.root, "concurrency")
	if err != nil {
		return err
	}
	defer vm.stop()
	fl, err := h.startFloor("concurrency-floor")
	if err != nil {
		return err
	}
	defer fl.stop()

	serial, perWorker := h.scaled(128), h.scaled(4)
	for _, pl := range []*plugin{vm, fl} {
		par, one, err := h.speedup(pl, workers, perWorker, serial)
		if err != nil {
			return err
		}
		rs := stats.Ratios(par, one)
		r := stats.Median(rs)
		row := Row{Measure: fmt.Sprintf("concurrency: %d workers × %d cycles vs 1 worker × %d",
			workers, perWorker, serial), Volmount: perSecond(stats.Median(par)),
			Reference: "1 worker " + perSecond(stats.Median(one)), Ratio: spread(rs),
			Goal: fmt.Sprintf("≥ %.1f×", goalSpeedup), Met: met(r >= goalSpeedup)}
		if pl == fl {
			row.Measure = "  the floor, same measure (what the protocol allows on this machine)"
			row.Volmount, row.Reference = "floor "+row.Volmount, "floor "+row.Reference
			row.Goal, row.Met = noGoal, noGoal
		}
		h.add(row)
	}
	return nil
}

func perSecond(x float64) string { return fmt.Sprintf("%.0f cycles/s", x) }

// speedup runs the paired measure: throughput with workers in parallel,
// and with one worker.
func (h *harness) speedup(pl *plugin, workers, perWorker, serial int) (
	par, one []float64, err error,
) {
	if _, err := h.throughput(pl, workers, 1); err != nil { // warm-up
		return nil, nil, err
	}
	return paired(h.cfg.pairs,
		func() (float64, error) { return h.throughput(pl, workers, perWorker) },
		func() (float64, error) { return h.throughput(pl, 1, serial) })
}

// throughput runs workers goroutines that each run k cycles on volumes of
// their own, and returns cycles per second.
func (h *harness) throughput(pl *plugin, workers, k int) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for range k {
				if err := pl.c.Cycle(h.ctx, h.name("p"), h.mountID()); err != nil {
					errs <- fmt.Errorf("%s: %w", pl.name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(workers*k) / elapsed.Seconds(), nil
}
