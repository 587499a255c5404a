package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/volmount/volmount/bench/stats"
	"github.com/volmount/volmount/bench/wire"
)

// scalePoint is what scale measures at one number of volumes; each pair is
// volmount's figure and the floor's.
type scalePoint struct {
	n        int
	list     [2]float64 // median List time, s
	listR    []float64  // per-pair ratios
	decode   float64    // median time to decode volmount's List answer, s
	get      [2]float64 // Get p50, s
	getR     []float64  // per-pair ratios
	startUp  [2]float64 // median start-up, s; the floor's has no state
	rss      [2]float64 // VmRSS, bytes
	rssRatio float64
}

// scale grows volmount and the floor to 100, 1,000 and 10,000 directory
// volumes and measures at each size: List, Get p50, start-up with that
// state, and resident memory; then how each grew.
func (h *harness) scale() error {
	vm, err := h.startVolmount(h.root, "scale")
	if err != nil {
		return err
	}
	defer func() { vm.stop() }()
	fl, err := h.startFloor("scale-floor")
	if err != nil {
		return err
	}
	defer fl.stop()

	var points []scalePoint
	have := 0
	for _, n := range []int{100, 1000, 10000} {
		n = h.scaled(n)
		start := time.Now()
		for _, pl := range []*plugin{vm, fl} {
			if err := h.grow(pl, have, n); err != nil {
				return err
			}
		}
		have = n
		fmt.Printf("  %d volumes created in each plugin (%v)\n", n,
			time.Since(start).Round(time.Millisecond))
		p, err := h.scaleAt(vm, fl, n)
		if err != nil {
			return err
		}
		h.addScaleRows(p, n == h.scaled(10000))
		points = append(points, p)
	}
	h.addGrowthRows(points)
	return nil
}

func scaleName(i int) string { return fmt.Sprintf("s%05d", i) }

// grow creates the volumes numbered from to to-1, 16 at a time.
func (h *harness) grow(pl *plugin, from, to int) error {
	const workers = 16
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := pl.c.Create(h.ctx, scaleName(i), nil); err != nil {
					errs <- fmt.Errorf("%s: %w", pl.name, err)
					return
				}
			}
		})
	}
	var err error
feed:
	for i := from; i < to; i++ {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err = <-errs:
	default:
	}
	return err
}

func (h *harness) scaleAt(vm, fl *plugin, n int) (scalePoint, error) {
	p := scalePoint{n: n}
	var err error
	if p.startUp, err = h.startUps(vm); err != nil {
		return p, err
	}
	lists := h.scaled(15)
	a, b, err := paired(h.cfg.pairs,
		func() (float64, error) { return h.listBatch(vm, n, lists) },
		func() (float64, error) { return h.listBatch(fl, n, lists) })
	if err != nil {
		return p, err
	}
	p.list, p.listR = [2]float64{stats.Median(a), stats.Median(b)}, stats.Ratios(a, b)
	if p.decode, err = h.listDecode(vm, lists); err != nil {
		return p, err
	}

	gets := h.scaled(1000)
	a, b, err = paired(h.cfg.pairs,
		func() (float64, error) { return h.getBatch(vm, n, gets) },
		func() (float64, error) { return h.getBatch(fl, n, gets) })
	if err != nil {
		return p, err
	}
	p.get, p.getR = [2]float64{stats.Median(a), stats.Median(b)}, stats.Ratios(a, b)

	for i, pl := range []*plugin{vm, fl} {
		rss, err := pl.proc.RSS()
		if err != nil {
			return p, err
		}
		p.rss[i] = float64(rss)
	}
	p.rssRatio = p.rss[0] / p.rss[1]
	return p, nil
}

// startUps restarts volmount on its state a few times and returns the
// median time until its socket answered, with the median of as many
// starts of a fresh floor (which has no state to load).
func (h *harness) startUps(vm *plugin) ([2]float64, error) {
	var a, b []float64
	for range h.scaled(5) {
		if err := vm.restart(); err != nil {
			return [2]float64{}, err
		}
		a = append(a, vm.proc.StartUp.Seconds())
		fl, err := h.startFloor("start-probe")
		if err != nil {
			return [2]float64{}, err
		}
		b = append(b, fl.proc.StartUp.Seconds())
		fl.stop()
	}
	return [2]float64{stats.Median(a), stats.Median(b)}, nil
}

// listBatch sends k List calls and returns their median time.
func (h *harness) listBatch(pl *plugin, n, k int) (float64, error) {
	ds := make([]float64, 0, k)
	for range k {
		start := time.Now()
		got, err := pl.c.List(h.ctx)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", pl.name, err)
		}
		ds = append(ds, time.Since(start).Seconds())
		if got != n {
			return 0, fmt.Errorf("%s: List returned %d volumes, want %d", pl.name, got, n)
		}
	}
	return stats.Median(ds), nil
}

