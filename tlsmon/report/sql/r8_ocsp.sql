-- table: r8_ocsp
-- TLS 1.3 is left out: its stapled response travels inside the encrypted Certificate message.
WITH h AS (
    SELECT port_bucket(resp_p) AS port, resp_h, client_status_request = 1 AS requested,
           coalesce(ocsp_stapled, false) AS stapled, ocsp_status
    FROM conn
    WHERE version IS NOT NULL AND version <> 'TLSv13'
),
agg AS (
    SELECT
        coalesce(port, 'all') AS port_label,
        count(*) AS handshakes,
        count(*) FILTER (WHERE requested) AS requested,
        count(*) FILTER (WHERE stapled) AS stapled,
        count(*) FILTER (WHERE stapled AND ocsp_status = 'good') AS good,
        count(*) FILTER (WHERE stapled AND ocsp_status = 'revoked') AS revoked,
        count(*) FILTER (WHERE stapled AND ocsp_status = 'unknown') AS unknown,
        count(DISTINCT resp_h) FILTER (WHERE stapled) AS servers_stapling
    FROM h
    GROUP BY GROUPING SETS ((port), ())
    HAVING count(*) > 0
)
SELECT port_label AS port, * EXCLUDE (port_label) FROM agg
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)
