# finsig/app: the finsig service on finsig/base, built offline (docker build --network none).
# The build context is prepared by scripts/build-app-image.sh:
#   Dockerfile
#   wheels/*.whl            the finsig wheel and every wheel requirements/core.txt pins
#   wheels/requirements.txt requirements/core.txt plus a hashed line for the finsig wheel
ARG BASE_IMAGE=finsig/base:0.1.0

FROM ${BASE_IMAGE} AS builder
# Lets the build script find and remove this build's leftover builder-stage image afterwards.
ARG BUILD_ID=none
LABEL org.finsig.app-builder=${BUILD_ID}
COPY wheels/ /wheels/
# pip checks every wheel against its hash; the venv's own pip and setuptools (from Debian's
# ensurepip) are only the installer and are removed so the image ships none.
RUN python3 -m venv /opt/finsig \
 && /opt/finsig/bin/pip install --no-cache-dir --no-index --find-links /wheels \
        --require-hashes --only-binary :all: -r /wheels/requirements.txt \
 && /opt/finsig/bin/pip uninstall --yes --quiet setuptools pip \
 && /opt/finsig/bin/python -c "import finsig.app" \
 && rm -rf /wheels

FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="finsig" \
      org.opencontainers.image.description="FINSIG signals service: price series in, trading signals out, Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
RUN groupadd --system --gid 10001 finsig \
 && useradd --system --uid 10001 --gid finsig --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin finsig
COPY --from=builder /opt/finsig /opt/finsig
ENV PATH=/opt/finsig/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FINSIG_HOST=0.0.0.0 \
    FINSIG_PORT=8000
USER 10001:10001
EXPOSE 8000
# uvicorn (PID 1 here, no init needed) drains in-flight requests on SIGTERM and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=3 \
    CMD ["/opt/finsig/bin/python", "-m", "finsig.healthcheck"]
ENTRYPOINT ["/opt/finsig/bin/finsig"]
