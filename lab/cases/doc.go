// Package cases holds volmount's lab tests (issue 4): network volumes
// mounted for real, against a kernel NFS server (v3, v4.0, v4.1, v4.2) and
// a kernel SMB server (ksmbd, SMB 3.0 and 3.1.1).
//
// The tests run as root inside the lab's qemu guest, on the guest's
// loopback, through the same driver/ and mounter/ code the plugin runs:
// driver.New with mounter.System{} and the local driver's type/device/o
// options. The host's own kernel has no NFS or CIFS client, so nothing
// here runs on the host: lab/run.sh builds the guest (lab/build.sh),
// compiles this package with
//
//	CGO_ENABLED=0 go test -c -tags lab -o build/lab/cases.test ./lab/cases
//
// boots it and reports the guest's verdict. Outside the guest (no
// VOLMOUNT_LAB=1 in the environment) the test binary skips everything.
//
// The guest's /init (lab/guest/init) serves /export over NFS and the share
// "lab" (directory /srv/smb) over SMB, and resolves nfs.lab and smb.lab to
// 127.0.0.1 through its /etc/hosts. TestMain adds the SMB users, whose
// passwords live here (see smbUsers).
package cases
