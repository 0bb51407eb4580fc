# Stand-in for quay.io/prometheuscommunity/postgres-exporter:v0.20.1:
# Debian's exporter, which reads the same DATA_SOURCE_* variables.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/bin:/bin
USER 65534:65534
EXPOSE 9187
ENTRYPOINT ["/bin/postgres_exporter"]
