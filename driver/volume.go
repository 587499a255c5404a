package driver

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// volume is one volume in memory. Its name, paths, options and creation
// time never change after it is made; the rest is guarded by mu.
type volume struct {
	name       string
	mountpoint string
	dataDir    string // the data of a directory volume; "" otherwise
	opts       options
	createdAt  time.Time

	// op serialises this volume's create, mount, unmount and remove, and
	// is held across their mount(2) and disk I/O. Get and List never
	// take it, so a stuck backend cannot stall them.
	op opLock

	mu      sync.Mutex
	ids     map[string]struct{} // the daemon's mount IDs using the volume
	mounted bool                // the backend is mounted on mountpoint
	ready   bool                // the record is saved: Get and List show it
	gone    bool                // removed, or its create failed
	lastErr string              // why the last Mount failed, secrets masked
}

// snapshot is a consistent copy of a volume's changing fields.
type snapshot struct {
	ids     int
	mounted bool
	ready   bool
	gone    bool
	lastErr string
}

func (v *volume) snapshot() snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	return snapshot{ids: len(v.ids), mounted: v.mounted, ready: v.ready,
		gone: v.gone, lastErr: v.lastErr}
}

func (v *volume) hasID(id string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.ids[id]
	return ok
}

// idsWith returns the sorted mount IDs with id added (add) or removed.
func (v *volume) idsWith(id string, add bool) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	ids := maps.Clone(v.ids)
	if ids == nil {
		ids = make(map[string]struct{})
	}
	if add {
		ids[id] = struct{}{}
	} else {
		delete(ids, id)
	}
	return slices.Sorted(maps.Keys(ids))
}

func (v *volume) setIDs(ids []string) {
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	v.mu.Lock()
	v.ids = set
	v.mu.Unlock()
}

func (v *volume) setMounted(mounted bool) {
	v.mu.Lock()
	v.mounted = mounted
	v.mu.Unlock()
}

func (v *volume) setReady() {
	v.mu.Lock()
	v.ready = true
	v.mu.Unlock()
}

func (v *volume) setLastErr(err error) {
	v.mu.Lock()
	v.lastErr = ""
	if err != nil {
		v.lastErr = err.Error()
	}
	v.mu.Unlock()
}

func (v *volume) setGone() {
	v.mu.Lock()
	v.gone = true
	v.mu.Unlock()
}

// record is what to persist of the volume with the given mount IDs.
func (v *volume) record(ids []string) record {
	return record{Name: v.name, CreatedAt: v.createdAt, Options: v.opts.raw,
		MountIDs: ids}
}

// status is the volume's Status for Get: its options with secrets masked
// and whether, and by how many mounts, it is in use.
func (v *volume) status() map[string]any {
	s := v.snapshot()
	status := map[string]any{"mounted": s.mounted, "mounts": s.ids}
	if s.lastErr != "" {
		status["last_error"] = s.lastErr
	}
	if v.opts.isDirectory() {
		status["type"] = "directory"
	}
	for key, value := range v.opts.redacted() {
		status[key] = value
	}
	return status
}
