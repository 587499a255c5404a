package driver

import (
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/mounter"
)

// isBind reports whether the options bind-mount a directory of the
// plugin's own filesystem (type=none,o=bind and the like).
func (o options) isBind() bool {
	flags, _ := mounter.ParseOptions(o.o)
	return flags&unix.MS_BIND != 0
}

// private lists what a bind volume must never expose: volmount's state,
// which holds every volume's options, and the credentials directory.
func (d *Driver) private() []string {
	paths := []string{filepath.Join(d.root, ".volmount")}
	if d.credentialsDir != "" {
		paths = append(paths, filepath.Clean(d.credentialsDir))
	}
	return paths
}

// checkBindSource refuses a bind source that is, holds or lies inside one
// of the private paths. At Create it sees the path as written; at Mount the
// path with its symlinks resolved, which is then what gets mounted.
func (d *Driver) checkBindSource(source string) error {
	source = filepath.Clean(source)
	for _, p := range d.private() {
		if within(source, p) || within(p, source) {
			return errorf(ErrInvalid, "%s would expose volmount's own state "+
				"or credentials (%s)", source, p)
		}
	}
	return nil
}

// checkDataPaths applies checkBindSource to every absolute path in the
// filesystem data: overlay's lowerdir=, upperdir= and workdir= (lists
// separated by colons), and the like of other filesystems, which would
// expose the private paths just as a bind would. With resolve, symlinks
// are followed first, as mount(2) follows them.
func (d *Driver) checkDataPaths(data string, resolve bool) error {
	for _, word := range mounter.SplitOptions(data) {
		_, value, ok := strings.Cut(word, "=")
		if !ok {
			continue
		}
		for _, path := range strings.Split(value, ":") {
			if !filepath.IsAbs(path) {
				continue
			}
			if resolve {
				if real, err := filepath.EvalSymlinks(path); err == nil {
					path = real
				}
			}
			if err := d.checkBindSource(path); err != nil {
				return err
			}
		}
	}
	return nil
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/") || dir == "/"
}
