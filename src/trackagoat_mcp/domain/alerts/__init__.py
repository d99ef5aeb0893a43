"""Alerts: health findings recorded with first/last-seen times, triaged by people and agents, sent to a webhook.

* `findings`: what a finding is, the registry of sources (`register_source`) and the built-in `health` source;
* `records`: recording findings as alerts (dedup by key, reopen after resolve), listing, acknowledging, resolving;
* `sources`: the negative-vibes and block-rate sources;
* `webhooks`: the organization's webhook URL, its signing secret, where it may point, and the delivery log.

The alert job (`jobs/alerts.py`) evaluates and delivers on a schedule.
"""

from trackagoat_mcp.domain.alerts import sources  # noqa: F401  (importing it registers its sources)
from trackagoat_mcp.domain.alerts.findings import SOURCES, Finding, Thresholds, register_source
from trackagoat_mcp.domain.alerts.records import (
    AlertOut,
    EvaluationReport,
    acknowledge_alerts,
    evaluate_org,
    get_alerts,
    list_alerts,
    record_findings,
    resolve_alerts,
)
from trackagoat_mcp.domain.alerts.webhooks import UrlPolicy, WebhookOut, clear_webhook, get_webhook, set_webhook, sign

__all__ = [
    "SOURCES",
    "AlertOut",
    "EvaluationReport",
    "Finding",
    "Thresholds",
    "UrlPolicy",
    "WebhookOut",
    "acknowledge_alerts",
    "clear_webhook",
    "evaluate_org",
    "get_alerts",
    "get_webhook",
    "list_alerts",
    "record_findings",
    "register_source",
    "resolve_alerts",
    "set_webhook",
    "sign",
]
