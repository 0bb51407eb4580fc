# Stand-in for prom/node-exporter:v1.9.1: Debian's node-exporter.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/bin:/bin
EXPOSE 9100
ENTRYPOINT ["/bin/node_exporter"]
