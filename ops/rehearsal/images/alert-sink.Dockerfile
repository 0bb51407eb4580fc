# The rehearsal's alert sink (not in stack.yml): alert-sink.ts compiled with
# bun, the webhook the rehearsal's Alertmanager delivers to.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
EXPOSE 9099
ENTRYPOINT ["/usr/local/bin/alert-sink"]
