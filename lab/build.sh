#!/usr/bin/env bash
# build.sh builds the lab that volmount's network tests run in: a guest
# kernel with the NFS and CIFS clients and servers, and an initramfs that
# starts a real NFS server and a real SMB server (see lab/README.md).
#
# Usage: lab/build.sh
#
# It is idempotent and prints nothing when everything is up to date. What
# it makes goes to LAB_DIR (default build/lab in the repository):
#
#	vmlinux          the guest kernel, decompressed so qemu boots it
#	                 directly through its PVH note
#	modules/         the kernel modules the lab needs: decompressed, their
#	                 signatures stripped, with modules.dep and load lists
#	initramfs.cpio   busybox, the modules, the server programs with their
#	                 shared libraries, and lab/guest/ as / (no test binary:
#	                 lab/run.sh appends it as a second archive)
#
# Host packages come from the configured Debian mirror with apt-get. The
# guest kernel and ksmbd-tools 3.5 are fetched with `apt-get download` and
# unpacked, never installed: the kernel is Debian's 6.12 from trixie (see
# KERNEL_SUITE), ksmbd-tools comes from bookworm-backports (bookworm's 3.4
# fails every tree connect). Each suite is added as an apt source, pinned
# so that nothing is installed from it, unless one is configured already.
#
# Environment:
#	LAB_DIR            where the lab is built (default: <repo>/build/lab)
#	LAB_KERNEL_SUITE   the Debian suite the kernel comes from (default:
#	                   trixie)
#	LAB_KERNEL         the kernel package's version string, for example
#	                   6.12.117+deb13-amd64 (default: what the suite's
#	                   linux-image-amd64 depends on at the first build)
set -euo pipefail

readonly PROG="lab/build.sh"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO
readonly GUEST="$REPO/lab/guest"
readonly LAB_DIR="${LAB_DIR:-$REPO/build/lab}"

readonly BACKPORTS=bookworm-backports
# KERNEL_SUITE: bookworm-backports' 6.12.95 BUGs in generic_shutdown_super
# ("Busy inodes after unmount of cifs") in about a third of the runs, when
# a CIFS umount follows a file's close; trixie's 6.12.117 never did.
readonly KERNEL_SUITE="${LAB_KERNEL_SUITE:-trixie}"
readonly APT_LOG="$LAB_DIR/apt.log"

# HOST_PACKAGES are installed on the host. libglib2.0-0 and libnl-* are
# ksmbd-tools' libraries, copied into the guest from the host.
readonly HOST_PACKAGES=(
	qemu-system-x86 qemu-system-data busybox-static nfs-kernel-server
	rpcbind xz-utils zstd cpio kmod libglib2.0-0 libnl-3-200 libnl-genl-3-200
)
readonly KSMBD_MIN=3.5

# Modules, by name; build.sh adds each one's dependencies. Servers load
# first at boot, clients in the background while the servers start; the
# others are in the initramfs for `modprobe` when a case needs them. cifs
# and ksmbd ask for their crypto at mount time, hence gcm, ccm and cmac.
readonly SERVER_MODULES=(nfsd ksmbd gcm ccm cmac ghash_generic)
readonly CLIENT_MODULES=(nfsv3 nfsv4 cifs nls_utf8)
readonly OTHER_MODULES=(loop ext4 xfs 9p 9pnet_virtio)

# GUEST_PROGRAMS are copied with the libraries ldd lists. /sbin is
# /usr/sbin on the host and in the guest.
readonly GUEST_PROGRAMS=(
	/usr/sbin/rpcbind /usr/sbin/rpcinfo /usr/sbin/rpc.statd
	/usr/sbin/sm-notify /usr/sbin/rpc.nfsd /usr/sbin/rpc.mountd
	/usr/sbin/exportfs /usr/sbin/nfsdcld
)

readonly SAY_FD=2
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

# new_tmp makes a temporary directory that is removed when the script exits
# and stores its path in the variable named $1.
new_tmp() {
	local dir
	dir="$(mktemp -d "${TMPDIR:-/tmp}/volmount-lab.XXXXXX")"
	CLEANUP+=("rm -rf '$dir'")
	printf -v "$1" '%s' "$dir"
}

# ---- host packages ---------------------------------------------------------

# pkg_ok tells whether Debian package $1 is installed at version $2 or later.
pkg_ok() {
	local v
	v="$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null)" || return 1
	[[ "$v" == "install ok installed "* ]] || return 1
	[[ -z "${2:-}" ]] || dpkg --compare-versions "${v##* }" ge "$2"
}

# suite_configured tells whether an apt source names Debian suite $1.
suite_configured() {
	grep -rqsE "^(Suites:.*[[:space:]]$1([[:space:]]|\$)|deb .*[[:space:]]$1[[:space:]])" \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list
}

