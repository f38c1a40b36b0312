-- table: r1_overview
SELECT
    count(*) AS connections,
    count(*) FILTER (WHERE tls_mode <> 'none') AS tls_connections,
    count(*) FILTER (WHERE tls_mode = 'implicit') AS implicit_tls,
    count(*) FILTER (WHERE tls_mode = 'starttls') AS starttls,
    count(*) FILTER (WHERE version IS NOT NULL) AS handshakes_seen,
    count(DISTINCT resp_h) AS servers,
    count(DISTINCT orig_h) AS clients,
    min(ts_start) AS first_start,
    max(ts_end) AS last_end,
    epoch(max(ts_end)) - epoch(min(ts_start)) AS span_seconds
FROM conn

-- table: r1_ports
SELECT
    port_bucket(resp_p) AS port,
    count(*) AS connections,
    count(*) FILTER (WHERE tls_mode <> 'none') AS tls_connections,
    count(*) FILTER (WHERE tls_mode = 'implicit') AS implicit_tls,
    count(*) FILTER (WHERE tls_mode = 'starttls') AS starttls,
    count(DISTINCT resp_h) AS servers,
    count(DISTINCT orig_h) AS clients
FROM conn
GROUP BY port
ORDER BY port = 'other', try_cast(port AS INTEGER)
