-- How a peer's certificate is trusted (JSON of switchyard_client::Trust); NULL: plain ws://.
ALTER TABLE peers ADD COLUMN tls TEXT;
