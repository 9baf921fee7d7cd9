"""Why an exchange with Atlassian ended without a whole answer: the one vocabulary the transport
speaks and the retry policy (`clients._exchange`) judges. Production's transport (aiohttp) and a
test's stand-in raise the same types, so both take the same path through `Atlassian._send`.

`retryable` says whether another try may meet something else: a lost connection or a timeout may
not happen again; a refused connection, a host that does not resolve, a request that cannot be
written or an answer over the size cap will.
"""

from __future__ import annotations

from typing import ClassVar


class NoAnswer(Exception):
    """No whole HTTP answer came back. The message never carries the URL (the caller reports it)."""

    retryable: ClassVar[bool] = False
    timed_out: ClassVar[bool] = False


class CannotConnect(NoAnswer):
    """Nothing answered the connection: refused, unresolvable host, TLS handshake refused."""


class ProxyFailed(CannotConnect):
    """The proxy the environment names refused or failed the connection."""


class ConnectTimeout(NoAnswer):
    """The connection was not made in time."""

    retryable = True
    timed_out = True


class ReadTimeout(NoAnswer):
    """The answer did not come (whole) in time."""

    retryable = True
    timed_out = True


class ConnectionLost(NoAnswer):
    """The connection broke before a whole answer: reset, hung up, or what came back is not HTTP."""

    retryable = True


class CannotSend(NoAnswer):
    """The request cannot be written: a URL scheme or a header value HTTP cannot carry."""
