# Build stage: a static binary (CGO off: the embedded SQLite is pure Go).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git (see .dockerignore), so the version comes
# in as a build argument: docker build --build-arg VERSION=v1.2.3 .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/crmkpi ./cmd/crmkpi

# Run stage: no shell, no package manager, a non-root user. The user is
# numeric (distroless "nonroot" is 65532): with runAsNonRoot, kubelet
# refuses to start an image whose USER is a name it cannot check.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/crmkpi /usr/local/bin/crmkpi
USER 65532:65532
WORKDIR /home/nonroot
# The SQLite warehouse (the default sqlite:crmkpi.db) and amoCRM's rotated
# refresh token live here: mount a volume, or every restart re-syncs from
# scratch and loses the token. In a cluster, use PostgreSQL instead.
VOLUME /home/nonroot
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/crmkpi"]
CMD ["serve"]
