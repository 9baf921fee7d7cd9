"""Reading a Confluence automation rule and analysing its Send web request actions (docs/atlassian.md §A).

Part of the diagnosis core: nothing here imports Slack or the renderers.
"""

from bot.automation.analysis import (
           AuthorizationCheck,
           HeaderFault,
           SecretKind,
           Target,
           UrlCheck,
           check_authorization,
           check_url,
)
from bot.automation.reference import RuleRef, parse_rule_reference, resolve
from bot.automation.rule import Header, Rule, RuleShapeError, WebRequestAction, parse_rule

__all__ = ["AuthorizationCheck", "Header", "HeaderFault", "Rule", "RuleRef", "RuleShapeError", "SecretKind", "Target",
           "UrlCheck", "WebRequestAction", "check_authorization", "check_url", "parse_rule", "parse_rule_reference",
           "resolve"]
