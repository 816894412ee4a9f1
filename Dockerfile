# dbtail: multi-stage image on Debian 12. The build stage runs the README's commands (`make`,
# then `make install`); the final stage holds only the runtime libraries and runs as a non-root
# user.
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libpq-dev libmariadb-dev libcurl4-openssl-dev libjansson-dev zlib1g-dev librdkafka-dev \
      libzstd-dev libmicrohttpd-dev libdeflate-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make && make install PREFIX=/opt/dbtail

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      libpq5 libmariadb3 libcurl4 libjansson4 zlib1g librdkafka1 libzstd1 libmicrohttpd12 \
      libdeflate0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/dbtail --create-home dbtail
COPY --from=build /opt/dbtail /usr/local
USER dbtail
WORKDIR /var/lib/dbtail
VOLUME ["/var/lib/dbtail"]
EXPOSE 8083
ENTRYPOINT ["dbtail"]
CMD ["run", "-c", "/etc/dbtail/connector.json"]
