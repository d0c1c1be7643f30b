# Builds the ledger binary; docker-compose.yml runs it against KurrentDB.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/ledger ./cmd/ledger && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ledger /ledger
# The embedded store's directory, writable by the image's non-root user.
COPY --from=build --chown=nonroot:nonroot /out/data /data
EXPOSE 8080
ENV LEDGER_ADDR=:8080 LEDGER_STORE=/data/ledger.db
VOLUME /data
ENTRYPOINT ["/ledger", "serve"]
