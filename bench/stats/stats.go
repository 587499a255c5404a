// Package stats reduces benchmark samples: medians, percentiles and the
// median of paired ratios the suite reports.
package stats

import (
	"math"
	"slices"
	"time"
)

// Median returns the median of xs; NaN for none.
func Median(xs []float64) float64 {
	return Percentile(xs, 50)
}

// Percentile returns the p-th percentile of xs (0 < p <= 100) by the
// nearest-rank method, which always returns a sample; NaN for none.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// Ratios returns a[i]/b[i] for each pair. Their median is what the suite
// reports: a run that was slow for both sides of a pair (another process
// took the CPU) cancels out.
func Ratios(a, b []float64) []float64 {
	r := make([]float64, 0, min(len(a), len(b)))
	for i := range r[:cap(r)] {
		r = append(r, a[i]/b[i])
	}
	return r
}

// Seconds converts durations to seconds.
func Seconds(ds []time.Duration) []float64 {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = d.Seconds()
	}
	return xs
}
