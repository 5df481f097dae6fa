# Build stage: a static binary (CGO off: the embedded SQLite is pure Go).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/crmkpi ./cmd/crmkpi

# Run stage: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/crmkpi /usr/local/bin/crmkpi
USER nonroot:nonroot
WORKDIR /home/nonroot
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/crmkpi"]
CMD ["serve"]
