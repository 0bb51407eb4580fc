# The MiniTwit image: one self-contained `minitwit` binary on a minimal glibc
# base, running as a non-root user. Both bases are build arguments so that a
# machine without registry access can build from bases it assembled itself
# (ops/image/build-local.sh does that for CI).
#
#   docker build --build-arg VERSION=1.4.0 --build-arg REVISION=$(git rev-parse --short HEAD) -t minitwit:1.4.0 .

ARG BUILDER_IMAGE=oven/bun:1.4.5
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# --- build: compile the binary (PGlite's wasm and data and argon2's native
# module are embedded by the source) --------------------------------------
FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
ENV CI=true
COPY package.json bun.lock bunfig.toml tsconfig.json ./
# Runtime dependencies only: the compiler needs nothing from devDependencies.
RUN bun install --frozen-lockfile --production
COPY db ./db
COPY views ./views
COPY src ./src
# Empty release version: keep the one in package.json.
ARG VERSION=
ARG REVISION=unknown
RUN if [ -n "$VERSION" ]; then bun pm pkg set version="$VERSION"; fi \
 && MINITWIT_REVISION="$REVISION" bun run build \
 && ./dist/minitwit version
# An empty directory for the runtime stage (WORKDIR creates it; no mkdir needed).
WORKDIR /out/data

# --- runtime: the binary and an empty data directory, nothing else --------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=
ARG REVISION=unknown
LABEL org.opencontainers.image.title="minitwit" \
      org.opencontainers.image.description="MiniTwit: a small micro-blog with the ITU DevOps simulator API, in one binary." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /src/dist/minitwit /usr/local/bin/minitwit
# The embedded database's home, for runs without DATABASE_URL.
COPY --from=build --chown=65532:65532 /out/data /var/lib/minitwit
ENV DATA_DIR=/var/lib/minitwit \
    PORT=5000 \
    API_PORT=5001 \
    METRICS_PORT=5002
WORKDIR /var/lib/minitwit
USER 65532:65532
EXPOSE 5000 5001 5002
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/minitwit", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/minitwit"]
CMD ["serve"]
