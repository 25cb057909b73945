# syntax=docker/dockerfile:1
# Emporium server image: `docker build -t emporium:local .`
#   docker run -p 8080:8080 -v emporium-data:/var/lib/emporium emporium:local
# runs the all-in-one embedded server (SQLite in the data volume, generated API key in
# /var/lib/emporium/api-key). compose.yaml runs it on PostgreSQL, MongoDB and Redis.

# --- build -------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds; the binary is copied out
# of the cached target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p emporium --locked \
    && install -D -m 0755 target/release/emporium /out/emporium

# --- runtime -----------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 emporium \
    && useradd --system --uid 10001 --gid emporium --home-dir /var/lib/emporium \
        --no-create-home --shell /usr/sbin/nologin emporium \
    && install -d -o emporium -g emporium -m 0750 /var/lib/emporium
COPY --from=builder /out/emporium /usr/local/bin/emporium

ENV EMPORIUM_ADDR=0.0.0.0:8080 \
    EMPORIUM_DATA_DIR=/var/lib/emporium \
    RUST_LOG=info
WORKDIR /var/lib/emporium
VOLUME ["/var/lib/emporium"]
EXPOSE 8080
USER 10001:10001
# No HEALTHCHECK: the slim image has no curl and emporium has no healthcheck
# subcommand; probe GET /health (liveness) and GET /ready from outside.
ENTRYPOINT ["emporium"]
CMD ["serve"]
