#!/usr/bin/env bash
# container-start.sh measures what a volmount volume adds to a container's
# start and stop: `docker run --rm` with a volmount volume against the same
# command with a `local` volume, for a directory volume and for a tmpfs
# (type/device/o), in pairs whose order alternates; it reports the median of
# the per-pair ratios. It runs in the private test engine
# (scripts/engine.sh), which it starts and stops, with the plugin built from
# this tree; no image is pulled and no registry is contacted.
#
# For the directory volume it also times the protocol floor (vmbench floor
# -mkdir) packaged as a managed plugin: what any volume plugin costs the
# daemon, however little it does, so that the row shows how much of the
# difference to local is volmount's own.
#
# The integration tests use the same engine: this script waits until none
# runs and holds /run/volmount-test.lock while it uses the engine.
#
# Usage: bench/container-start.sh ROWS
#
#   ROWS   file the result rows are appended to (see: vmbench table)
#
# Environment: PAIRS (pairs per kind, default 15), BUSY_WAIT (seconds to wait
# for the engine to be free, default 900), KEEP_LOG (a file for the raw
# timings, default build/bench/container-start.tsv).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PROG="${0##*/}"
readonly LOCK=/run/volmount-test.lock
readonly TEST_HOST=unix:///run/volmount-test/docker.sock
readonly PLUGIN=volmount:latest
readonly PLUGIN_DIR=build/plugin
readonly FLOOR=vmbench-floor:latest
readonly IMAGE=volmount-test/busybox:latest
readonly GOAL_DIR=1.03
readonly GOAL_TMPFS=1.05
PAIRS="${PAIRS:-15}"
BUSY_WAIT="${BUSY_WAIT:-900}"
RAW="${KEEP_LOG:-build/bench/container-start.tsv}"

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

[[ $# -eq 1 ]] || die "usage: $PROG ROWS"
ROWS="$1"
[[ "$(id -u)" == 0 ]] || die "needs root (the private engine)"

# integration_running tells whether integration tests run: the go command
# that builds them, or their test binary.
integration_running() {
	pgrep -f -- 'go test .*-tags[= ]integration' >/dev/null ||
		pgrep -f -- '/integration\.test( |$)' >/dev/null
}

# take_engine waits until no integration test runs, then holds the lock on
# file descriptor 9 until the script exits.
take_engine() {
	local deadline=$((SECONDS + BUSY_WAIT)) told=
	exec 9>"$LOCK"
	while :; do
		if flock -n 9; then
			integration_running || return 0
			flock -u 9
		fi
		((SECONDS < deadline)) ||
			die "the private engine stayed busy for ${BUSY_WAIT}s (integration tests or $LOCK)"
		[[ -n "$told" ]] || say "waiting for the integration tests to finish and for $LOCK"
		told=1
		sleep 5
	done
}

stop_engine() {
	scripts/engine.sh stop-test >/dev/null || say "could not stop the private engine"
}

# run_ms runs a container with volume $1 mounted and prints its wall time
# in milliseconds.
run_ms() {
	local t0 t1
	t0=$(date +%s%N)
	docker run --rm --pull=never --network none -v "$1:/vol" "$IMAGE" true >/dev/null
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f\n", ns / 1e6 }'
}

# median prints the median of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# floor_plugin makes the managed plugin $FLOOR: the static vmbench binary
# serving the floor, with the propagated mount volmount's config.json names.
floor_plugin() {
	local dir p
	dir="$(mktemp -d /tmp/vmbench-floor.XXXXXX)"
	mkdir -p "$dir/rootfs"
	for p in dev etc mnt/volumes proc run/docker/plugins sys tmp; do
		mkdir -p "$dir/rootfs/$p"
	done
	touch "$dir/rootfs/etc/hosts" "$dir/rootfs/etc/resolv.conf"
	CGO_ENABLED=0 go build -trimpath -o "$dir/rootfs/vmbench" ./bench/cmd/vmbench
	cat >"$dir/config.json" <<-'EOF'
		{
		  "description": "the protocol floor of volmount's benchmarks (bench/)",
		  "documentation": "bench/container-start.sh",
		  "entrypoint": ["/vmbench", "floor", "-socket", "/run/docker/plugins/floor.sock",
		    "-root", "/mnt/volumes", "-mkdir"],
		  "interface": {"types": ["docker.volumedriver/1.0"], "socket": "floor.sock"},
		  "network": {"type": "none"},
		  "propagatedMount": "/mnt/volumes"
		}
	EOF
	docker plugin create "$FLOOR" "$dir" >/dev/null
	rm -rf "$dir"
	docker plugin enable "$FLOOR" >/dev/null
}

# report appends the row of kind $1 (dir or tmpfs) with goal $2.
report() {
	local kind="$1" goal="$2" label vm ref ratios ratio
	label=$([[ "$kind" == dir ]] && echo "directory volume" || echo "tmpfs volume (type/device/o)")
	vm=$(awk -v k="$kind" '$1 == k { print $2 }' "$RAW" | median)
	ref=$(awk -v k="$kind" '$1 == k { print $3 }' "$RAW" | median)
	ratios=$(awk -v k="$kind" '$1 == k { print $2 / $3 }' "$RAW" | sort -g)
	ratio=$(median <<<"$ratios")
	awk -v l="$label" -v n="$PAIRS" -v vm="$vm" -v ref="$ref" -v r="$ratio" -v g="$goal" \
		-v lo="$(head -1 <<<"$ratios")" -v hi="$(tail -1 <<<"$ratios")" 'BEGIN {
		printf "container start: docker run --rm, %s, %d pairs\t", l, n
		printf "%.3g ms\tlocal %.3g ms\t", vm, ref
		printf "%.3g× (%.3g–%.3g)\t≤ %.2f×\t%s\n", r, lo, hi, g, (r <= g ? "yes" : "no")
	}' | tee -a "$ROWS"
}

# report_floor appends the rows of the floor plugin's directory volume:
# against local, and volmount against it.
report_floor() {
	local floor ref vm_floor floor_local
	floor=$(awk '$1 == "dir" { print $4 }' "$RAW" | median)
	ref=$(awk '$1 == "dir" { print $3 }' "$RAW" | median)
	floor_local=$(awk '$1 == "dir" { print $4 / $3 }' "$RAW" | median)
	vm_floor=$(awk '$1 == "dir" { print $2 / $4 }' "$RAW" | median)
	awk -v f="$floor" -v ref="$ref" -v fl="$floor_local" -v vf="$vm_floor" 'BEGIN {
		printf "  the protocol floor as a managed plugin, directory volume\t"
		printf "floor %.3g ms\tlocal %.3g ms\t%.3g×\t-\t-\n", f, ref, fl
		printf "  volmount against that floor plugin, directory volume\t-\t-\t%.3g×\t-\t-\n", vf
	}' | tee -a "$ROWS"
}

