-- table: r6_summary
SELECT
    count(*) AS handshakes,
    count(*) FILTER (WHERE len(client_alpn) > 0) AS client_offered_alpn,
    count(*) FILTER (WHERE next_protocol IS NOT NULL) AS alpn_negotiated,
    count(DISTINCT resp_h) FILTER (WHERE next_protocol IS NOT NULL) AS servers_negotiating
FROM conn
WHERE version IS NOT NULL AND NOT web_port(resp_p)

-- table: r6_alpn
WITH a AS (
    SELECT port_bucket(resp_p) AS port, next_protocol AS alpn, resp_h
    FROM conn
    WHERE version IS NOT NULL AND NOT web_port(resp_p) AND next_protocol IS NOT NULL
)
SELECT port, alpn, count(*) AS connections, count(DISTINCT resp_h) AS servers
FROM a
GROUP BY port, alpn
ORDER BY port = 'other', try_cast(port AS INTEGER), connections DESC, alpn
