package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/volmount/volmount/bench/stats"
	"github.com/volmount/volmount/bench/wire"
)

// driveCmd loads a plugin that is already running, for as long as asked,
// so that it can be profiled from outside (perf record -p PID) under one
// kind of call. Volumes it creates are named drive-N; it removes them at
// the end unless -keep is given.
func driveCmd(args []string) error {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	socket := fs.String("socket", "", "the plugin's unix socket")
	op := fs.String("op", "get", "call to repeat: get, list or cycle")
	volumes := fs.Int("volumes", 1000, "directory volumes to create first (get, list)")
	duration := fs.Duration("duration", 10*time.Second, "how long to repeat the call")
	workers := fs.Int("workers", 1, "calls in flight at once")
	keep := fs.Bool("keep", false, "keep the volumes created")
	fs.Parse(args)
	if *socket == "" {
		return errors.New("drive: -socket is required")
	}
	c := wire.NewClient(*socket)
	defer c.Close()
	ctx := context.Background()
	name := func(i int) string { return fmt.Sprintf("drive-%d", i) }
	if *op != "cycle" {
		for i := range *volumes {
			if err := c.Create(ctx, name(i), nil); err != nil {
				return err
			}
		}
		if !*keep {
			defer func() {
				for i := range *volumes {
					c.Remove(ctx, name(i))
				}
			}()
		}
	}
	var seq int64
	var mu sync.Mutex
	call := map[string]func(*rand.Rand) error{
		"get": func(r *rand.Rand) error {
			_, err := c.Get(ctx, name(r.IntN(*volumes)))
			return err
		},
		"list": func(*rand.Rand) error { _, err := c.List(ctx); return err },
		"cycle": func(*rand.Rand) error {
			mu.Lock()
			seq++
			n := seq
			mu.Unlock()
			return c.Cycle(ctx, fmt.Sprintf("drive-cycle-%d", n), fmt.Sprintf("%064x", n))
		},
	}[*op]
	if call == nil {
		return fmt.Errorf("drive: unknown -op %q", *op)
	}
	var all []float64
	var firstErr error
	var wg sync.WaitGroup
	end := time.Now().Add(*duration)
	for w := range *workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			var ds []float64
			var err error
			for time.Now().Before(end) && err == nil {
				start := time.Now()
				err = call(r)
				ds = append(ds, time.Since(start).Seconds())
			}
			mu.Lock()
			all = append(all, ds...)
			firstErr = errors.Join(firstErr, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Printf("%s: %d calls, p50 %s, p99 %s\n", *op, len(all),
		dur(stats.Median(all)), dur(stats.Percentile(all, 99)))
	return firstErr
}