// listDecode fetches one List answer and returns the median time of
// decoding it k times the way the daemon does: the part of a List that
// the daemon, not the plugin, spends.
func (h *harness) listDecode(pl *plugin, k int) (float64, error) {
	body, err := pl.c.Raw(h.ctx, "List", struct{}{})
	if err != nil {
		return 0, err
	}
	ds := make([]float64, 0, k)
	for range k {
		start := time.Now()
		if _, err := wire.DecodeList(body); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start).Seconds())
	}
	return stats.Median(ds), nil
}

// getBatch sends k Get calls for volumes picked at random (the same
// sequence for both plugins) and returns their median time.
func (h *harness) getBatch(pl *plugin, n, k int) (float64, error) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	ds := make([]float64, 0, k)
	for range k {
		name := scaleName(rng.IntN(n))
		start := time.Now()
		if _, err := pl.c.Get(h.ctx, name); err != nil {
			return 0, fmt.Errorf("%s: %w", pl.name, err)
		}
		ds = append(ds, time.Since(start).Seconds())
	}
	return stats.Median(ds), nil
}

func (h *harness) addScaleRows(p scalePoint, withGoals bool) {
	goal := func(text string, ok bool) (string, string) {
		if !withGoals {
			return noGoal, noGoal
		}
		return text, met(ok)
	}
	g, m := goal("≤ "+dur(goalList.Seconds()), p.list[0] <= goalList.Seconds())
	h.add(Row{Measure: fmt.Sprintf("scale %d: List", p.n), Volmount: dur(p.list[0]),
		Reference: "floor " + dur(p.list[1]), Ratio: spread(p.listR), Goal: g, Met: m})
	if withGoals {
		h.add(Row{Measure: fmt.Sprintf(
			"  of which the daemon's side: decoding the answer (%d volumes)", p.n),
			Volmount: dur(p.decode), Reference: "List " + dur(p.list[0]),
			Ratio: fmt.Sprintf("%.0f%%", 100*p.decode/p.list[0]), Goal: noGoal, Met: noGoal})
	}
	g, m = goal(fmt.Sprintf("≤ %.2f×", goalGetRatio), stats.Median(p.getR) <= goalGetRatio)
	h.add(Row{Measure: fmt.Sprintf("scale %d: Get p50", p.n), Volmount: dur(p.get[0]),
		Reference: "floor " + dur(p.get[1]), Ratio: spread(p.getR), Goal: g, Met: m})
	g, m = goal("≤ "+dur(goalStartUp.Seconds()), p.startUp[0] <= goalStartUp.Seconds())
	h.add(Row{Measure: fmt.Sprintf("scale %d: start-up until the socket answers", p.n),
		Volmount: dur(p.startUp[0]), Reference: "empty floor " + dur(p.startUp[1]),
		Ratio: times(p.startUp[0] / p.startUp[1]), Goal: g, Met: m})
	g, m = goal("≤ "+mib(goalRSS), p.rss[0] <= goalRSS)
	h.add(Row{Measure: fmt.Sprintf("scale %d: resident memory (VmRSS)", p.n),
		Volmount: mib(p.rss[0]), Reference: "floor " + mib(p.rss[1]),
		Ratio: times(p.rssRatio), Goal: g, Met: m})
}

// addGrowthRows says, for each measure, by how much volmount's figure grew
// at each tenfold step in volumes: linear growth is ×10.
func (h *harness) addGrowthRows(points []scalePoint) {
	if len(points) < 2 {
		return
	}
	measures := []struct {
		name string
		of   func(scalePoint) float64
	}{
		{"List", func(p scalePoint) float64 { return p.list[0] }},
		{"Get p50", func(p scalePoint) float64 { return p.get[0] }},
		{"start-up", func(p scalePoint) float64 { return p.startUp[0] }},
		{"VmRSS", func(p scalePoint) float64 { return p.rss[0] }},
	}
	for _, m := range measures {
		var steps, linear string
		worst := 0.0
		for i := 1; i < len(points); i++ {
			f := m.of(points[i]) / m.of(points[i-1])
			lin := float64(points[i].n) / float64(points[i-1].n)
			worst = max(worst, f/lin)
			if i > 1 {
				steps, linear = steps+", ", linear+", "
			}
			steps += fmt.Sprintf("×%.3g", f)
			linear += fmt.Sprintf("×%.3g", lin)
		}
		h.add(Row{Measure: fmt.Sprintf("growth %d→…→%d volumes: %s", points[0].n,
			points[len(points)-1].n, m.name), Volmount: steps, Reference: "linear " + linear,
			Ratio: times(worst), Goal: fmt.Sprintf("≤ %.1f× linear", linearSlack),
			Met: met(worst <= linearSlack)})
	}
}
