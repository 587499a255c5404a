# shellcheck shell=bash
# lib.sh: what volmount's bash scripts share. Source it after setting
# PROG (the name messages start with) and, for a script whose standard
# output carries something else, SAY_FD=2.

# CLEANUP holds commands to run when the script exits, whatever the
# outcome, the last added first.
CLEANUP=()
cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[i]}" || true
	done
}
trap cleanup EXIT

say() { printf '%s: %s\n' "$PROG" "$*" >&"${SAY_FD:-1}"; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
