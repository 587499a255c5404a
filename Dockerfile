# The recipe for volmount's plugin rootfs: a static binary plus the empty
# directories and files the plugin runtime mounts onto, nothing else.
#
# Where images can be pulled:
#   docker build -t volmount-rootfs .
#   docker create --name vm volmount-rootfs && docker export vm | tar -x -C rootfs/
# `make rootfs-docker` does this on machines that pull nothing, with a local
# stand-in for GO_IMAGE (scripts/engine.sh go-image), and checks the result.

ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Keep the directory list in step with ROOTFS_DIRS in scripts/plugin.sh.
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /rootfs/volmount ./plugin \
	&& mkdir -p /rootfs/dev /rootfs/etc /rootfs/mnt/volumes /rootfs/proc \
		/rootfs/run/docker/plugins /rootfs/sys /rootfs/tmp \
	&& chmod 1777 /rootfs/tmp \
	&& touch /rootfs/etc/hosts /rootfs/etc/resolv.conf

FROM scratch
COPY --from=build /rootfs/ /
ENTRYPOINT ["/volmount"]
