#!/usr/bin/env bash
# engine.sh sets up what volmount's Makefile and CI need on a Debian machine:
# Debian's Docker engine, a private engine for the integration tests, the
# busybox test image, a local registry and the Go base image the Dockerfile
# builds on when no image can be pulled.
#
# Usage: scripts/engine.sh COMMAND
#
#   install          install Docker and the test tools from Debian if missing
#   start-default    start dockerd on the default socket unless an engine
#                    already answers at DOCKER_HOST
#   start-test       start the private test engine (see TEST_* below)
#   stop-test        stop it, unmount its leftovers and delete its data
#   test-image       build volmount-test/busybox:latest at DOCKER_HOST
#   go-image         build the local Go build-stage image; prints its name
#   registry-start   run docker-registry on 127.0.0.1:5000
#   registry-stop    stop it and delete its storage
#   registry-status  exit 0 when it runs
#   registry-addr    print its address
#
# The private engine listens on unix:///run/volmount-test/docker.sock; use it
# with DOCKER_HOST=unix:///run/volmount-test/docker.sock docker ...
set -euo pipefail

readonly PROG="${0##*/}"

readonly DEFAULT_HOST="unix:///var/run/docker.sock"
readonly DEFAULT_LOG="/var/log/volmount-dockerd.log"

readonly TEST_DATA="/var/lib/volmount-test/docker"
readonly TEST_RUN="/run/volmount-test"
readonly TEST_EXEC="$TEST_RUN/exec"
readonly TEST_SOCK="$TEST_RUN/docker.sock"
readonly TEST_HOST="unix://$TEST_SOCK"
readonly TEST_PID="$TEST_RUN/docker.pid"
readonly TEST_CONFIG="$TEST_RUN/daemon.json"
readonly TEST_LOG="/var/log/volmount-test-dockerd.log"
# The private engine's own names, so it never shares an interface, a
# containerd namespace or an address range with a user's daemon.
readonly TEST_NS="volmount-test"
readonly TEST_BRIDGE="vmt0"
readonly TEST_BRIDGE_ADDR="198.18.0.1/24"
readonly TEST_GWBRIDGE="vmt_gwbridge"
readonly TEST_GWBRIDGE_SUBNET="198.18.64.0/24"

readonly REG_ADDR="127.0.0.1:5000"
readonly REG_RUN="$TEST_RUN/registry"
readonly REG_LOG="/var/log/volmount-registry.log"

readonly TEST_IMAGE="volmount-test/busybox:latest"
readonly SEED_TEXT="seeded-from-image"

readonly ENGINE_WAIT=60 # seconds an engine may take to answer
readonly STOP_WAIT=60   # seconds dockerd may take to shut down

