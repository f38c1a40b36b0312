-- temp: r1_counts
-- Per port and, as the row whose port is NULL, over everything: one scan for both tables.
-- QUIC and DTLS flows (app_proto quic/dtls, TLS from their first datagram) are counted apart from TLS over TCP.
WITH c AS (
    SELECT port_bucket(resp_p) AS port, tls_mode, version, resp_h, orig_h, ts_start, ts_end,
        coalesce(app_proto IN ('quic', 'dtls'), false) AS over_udp, app_proto
    FROM conn
)
SELECT
    port,
    count(*) AS connections,
    count(*) FILTER (WHERE tls_mode <> 'none') AS tls_connections,
    count(*) FILTER (WHERE tls_mode = 'implicit' AND NOT over_udp) AS implicit_tls,
    count(*) FILTER (WHERE tls_mode = 'starttls') AS starttls,
    count(*) FILTER (WHERE app_proto = 'quic') AS quic,
    count(*) FILTER (WHERE app_proto = 'dtls') AS dtls,
    count(*) FILTER (WHERE version IS NOT NULL) AS handshakes_seen,
    count(DISTINCT resp_h) AS servers,
    count(DISTINCT orig_h) AS clients,
    min(ts_start) AS first_start,
    max(ts_end) AS last_end
FROM c
GROUP BY GROUPING SETS ((port), ())

-- table: r1_overview
SELECT
    connections, tls_connections, implicit_tls, starttls, quic, dtls, handshakes_seen, servers, clients,
    first_start, last_end,
    epoch(last_end) - epoch(first_start) AS span_seconds
FROM r1_counts
WHERE port IS NULL

-- table: r1_ports
SELECT port, connections, tls_connections, implicit_tls, starttls, quic, dtls, servers, clients
FROM r1_counts
WHERE port IS NOT NULL
ORDER BY port = 'other', try_cast(port AS INTEGER)
