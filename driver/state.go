package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// record is what volmount persists of a volume: enough to answer Get and
// List after a restart and to know which mounts the daemon still holds.
type record struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Options   map[string]string `json:"options,omitempty"`
	// MountIDs are the daemon's mount IDs using the volume, sorted.
	MountIDs []string `json:"mount_ids,omitempty"`
}

// tempPrefix marks a state file being written; one left by a crash is
// removed at the next load. No volume name starts with a dot.
const tempPrefix = "."

// store keeps one JSON file per volume in dir. Each write replaces the file
// atomically: temp file, fsync, rename, fsync of the directory.
type store struct {
	dir string
}

func newStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	return &store{dir: dir}, nil
}

// create saves a new volume's first record. The directory is fsynced too,
// so that the new name survives a power loss.
func (s *store) create(rec record) error {
	return s.write(rec, true)
}

// update replaces a volume's record when its mount IDs change. The
// directory is not fsynced: after a power loss the rename may be undone and
// the previous record come back, which differs only in mount IDs, and no
// mount survives a power loss (start-up drops IDs whose mount is gone).
// That saves a Mount and an Unmount one fsync each.
func (s *store) update(rec record) error {
	return s.write(rec, false)
}

func (s *store) write(rec record, syncDir bool) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode record of %q: %w", rec.Name, err)
	}
	path := filepath.Join(s.dir, rec.Name)
	if err := writeAtomic(path, data, syncDir); err != nil {
		return fmt.Errorf("save record of %q: %w", rec.Name, err)
	}
	return nil
}

func (s *store) delete(name string) error {
	err := os.Remove(filepath.Join(s.dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete record of %q: %w", name, err)
	}
	return syncDir(s.dir)
}

// load reads every record. A file that cannot be read or decoded is
// reported in skipped and left where it is for a person to look at.
func (s *store) load() (recs []record, skipped []error, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read state directory: %w", err)
	}
	recs = make([]record, 0, len(entries))
	for _, entry := range entries {
		name := entry.Name()
		path := filepath.Join(s.dir, name)
		if strings.HasPrefix(name, tempPrefix) {
			os.Remove(path) // an unfinished write from before a crash
			continue
		}
		rec, err := readRecord(path)
		if err == nil && rec.Name != name {
			err = fmt.Errorf("record names volume %q", rec.Name)
		}
		if err == nil {
			err = validateName(name)
		}
		if err != nil {
			skipped = append(skipped, fmt.Errorf("state file %s: %w", path, err))
			continue
		}
		recs = append(recs, rec)
	}
	return recs, skipped, nil
}

func readRecord(path string) (record, error) {
	var rec record
	data, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(data, &rec)
}

// writeAtomic replaces path with data so that a reader, or a restart after
// a crash, sees either the old content or the new, never a mix: temp
// file (0600), write, fsync, rename, and with syncParent an fsync of the
// directory, which makes the rename itself durable. It calls the kernel
// directly: os.File would register every state file with the runtime's
// poller, a tenth of a Mount's CPU for nothing.
func writeAtomic(path string, data []byte, syncParent bool) (err error) {
	tmp := filepath.Join(filepath.Dir(path), tempPrefix+filepath.Base(path))
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	defer func() {
		if err != nil {
			unix.Unlink(tmp)
		}
	}()
	err = writeAll(fd, data)
	if err == nil {
		err = unix.Fsync(fd)
	}
	if closeErr := unix.Close(fd); err == nil {
		err = closeErr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: tmp, Err: err}
	}
	if err = os.Rename(tmp, path); err != nil || !syncParent {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// syncDir makes a rename or unlink in dir durable.
func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	err = unix.Fsync(fd)
	unix.Close(fd)
	if err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}
