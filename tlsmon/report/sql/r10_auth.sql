-- table: r10_offered
WITH m AS (
    SELECT protocol_of(app_proto, resp_p, xmpp_stream_type) AS protocol, unnest(auth_mechs_offered) AS mechanism,
           resp_h, tls_mode
    FROM conn
    WHERE len(auth_mechs_offered) > 0
),
agg AS (
    SELECT
        protocol,
        mechanism,
        count(DISTINCT resp_h) AS servers,
        count(*) AS connections,
        count(*) FILTER (WHERE tls_mode = 'starttls') AS then_upgraded
    FROM m
    GROUP BY protocol, mechanism
)
SELECT * FROM agg
ORDER BY protocol_rank(protocol), protocol, connections DESC, mechanism

-- table: r10_plaintext_auth
WITH agg AS (
    SELECT
        protocol_of(app_proto, resp_p, xmpp_stream_type) AS protocol,
        plaintext_auth_command AS command,
        count(*) AS connections,
        count(DISTINCT orig_h) AS clients,
        count(DISTINCT resp_h) AS servers
    FROM conn
    WHERE plaintext_auth_command IS NOT NULL
    GROUP BY ALL
)
SELECT * FROM agg
ORDER BY protocol_rank(protocol), protocol, connections DESC, command
