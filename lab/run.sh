#!/usr/bin/env bash
# run.sh runs volmount's lab cases (lab/cases) in the lab's qemu guest
# against real NFS and SMB servers, and exits with their status.
#
# Usage: lab/run.sh [FLAG...]
#
# FLAGs go to the guest's test binary, which takes go test's flags in
# their -test. form, and its own:
#
#	lab/run.sh -test.run 'TestNFS/v4'     only the NFSv4 cases
#
# It builds the lab if needed (lab/build.sh), compiles the cases with
#
#	CGO_ENABLED=0 go test -c -tags lab -o $LAB_DIR/cases.test ./lab/cases
#
# appends the binary to the initramfs as a second archive, boots the guest
# under software emulation with no network device, streams the guest's
# console (go test -v output) and reads the exit marker that the guest's
# /init prints. A guest that never prints it (a boot failure, a kernel
# panic, the timeout) is a failure.
#
# Environment:
#	LAB_DIR       where the lab is built (default: <repo>/build/lab)
#	LAB_TIMEOUT   seconds the guest may run (default: 600)
#	LAB_MEMORY    the guest's memory in MiB (default: 1024)
set -euo pipefail

readonly PROG="lab/run.sh"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO
readonly LAB_DIR="${LAB_DIR:-$REPO/build/lab}"
readonly LAB_TIMEOUT="${LAB_TIMEOUT:-600}"
readonly LAB_MEMORY="${LAB_MEMORY:-1024}"
readonly QBOOT=/usr/share/qemu/qboot.rom
readonly MARKER=VOLMOUNT-LAB-EXIT
# TEST_SLACK is how much sooner than the guest's timeout go test's own
# -test.timeout fires, so that a hung case still prints its goroutines.
readonly TEST_SLACK=60

readonly SAY_FD=2
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_qemu kills the qemu whose pid is in file $1, if it still runs: a
# run.sh interrupted mid-run leaves no guest behind.
stop_qemu() {
	local pid
	pid="$(cat "$1" 2>/dev/null)" || return 0
	if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == qemu-system-x86* ]]; then
		kill "$pid" 2>/dev/null || true
	fi
}

# build_initrd writes to $2 the lab's initramfs followed by a second
# archive with the test binary and the flags for it (arguments $3...).
build_initrd() {
	local tmp="$1" initrd="$2" arg
	shift 2
	mkdir -p "$tmp/cases/lab"
	cp "$LAB_DIR/cases.test" "$tmp/cases/lab/cases.test"
	: >"$tmp/cases/lab/args"
	for arg in "-test.timeout=$((LAB_TIMEOUT - TEST_SLACK))s" "$@"; do
		[[ "$arg" != *$'\n'* ]] || die "a flag may not hold a newline: $arg"
		printf '%s\n' "$arg" >>"$tmp/cases/lab/args"
	done
	(cd "$tmp/cases" && find lab | cpio --create --format=newc --owner=0:0 --quiet) \
		>"$tmp/cases.cpio"
	cat "$LAB_DIR/initramfs.cpio" "$tmp/cases.cpio" >"$initrd"
}

# boot runs the guest with initrd $1. The first serial port, where /init
# and the cases write, goes to stdout and to log $2; the second, the
# kernel's console, to log $3. The qemu pid goes to file $4.
boot() {
	local initrd="$1" log="$2" klog="$3" pidfile="$4"
	# loglevel=5 keeps warnings and worse in the kernel log; 8250.nr_uarts=2
	# and cryptomgr.notests spare probing and self-tests; panic=-1 turns a
	# panic into a reset, which -no-reboot makes an exit.
	local cmdline="console=ttyS1 loglevel=5 panic=-1 cryptomgr.notests 8250.nr_uarts=2"
	# thread=single: with one host thread per vCPU (qemu's default), the
	# kernel's live code patching (an int3 put into code another vCPU runs)
	# raced with TCG's translated code: once in a few dozen boots the guest
	# panicked in sched_clock_cpu ("Oops: int3"). Run both vCPUs on one
	# host thread instead.
	timeout --kill-after=10 "$LAB_TIMEOUT" \
		qemu-system-x86_64 -accel tcg,thread=single -machine pc -cpu qemu64 -smp 2 \
		-m "$LAB_MEMORY" -nographic -no-reboot -nic none \
		-serial stdio -serial "file:$klog" -monitor none -bios "$QBOOT" \
		-kernel "$LAB_DIR/vmlinux" -initrd "$initrd" -append "$cmdline" \
		-pidfile "$pidfile" </dev/null 2>&1 |
		stdbuf -oL tr -d '\r' | tee "$log"
}

# kernel_tail shows the end of the kernel log $1 after a failure.
kernel_tail() {
	[[ -s "$1" ]] || return 0
	say "the kernel log's last lines ($1):"
	tr -d '\r' <"$1" | tail -n 40 >&2
}

main() {
	[[ "$LAB_TIMEOUT" =~ ^[0-9]+$ && "$LAB_TIMEOUT" -gt $((TEST_SLACK + 30)) ]] ||
		die "LAB_TIMEOUT must be a number of seconds above $((TEST_SLACK + 30))"
	bash "$REPO/lab/build.sh"
	command -v go >/dev/null || die "go is not installed"
	(cd "$REPO" && CGO_ENABLED=0 go test -c -tags lab -o "$LAB_DIR/cases.test" ./lab/cases) ||
		die "could not compile lab/cases"

	local tmp
	tmp="$(mktemp -d "${TMPDIR:-/tmp}/volmount-lab-run.XXXXXX")"
	CLEANUP+=("rm -rf '$tmp'")
	build_initrd "$tmp" "$tmp/initrd" "$@"

	local log="$LAB_DIR/console.log" klog="$LAB_DIR/kernel.log"
	local start=$SECONDS qemu_status=0
	CLEANUP=("stop_qemu '$tmp/qemu.pid'" "${CLEANUP[@]}")
	boot "$tmp/initrd" "$log" "$klog" "$tmp/qemu.pid" || qemu_status=$?
	local took=$((SECONDS - start))

	local marker
	marker="$(grep -a "^$MARKER=[0-9]*\$" "$log" | tail -n 1)" || true
	if [[ -z "$marker" ]]; then
		kernel_tail "$klog"
		if [[ "$qemu_status" -eq 124 ]]; then
			die "the guest did not finish within ${LAB_TIMEOUT}s; console log: $log"
		fi
		die "the guest stopped after ${took}s without reporting a result" \
			"(qemu status $qemu_status); console log: $log"
	fi
	local status="${marker#"$MARKER="}"
	if [[ "$status" -ne 0 ]]; then
		kernel_tail "$klog"
		say "FAIL: the lab cases exited with status $status after ${took}s; console log: $log"
		exit "$status"
	fi
	say "ok: the lab cases passed in ${took}s"
}

main "$@"
