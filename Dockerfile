# One image for every Slipway action: actions/<stage>/action.yml all run this image and pick their stage by the
# subcommand in `args`. The published image (publish.yml) and the one the tests run (scripts/image) are NOT built
# from this file: both are assembled without a daemon by `slipway build` (image-base scratch, image-root bin/skel,
# /slipway, the same entrypoint), reproducibly. This Dockerfile builds the same tree, user and entrypoint for
# those who build with Docker (e2e TestDockerfileAgrees checks that the `prebuilt` target matches). Targets:
#   prebuilt  FROM scratch + bin/slipway and bin/skel/ that scripts/image prepared on the host. Needs no base
#             image, so it builds on a machine that cannot pull (tests, CI here).
#   release   (default, last) builds ./cmd/slipway from source, reproducibly, in the Go image (named in full:
#             Podman has no short-name search registries).
# `prebuilt` comes first and depends on no later stage, so `--target prebuilt` never touches the Go image.
#
# Both targets copy the same root tree, laid out by scripts/image-root: /tmp (1777), the CA bundle, and a static
# busybox as /bin/sh with its applets as symlinks. The shell is for the build action, which runs the user's
# `command` with `sh -c` in this container: only busybox's tools are here, no compiler (use build-mode: runner in
# the release workflow to build with the runner's toolchain).
#
# No USER: "Docker actions must be run by the default Docker user (root). Do not use the USER instruction in your
# Dockerfile, because you won't be able to access the GITHUB_WORKSPACE directory." (GitHub, "Dockerfile support
# for GitHub Actions", USER: https://docs.github.com/en/actions/reference/workflows-and-actions/dockerfile-support#user).
# A fixed USER 1001 worked only where the runner's uid happens to be 1001 (GitHub-hosted runners). Instead the
# entrypoint starts as root and `--as-workspace-owner` makes slipway switch to the uid:gid that own
# GITHUB_WORKSPACE before any stage runs (internal/runas): what it and the build command write there belongs to
# the runner's user on every runner, so later run: steps of a non-root self-hosted runner can change and remove it.

ARG VERSION=devel

# base holds what both final images share.
FROM scratch AS base
ARG VERSION
LABEL org.opencontainers.image.title="slipway" \
      org.opencontainers.image.description="Slipway GitHub Actions: build, sbom, push, sign, attest, verify" \
      org.opencontainers.image.source="https://github.com/slipway/actions" \
      org.opencontainers.image.version="${VERSION}"
ENTRYPOINT ["/slipway", "--as-workspace-owner"]

FROM base AS prebuilt
COPY bin/skel/ /
COPY bin/slipway /slipway

FROM docker.io/library/golang:1.26-bookworm AS builder
ARG VERSION
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/image-root /usr/local/bin/image-root
RUN image-root /out/skel
COPY go.mod go.sum ./
# go.mod replaces github.com/glebarez/go-sqlite with this local module (docs/scan.md): it must be there first.
COPY third_party/ third_party/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X github.com/slipway/actions/internal/version.Version=${VERSION}" \
      -o /out/slipway ./cmd/slipway

FROM base AS release
COPY --from=builder /out/skel/ /
COPY --from=builder /out/slipway /slipway
