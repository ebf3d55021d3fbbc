"""The authorizer's policies, cached per identity-source value for ``ReauthorizeEvery`` seconds."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from local.emulator.gateway.policy import Policy
from local.emulator.gateway.throttle import Clock


@dataclass
class _CachedPolicy:
    policy: Policy
    expires: float


@dataclass
class AuthorizerCache:
    ttl_seconds: float
    clock: Clock
    _entries: dict[tuple[str, ...], _CachedPolicy] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, identity: tuple[str, ...]) -> Policy | None:
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None or entry.expires <= self.clock():
                self._entries.pop(identity, None)
                return None
            return entry.policy

    def put(self, identity: tuple[str, ...], policy: Policy) -> None:
        if self.ttl_seconds > 0:
            with self._lock:
                self._entries[identity] = _CachedPolicy(policy, self.clock() + self.ttl_seconds)
