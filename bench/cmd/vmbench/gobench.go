package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/volmount/volmount/bench/stats"
)

// gobenchSpec says how to report one paired Go benchmark: sub-benchmarks
// named <Name>/pair=NN/volmount and <Name>/pair=NN/<ref>.
type gobenchSpec struct {
	name    string
	measure string
	ref     string
	goal    float64 // the ratio must not exceed it; 0 for none
}

var gobenchSpecs = []gobenchSpec{
	{"RoundTrip/disk", "round trip: cycle, directory volume, root on disk (go test -bench)",
		"floor", goalCycle},
	{"DriverCycle/disk", "in-process cycle: driver/ vs Docker's volume/local, roots on disk",
		"local", goalInProcess},
	{"DriverCycle/tmpfs", "  same, both roots on tmpfs (no fsync cost)", "local", 0},
}

// goalInProcess is the in-process goal: faster than Docker's own driver.
const goalInProcess = 0.8

// benchLine matches a result line of go test -bench:
// BenchmarkX/sub-2   100   12345 ns/op ...
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// gobenchCmd reads go test -bench output on stdin and appends a row for
// every paired benchmark of gobenchSpecs found in it.
func gobenchCmd(args []string) error {
	fs := flag.NewFlagSet("gobench", flag.ExitOnError)
	out := fs.String("out", "", "file the result rows are appended to")
	fs.Parse(args)
	if *out == "" {
		return errors.New("gobench: -out is required")
	}
	results, err := parseBench(os.Stdin)
	if err != nil {
		return err
	}
	var rows []Row
	for _, spec := range gobenchSpecs {
		vm, ref := pairs(results, spec.name, spec.ref)
		if len(vm) == 0 {
			continue
		}
		rs := stats.Ratios(vm, ref)
		r := stats.Median(rs)
		row := Row{Measure: fmt.Sprintf("%s, %d pairs", spec.measure, len(vm)),
			Volmount: dur(stats.Median(vm)), Reference: spec.ref + " " + dur(stats.Median(ref)),
			Ratio: spread(rs), Goal: noGoal, Met: noGoal}
		if spec.goal > 0 {
			row.Goal, row.Met = fmt.Sprintf("≤ %.2f×", spec.goal), met(r <= spec.goal)
		}
		fmt.Printf("  %s: volmount %s, %s, ratio %s\n", row.Measure, row.Volmount,
			row.Reference, row.Ratio)
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return errors.New("gobench: no paired benchmark results in the input")
	}
	return writeRows(*out, rows)
}

// parseBench returns seconds per op by benchmark name (without the
// GOMAXPROCS suffix).
func parseBench(r io.Reader) (map[string]float64, error) {
	results := make(map[string]float64)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, err
		}
		results[m[1]] = ns / 1e9
	}
	return results, sc.Err()
}

// pairs returns volmount's and the reference's figures of benchmark name,
// in pair order, for the pairs that have both.
func pairs(results map[string]float64, name, ref string) (vm, other []float64) {
	var keys []string
	prefix := name + "/pair="
	for k := range results {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, "/volmount") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		r, ok := results[strings.TrimSuffix(k, "volmount")+ref]
		if !ok {
			continue
		}
		vm, other = append(vm, results[k]), append(other, r)
	}
	return vm, other
}
