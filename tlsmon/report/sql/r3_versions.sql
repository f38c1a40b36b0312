-- table: r3_versions
-- Per port, and over all ports as the 'all' row (the empty grouping set).
WITH v AS (SELECT port_bucket(resp_p) AS port, version FROM conn WHERE version IS NOT NULL),
agg AS (
    SELECT
        coalesce(port, 'all') AS port_label,
        count(*) AS total,
        count(*) FILTER (WHERE version = 'SSLv2') AS sslv2,
        count(*) FILTER (WHERE version = 'SSLv3') AS sslv3,
        count(*) FILTER (WHERE version = 'TLSv10') AS tlsv10,
        count(*) FILTER (WHERE version = 'TLSv11') AS tlsv11,
        count(*) FILTER (WHERE version = 'TLSv12') AS tlsv12,
        count(*) FILTER (WHERE version = 'TLSv13') AS tlsv13,
        count(*) FILTER (WHERE version NOT IN ('SSLv2', 'SSLv3', 'TLSv10', 'TLSv11', 'TLSv12', 'TLSv13')) AS other
    FROM v
    GROUP BY GROUPING SETS ((port), ())
    HAVING count(*) > 0
)
SELECT port_label AS port, * EXCLUDE (port_label) FROM agg
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)
