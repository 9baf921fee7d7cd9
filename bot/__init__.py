"""confluence-check: why an account gets 401/403 from the Confluence Cloud REST API, and the fix."""

__version__ = "0.1.0"
