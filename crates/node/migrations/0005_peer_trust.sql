-- A peer's TLS settings become the one trust model: {"mode":"pinned","fingerprint"},
-- {"mode":"ca","pem"} or {"mode":"system"} (was {"fingerprint"?, "ca"?}).
UPDATE peers SET tls = CASE
    WHEN json_extract(tls, '$.fingerprint') IS NOT NULL THEN json_object('mode', 'pinned', 'fingerprint', json_extract(tls, '$.fingerprint'))
    WHEN json_extract(tls, '$.ca') IS NOT NULL THEN json_object('mode', 'ca', 'pem', json_extract(tls, '$.ca'))
    ELSE json_object('mode', 'system')
END
WHERE tls IS NOT NULL AND json_extract(tls, '$.mode') IS NULL;
