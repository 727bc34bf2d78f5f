# One image for every Slipway action: actions/<stage>/action.yml all run this image and pick their stage by the
# subcommand in `args`. Targets:
#   prebuilt  FROM scratch + bin/slipway, bin/ca-certificates.crt and bin/skel/ (tmp/, mode 1777) that scripts/image
#             prepared on the host. Needs no base image, so it builds on a machine that cannot pull (tests, CI here).
#   release   (default, last) builds ./cmd/slipway from source, reproducibly, in the Go image (named in full:
#             Podman has no short-name search registries).
# `prebuilt` comes first and depends on no later stage, so `--target prebuilt` never touches the Go image.
#
# USER 1001:1001 is the uid that owns the workspace and the file-command files ($GITHUB_OUTPUT,
# $GITHUB_STEP_SUMMARY) on GitHub-hosted runners; e2e/README.md says how the act tests mirror that.

ARG VERSION=devel

# base holds what both final images share.
FROM scratch AS base
ARG VERSION
LABEL org.opencontainers.image.title="slipway" \
      org.opencontainers.image.description="Slipway GitHub Actions: build, sbom, push, sign, attest, verify" \
      org.opencontainers.image.source="https://github.com/slipway/actions" \
      org.opencontainers.image.version="${VERSION}"
USER 1001:1001
ENTRYPOINT ["/slipway"]

FROM base AS prebuilt
# skel holds /tmp (1777): scratch has none, and Go's os.TempDir and tools that unpack need one.
COPY bin/skel/ /
COPY bin/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY bin/slipway /slipway

FROM docker.io/library/golang:1.26-bookworm AS builder
ARG VERSION
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X github.com/slipway/actions/internal/version.Version=${VERSION}" \
      -o /out/slipway ./cmd/slipway \
 && mkdir -p /out/skel/tmp && chmod 1777 /out/skel/tmp

FROM base AS release
COPY --from=builder /out/skel/ /
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/slipway /slipway
