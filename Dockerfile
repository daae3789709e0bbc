# The sockleak image for deploy/kubernetes: a static binary on distroless.
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd) \
#     -t REGISTRY/sockleak:v1.2.3 . && docker push REGISTRY/sockleak:v1.2.3
# It runs as root (the default here): reading other processes'
# /proc/PID/fd needs it, with the capabilities the DaemonSet adds.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# sockleak --version and sockleak_build_info: the context has no .git
# (.dockerignore), so the build stamps them, as scripts/release.sh does.
ARG VERSION=dev
ARG COMMIT=""
ARG DATE=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w \
      -X github.com/sockleak/sockleak/internal/buildinfo.version=${VERSION} \
      -X github.com/sockleak/sockleak/internal/buildinfo.commit=${COMMIT} \
      -X github.com/sockleak/sockleak/internal/buildinfo.date=${DATE}" \
    -o /sockleak ./cmd/sockleak

FROM gcr.io/distroless/static-debian12
COPY --from=build /sockleak /sockleak
ENTRYPOINT ["/sockleak"]
CMD ["watch"]
