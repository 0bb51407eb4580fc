# Stand-in for prom/prometheus:v3.5.0: Debian's Prometheus behind the same
# entrypoint; stack.yml's command gives every flag it needs.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/bin:/bin
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
