//go:build integration

// Package integration runs Docker's volume workflows against a real
// engine with volmount installed as the plugin "volmount" (issue 2).
//
// The tests drive the docker CLI exactly as a user types it (docker,
// docker compose, docker service) and assert what that user would
// notice: file contents seen by another container, error texts that
// name the problem, and inspect output.
//
// They never touch the user's daemon: every command goes to the private
// test engine at unix:///run/volmount-test/docker.sock, or to the engine
// named by VOLMOUNT_TEST_DOCKER_HOST. DOCKER_HOST, DOCKER_CONTEXT and the
// user's CLI configuration are ignored on purpose.
//
// Run them with
//
//	make test-integration
//
// which starts the private engine, builds the test image, creates and
// enables the plugin and then runs
//
//	VOLMOUNT_INTEGRATION=1 go test -tags integration -count=1 -v ./integration/...
//
// Without VOLMOUNT_INTEGRATION=1 the package skips with a message. With
// it, a missing engine or plugin fails the run: a CI run that silently
// skipped these tests would prove nothing.
//
// The engine must have the plugin enabled. The tests run as root: they
// attach loop devices and restart the engine's dockerd (with its own
// command line, keeping its data). Variables, all set by the Makefile:
//
//	VOLMOUNT_TEST_DOCKER_HOST  the engine (default: the private one above)
//	VOLMOUNT_PLUGIN            the plugin as NAME[:TAG] (default volmount)
//	VOLMOUNT_TEST_IMAGE        the test image (default
//	                           volmount-test/busybox:latest: busybox-static
//	                           and /data/seed.txt; built when missing)
//	VOLMOUNT_REGISTRY          a registry on loopback to push the plugin to
//	VOLMOUNT_PLUGIN_DIR        the plugin directory `make rootfs` assembles
//	VOLMOUNT_DOCKER_PLUGIN_DIR the one the Dockerfile builds
//
// Without the last three the install test skips its cases; CI treats a
// skip as a failure.
package integration
