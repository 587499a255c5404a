#!/usr/bin/env bash
# plugin.sh assembles volmount's managed plugin directory (config.json beside
# rootfs/) and creates the plugin in the engine at DOCKER_HOST.
#
# Usage: scripts/plugin.sh COMMAND ARGS
#
#   rootfs DIR BINARY     assemble DIR from config.json and a built BINARY
#   rootfs-docker DIR     assemble DIR through the Dockerfile; needs an engine
#                         but pulls no image (see engine.sh go-image)
#   check DIR             check that DIR/rootfs holds only what volmount needs
#   create NAME DIR       create plugin NAME from DIR, replacing one of that
#                         name; while the daemon knows volumes of it, upgrade
#                         it in place instead (docker plugin upgrade through a
#                         registry on loopback), which keeps them; FORCE=1
#                         replaces it anyway and deletes their data
#
# Run it from the repository root.
set -euo pipefail

readonly PROG="${0##*/}"

# The rootfs: the binary plus the empty directories and files the plugin
# runtime mounts onto. The Dockerfile makes the same; `check` holds both to it.
readonly ROOTFS_DIRS=(dev etc mnt mnt/volumes proc run run/docker run/docker/plugins sys tmp)
readonly ROOTFS_FILES=(etc/hosts etc/resolv.conf)
readonly BINARY_NAME=volmount
# The default source of config.json's "credentials" mount.
readonly CREDENTIALS_DIR=/etc/volmount/credentials

# Files the engine adds to every container, which `docker export` carries.
readonly EXPORT_ARTEFACTS=(.dockerenv etc/hostname etc/mtab dev/console dev/pts dev/shm)

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# expected prints the listing `listing` must give for a good rootfs.
expected() {
	local p
	for p in "${ROOTFS_DIRS[@]}"; do
		[[ "$p" == tmp ]] && echo "d 1777 $p" || echo "d 755 $p"
	done
	for p in "${ROOTFS_FILES[@]}"; do
		echo "f 644 $p"
	done
	echo "f 755 $BINARY_NAME"
}

# listing prints type, mode and path of everything under directory $1.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %P\n')
}

cmd_check() {
	local dir="${1:?usage: check DIR}" diff
	[[ -f "$dir/config.json" ]] || die "$dir/config.json is missing"
	if ! diff="$(diff <(expected | sort -k3) <(listing "$dir/rootfs" | sort -k3))"; then
		printf '%s\n' "$diff" >&2
		die "$dir/rootfs differs from what volmount's rootfs must hold (< wanted, > found)"
	fi
}

# skeleton makes the empty directories and files of a rootfs in $1.
skeleton() {
	local root="$1" p
	for p in "${ROOTFS_DIRS[@]}"; do
		mkdir -p "$root/$p" # ROOTFS_DIRS lists parents first
		chmod 0755 "$root/$p"
	done
	chmod 1777 "$root/tmp"
	for p in "${ROOTFS_FILES[@]}"; do
		install -m 0644 /dev/null "$root/$p"
	done
}

cmd_rootfs() {
	local dir="${1:?usage: rootfs DIR BINARY}" bin="${2:?usage: rootfs DIR BINARY}"
	[[ -x "$bin" ]] || die "$bin is missing; run: make build"
	rm -rf "$dir"
	mkdir -p "$dir/rootfs"
	skeleton "$dir/rootfs"
	install -m 0755 "$bin" "$dir/rootfs/$BINARY_NAME"
	install -m 0644 config.json "$dir/config.json"
	cmd_check "$dir"
	say "assembled $dir from $bin"
}

cmd_rootfs_docker() {
	local dir="${1:?usage: rootfs-docker DIR}" goimage image ctr log p
	goimage="$(scripts/engine.sh go-image)"
	image="volmount-build/rootfs:$$"
	log="${dir%/}.log"
	say "building the rootfs through the Dockerfile (GO_IMAGE=$goimage, log $log)"
	# The legacy builder: Debian's docker.io comes without buildx.
	if ! DOCKER_BUILDKIT=0 docker build --network none --force-rm --build-arg GO_IMAGE="$goimage" \
		-t "$image" . >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "docker build failed; log: $log"
	fi
	CLEANUP+=("docker rmi '$image' >/dev/null")
	ctr="$(docker create "$image")"
	CLEANUP+=("docker rm '$ctr' >/dev/null")

	rm -rf "$dir"
	mkdir -p "$dir/rootfs"
	docker export "$ctr" | tar -x -C "$dir/rootfs"
	for p in "${EXPORT_ARTEFACTS[@]}"; do
		rm -rf "${dir:?}/rootfs/$p"
	done
	# The engine's mount targets for the same files are mode 0755 empty
	# files; the Dockerfile's are 0644.
	for p in "${ROOTFS_FILES[@]}"; do
		[[ -s "$dir/rootfs/$p" ]] || chmod 0644 "$dir/rootfs/$p"
	done
	install -m 0644 config.json "$dir/config.json"
	cmd_check "$dir"
	say "assembled $dir through the Dockerfile"
}

