# Stand-in for postgres:17.6-bookworm, the base ops/postgres/Dockerfile
# builds on: Debian's PostgreSQL 15 from this host, with the official
# image's conventions (PATH, PGDATA, the postgres user, SIGINT to stop, an
# entrypoint initialising the cluster from POSTGRES_* variables).
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/bin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
