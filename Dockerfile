# syntax=docker/dockerfile:1
# The blog-gateway image: a release build in the Rust image, copied into a slim Debian runtime.
# Build: docker build -t blog-gateway .   Run: see docker-compose.yml.

FROM rust:1.95-bookworm AS builder
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
# The cache mounts keep the registry and compiled dependencies between builds; the binary is
# copied out because the target mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin blog-gateway \
    && cp target/release/blog-gateway /usr/local/bin/blog-gateway

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin blog
COPY --from=builder /usr/local/bin/blog-gateway /usr/local/bin/blog-gateway
USER blog
# Listen on every interface of the container; PORT is also where the health check probes.
ENV HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
    CMD ["blog-gateway", "healthcheck"]
ENTRYPOINT ["blog-gateway"]
CMD ["serve"]
