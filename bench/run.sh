#!/usr/bin/env bash
# run.sh is `make bench`: it runs the whole benchmark suite of issue 3 and
# prints one table (measure, volmount, reference, ratio, goal, met). Every
# figure in it is measured in this run. It needs root: volmount bind-mounts
# directory volumes, and the container benchmark uses the private test
# engine.
#
# Usage: bench/run.sh BINARY
#
#   BINARY   the volmount binary to measure (make build's)
#
# Environment: PAIRS (paired runs per measure, default 9), BENCHTIME (go
# test -benchtime of each paired run, default 300x), CONTAINER_PAIRS
# (docker run pairs per volume kind, default 50), OUT (default build/bench:
# the rows, raw outputs, plugin logs and the table).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PROG="${0##*/}"
PAIRS="${PAIRS:-9}"
CONTAINER_PAIRS="${CONTAINER_PAIRS:-50}"
BENCHTIME="${BENCHTIME:-300x}"
OUT="${OUT:-build/bench}"

say() { printf '%s: %s\n' "$PROG" "$*"; }

[[ $# -eq 1 && -x "$1" ]] || { echo "usage: $PROG BINARY (run make bench)" >&2; exit 2; }
[[ "$(id -u)" == 0 ]] || { echo "$PROG: needs root" >&2; exit 1; }
BINARY="$(realpath "$1")"

rm -rf "$OUT"
mkdir -p "$OUT"
go build -o "$OUT/vmbench" ./bench/cmd/vmbench

# FAILED lists the parts that did not finish; each gets a row saying so.
FAILED=()
not_measured() {
	local part="$1" rows="$2" log="$3"
	FAILED+=("$part")
	printf '%s: not measured (see %s)\t-\t-\t-\t-\tno\n' "$part" "$log" >>"$rows"
}

machine() {
	local commit cpu mem dev journal
	commit="$(git rev-parse --short HEAD)"
	# What the measured binaries are built from: Go code and modules.
	git diff --quiet HEAD -- '*.go' go.mod go.sum 2>/dev/null ||
		commit+=" + uncommitted Go changes"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit:  $commit"
	cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	mem="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "machine: $(nproc) cores ($cpu), $mem, kernel $(uname -r)"
	# An ext4 with a journal has an entry <device>-<n> in /proc/fs/jbd2.
	dev="$(findmnt -no SOURCE -T /var/tmp)"
	journal="no journal"
	compgen -G "/proc/fs/jbd2/${dev##*/}-*" >/dev/null && journal="journal"
	echo "disk:    $(findmnt -no FSTYPE,SOURCE,OPTIONS -T /var/tmp | tr -s " "), $journal"
	echo "         (the plugin roots are in /var/tmp, on the disk of /var/lib/docker)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the end)"
}

# The Go benchmarks run first, before vmbench creates and deletes its
# 10,000 scale volumes: when they ran right after it, the first pairs on the
# disk were up to 6 times slower than the later ones.
say "1/3 Go benchmarks: round trip and in-process driver cycle ($PAIRS pairs of $BENCHTIME)"
if go test -run '^$' -bench '^Benchmark(RoundTrip|DriverCycle)$' -benchtime "$BENCHTIME" \
	-count 1 -timeout 20m ./bench -args -pairs="$PAIRS" -plugin="$BINARY" \
	>"$OUT/gobench.txt" 2>&1 &&
	"$OUT/vmbench" gobench -out "$OUT/rows-2-gobench.tsv" <"$OUT/gobench.txt"; then
	:
else
	not_measured "go test -bench" "$OUT/rows-2-gobench.tsv" "$OUT/gobench.txt"
fi

say "2/3 the plugin socket: round trip, scale, concurrency, stuck Mount (vmbench run)"
if ! "$OUT/vmbench" run -plugin "$BINARY" -out "$OUT/rows-3-vmbench.tsv" -pairs "$PAIRS" \
	-log "$OUT/plugins.log" 2>&1 | tee "$OUT/vmbench.log"; then
	not_measured "vmbench run" "$OUT/rows-3-vmbench.tsv" "$OUT/vmbench.log"
fi

say "3/3 container start in the private test engine (bench/container-start.sh)"
if ! PAIRS="$CONTAINER_PAIRS" KEEP_LOG="$OUT/container-start.tsv" \
	bench/container-start.sh "$OUT/rows-1-container.tsv" 2>&1 |
	tee "$OUT/container-start.log"; then
	not_measured "container start" "$OUT/rows-1-container.tsv" "$OUT/container-start.log"
fi

{
	echo
	machine
	echo
	"$OUT/vmbench" table "$OUT"/rows-*.tsv
} | tee "$OUT/table.txt"
if ((${#FAILED[@]} > 0)); then
	say "not measured: ${FAILED[*]}" >&2
	exit 1
fi
