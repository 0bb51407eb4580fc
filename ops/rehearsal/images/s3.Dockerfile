# The rehearsal's S3 endpoint (not in stack.yml, which uses the provider's
# bucket): s3rver compiled with bun, over TLS because pgBackRest speaks
# only HTTPS to S3.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
EXPOSE 443
ENTRYPOINT ["/usr/local/bin/s3"]
