// Command volmount is the volmount Docker volume plugin. It reads its
// settings, sets up logging, loads the driver's state and serves the
// Volume Plugin API on a unix socket until it is told to stop.
//
// Settings come from flags and, for what `docker plugin set` can change,
// from the environment; every one has a default here, because an upgraded
// plugin keeps its old environment and gains no new variables:
//
//	--root             the propagated mount, where volumes and state live (/mnt/volumes)
//	--socket           the socket the daemon dials (/run/docker/plugins/volmount.sock)
//	--credentials-dir  CIFS credentials files (/etc/volmount/credentials)
//	LOG_LEVEL          debug, info, warn or error (info)
//	MOUNT_TIMEOUT      the bound on every Mount and Unmount (20s)
//	SCOPE              local or global (local), as Capabilities reports it
package main
