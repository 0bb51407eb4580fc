# Stand-in for caddy:2.11.4-alpine: Debian's caddy binary, run as the
# official image runs it (its CMD, its XDG directories on the volumes).
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/bin:/bin XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
WORKDIR /srv
EXPOSE 80 443 2019
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
