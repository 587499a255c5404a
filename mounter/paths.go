package mounter

import (
	"path/filepath"
	"sort"
	"strings"
)

// under reports whether path is one of dirs or lies below one of them.
func under(path string, dirs []string) bool {
	for _, dir := range dirs {
		dir = filepath.Clean(dir)
		if path == dir || strings.HasPrefix(path, dir+"/") || dir == "/" {
			return true
		}
	}
	return false
}

// deepestFirst orders mountpoints so that each comes before any mount it
// lies in.
func deepestFirst(points []string) {
	sort.Slice(points, func(i, j int) bool {
		return len(points[i]) > len(points[j])
	})
}
