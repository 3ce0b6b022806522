"""The RELAY wire: the connection, its socket, framing, TLS and proxy tunnel."""
