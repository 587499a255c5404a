package wire

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// contentType is what plugins built on go-plugins-helpers answer with.
const contentType = "application/vnd.docker.plugins.v1.1+json"

// Floor is the protocol floor: a volume plugin that answers every call of
// the Volume Plugin API correctly and does nothing else. It keeps the names
// of its volumes in memory, so that Get fails for unknown names and List
// returns what was created, but it makes no directory, mounts nothing and
// writes nothing to disk. Whatever a real plugin takes beyond the floor's
// time is the plugin's own work.
type Floor struct {
	// MakeDirs makes Create make the volume's mountpoint, a directory, and
	// Remove remove it: the least a plugin must do for the daemon to
	// bind-mount its volumes into containers (as a managed plugin).
	MakeDirs bool

	root string
	mux  *http.ServeMux

	mu      sync.Mutex
	volumes map[string]string // name -> creation time, RFC 3339
}

// NewFloor returns a floor whose mountpoints would lie under root.
func NewFloor(root string) *Floor {
	f := &Floor{root: root, mux: http.NewServeMux(),
		volumes: make(map[string]string)}
	f.handle("Capabilities", f.capabilities)
	f.handle("Create", f.create)
	f.handle("Remove", f.remove)
	f.handle("Mount", f.mount)
	f.handle("Unmount", f.unmount)
	f.handle("Path", f.path)
	f.handle("Get", f.get)
	f.handle("List", f.list)
	return f
}

// ServeHTTP answers one plugin call.
func (f *Floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mux.ServeHTTP(w, r)
}

// Serve answers plugin calls on a new unix socket at path until the
// listener is closed.
func (f *Floor) Serve(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	return (&http.Server{Handler: f}).Serve(l)
}

// request holds every field any call sends.
type request struct {
	Name string
	ID   string
	Opts map[string]string
}

type errAnswer struct {
	Err string
}

func (f *Floor) handle(method string, call func(request) (any, error)) {
	f.mux.HandleFunc("/VolumeDriver."+method, func(w http.ResponseWriter, r *http.Request) {
		var req request
		status := http.StatusOK
		var answer any
		err := json.NewDecoder(r.Body).Decode(&req)
		if err == nil {
			answer, err = call(req)
		}
		if err != nil {
			status, answer = http.StatusInternalServerError, errAnswer{Err: err.Error()}
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(answer)
	})
}

var errNoSuchVolume = errors.New("no such volume")

func (f *Floor) capabilities(request) (any, error) {
	return map[string]any{"Capabilities": map[string]string{"Scope": "local"}}, nil
}

func (f *Floor) create(req request) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.volumes[req.Name]; ok {
		return errAnswer{}, nil
	}
	if f.MakeDirs {
		if err := f.mkdir(req.Name); err != nil {
			return nil, err
		}
	}
	f.volumes[req.Name] = time.Now().UTC().Format(time.RFC3339Nano)
	return errAnswer{}, nil
}

func (f *Floor) remove(req request) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.volumes[req.Name]; !ok {
		return nil, errNoSuchVolume
	}
	if f.MakeDirs {
		if err := os.Remove(f.mountpoint(req.Name)); err != nil &&
			!errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	delete(f.volumes, req.Name)
	return errAnswer{}, nil
}

// mkdir makes the mountpoint of a new volume, whose name must be one path
// component.
func (f *Floor) mkdir(name string) error {
	if name == "" || name != filepath.Base(name) || name[0] == '.' {
		return errors.New("volume name must be one path component")
	}
	err := os.Mkdir(f.mountpoint(name), 0o755)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	return err
}

func (f *Floor) mount(req request) (any, error) {
	if !f.exists(req.Name) {
		return nil, errNoSuchVolume
	}
	return map[string]string{"Mountpoint": f.mountpoint(req.Name)}, nil
}

func (f *Floor) unmount(req request) (any, error) {
	if !f.exists(req.Name) {
		return nil, errNoSuchVolume
	}
	return errAnswer{}, nil
}

func (f *Floor) path(req request) (any, error) {
	return f.mount(req)
}

func (f *Floor) get(req request) (any, error) {
	f.mu.Lock()
	created, ok := f.volumes[req.Name]
	f.mu.Unlock()
	if !ok {
		return nil, errNoSuchVolume
	}
	return map[string]Volume{"Volume": {Name: req.Name,
		Mountpoint: f.mountpoint(req.Name), CreatedAt: created}}, nil
}

func (f *Floor) list(request) (any, error) {
	f.mu.Lock()
	vols := make([]Volume, 0, len(f.volumes))
	for name := range f.volumes {
		vols = append(vols, Volume{Name: name, Mountpoint: f.mountpoint(name)})
	}
	f.mu.Unlock()
	return map[string][]Volume{"Volumes": vols}, nil
}

func (f *Floor) exists(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.volumes[name]
	return ok
}

func (f *Floor) mountpoint(name string) string {
	return filepath.Join(f.root, name)
}
