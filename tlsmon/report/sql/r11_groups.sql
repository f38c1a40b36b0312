-- table: r11_dh
SELECT dh_prime_bits AS prime_bits, count(*) AS connections, count(DISTINCT resp_h) AS servers
FROM conn
WHERE dh_prime_bits IS NOT NULL
GROUP BY ALL
ORDER BY prime_bits

-- table: r11_curves
SELECT
    curve,
    count(*) AS connections,
    count(*) FILTER (WHERE version = 'TLSv13') AS tls13_connections,
    count(DISTINCT resp_h) AS servers
FROM conn
WHERE curve IS NOT NULL
GROUP BY ALL
ORDER BY connections DESC, curve
