"""Type stubs of the compiled core (native/, built by maturin as tlsmon._native)."""

__version__: str
