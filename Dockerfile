# The MiniTwit image: one self-contained `minitwit` binary on a minimal glibc
# base, running as a non-root user.
#
#   docker build --build-arg VERSION=1.4.0 --build-arg REVISION=$(git rev-parse --short HEAD) -t minitwit:1.4.0 .
#
# Both bases are named literally, so that Dependabot can propose their
# updates (it does not resolve an ARG in FROM). A machine without registry
# access replaces them with bases it assembled itself through build contexts
# named after them (`--build-context oven/bun:1.4.5=docker-image://…`, as
# ops/image/build-local.sh does for CI). The Bun tag is the Bun of CI and of
# the release (tests/ops/workflows.test.ts holds them to one version).

# --- build: compile the binary (PGlite's wasm and data and argon2's native
# module are embedded by the source) --------------------------------------
FROM oven/bun:1.4.5 AS build
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
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
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
