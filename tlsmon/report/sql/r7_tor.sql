-- table: r7_summary
SELECT
    count(*) FILTER (WHERE validity_class IS NOT NULL) AS connections_with_certificate,
    count(*) FILTER (WHERE leaf_tor_like) AS tor_like_connections,
    count(DISTINCT resp_h) FILTER (WHERE leaf_tor_like) AS tor_like_servers,
    (SELECT exclude_tor FROM settings) AS excluded_from_other_sections
FROM conn_all

-- table: r7_ports
WITH t AS (SELECT port_bucket(resp_p) AS port, validity_class, leaf_tor_like, resp_h FROM conn_all)
SELECT
    port,
    count(*) FILTER (WHERE validity_class IS NOT NULL) AS connections_with_certificate,
    count(*) FILTER (WHERE leaf_tor_like) AS tor_like_connections,
    count(DISTINCT resp_h) FILTER (WHERE leaf_tor_like) AS tor_like_servers
FROM t
GROUP BY port
HAVING count(*) FILTER (WHERE leaf_tor_like) > 0
ORDER BY port = 'other', try_cast(port AS INTEGER)