main() {
	take_engine
	trap stop_engine EXIT
	# dockerd must not inherit the lock: it would hold it after this script.
	scripts/engine.sh start-test 9>&-
	export DOCKER_HOST="$TEST_HOST"
	scripts/engine.sh test-image
	make --no-print-directory rootfs >/dev/null
	FORCE=1 scripts/plugin.sh create "$PLUGIN" "$PLUGIN_DIR"
	docker plugin enable "$PLUGIN" >/dev/null
	floor_plugin

	local tmpfs=(-o type=tmpfs -o device=tmpfs -o o=size=64m)
	docker volume create -d "$PLUGIN" vmb-dir-vm >/dev/null
	docker volume create -d local vmb-dir-local >/dev/null
	docker volume create -d "$FLOOR" vmb-dir-floor >/dev/null
	docker volume create -d "$PLUGIN" "${tmpfs[@]}" vmb-tmpfs-vm >/dev/null
	docker volume create -d local "${tmpfs[@]}" vmb-tmpfs-local >/dev/null

	local kind i vm ref floor
	for kind in dir tmpfs; do # warm-up: caches, the plugin's first mounts
		run_ms "vmb-$kind-vm" >/dev/null
		run_ms "vmb-$kind-local" >/dev/null
	done
	run_ms vmb-dir-floor >/dev/null
	mkdir -p "$(dirname "$RAW")"
	: >"$RAW"
	say "running $PAIRS pairs per kind ($IMAGE, --network none)"
	for ((i = 0; i < PAIRS; i++)); do
		# The directory kind rotates three: volmount, local, floor.
		case $((i % 3)) in
		0) vm=$(run_ms vmb-dir-vm); ref=$(run_ms vmb-dir-local); floor=$(run_ms vmb-dir-floor) ;;
		1) ref=$(run_ms vmb-dir-local); floor=$(run_ms vmb-dir-floor); vm=$(run_ms vmb-dir-vm) ;;
		2) floor=$(run_ms vmb-dir-floor); vm=$(run_ms vmb-dir-vm); ref=$(run_ms vmb-dir-local) ;;
		esac
		printf 'dir\t%s\t%s\t%s\n' "$vm" "$ref" "$floor" >>"$RAW"
		if ((i % 2 == 0)); then
			vm=$(run_ms vmb-tmpfs-vm); ref=$(run_ms vmb-tmpfs-local)
		else
			ref=$(run_ms vmb-tmpfs-local); vm=$(run_ms vmb-tmpfs-vm)
		fi
		printf 'tmpfs\t%s\t%s\n' "$vm" "$ref" >>"$RAW"
	done
	report dir "$GOAL_DIR"
	report_floor
	report tmpfs "$GOAL_TMPFS"
}

main
