-- table: r4_ciphers
WITH c AS (
    SELECT port_bucket(resp_p) AS port, cipher, coalesce(forward_secrecy, false) AS fs, coalesce(rc4, false) AS rc4
    FROM conn
    WHERE cipher IS NOT NULL
),
agg AS (
    SELECT
        coalesce(port, 'all') AS port_label,
        count(*) AS total,
        count(*) FILTER (WHERE fs) AS forward_secrecy,
        count(*) FILTER (WHERE rc4) AS rc4,
        count(*) FILTER (WHERE NOT rc4 AND cipher LIKE '%AES%') AS aes,
        count(*) FILTER (WHERE NOT rc4 AND cipher NOT LIKE '%AES%') AS other
    FROM c
    GROUP BY GROUPING SETS ((port), ())
    HAVING count(*) > 0
)
SELECT port_label AS port, * EXCLUDE (port_label) FROM agg
ORDER BY port = 'all', port = 'other', try_cast(port AS INTEGER)
