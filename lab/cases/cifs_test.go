//go:build lab

package cases

import (
	"fmt"
	"testing"

	"github.com/volmount/volmount/driver"
)

// TestCIFS mounts the lab's SMB share with SMB 3.0 and 3.1.1 and an inline
// password, writes through the volume, reads the file back after a
// remount and finds it in the share's directory on the server.
func TestCIFS(t *testing.T) {
	tests := []struct {
		name   string
		fsType string
		user   smbUser
		vers   string
	}{
		{"3.0", "cifs", plainUser, "3.0"},
		{"3.1.1", "cifs", plainUser, "3.1.1"},
		{"3.1.1 type smb3", "smb3", plainUser, "3.1.1"},
		// = $ % spaces and quotes go to the kernel untouched.
		{"3.1.1 odd password inline", "cifs", oddUser, "3.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newDriver(t, driver.Config{})
			opts := cifsOpts(tt.fsType, "//127.0.0.1", inlineLogin(tt.user)+",vers="+tt.vers)
			roundTrip(t, d, trip{opts: opts, serverDir: lab.smbDir,
				fsType: tt.fsType, vers: tt.vers})
		})
	}
}

// cifsOpts is a volume of the lab's share on server (//host) with o=o.
func cifsOpts(fsType, server, o string) map[string]string {
	return map[string]string{"type": fsType, "device": server + "/" + lab.smbShare, "o": o}
}

// inlineLogin is u's login as o= options, as local driver users write it.
func inlineLogin(u smbUser) string {
	return fmt.Sprintf("username=%s,password=%s", u.name, u.password)
}
