-- Shared by every analysis: the ports shown one by one, and the protocol labels of Table III.

-- temp: top_ports
-- The 20 ports with the most TLS connections (then the most connections); the rest are 'other'. Chosen over
-- conn_all, so that R7 names the ports of the Tor-like connections that --exclude-tor leaves out elsewhere.
SELECT resp_p
FROM conn_all
GROUP BY resp_p
ORDER BY count(*) FILTER (WHERE tls_mode <> 'none') DESC, count(*) DESC, resp_p
LIMIT 20

-- macro: port_bucket(p)
CASE WHEN p IN (SELECT resp_p FROM top_ports) THEN CAST(p AS VARCHAR) ELSE 'other' END

-- macro: protocol_of(app_proto, resp_p, xmpp_stream_type)
-- SMTP on the submission port is SUBMISSION (Table III separates them); XMPP is split by stream type.
CASE
    WHEN app_proto = 'smtp' AND resp_p = 587 THEN 'submission'
    WHEN app_proto = 'xmpp' THEN 'xmpp-' || coalesce(xmpp_stream_type, 'unknown')
    ELSE app_proto
END

-- macro: protocol_rank(protocol)
-- Table III's order first, then the others alphabetically (ties broken by the name).
coalesce(list_position(['smtp', 'submission', 'imap', 'pop3', 'xmpp-c2s', 'xmpp-s2s', 'irc'], protocol), 100)

-- macro: web_port(p)
p IN (80, 443, 8080, 8443)