# add_suite adds Debian suite $1 as an apt source unless one is there, and
# pins it at priority 100, so that only packages asked for as pkg/$1 (and
# what they need) could come from it. lab/build.sh only downloads from it.
add_suite() {
	local suite="$1"
	local src="/etc/apt/sources.list.d/volmount-$suite.sources"
	local pin="/etc/apt/preferences.d/volmount-$suite"
	if ! suite_configured "$suite"; then
		say "adding Debian $suite to apt sources ($src)"
		cat >"$src" <<-EOF
			# Added by volmount's lab/build.sh, which downloads the lab's guest
			# kernel or ksmbd-tools from it and installs nothing.
			# Pinned in $pin: nothing comes from it unless asked.
			Types: deb
			URIs: http://deb.debian.org/debian
			Suites: $suite
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	if [[ ! -e "$pin" ]]; then
		cat >"$pin" <<-EOF
			# Added by volmount's lab/build.sh: take nothing from $suite unless asked.
			Package: *
			Pin: release n=$suite
			Pin-Priority: 100
		EOF
	fi
}

APT_UPDATED=
# apt_update runs apt-get update once per build, after making sure the
# suites the lab downloads from are apt sources.
apt_update() {
	[[ -z "$APT_UPDATED" ]] || return 0
	add_suite "$BACKPORTS"
	add_suite "$KERNEL_SUITE"
	say "apt-get update (log: $APT_LOG)"
	if ! apt-get update -q >"$APT_LOG" 2>&1; then
		tail -n 20 "$APT_LOG" >&2
		die "apt-get update failed; log: $APT_LOG"
	fi
	APT_UPDATED=1
}