# plugin_in_use tells whether the daemon refuses to remove plugin $1 because
# it still knows volumes of it; it also leaves $1 disabled.
plugin_in_use() {
	local out
	if [[ "$(docker plugin inspect -f '{{.Enabled}}' "$1")" == true ]]; then
		out="$(docker plugin disable "$1" 2>&1)" && return 1
		[[ "$out" == *"in use"* ]] && return 0
		die "disable $1: $out"
	fi
	out="$(docker plugin rm "$1" 2>&1)" && return 1
	[[ "$out" == *"in use"* ]] && return 0
	die "remove $1: $out"
}

cmd_create() {
	local name="${1:?usage: create NAME DIR}" dir="${2:?usage: create NAME DIR}"
	[[ -f "$dir/config.json" && -d "$dir/rootfs" ]] || die "$dir is not a plugin directory"
	if docker plugin inspect "$name" >/dev/null 2>&1; then
		if plugin_in_use "$name"; then
			if [[ "${FORCE:-}" != 1 ]]; then
				upgrade "$name" "$dir"
				return 0
			fi
			say "FORCE=1: replacing $name although the engine has volumes of it"
			docker plugin disable -f "$name" >/dev/null 2>&1 || true
			docker plugin rm -f "$name" >/dev/null
		fi
		docker plugin rm -f "$name" >/dev/null 2>&1 || true
		say "removed the old $name"
	fi
	local out
	if ! out="$(docker plugin create "$name" "$dir" 2>&1)"; then
		if [[ "$out" == *"already exists"* ]]; then
			# Docker keeps one copy of a layer and refuses a second plugin
			# with a byte-identical rootfs.
			out+=" (another plugin has this very rootfs; assemble it anew, e.g. make rootfs)"
		fi
		die "create $name: $out"
	fi
	say "created plugin $name from $dir"
	credentials_dir
}

# upgrade replaces the rootfs and config of plugin $1, which the engine
# still has volumes of, with those of directory $2, keeping its volumes,
# their data and its settings: `docker plugin upgrade` keeps the propagated
# mount, where volmount keeps everything, while `docker plugin rm` deletes
# it. The upgrade needs a registry to pull from: a private one on loopback
# for the few seconds it takes. The plugin is left disabled, as the engine
# unmounts everything of a plugin it disables; running containers keep
# their own copies of their mounts.
upgrade() {
	local name="$1" dir="$2" ref
	if ! scripts/engine.sh registry-status; then
		scripts/engine.sh registry-start >/dev/null || die "cannot start a registry for the upgrade;" \
			"remove the volumes first, or replace the plugin anyway with FORCE=1 (deletes their data)"
		CLEANUP+=("scripts/engine.sh registry-stop >/dev/null")
	fi
	ref="$(scripts/engine.sh registry-addr)/volmount-upgrade:$(date +%s)"
	docker plugin create "$ref" "$dir" >/dev/null
	CLEANUP+=("docker plugin rm -f '$ref' >/dev/null 2>&1")
	docker plugin push "$ref" >/dev/null
	docker plugin disable -f "$name" >/dev/null 2>&1 || true
	docker plugin upgrade --grant-all-permissions --skip-remote-check "$name" "$ref" >/dev/null
	say "upgraded $name in place from $dir: its volumes, their data and its settings are kept"
	credentials_dir
}

# credentials_dir makes the host directory config.json binds as the
# plugin's credentials directory: the engine refuses to start a plugin
# whose mount source is missing.
credentials_dir() {
	if [[ ! -d "$CREDENTIALS_DIR" ]]; then
		install -d -m 0700 "$CREDENTIALS_DIR"
		say "made $CREDENTIALS_DIR for CIFS credentials files (mode 0700)"
	fi
}

main() {
	local cmd="${1:-}"
	shift || true
	case "$cmd" in
	rootfs) cmd_rootfs "$@" ;;
	rootfs-docker) cmd_rootfs_docker "$@" ;;
	check) cmd_check "$@" ;;
	create) cmd_create "$@" ;;
	*)
		sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
}

main "$@"
