"""A subscription that hands over each publish response whole, in order.

asyncua's own Subscription either queues every value separately (dropping the oldest
when its queue is full) or starts one task per value. We need neither: one publish
response becomes one list of (client handle, DataValue), delivered synchronously to
the source, which turns it into batches without losing the order of changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asyncua import ua
from asyncua.common.subscription import Subscription

from connectors.opcua.config import Deadband

__all__ = [
    "BatchingSubscription",
    "DataChanges",
    "Notice",
    "StatusChange",
    "monitored_item",
    "subscription_params",
]


@dataclass(frozen=True, slots=True)
class DataChanges:
    """The data changes of one publish response, in the server's order (asyncua's own
    notifications, not copied: a client handle and a DataValue each)."""

    items: Sequence[ua.MonitoredItemNotification]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The server reports the subscription's status (e.g. BadTimeout: it is gone)."""

    status: ua.StatusCode


Notice = DataChanges | StatusChange


class _NoHandler:
    """Selects asyncua's callback path (no internal queue); we never let it dispatch."""


class BatchingSubscription(Subscription):
    """Delivers `DataChanges` / `StatusChange` notices to `deliver`, one per publish."""

    def __init__(
        self,
        session: object,
        params: ua.CreateSubscriptionParameters,
        deliver: Callable[[Notice], None],
    ) -> None:
        super().__init__(session, params, _NoHandler())  # type: ignore[arg-type]
        self._deliver_notice = deliver

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        self.last_publish_at = time.monotonic()
        data = publish_result.NotificationMessage.NotificationData
        if not data:
            return  # a keep-alive
        items: list[ua.MonitoredItemNotification] = []
        for notice in data:
            if isinstance(notice, ua.DataChangeNotification):
                # As a rule the only one: taken as it is, not copied.
                items = items + notice.MonitoredItems if items else notice.MonitoredItems
            elif isinstance(notice, ua.StatusChangeNotification):
                self._deliver_notice(StatusChange(notice.Status))
        if items:
            self._deliver_notice(DataChanges(items))


def subscription_params(
    publishing_interval_s: float, session_timeout_s: float
) -> ua.CreateSubscriptionParameters:
    """Parameters with a keep-alive well inside the session timeout."""
    interval_ms = publishing_interval_s * 1000
    params = ua.CreateSubscriptionParameters()
    params.RequestedPublishingInterval = interval_ms
    # Keep-alive at most every ~5 s (or once per interval if slower), lifetime 3x that
    # or more, as Part 4 requires; the server revises both within its limits.
    keepalive = max(1, int(min(5000.0, session_timeout_s * 250) / interval_ms))
    params.RequestedMaxKeepAliveCount = keepalive
    params.RequestedLifetimeCount = max(3 * keepalive, 30)
    params.MaxNotificationsPerPublish = 0  # no limit
    params.PublishingEnabled = True
    params.Priority = 0
    return params


def monitored_item(
    handle: int,
    node: ua.NodeId,
    *,
    sampling_interval_s: float,
    queue_size: int,
    deadband: Deadband | None,
) -> ua.MonitoredItemCreateRequest:
    """A monitored item on the Value attribute, with an optional deadband filter."""
    params = ua.MonitoringParameters()
    params.ClientHandle = handle
    params.SamplingInterval = sampling_interval_s * 1000
    params.QueueSize = queue_size
    params.DiscardOldest = True
    if deadband is not None and deadband.value > 0:
        flt = ua.DataChangeFilter()
        flt.Trigger = ua.DataChangeTrigger.StatusValue
        flt.DeadbandType = 1 if deadband.type == "absolute" else 2
        flt.DeadbandValue = deadband.value
        params.Filter = flt
    request = ua.MonitoredItemCreateRequest()
    request.ItemToMonitor = ua.ReadValueId(NodeId=node, AttributeId=ua.AttributeIds.Value)
    request.MonitoringMode = ua.MonitoringMode.Reporting
    request.RequestedParameters = params
    return request
