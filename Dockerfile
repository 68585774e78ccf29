# The gateway in a container: a Swift build stage, then a small Debian runtime stage holding only the
# binary. docs/deploy.md explains building, running and configuring it.
#
#   docker build -t ollama-gateway .
#   docker run -p 127.0.0.1:3000:3000 -v ollama-gateway-data:/data -e OLLAMA_URL=http://HOST:11434 ollama-gateway
#
# Both base images are arguments, so a mirror or a local copy can stand in for Docker Hub. STAGING is
# where the runtime stage takes the program from: the build stage below, or an image holding a
# /staging folder made by the same script (CI builds the release archive anyway, and checks this
# file's runtime stage with podman from it: scripts/deploy-test.sh).
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
ARG STAGING=build

# ================================
# Build stage
# ================================
FROM ${SWIFT_IMAGE} AS build
WORKDIR /build

# Dependencies first, in a layer of their own: it is rebuilt only when the manifest changes, not on
# every edit of the sources. Package.resolved is used when present (`Package.*`), else resolved anew.
COPY ./Package.* ./
RUN if [ -f Package.resolved ]; then swift package resolve --force-resolved-versions; else swift package resolve; fi

COPY . .
# The same script as the release archive, so image and archive are built by the same steps: the Swift
# runtime and Foundation linked in (the runtime stage needs no Swift libraries, only glibc), and
# /staging holding what runs: the binary, the backtracer that turns a crash into a readable report
# in the log, and any resource bundles.
RUN scripts/release.sh --stage /staging

# hadolint ignore=DL3006
FROM ${STAGING} AS staged

# ================================
# Runtime stage
# ================================
FROM ${RUNTIME_IMAGE}

# ca-certificates: https upstreams (OLLAMA_URL) and image URLs; tzdata: local times in logs if TZ is
# set. Nothing else: `ldd ollama-gateway` names only glibc's libraries, libstdc++, libgcc_s and zlib, which
# the slim image has. Versions are not pinned: they follow the base image's security updates.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged id, so a bind-mounted data folder can be given to it: chown 10001:10001 DIR.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gateway \
    && install -d -o gateway -g gateway -m 0700 /data

# The program belongs to root: the user it runs as cannot change it.
WORKDIR /app
COPY --from=staged /staging /app

# Every setting is an environment variable (README, "Configuration"); these three are what a
# container needs to differ from the defaults: listen on every interface of the container (its
# port is published by the runtime), keep the database in the volume.
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

VOLUME /data
USER 10001:10001
EXPOSE 3000

# The slim image has no curl; bash's /dev/tcp sends the request. /health/live answers whatever the
# Host header, so the check works whatever ALLOWED_HOSTS says.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-3000} && printf 'GET /health/live HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]

# SIGTERM (the default stop signal) drains running requests for SHUTDOWN_DRAIN_TIMEOUT_MS (30 s):
# give `docker stop` / compose a longer grace period than that (compose.yaml: stop_grace_period).
ENTRYPOINT ["/app/ollama-gateway"]
CMD ["serve"]
