//go:build lab

package cases

import (
	"testing"

	"github.com/volmount/volmount/driver"
)

// TestNFS mounts the lab's export with each NFS version and the option
// forms of Docker's local driver, writes through the volume, reads the
// file back after a remount and finds it on the server.
func TestNFS(t *testing.T) {
	tests := []struct {
		name   string
		opts   map[string]string
		fsType string // as the kernel reports it
		vers   string
	}{
		{"v3", nfsOpts("nfs", "addr=127.0.0.1,vers=3"), "nfs", "3"},
		{"v3 nfsvers", nfsOpts("nfs", "addr=127.0.0.1,rw,nfsvers=3,hard"), "nfs", "3"},
		{"v4.0 type nfs4", nfsOpts("nfs4", "addr=127.0.0.1,vers=4.0"), "nfs4", "4.0"},
		{"v4.1 type nfs4", nfsOpts("nfs4", "addr=127.0.0.1,vers=4.1"), "nfs4", "4.1"},
		{"v4.2 type nfs4", nfsOpts("nfs4", "addr=127.0.0.1,vers=4.2"), "nfs4", "4.2"},
		{"v4.2 type nfs", nfsOpts("nfs", "addr=127.0.0.1,vers=4.2"), "nfs4", "4.2"},
		// The form of Docker's documentation for --mount volume-opt=.
		{"docker docs nfsvers=4", nfsOpts("nfs", "addr=127.0.0.1,rw,nfsvers=4,async"),
			"nfs4", "4*"},
		{"v4.2 IPv6 literal", nfsOpts("nfs", "addr=::1,vers=4.2"), "nfs4", "4.2"},
		{"v3 IPv6 literal", nfsOpts("nfs", "addr=::1,vers=3"), "nfs", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			roundTrip(t, d, trip{opts: tt.opts, serverDir: lab.nfsExport,
				fsType: tt.fsType, vers: tt.vers})
		})
	}
}

// nfsOpts is a volume of the lab's export, :/export, with o=o.
func nfsOpts(fsType, o string) map[string]string {
	return map[string]string{"type": fsType, "device": ":" + lab.nfsExport, "o": o}
}
