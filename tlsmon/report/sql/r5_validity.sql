-- table: r5_connections
WITH c AS (SELECT port_bucket(resp_p) AS port, validity_class AS cls FROM conn WHERE validity_class IS NOT NULL),
agg AS (
    SELECT
        coalesce(port, 'all') AS port_label,
        count(*) AS total,
        count(*) FILTER (WHERE cls = 'verifiable') AS verifiable,
        count(*) FILTER (WHERE cls = 'expired') AS expired,
        count(*) FILTER (WHERE cls = 'not_yet_valid') AS not_yet_valid,
        count(*) FILTER (WHERE cls = 'self_signed') AS self_signed,
        count(*) FILTER (WHERE cls = 'broken') AS broken
    FROM c
    GROUP BY GROUPING SETS ((port), ())
    HAVING count(*) > 0
)
SELECT port_label AS port, * EXCLUDE (port_label) FROM agg
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)

-- table: r5_servers
-- A server is an (address, port) pair, classed by the chain of its latest connection.
WITH s AS (
    SELECT port_bucket(resp_p) AS port, arg_max(validity_class, ts_start) AS cls
    FROM conn
    WHERE validity_class IS NOT NULL
    GROUP BY resp_h, resp_p
),
agg AS (
    SELECT
        coalesce(port, 'all') AS port_label,
        count(*) AS total,
        count(*) FILTER (WHERE cls = 'verifiable') AS verifiable,
        count(*) FILTER (WHERE cls = 'expired') AS expired,
        count(*) FILTER (WHERE cls = 'not_yet_valid') AS not_yet_valid,
        count(*) FILTER (WHERE cls = 'self_signed') AS self_signed,
        count(*) FILTER (WHERE cls = 'broken') AS broken
    FROM s
    GROUP BY GROUPING SETS ((port), ())
    HAVING count(*) > 0
)
SELECT port_label AS port, * EXCLUDE (port_label) FROM agg
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)
