# syntax=docker/dockerfile:1
# switchyard's container image: docs/operating.md#the-container-image.
#
#   docker build -t switchyard .
#   docker run --rm -p 8080:8080 switchyard demo --serve --registry /var/lib/switchyard/registry --addr :8080
#
# Three stages: onnxruntime from the same checksummed npm package as
# `make ort`, the binary built with Go, and a small Debian runtime that
# runs it as a user without privileges.

# onnxruntime's shared library, fetched by the script `make ort` runs,
# which checks the npm tarball and the library against pinned sha256 sums.
FROM node:22-bookworm-slim AS ort
WORKDIR /src
COPY scripts/fetch-ort.sh scripts/
RUN scripts/fetch-ort.sh && cp .cache/ort/*/linux-*/libonnxruntime.so.1 /libonnxruntime.so.1

# The binary. onnxruntime_go loads the library at run time through cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/switchyard ./cmd/switchyard

# The runtime: glibc and libstdc++ for onnxruntime, bash for the health
# check, nothing else.
FROM debian:bookworm-slim
RUN groupadd --gid 10001 switchyard \
 && useradd --no-log-init --uid 10001 --gid switchyard --home-dir /var/lib/switchyard --no-create-home --shell /usr/sbin/nologin switchyard \
 && mkdir -p /var/lib/switchyard/registry /var/lib/switchyard/data \
 && chown -R switchyard:switchyard /var/lib/switchyard
COPY --from=ort /libonnxruntime.so.1 /usr/local/lib/libonnxruntime.so.1
COPY --from=build /out/switchyard /usr/local/bin/switchyard
COPY deploy/docker/healthcheck.sh /usr/local/bin/switchyard-healthcheck
ENV SWITCHYARD_ORT_LIB=/usr/local/lib/libonnxruntime.so.1
USER 10001:10001
WORKDIR /var/lib/switchyard
VOLUME ["/var/lib/switchyard/registry", "/var/lib/switchyard/data"]
EXPOSE 8080
# Healthy while the server is ready to serve (GET /readyz answers 200).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["switchyard-healthcheck"]
ENTRYPOINT ["switchyard"]
CMD ["serve", "--registry", "/var/lib/switchyard/registry", "--data-dir", "/var/lib/switchyard/data", "--addr", ":8080"]
