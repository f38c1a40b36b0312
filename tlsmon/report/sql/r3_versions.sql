-- table: r3_versions
WITH v AS (SELECT port_bucket(resp_p) AS port, version FROM conn WHERE version IS NOT NULL),
per AS (SELECT port, version FROM v UNION ALL SELECT 'all', version FROM v)
SELECT
    port,
    count(*) AS total,
    count(*) FILTER (WHERE version = 'SSLv2') AS sslv2,
    count(*) FILTER (WHERE version = 'SSLv3') AS sslv3,
    count(*) FILTER (WHERE version = 'TLSv10') AS tlsv10,
    count(*) FILTER (WHERE version = 'TLSv11') AS tlsv11,
    count(*) FILTER (WHERE version = 'TLSv12') AS tlsv12,
    count(*) FILTER (WHERE version = 'TLSv13') AS tlsv13,
    count(*) FILTER (WHERE version NOT IN ('SSLv2', 'SSLv3', 'TLSv10', 'TLSv11', 'TLSv12', 'TLSv13')) AS other
FROM per
GROUP BY port
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)
