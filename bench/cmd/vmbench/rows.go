package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/volmount/volmount/bench/stats"
)

// Row is one line of the results table. Every field is text already
// formatted, so that rows from the shell script, the Go benchmarks and the
// load program share one file format: tab-separated, one row a line.
type Row struct {
	Measure   string
	Volmount  string
	Reference string
	Ratio     string
	Goal      string
	Met       string
}

var header = Row{"measure", "volmount", "reference", "ratio", "goal", "met"}

// noGoal marks a row given for context: no goal applies to it.
const noGoal = "-"

func (r Row) fields() []string {
	return []string{r.Measure, r.Volmount, r.Reference, r.Ratio, r.Goal, r.Met}
}

func writeRows(path string, rows []Row) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	for _, r := range rows {
		fmt.Fprintln(f, strings.Join(r.fields(), "\t"))
	}
	return f.Close()
}

func readRows(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 6 {
			return nil, fmt.Errorf("%s: row with %d fields, want 6: %q", path, len(fs), sc.Text())
		}
		rows = append(rows, Row{fs[0], fs[1], fs[2], fs[3], fs[4], fs[5]})
	}
	return rows, sc.Err()
}

// printTable prints rows as an aligned table under a header.
func printTable(w io.Writer, rows []Row) {
	all := append([]Row{header}, rows...)
	width := make([]int, 6)
	for _, r := range all {
		for i, f := range r.fields() {
			width[i] = max(width[i], len([]rune(f)))
		}
	}
	line := func(fs []string) {
		var b strings.Builder
		for i, f := range fs {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(f + strings.Repeat(" ", width[i]-len([]rune(f))))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header.fields())
	rule := make([]string, 6)
	for i := range rule {
		rule[i] = strings.Repeat("-", width[i])
	}
	line(rule)
	for _, r := range rows {
		line(r.fields())
	}
}

// met says whether a goal is met.
func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// dur formats seconds as a duration with three significant digits.
func dur(seconds float64) string {
	if math.IsNaN(seconds) {
		return "n/a"
	}
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3g s", seconds)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3g ms", seconds*1e3)
	default:
		return fmt.Sprintf("%.3g µs", seconds*1e6)
	}
}

// spread formats the median of paired ratios with their range, so that a
// reader sees how much the pairs agreed: "8.14× (7.20–9.31)".
func spread(ratios []float64) string {
	if len(ratios) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s (%.3g–%.3g)", times(stats.Median(ratios)), slices.Min(ratios),
		slices.Max(ratios))
}

// times formats a ratio.
func times(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.3g×", r)
}

func mib(bytes float64) string {
	return fmt.Sprintf("%.1f MiB", bytes/(1<<20))
}
