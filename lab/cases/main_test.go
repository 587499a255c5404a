//go:build lab

package cases

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

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
