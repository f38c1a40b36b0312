-- temp: r9_pairs
-- One scan of the connections: each (leaf, server address) pair with its number of connections.
SELECT cert_chain_fps[1] AS fp, resp_h, count(*) AS connections
FROM conn
WHERE len(cert_chain_fps) > 0
GROUP BY ALL

-- temp: r9_per_cert
SELECT fp, count(*) AS servers, sum(connections) AS connections
FROM r9_pairs
GROUP BY fp

-- temp: r9_per_key
SELECT c.spki_sha256 AS spki, count(DISTINCT p.resp_h) AS servers, count(DISTINCT p.fp) AS certificates
FROM r9_pairs AS p
JOIN certs AS c ON c.fingerprint = p.fp
WHERE c.spki_sha256 IS NOT NULL
GROUP BY c.spki_sha256

-- table: r9_summary
SELECT
    (SELECT count(*) FROM r9_per_cert) AS leaf_certificates,
    (SELECT count(*) FROM r9_per_cert WHERE servers > 1) AS certificates_on_several_servers,
    (SELECT coalesce(max(servers), 0) FROM r9_per_cert) AS max_servers_per_certificate,
    (SELECT count(*) FROM r9_per_key) AS leaf_keys,
    (SELECT count(*) FROM r9_per_key WHERE servers > 1) AS keys_on_several_servers,
    (SELECT count(*) FROM r9_per_key WHERE certificates > 1) AS keys_in_several_certificates,
    (SELECT coalesce(max(servers), 0) FROM r9_per_key) AS max_servers_per_key

-- table: r9_top_certificates
SELECT p.fp AS fingerprint, c.certificate_subject AS subject, p.servers, p.connections
FROM r9_per_cert AS p
LEFT JOIN certs AS c ON c.fingerprint = p.fp
WHERE p.servers > 1
ORDER BY p.servers DESC, p.connections DESC, p.fp
LIMIT 10
