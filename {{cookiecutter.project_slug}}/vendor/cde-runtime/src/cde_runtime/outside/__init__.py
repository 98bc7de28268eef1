"""A toolkit for the outside APIs a connector talks to: a product feed, a channel, any HTTP API.

    from cde_runtime.outside import Bearer, LinkHeader, OutsideApi, Quota

See docs/cookbook.md for the common shapes, and each module for the details:
client (OutsideApi), auth, pagination, quota, jobs (asynchronous job APIs), streaming.
"""

from cde_runtime.outside.auth import (
    ApiKeyHeader,
    ApiKeyQuery,
    Basic,
    Bearer,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
)
from cde_runtime.outside.client import OutsideApi, OutsideApiError
from cde_runtime.outside.jobs import JobTimedOut, wait_for
from cde_runtime.outside.pagination import (
    Cursor,
    LinkHeader,
    NextLink,
    OffsetLimit,
    PageNumber,
    Pagination,
    SinglePage,
)
from cde_runtime.outside.quota import Quota
from cde_runtime.outside.streaming import json_items, jsonl_items, xml_items

__all__ = [
    "ApiKeyHeader",
    "ApiKeyQuery",
    "Basic",
    "Bearer",
    "Cursor",
    "JobTimedOut",
    "LinkHeader",
    "NextLink",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "OffsetLimit",
    "OutsideApi",
    "OutsideApiError",
    "PageNumber",
    "Pagination",
    "Quota",
    "SinglePage",
    "json_items",
    "jsonl_items",
    "wait_for",
    "xml_items",
]