install_packages() {
	local missing=() p
	for p in "${HOST_PACKAGES[@]}"; do
		pkg_ok "$p" || missing+=("$p")
	done
	[[ ${#missing[@]} -gt 0 ]] || return 0
	[[ "$(id -u)" == 0 ]] || die "installing ${missing[*]} needs root"

	# There is no init system to start services, and the host must not
	# run an NFS server of its own: policy-rc.d forbids starting any.
	local policy=/usr/sbin/policy-rc.d
	if [[ ! -e "$policy" ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		CLEANUP+=("rm -f '$policy'")
	fi
	apt_update
	say "installing ${missing[*]} (log: $APT_LOG)"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >>"$APT_LOG" 2>&1; then
		tail -n 20 "$APT_LOG" >&2
		die "apt-get install failed; log: $APT_LOG"
	fi
}

# download fetches the Debian packages named in $2... into directory $1.
download() {
	local dir="$1"
	shift
	apt_update
	say "downloading $* (log: $APT_LOG)"
	# apt drops to its own user to download: let it write there.
	chown _apt "$dir" 2>/dev/null || true
	if ! (cd "$dir" && apt-get download -q "$@") >>"$APT_LOG" 2>&1; then
		tail -n 20 "$APT_LOG" >&2
		die "apt-get download $* failed; log: $APT_LOG"
	fi
}

# ---- kernel ----------------------------------------------------------------

# resolve_kernel sets KERNEL to the 6.12 kernel's version string:
# LAB_KERNEL, the one already built from KERNEL_SUITE, or the one the
# suite's linux-image-amd64 depends on now.
resolve_kernel() {
	KERNEL="${LAB_KERNEL:-}"
	local built
	built="$(cat "$LAB_DIR/modules/source" 2>/dev/null)" || true
	if [[ -z "$KERNEL" && "${built% *}" == "$KERNEL_SUITE" ]]; then
		KERNEL="${built#* }"
	fi
	if [[ -n "$KERNEL" ]]; then
		return 0
	fi
	apt_update
	KERNEL="$(apt-cache depends "linux-image-amd64/$KERNEL_SUITE" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.12\.[^ ]*-amd64\)$/\1/p' | head -n 1)"
	[[ -n "$KERNEL" ]] ||
		die "no 6.12 linux-image-amd64 in $KERNEL_SUITE (apt-cache depends found none)"
}

# extract_vmlinux writes the kernel inside bzImage $1 to $2: the payload
# is found by its compression magic and checked to be an ELF file.
extract_vmlinux() {
	local image="$1" out="$2" magic tool off
	for magic in '\x28\xb5\x2f\xfd:zstd' '\xfd\x37\x7a\x58\x5a\x00:xz'; do
		tool="${magic##*:}"
		while read -r off; do
			tail -c "+$((off + 1))" "$image" | "$tool" -dcq >"$out" 2>/dev/null || true
			if [[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" == '177ELF' ]]; then
				return 0
			fi
		done < <(LC_ALL=C grep -obUaP "${magic%:*}" "$image" | cut -d: -f1)
	done
	die "no zstd or xz payload with an ELF kernel in $image"
}

# strip_signature removes the signature appended to module $1, so that the
# guest does not spend time checking it under emulation. The layout is the
# kernel's: signature, struct module_signature (12 bytes, sig_len last,
# big-endian), then the 28-byte marker.
strip_signature() {
	local ko="$1" marker='~Module signature appended~' size len
	[[ "$(tail -c 28 "$ko")" == "$marker" ]] || return 0
	size="$(stat -c %s "$ko")"
	len="$(od -An -tu1 -j $((size - 32)) -N 4 "$ko" |
		awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')"
	truncate -s $((size - 40 - len)) "$ko"
}

# load_list prints the modules to insert for the names in $3..., in order
# and once each, as paths relative to the tree $1 of kernel version $2.
# Arch-specific crypto is left out: qemu64 lacks the CPU features it needs
# and the generic code is there.
load_list() {
	local tree="$1" version="$2"
	shift 2
	local m
	for m in "$@"; do
		modprobe -d "$tree" -S "$version" --show-depends "$m" ||
			die "module $m not found in kernel $version"
	done | awk -v base="$tree/lib/modules/$version/" '
		$1 == "insmod" {
			path = substr($2, length(base) + 1)
			sub(/\.xz$/, "", path)
			if (path !~ /^kernel\/arch\/x86\/crypto\// && !seen[path]++) print path
		}'
}

build_kernel() {
	local version="$1" tmp tree deb
	new_tmp tmp
	download "$tmp" "linux-image-$version/$KERNEL_SUITE"
	deb="$(ls "$tmp"/linux-image-*.deb)"
	say "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp/root"
	rm -f "$deb"
	# tree is the root that holds lib/modules: / or, merged, /usr.
	for tree in "$tmp/root" "$tmp/root/usr" ""; do
		[[ -n "$tree" ]] || die "$(basename "$deb") has no modules for $version"
		[[ ! -d "$tree/lib/modules/$version" ]] || break
	done
	depmod -b "$tree" "$version"

	local out="$tmp/modules" lists="$tmp/lists" path
	mkdir -p "$out/lib/modules/$version" "$lists"
	load_list "$tree" "$version" "${SERVER_MODULES[@]}" >"$lists/servers.list"
	load_list "$tree" "$version" "${CLIENT_MODULES[@]}" |
		grep -vxFf "$lists/servers.list" >"$lists/clients.list" || true
	load_list "$tree" "$version" "${OTHER_MODULES[@]}" >"$lists/others.list"

	# Copy each module once, decompressed and unsigned.
	sort -u "$lists"/*.list | while read -r path; do
		mkdir -p "$(dirname "$out/lib/modules/$version/$path")"
		xz -dc "$tree/lib/modules/$version/$path.xz" >"$out/lib/modules/$version/$path"
		strip_signature "$out/lib/modules/$version/$path"
	done
	cp "$tree/lib/modules/$version"/modules.{builtin,builtin.modinfo,order} \
		"$out/lib/modules/$version/"
	depmod -b "$out" "$version"
	cp "$lists/servers.list" "$lists/clients.list" "$out/lib/modules/$version/"
	echo "$KERNEL_SUITE $version" >"$out/source"

	extract_vmlinux "$tmp/root/boot/vmlinuz-$version" "$tmp/vmlinux"
	rm -rf "$LAB_DIR/modules"
	mv "$out" "$LAB_DIR/modules"
	mv "$tmp/vmlinux" "$LAB_DIR/vmlinux"
	say "kernel $version: vmlinux $(du -m "$LAB_DIR/vmlinux" | cut -f1) MB," \
		"$(sort -u "$lists"/*.list | wc -l) modules"
}

# kernel_stamp is what the kernel build depends on: the kernel $1 and the
# modules asked for.
kernel_stamp() {
	echo "$KERNEL_SUITE $1 | ${SERVER_MODULES[*]} | ${CLIENT_MODULES[*]} | ${OTHER_MODULES[*]}"
}

ensure_kernel() {
	local stamp
	resolve_kernel
	stamp="$(kernel_stamp "$KERNEL")"
	if [[ -s "$LAB_DIR/vmlinux" &&
		"$(cat "$LAB_DIR/kernel.stamp" 2>/dev/null)" == "$stamp" ]]; then
		return 0
	fi
	build_kernel "$KERNEL"
	echo "$stamp" >"$LAB_DIR/kernel.stamp"
}

# ---- ksmbd-tools -----------------------------------------------------------

# ensure_ksmbd unpacks ksmbd-tools 3.5 from bookworm-backports into
# LAB_DIR/ksmbd-tools: bookworm's 3.4 fails every tree connect.
ensure_ksmbd() {
	local dir="$LAB_DIR/ksmbd-tools" tmp deb
	if [[ -x "$dir/usr/libexec/ksmbd.tools" ]]; then
		return 0
	fi
	new_tmp tmp
	download "$tmp" "ksmbd-tools/$BACKPORTS"
	deb="$(ls "$tmp"/ksmbd-tools_*.deb)"
	dpkg --compare-versions "$(dpkg-deb -f "$deb" Version)" ge "$KSMBD_MIN" ||
		die "$(basename "$deb") is older than $KSMBD_MIN"
	rm -rf "$dir"
	dpkg-deb -x "$deb" "$tmp/root"
	mkdir -p "$dir"
	cp -a "$tmp/root/usr" "$dir/"
	dpkg-deb -f "$deb" Version >"$dir/version"
}

# ---- initramfs -------------------------------------------------------------

# copy_program copies program $2 into root $1 as $3, with every shared
# library ldd lists for it at the path the host has it.
copy_program() {
	local root="$1" prog="$2" dest="$3" lib libs
	cp -L "$prog" "$root$dest"
	libs="$(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')"
	for lib in $libs; do
		[[ -e "$root$lib" ]] || cp -L "$lib" "$root$lib"
	done
}

# fill_root lays out the guest's / in directory $1: merged /usr as on the
# host, the server programs, busybox for every other command, the modules
# and lab/guest/.
fill_root() {
	local root="$1" prog applet f
	mkdir -p "$root"/usr/{bin,sbin,libexec,lib/x86_64-linux-gnu,lib64} \
		"$root"/{dev,etc,proc,sys,tmp,run,root,export,srv/smb,lab} \
		"$root"/var/lib/nfs/{rpc_pipefs,v4recovery,nfsdcld,sm,sm.bak}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	mknod -m 0600 "$root/dev/console" c 5 1
	mknod -m 0666 "$root/dev/null" c 1 3
	touch "$root"/var/lib/nfs/{etab,rmtab,state}

	for prog in "${GUEST_PROGRAMS[@]}"; do
		copy_program "$root" "$prog" "$prog"
	done
	copy_program "$root" "$LAB_DIR/ksmbd-tools/usr/libexec/ksmbd.tools" \
		/usr/libexec/ksmbd.tools
	for prog in mountd adduser addshare control; do
		ln -s ../libexec/ksmbd.tools "$root/usr/sbin/ksmbd.$prog"
	done

	cp "$(command -v busybox)" "$root/usr/bin/busybox"
	for applet in $(busybox --list-full); do
		applet="usr/${applet#usr/}"
		[[ -e "$root/$applet" || -L "$root/$applet" ]] ||
			ln -s /usr/bin/busybox "$root/$applet"
	done

	cp -a "$LAB_DIR/modules/lib/modules" "$root/usr/lib/"
	[[ -f /etc/netconfig ]] || die "/etc/netconfig is missing (package libtirpc-common)"
	for f in netconfig services protocols rpc; do
		[[ ! -f "/etc/$f" ]] || cp "/etc/$f" "$root/etc/"
	done
	cp -a "$GUEST/etc/." "$root/etc/"
	install -m 0755 "$GUEST/init" "$root/init"
}

# initramfs_stamp hashes everything the initramfs is made of.
initramfs_stamp() {
	{
		cat "${BASH_SOURCE[0]}" "$LAB_DIR/kernel.stamp" "$LAB_DIR/ksmbd-tools/version"
		find "$GUEST" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
		dpkg-query -W busybox-static nfs-kernel-server nfs-common rpcbind libc6
	} | sha256sum | cut -d' ' -f1
}

ensure_initramfs() {
	local stamp tmp
	stamp="$(initramfs_stamp)"
	if [[ -s "$LAB_DIR/initramfs.cpio" &&
		"$(cat "$LAB_DIR/initramfs.stamp" 2>/dev/null)" == "$stamp" ]]; then
		return 0
	fi
	new_tmp tmp
	fill_root "$tmp/root"
	(cd "$tmp/root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) \
		>"$tmp/initramfs.cpio"
	mv "$tmp/initramfs.cpio" "$LAB_DIR/initramfs.cpio"
	echo "$stamp" >"$LAB_DIR/initramfs.stamp"
	say "initramfs: $(du -m "$LAB_DIR/initramfs.cpio" | cut -f1) MB"
}

main() {
	[[ $# -eq 0 ]] || die "usage: $PROG (no arguments)"
	mkdir -p "$LAB_DIR"
	install_packages
	ensure_kernel
	ensure_ksmbd
	ensure_initramfs
}

main "$@"
