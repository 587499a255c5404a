//go:build lab

package cases

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

// runPending makes the cases of pendingFeatures run instead of skipping.
var runPending = flag.Bool("lab.pending", false,
	"run the cases whose driver features are still marked pending (issue 4)")

// pendingFeatures are the driver features whose lab cases are skipped.
// TODO(issue 4): delete a line when its feature is switched on in the lab;
// delete the map and needs() when it is empty.
var pendingFeatures = map[string]bool{
	"host name resolution at Mount": true,
	"credentials=":                  true,
	"comma in an inline password":   true,
	"MOUNT_TIMEOUT":                 true,
	"stale-mount replacement":       true,
	"restart":                       true,
}

// needs skips the case while feature is pending, unless -lab.pending.
func needs(t *testing.T, feature string) {
	t.Helper()
	if pendingFeatures[feature] && !*runPending {
		t.Skip("TODO(issue 4): needs " + feature)
	}
}

// lab is where the guest's servers keep their files, as lab/guest/init
// exports them to the test binary.
var lab struct {
	nfsExport string // the directory NFS serves as :/export
	smbDir    string // the directory the SMB share serves
	smbShare  string // the share's name
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("VOLMOUNT_LAB") != "1" {
		fmt.Println("SKIP: the lab cases run as root inside the lab guest; use lab/run.sh")
		return 0
	}
	lab.nfsExport = os.Getenv("LAB_NFS_EXPORT")
	lab.smbDir = os.Getenv("LAB_SMB_DIR")
	lab.smbShare = os.Getenv("LAB_SMB_SHARE")
	if lab.nfsExport == "" || lab.smbDir == "" || lab.smbShare == "" {
		fmt.Println("lab: LAB_NFS_EXPORT, LAB_SMB_DIR and LAB_SMB_SHARE must be set by /init")
		return 1
	}
	start := time.Now()
	if err := addSMBUsers(); err != nil {
		fmt.Println("lab:", err)
		return 1
	}
	if err := waitSMBLogin(commaUser, 20*time.Second); err != nil {
		fmt.Println("lab:", err)
		return 1
	}
	fmt.Printf("lab: SMB users ready in %v\n", time.Since(start).Round(time.Millisecond))
	return m.Run()
}
