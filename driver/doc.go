// Package driver is volmount's volume driver: it validates names and
// options, keeps the persisted record of every volume, tracks the set of
// Docker mount IDs using each one, and decides when the backend is mounted
// and released.
//
// Driver implements the volume.Driver interface of go-plugins-helpers, so
// the HTTP layer in plugin/ only decodes requests and encodes answers.
//
// The rules it keeps come from how the daemon really calls a plugin
// (shared/PROTOCOL.md):
//   - Get and List answer from memory, loaded from the persisted records,
//     and never touch a backend; Get fails only for a name with no record,
//     because any Get error makes the daemon forget the volume.
//   - Mount and Unmount arrive concurrently and unpaired. Each volume keeps
//     a set of mount IDs: the first ID mounts the backend, the last one
//     released unmounts it, repeats and unknown IDs are harmless.
//   - One lock guards the name map and is never held across mount(2) or
//     disk I/O; a per-volume lock serialises that volume's operations.
//
// Layout under the root (the plugin's propagated mount):
//
//	<root>/<name>                   the mountpoint returned to Docker
//	<root>/.volmount/state/<name>   the volume's record (JSON, 0600)
//	<root>/.volmount/data/<name>    a directory volume's data
package driver
