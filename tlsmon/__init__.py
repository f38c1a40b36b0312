"""tlsmon: a passive TLS and STARTTLS monitor that turns captures into Parquet."""

__version__ = "0.1.0"
