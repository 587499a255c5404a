package stats

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{name: "median of odd count", xs: []float64{3, 1, 2}, p: 50, want: 2},
		{name: "median of even count", xs: []float64{4, 1, 3, 2}, p: 50, want: 2.5},
		{name: "p99 of 100 samples", xs: seq(100), p: 99, want: 99},
		{name: "p99 of 1000 samples", xs: seq(1000), p: 99, want: 990},
		{name: "p100 is the maximum", xs: seq(10), p: 100, want: 10},
		{name: "tiny p is the minimum", xs: seq(10), p: 0.1, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.xs, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
		})
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestRatios(t *testing.T) {
	a := []float64{2, 30, 4}
	b := []float64{1, 10, 4}
	got := Ratios(a, b)
	if len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 1 {
		t.Errorf("Ratios(%v, %v) = %v, want [2 3 1]", a, b, got)
	}
	if m := Median(got); m != 2 {
		t.Errorf("Median(%v) = %v, want 2", got, m)
	}
}

func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[n-1-i] = float64(i + 1)
	}
	return xs
}
