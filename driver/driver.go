package driver

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	api "github.com/docker/go-plugins-helpers/volume"
	"golang.org/x/sys/unix"

	"github.com/volmount/volmount/mounter"
)

// Config is what New needs to run a driver.
type Config struct {
	// Root is the plugin's propagated mount: mountpoints are made there and
	// the state lives below it, so it survives restarts and upgrades.
	Root string
	// Mounter performs mounts; mounter.System{} in production.
	Mounter mounter.Mounter
	// Logger receives lifecycle events; nil discards them.
	Logger *slog.Logger
	// Resolver resolves servers' host names at every Mount; nil means
	// LookupHost.
	Resolver Resolver
	// CredentialsDir holds the files named by the credentials option.
	CredentialsDir string
	// MountTimeout bounds every Mount and Unmount, waiting for the
	// volume included; zero means DefaultMountTimeout.
	MountTimeout time.Duration
	// Scope is what Capabilities reports: "local" (the default) or
	// "global" for clusters whose nodes all reach the same servers.
	Scope string
}

// DefaultMountTimeout leaves room under the 30 seconds after which the
// daemon gives up on a plugin call (shared/PROTOCOL.md §2).
const DefaultMountTimeout = 20 * time.Second

// Driver serves Docker's volume plugin calls. It is safe for concurrent
// use.
type Driver struct {
	root    string
	dataDir string
	mnt     mounter.Mounter
	log     *slog.Logger
	store   *store
	now     func() time.Time

	resolve        Resolver
	credentialsDir string
	timeout        time.Duration
	scope          string

	// mu guards volumes only; it is never held across mount(2) or I/O.
	mu      sync.RWMutex
	volumes map[string]*volume
}

var _ api.Driver = (*Driver)(nil)

// New loads the persisted volumes under cfg.Root, reconciles them with the
// mount table and returns a driver ready to serve.
func New(cfg Config) (*Driver, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	private := filepath.Join(cfg.Root, ".volmount")
	if err := os.MkdirAll(private, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", private, err)
	}
	st, err := newStore(filepath.Join(private, "state"))
	if err != nil {
		return nil, err
	}
	d := &Driver{root: filepath.Clean(cfg.Root),
		dataDir: filepath.Join(private, "data"), mnt: cfg.Mounter,
		log: logger, store: st, now: time.Now,
		resolve: cfg.Resolver, credentialsDir: cfg.CredentialsDir,
		timeout: cfg.MountTimeout, scope: cfg.Scope,
		volumes: make(map[string]*volume)}
	if d.resolve == nil {
		d.resolve = LookupHost
	}
	if d.timeout <= 0 {
		d.timeout = DefaultMountTimeout
	}
	switch d.scope {
	case "":
		d.scope = "local"
	case "local", "global":
	default:
		return nil, fmt.Errorf("scope %q: use local or global", cfg.Scope)
	}
	if err := os.MkdirAll(d.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", d.dataDir, err)
	}
	if err := d.load(); err != nil {
		return nil, err
	}
	return d, nil
}

// newVolume builds the in-memory volume for name with parsed options.
func (d *Driver) newVolume(name string, opts options, created time.Time) *volume {
	v := &volume{name: name, mountpoint: filepath.Join(d.root, name),
		opts: opts, createdAt: created, op: newOpLock()}
	if opts.isDirectory() {
		v.dataDir = filepath.Join(d.dataDir, name)
	}
	return v
}

// lookup returns the volume called name if it is fully created.
func (d *Driver) lookup(name string) (*volume, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	d.mu.RLock()
	v, ok := d.volumes[name]
	d.mu.RUnlock()
	if !ok {
		return nil, errorf(ErrNotFound, "volume %q does not exist", name)
	}
	if s := v.snapshot(); !s.ready || s.gone {
		return nil, errorf(ErrNotFound, "volume %q does not exist", name)
	}
	return v, nil
}

// forget drops v from the map, unless the name has been taken by a newer
// volume meanwhile.
func (d *Driver) forget(v *volume) {
	d.mu.Lock()
	if d.volumes[v.name] == v {
		delete(d.volumes, v.name)
	}
	d.mu.Unlock()
}

// Capabilities tells the daemon whether a volume name means the same
// volume on every node (global) or only on this one (local).
func (d *Driver) Capabilities() *api.CapabilitiesResponse {
	return &api.CapabilitiesResponse{Capabilities: api.Capability{Scope: d.scope}}
}

// Get describes one volume from memory; it fails only for an unknown name.
func (d *Driver) Get(req *api.GetRequest) (*api.GetResponse, error) {
	v, err := d.lookup(req.Name)
	if err != nil {
		return nil, err
	}
	return &api.GetResponse{Volume: &api.Volume{Name: v.name,
		Mountpoint: v.mountpoint, Status: v.status(),
		CreatedAt: v.createdAt.UTC().Format(time.RFC3339Nano)}}, nil
}

// List names every volume with its mountpoint. The daemon ignores the
// other fields in a List answer, so none are computed.
func (d *Driver) List() (*api.ListResponse, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	vols := make([]*api.Volume, 0, len(d.volumes))
	for _, v := range d.volumes {
		if s := v.snapshot(); s.ready && !s.gone {
			vols = append(vols, &api.Volume{Name: v.name, Mountpoint: v.mountpoint})
		}
	}
	return &api.ListResponse{Volumes: vols}, nil
}

// Path returns the volume's mountpoint.
func (d *Driver) Path(req *api.PathRequest) (*api.PathResponse, error) {
	v, err := d.lookup(req.Name)
	if err != nil {
		return nil, err
	}
	return &api.PathResponse{Mountpoint: v.mountpoint}, nil
}

// removeEmptyDir removes dir if it exists and is empty. It never removes
// anything with content, so it cannot delete through a mountpoint.
func removeEmptyDir(dir string) error {
	err := os.Remove(dir)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s is not empty; left in place: %w", dir, err)
	}
	return err
}