readonly PACKAGES=(
	docker.io/trixie docker-cli/trixie docker-compose/trixie
	docker-registry busybox-static e2fsprogs xfsprogs iptables
)

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# engine_up tells whether the engine at DOCKER_HOST answers.
engine_up() {
	docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# wait_engine polls the engine at DOCKER_HOST until it answers, for at most
# ENGINE_WAIT seconds, and fails early if process $1 has died.
wait_engine() {
	local pid="$1" log="$2" i
	for ((i = 0; i < ENGINE_WAIT * 4; i++)); do
		if engine_up; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$log" >&2 || true
			die "dockerd exited while starting; log: $log"
		fi
		sleep 0.25
	done
	tail -n 20 "$log" >&2 || true
	die "dockerd did not answer within ${ENGINE_WAIT}s; log: $log"
}

# ---- install ---------------------------------------------------------------

# pkg_ok tells whether Debian package $1 is installed at version $2 or later.
pkg_ok() {
	local v
	v="$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null)" || return 1
	[[ "$v" == "install ok installed "* ]] || return 1
	[[ -z "${2:-}" ]] || dpkg --compare-versions "${v##* }" ge "$2"
}

packages_ok() {
	pkg_ok docker.io 26 && pkg_ok docker-cli 26 &&
		pkg_ok docker-compose 2 && pkg_ok docker-registry &&
		pkg_ok busybox-static && pkg_ok e2fsprogs && pkg_ok xfsprogs &&
		pkg_ok iptables
}

# add_trixie adds Debian trixie as an apt source unless one is there, and pins
# it at priority 100 so that only packages asked for as pkg/trixie (and the
# dependencies they need) come from it.
add_trixie() {
	local src=/etc/apt/sources.list.d/volmount-trixie.sources
	local pin=/etc/apt/preferences.d/volmount-trixie

	if ! grep -rqsE '^(Suites:.*[[:space:]]trixie([[:space:]]|$)|deb .*[[:space:]]trixie[[:space:]])' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; then
		say "adding Debian trixie to apt sources ($src)"
		cat >"$src" <<-'EOF'
			# Added by volmount's scripts/engine.sh for docker.io and docker-compose.
			# Pinned in /etc/apt/preferences.d/volmount-trixie: nothing else comes from it.
			Types: deb
			URIs: http://deb.debian.org/debian
			Suites: trixie
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	if [[ ! -e "$pin" ]]; then
		cat >"$pin" <<-'EOF'
			# Added by volmount's scripts/engine.sh: take nothing from trixie unless asked.
			Package: *
			Pin: release n=trixie
			Pin-Priority: 100
		EOF
	fi
}

cmd_install() {
	if packages_ok; then
		return 0
	fi
	[[ "$(id -u)" == 0 ]] || die "installing packages needs root"

	local policy=/usr/sbin/policy-rc.d log=/var/log/volmount-apt.log
	add_trixie
	# Without systemd nothing may start services during the install.
	if [[ ! -e "$policy" ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		CLEANUP+=("rm -f '$policy'")
	fi

	say "installing Docker and test tools from Debian (log: $log)"
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update -q &&
		apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "apt-get failed; log: $log"
	fi
	packages_ok || die "packages still missing after install; log: $log"
	say "installed: $(dpkg-query -W -f='${Package}=${Version} ' docker.io docker-compose docker-registry)"
}

# ---- engines ---------------------------------------------------------------

cmd_start_default() {
	local host="${DOCKER_HOST:-$DEFAULT_HOST}"
	if engine_up; then
		return 0
	fi
	if [[ "$host" != "$DEFAULT_HOST" && "$host" != "unix:///run/docker.sock" ]]; then
		die "no engine answers at DOCKER_HOST=$host; start it, or unset DOCKER_HOST"
	fi
	command -v dockerd >/dev/null || die "dockerd not found; run: $0 install"

	say "no Docker engine answers; starting dockerd (log: $DEFAULT_LOG)"
	setsid dockerd >>"$DEFAULT_LOG" 2>&1 </dev/null &
	local pid=$!
	DOCKER_HOST="$host" wait_engine "$pid" "$DEFAULT_LOG"
	say "dockerd is running (pid $pid); stop it with: kill $pid"
}

cmd_start_test() {
	export DOCKER_HOST="$TEST_HOST"
	if engine_up; then
		say "private test engine already running at $TEST_HOST"
		return 0
	fi
	if pid_alive "$TEST_PID"; then
		die "dockerd (pid $(cat "$TEST_PID")) runs but does not answer at $TEST_HOST; see $TEST_LOG, or run: $0 stop-test"
	fi
	clean_test # what a run that was killed may have left
	start_test_engine
	make_gwbridge
	say "private test engine running: DOCKER_HOST=$TEST_HOST (pid $(cat "$TEST_PID"), log $TEST_LOG)"
}

# start_test_engine starts the private engine's dockerd and waits for it.
start_test_engine() {
	command -v dockerd >/dev/null || die "dockerd not found; run: $0 install"

	mkdir -p "$TEST_DATA" "$TEST_EXEC"
	echo '{}' >"$TEST_CONFIG"
	make_bridge
	# Flags, and why:
	#   --config-file       ignore /etc/docker/daemon.json, which belongs to
	#                       the user's daemon (a "hosts" key there would clash)
	#   --containerd-*      own namespaces if a system containerd is shared
	#   --bridge=vmt0       a bridge of its own, made here: the user's daemon
	#                       owns docker0, and --bridge=none would make
	#                       dockerd delete docker0 from the host
	#   --iptables=false, --ip6tables=false, --ip-forward=false
	#                       leave the host's firewall and sysctls alone
	#   no --default-address-pool: with one set, a restarted dockerd
	#                       deletes the host's docker0 (the user's bridge)
	#                       when it clears its stale "bridge" network; the
	#                       one network it makes, docker_gwbridge, gets a
	#                       test-only subnet (RFC 2544) in make_gwbridge
	#   DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
	#                       swarm tasks use the local image instead of trying
	#                       a pull from a registry first
	DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid dockerd \
		--config-file "$TEST_CONFIG" \
		--data-root "$TEST_DATA" \
		--exec-root "$TEST_EXEC" \
		--host "$TEST_HOST" \
		--pidfile "$TEST_PID" \
		--containerd-namespace "$TEST_NS" \
		--containerd-plugins-namespace "$TEST_NS-plugins" \
		--bridge="$TEST_BRIDGE" \
		--iptables=false --ip6tables=false --ip-forward=false \
		>>"$TEST_LOG" 2>&1 </dev/null &
	wait_engine "$!" "$TEST_LOG"
}

# make_bridge creates the private engine's default bridge, in the test-only
# range, as dockerd wants a --bridge other than docker0 to exist.
make_bridge() {
	if ! ip link show "$TEST_BRIDGE" >/dev/null 2>&1; then
		ip link add "$TEST_BRIDGE" type bridge
		ip addr add "$TEST_BRIDGE_ADDR" dev "$TEST_BRIDGE"
	fi
	ip link set "$TEST_BRIDGE" up
}

# make_gwbridge creates swarm's docker_gwbridge network before any swarm init,
# with a bridge interface of our own name instead of the host-wide
# "docker_gwbridge" a user's swarm would use.
make_gwbridge() {
	if docker network inspect docker_gwbridge >/dev/null 2>&1; then
		return 0
	fi
	docker network create --driver bridge --subnet "$TEST_GWBRIDGE_SUBNET" \
		--opt com.docker.network.bridge.name="$TEST_GWBRIDGE" \
		--opt com.docker.network.bridge.enable_icc=false \
		docker_gwbridge >/dev/null
}

# pid_alive tells whether the pid in file $1 names a running process.
pid_alive() {
	[[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid sends SIGTERM to process $1, waits up to $2 seconds, then SIGKILL.
stop_pid() {
	local pid="$1" wait="$2" i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait * 4; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.25
	done
	say "pid $pid still running after ${wait}s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

# our_pids lists the processes whose command line names the private engine's
# exec-root: its containerd and the shims, should dockerd have died first.
our_pids() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid="${f#/proc/}"
		pid="${pid%/cmdline}"
		if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$TEST_EXEC/"; then
			echo "$pid"
		fi
	done
}

# mounts_under lists the mount points at or below directory $1, deepest
# first.
mounts_under() {
	local mp
	awk -v d="$1/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r mp; do
		printf '%b\n' "$mp" # mountinfo escapes spaces as \040
	done
}

# remove_tree unmounts everything at or below directory $1, then deletes it;
# it never deletes while anything stays mounted there, since a bind mount
# could lead to a user's files.
remove_tree() {
	local dir="$1" mp
	[[ -e "$dir" ]] || return 0
	mounts_under "$dir" | while read -r mp; do
		umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ||
			say "could not unmount $mp"
	done
	if [[ -n "$(mounts_under "$dir")" ]]; then
		say "mounts remain under $dir; not deleting it"
		return 0
	fi
	rm -rf "$dir"
}

cmd_stop_test() {
	export DOCKER_HOST="$TEST_HOST"
	if engine_up; then
		if [[ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" != inactive ]]; then
			docker swarm leave --force >/dev/null 2>&1 || say "swarm leave failed"
		fi
	fi
	if pid_alive "$TEST_PID"; then
		say "stopping the private test engine (log: $TEST_LOG)"
		stop_pid "$(cat "$TEST_PID")" "$STOP_WAIT"
	fi
	clean_test
}

# clean_test removes what a stopped private engine left behind: processes,
# mounts, interfaces and its data.
clean_test() {
	local pid link
	for pid in $(our_pids); do
		stop_pid "$pid" 10
	done
	remove_tree "$TEST_EXEC"
	remove_tree "$TEST_DATA"
	for link in "$TEST_GWBRIDGE" "$TEST_BRIDGE"; do
		if ip link show "$link" >/dev/null 2>&1; then
			ip link delete "$link" || say "could not delete interface $link"
		fi
	done
	rm -f "$TEST_PID" "$TEST_SOCK" "$TEST_CONFIG"
}

# ---- images ----------------------------------------------------------------

# busybox_path prints the path of Debian's busybox-static binary.
busybox_path() {
	pkg_ok busybox-static || die "busybox-static is not installed; run: $0 install"
	command -v busybox || die "busybox not found in PATH"
}

# fill_busybox puts busybox into directory $1/bin with a relative symlink
# for each of its applets.
fill_busybox() {
	local dir="$1" bb applet
	bb="$(busybox_path)"
	mkdir -p "$dir/bin"
	cp "$bb" "$dir/bin/busybox"
	for applet in $("$bb" --list); do
		[[ "$applet" == busybox ]] || ln -s busybox "$dir/bin/$applet"
	done
}

# new_tmp makes a temporary directory that is removed when the script exits
# and stores its path in the variable named $1.
new_tmp() {
	local dir
	dir="$(mktemp -d /tmp/volmount-engine.XXXXXX)"
	CLEANUP+=("rm -rf '$dir'")
	printf -v "$1" '%s' "$dir"
}

cmd_test_image() {
	if docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
		say "$TEST_IMAGE is already present"
		return 0
	fi
	local tmp
	new_tmp tmp
	fill_busybox "$tmp"
	mkdir -p "$tmp/data" "$tmp/etc" "$tmp/tmp" "$tmp/root"
	chmod 1777 "$tmp/tmp"
	echo root:x:0:0:root:/root:/bin/sh >"$tmp/etc/passwd"
	echo root:x:0: >"$tmp/etc/group"
	echo "$SEED_TEXT" >"$tmp/data/seed.txt"

	tar -C "$tmp" --numeric-owner --owner=0 --group=0 -c . |
		docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' \
			- "$TEST_IMAGE" >/dev/null
	say "built $TEST_IMAGE"
}

# go_image_name names the local Go image after the Go version and go.sum, so
# that a new toolchain or new dependencies make a new image.
go_image_name() {
	local sum
	sum="$(cat go.mod go.sum 2>/dev/null | sha256sum | cut -c1-12)"
	local v
	v="$(go env GOVERSION)"
	echo "volmount-local/golang:${v#go}-$sum"
}

# cmd_go_image builds, in the engine at DOCKER_HOST, a stand-in for the
# golang image the Dockerfile starts from: /usr/local/go, busybox-static as
# /bin/sh and a module cache with everything go.mod needs, so that the build
# stage runs with GOPROXY=off. Run it from the module root.
cmd_go_image() {
	local name goroot tmp
	name="$(go_image_name)"
	if docker image inspect "$name" >/dev/null 2>&1; then
		echo "$name"
		return 0
	fi
	goroot="$(go env GOROOT)"
	new_tmp tmp
	fill_busybox "$tmp"
	mkdir -p "$tmp/tmp" "$tmp/root" "$tmp/etc" "$tmp/go/pkg/mod"
	chmod 1777 "$tmp/tmp"
	echo root:x:0:0:root:/root:/bin/sh >"$tmp/etc/passwd"

	# The module cache: from the host's cache where it can be, from the Go
	# module proxy otherwise.
	GOFLAGS=-mod=mod GOMODCACHE="$tmp/go/pkg/mod" \
		GOPROXY="file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)" \
		go mod download >&2 || die "go mod download failed"
	chmod -R u+w "$tmp/go" # so that the cleanup can remove it

	say "importing $name (Go from $goroot)" >&2
	tar -c --numeric-owner --owner=0 --group=0 \
		-C "$tmp" . -C / --exclude "./${goroot#/}/test" "./${goroot#/}" |
		docker import \
			--change "ENV PATH=$goroot/bin:/go/bin:/bin" \
			--change 'ENV GOPATH=/go' \
			--change 'ENV GOPROXY=off' \
			--change 'ENV GOTOOLCHAIN=local' \
			--change 'WORKDIR /go' \
			- "$name" >/dev/null
	echo "$name"
}

# ---- registry --------------------------------------------------------------

# registry_answers tells whether a registry answers GET /v2/ on REG_ADDR.
registry_answers() {
	local line
	{ exec 3<>"/dev/tcp/${REG_ADDR%:*}/${REG_ADDR#*:}"; } 2>/dev/null || return 1
	printf 'GET /v2/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$REG_ADDR" >&3
	read -r line <&3 || true
	exec 3<&-
	[[ "$line" == "HTTP/1."?" 200"* ]]
}

cmd_registry_start() {
	if pid_alive "$REG_RUN/pid" && registry_answers; then
		say "registry already running on $REG_ADDR"
		return 0
	fi
	if registry_answers; then
		die "something else already answers on $REG_ADDR"
	fi
	command -v docker-registry >/dev/null || die "docker-registry not found; run: $0 install"

	mkdir -p "$REG_RUN"
	local store
	store="$(mktemp -d /tmp/volmount-registry.XXXXXX)"
	echo "$store" >"$REG_RUN/storage"
	cat >"$REG_RUN/config.yml" <<-EOF
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $store
		  delete:
		    enabled: true
		http:
		  addr: $REG_ADDR
	EOF
	setsid docker-registry serve "$REG_RUN/config.yml" >>"$REG_LOG" 2>&1 </dev/null &
	local pid=$! i
	echo "$pid" >"$REG_RUN/pid"
	for ((i = 0; i < 40; i++)); do
		if registry_answers; then
			say "registry running on $REG_ADDR (pid $pid, log $REG_LOG)"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	tail -n 20 "$REG_LOG" >&2 || true
	die "registry did not answer on $REG_ADDR; log: $REG_LOG"
}

# cmd_registry_status tells whether our registry runs.
cmd_registry_status() {
	pid_alive "$REG_RUN/pid" && registry_answers
}

cmd_registry_stop() {
	if pid_alive "$REG_RUN/pid"; then
		stop_pid "$(cat "$REG_RUN/pid")" 10
		say "registry stopped"
	fi
	if [[ -s "$REG_RUN/storage" ]]; then
		rm -rf "$(cat "$REG_RUN/storage")"
	fi
	rm -rf "$REG_RUN"
}

usage() {
	sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

main() {
	case "${1:-}" in
	install) cmd_install ;;
	start-default) cmd_start_default ;;
	start-test) cmd_start_test ;;
	stop-test) cmd_stop_test ;;
	test-image) cmd_test_image ;;
	go-image) cmd_go_image ;;
	registry-start) cmd_registry_start ;;
	registry-stop) cmd_registry_stop ;;
	registry-status) cmd_registry_status ;;
	registry-addr) echo "$REG_ADDR" ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
