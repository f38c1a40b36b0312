-- table: r2_starttls
WITH plain AS (
    SELECT protocol_of(app_proto, resp_p, xmpp_stream_type) AS protocol, *
    FROM conn
    WHERE app_proto IS NOT NULL AND app_proto NOT IN ('tls', 'quic', 'dtls')
)
SELECT
    protocol,
    count(DISTINCT resp_h) AS servers,
    count(DISTINCT resp_h) FILTER (WHERE starttls_offered) AS servers_offering,
    count(*) AS connections,
    count(*) FILTER (WHERE starttls_offered) AS connections_offered,
    count(*) FILTER (WHERE starttls_command_seen) AS connections_command,
    count(*) FILTER (WHERE tls_mode = 'starttls') AS connections_upgraded,
    count(*) FILTER (WHERE tls_mode = 'starttls' AND starttls_offered) AS upgraded_where_offered,
    CAST(count(*) FILTER (WHERE tls_mode = 'starttls') AS DOUBLE) / count(*) AS upgraded_share_of_all,
    CAST(count(*) FILTER (WHERE tls_mode = 'starttls' AND starttls_offered) AS DOUBLE)
        / nullif(count(*) FILTER (WHERE starttls_offered), 0) AS upgraded_share_of_offered
FROM plain
GROUP BY protocol
ORDER BY protocol_rank(protocol), protocol
