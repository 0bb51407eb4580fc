# Stand-in for prom/alertmanager:v0.28.1: Debian's Alertmanager behind the
# same entrypoint.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/bin:/bin
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
