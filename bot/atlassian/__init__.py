"""Talking to Atlassian: one pooled transport per host (`transport.Transport`), host guard, redaction, evidence."""

from bot.atlassian.clients import Atlassian, Auth, Reply, RequestFailed, RetryPolicy, Role
from bot.atlassian.hosts import HostGuard
from bot.atlassian.redact import Redactor

__all__ = ["Atlassian", "Auth", "HostGuard", "Redactor", "Reply", "RequestFailed", "RetryPolicy", "Role"]
