# The sockleak image for deploy/kubernetes: a static binary on distroless.
#   docker build -t REGISTRY/sockleak:VERSION . && docker push REGISTRY/sockleak:VERSION
# It runs as root (the default here): reading other processes'
# /proc/PID/fd needs it, with the capabilities the DaemonSet adds.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /sockleak ./cmd/sockleak

FROM gcr.io/distroless/static-debian12
COPY --from=build /sockleak /sockleak
ENTRYPOINT ["/sockleak"]
CMD ["watch"]
