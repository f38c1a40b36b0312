-- table: r8_ocsp
-- TLS 1.3 is left out: its stapled response travels inside the encrypted Certificate message.
WITH h AS (
    SELECT port_bucket(resp_p) AS port, resp_h, client_status_request = 1 AS requested,
           coalesce(ocsp_stapled, false) AS stapled, ocsp_status
    FROM conn
    WHERE version IS NOT NULL AND version <> 'TLSv13'
),
per AS (SELECT * FROM h UNION ALL SELECT 'all', resp_h, requested, stapled, ocsp_status FROM h)
SELECT
    port,
    count(*) AS handshakes,
    count(*) FILTER (WHERE requested) AS requested,
    count(*) FILTER (WHERE stapled) AS stapled,
    count(*) FILTER (WHERE stapled AND ocsp_status = 'good') AS good,
    count(*) FILTER (WHERE stapled AND ocsp_status = 'revoked') AS revoked,
    count(*) FILTER (WHERE stapled AND ocsp_status = 'unknown') AS unknown,
    count(DISTINCT resp_h) FILTER (WHERE stapled) AS servers_stapling
FROM per
GROUP BY port
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)
