// Package mounter performs the kernel side of volmount: mount(2) and
// umount2(2) through golang.org/x/sys/unix, and reads of the mount table.
//
// It knows nothing of volumes or Docker. The driver describes a mount as a
// Spec, usually built with ParseOptions from the same "o" string that
// Docker's local driver accepts, and hands it to a Mounter. System talks to
// the kernel; Fake records calls in memory so driver tests need no root.
//
// Nothing here logs. Failures come back as *Error, which carries the
// operation and its arguments with any password masked.
package mounter
