"""Realistic gateway messages (the ingest contract) for demo data, tests and benchmarks.

Deterministic for a seed: a few dominant models among several providers, one model absent from the
catalog (stored unpriced); traffic busier on weekday afternoons (UTC); streaming with a time to first
token; a few slow outliers. Errors fit their kind: a rate limit or a rejected credential answers in tens
of milliseconds, a context overflow carries a prompt over the model's window, an upstream failure takes
seconds and a timeout a minute, and none produces output tokens.

Billing follows the providers: a failed request is billed nothing, so the gateway reports its cost as
zero (with the model's prices), and the catalog would otherwise price tokens nobody was charged for.
When the gateway bills a success itself, it uses its negotiated prices for the same model: the
catalog's, less a fixed discount per provider (``GATEWAY_DISCOUNT``), split by component like the catalog.

Most messages are version 2 (``V1_SHARE`` come from an older gateway build): prompts that hit the
provider's prompt cache (reads, and for Anthropic cache writes), reasoning models whose output is mostly
reasoning, now and then a long-context prompt past a model's price tier; and attribution: an end ``user``
(a few heavy users and a long tail; some requests name none) and ``metadata`` with a ``feature`` (one of
them, ``code-review``, about 2 % of requests) and an ``environment``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from request_logs.domain.pricing import Prices, TokenUsage, cost_from_prices, load_catalog

# (model, provider, weight, median latency ms)
MODELS: list[tuple[str, str, float, int]] = [
    ("openai/gpt-4o", "openai", 0.26, 1300),
    ("openai/gpt-4o-mini", "openai", 0.18, 650),
    ("openai/o4-mini", "openai", 0.05, 3200),  # a reasoning model
    ("anthropic/claude-sonnet-4", "anthropic", 0.15, 1800),
    ("anthropic/claude-3-5-haiku", "anthropic", 0.06, 700),
    ("google/gemini-2.0-flash", "google", 0.09, 500),
    ("google/gemini-2.5-pro", "google", 0.03, 2400),  # long prompts, priced by a tier above 200,000 tokens
    ("groq/llama-3.3-70b-versatile", "groq", 0.10, 350),
    ("mistral/mistral-large-latest", "mistral", 0.05, 1200),
    ("deepseek/deepseek-r1", "deepseek", 0.03, 4200),  # a reasoning model not in the catalog: stored unpriced
]
REASONING_MODELS = frozenset({"openai/o4-mini", "deepseek/deepseek-r1"})
# Providers with prompt caching: cache reads everywhere, cache writes reported by Anthropic.
CACHING_PROVIDERS = frozenset({"openai", "anthropic", "google"})
CACHE_WRITING_PROVIDERS = frozenset({"anthropic"})
CACHED_PROMPT_RATE = 0.35
LONG_CONTEXT_MODELS = frozenset({"google/gemini-2.5-pro", "anthropic/claude-sonnet-4"})
LONG_PROMPT_RATE = 0.06  # of those models' requests: 120,000 to 400,000 prompt tokens
V1_SHARE = 0.15
NO_USER_RATE = 0.12
USER_COUNT = 60
# (value, weight): code-review is the rare one (~2 %), which a filter on it shows.
FEATURES: list[tuple[str, float]] = [
    ("chat", 0.30),
    ("search", 0.22),
    ("summarize", 0.15),
    ("support-bot", 0.12),
    ("translate", 0.08),
    ("autocomplete", 0.06),
    ("classify", 0.05),
    ("code-review", 0.02),
]
ENVIRONMENTS: list[tuple[str, float]] = [("production", 0.8), ("staging", 0.15), ("development", 0.05)]

# The gateway's negotiated prices, as a share of the catalog's, by provider (when it bills a request itself).
GATEWAY_DISCOUNT: dict[str, Decimal] = {"openai": Decimal("0.9"), "anthropic": Decimal("0.85")}
CONTEXT_WINDOW_TOKENS = 128_000
SLOW_OUTLIER_RATE = 0.01  # successes that take 5 to 20 times their usual latency (a provider's bad minute)

# (type, code, status code, message, weight)
ERRORS: list[tuple[str, str, int, str, float]] = [
    ("rate_limit_error", "rate_limit_exceeded", 429, "Rate limit exceeded. Please retry after 60 seconds.", 0.40),
    (
        "invalid_request_error",
        "context_length_exceeded",
        400,
        "This model's maximum context length is 128000 tokens.",
        0.20,
    ),
    ("api_error", "upstream_error", 502, "The upstream provider returned an invalid response.", 0.15),
    ("api_error", "provider_unavailable", 503, "The provider is temporarily unavailable.", 0.10),
    ("timeout_error", "upstream_timeout", 504, "The provider did not answer within 60 seconds.", 0.10),
    ("authentication_error", "provider_auth_failed", 401, "The provider rejected the gateway's credentials.", 0.05),
]

PROMPTS = [
    "What is the capital of France?",
    "Summarise the following support ticket in two sentences.",
    "Translate 'good morning' into Japanese.",
    "Write a SQL query that lists the ten most recent orders.",
    "Explain the difference between a process and a thread.",
    "Draft a polite reply declining the meeting invitation.",
    "Classify the sentiment of this review: 'Arrived late but works great.'",
    "Generate three names for a coffee shop by the sea.",
]
USER_AGENTS = [
    "Python/3.11 openai/1.0.0",
    "node/20.11 openai/4.28.0",
    "curl/8.5.0",
    "Go-http-client/2.0",
    "Python/3.12 anthropic/0.39.0",
]


@dataclass(frozen=True)
class DemoKey:
    api_key_id: str
    prefix: str


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _created_times(rng: random.Random, count: int, start_ms: int, end_ms: int) -> list[int]:
    """Times with a daily rhythm (busier in the afternoon UTC) and a weekly one (weekends at 40 %),
    sorted ascending."""
    times: list[int] = []
    while len(times) < count:
        candidate = rng.randrange(start_ms, end_ms)
        hour = (candidate // 3_600_000) % 24
        weekday = datetime.fromtimestamp(candidate / 1000, tz=UTC).weekday()
        daily = 0.35 + 0.65 * (0.5 + 0.5 * math.sin((hour - 9) / 24 * 2 * math.pi))
        if rng.random() < daily * (0.4 if weekday >= 5 else 1.0):
            times.append(candidate)
    return sorted(times)


def _error_shape(rng: random.Random, code: str, input_tokens: int) -> tuple[int, int]:
    """(latency ms, input tokens) that fit an error of this kind."""
    if code == "upstream_timeout":
        return 60_000 + rng.randrange(0, 500), input_tokens
    if code == "context_length_exceeded":  # refused before any generation, on a prompt over the window
        return max(30, int(rng.lognormvariate(math.log(120), 0.5))), CONTEXT_WINDOW_TOKENS + rng.randrange(1, 60_000)
    if code in ("upstream_error", "provider_unavailable"):  # the provider answered, badly, after a while
        return max(150, int(rng.lognormvariate(math.log(2_500), 0.7))), input_tokens
    return max(15, int(rng.lognormvariate(math.log(60), 0.6))), input_tokens  # rate limit, credentials


def _gateway_prices(model: str, provider: str, input_tokens: int) -> Prices | None:
    """The gateway's negotiated prices: the catalog's for this prompt size, less the provider's discount."""
    prices = load_catalog().prices_for(model, input_tokens)
    if prices is None:
        return None
    share = GATEWAY_DISCOUNT.get(provider, Decimal(1))

    def discounted(price: Decimal | None) -> Decimal | None:
        return None if price is None else price * share

    return Prices(
        prices.input_per_million * share,
        prices.output_per_million * share,
        cached_input_per_million=discounted(prices.cached_input_per_million),
        cache_creation_input_per_million=discounted(prices.cache_creation_input_per_million),
    )


def _gateway_cost(usage: TokenUsage, prices: Prices, *, billed: bool, version: int) -> dict[str, str]:
    """The message's ``cost``: a failed request is billed nothing. Version 2 splits every component it has
    tokens of (the contract requires it) and names the component prices it used."""
    cost = cost_from_prices(usage, prices)
    zero = Decimal(0)
    reported = {
        "input": str(cost.input if billed else zero),
        "output": str(cost.output if billed else zero),
        "input_per_million": str(prices.input_per_million),
        "output_per_million": str(prices.output_per_million),
    }
    if version == 2:
        for part, tokens, price in (
            ("cached_input", usage.cached_input, prices.cached_input_per_million),
            ("cache_creation_input", usage.cache_creation_input, prices.cache_creation_input_per_million),
            ("reasoning", usage.reasoning, None),
        ):
            if tokens:
                reported[part] = str(getattr(cost, part) if billed else zero)
            if tokens and price is not None:
                reported[f"{part}_per_million"] = str(price)
    return reported


def _token_parts(rng: random.Random, model: str, provider: str, input_tokens: int, output_tokens: int) -> TokenUsage:
    """Cache reads (and writes) on some prompts of caching providers; reasoning on reasoning models."""
    cached = creation = reasoning = 0
    if provider in CACHING_PROVIDERS and input_tokens >= 200 and rng.random() < CACHED_PROMPT_RATE:
        cached = int(input_tokens * rng.uniform(0.3, 0.9))
        if provider in CACHE_WRITING_PROVIDERS and rng.random() < 0.3:
            creation = int((input_tokens - cached) * rng.uniform(0.2, 0.8))
    if model in REASONING_MODELS and output_tokens:
        reasoning = int(output_tokens * rng.uniform(0.4, 0.85))
    return TokenUsage(input_tokens, output_tokens, cached, creation, reasoning)


def generate_messages(
    account_id: str,
    keys: list[DemoKey],
    count: int,
    start_ms: int,
    end_ms: int,
    *,
    seed: int = 7,
    error_rate: float = 0.04,
    gateway_cost_rate: float = 0.25,
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    users = [f"user_{number:04d}" for number in range(1, USER_COUNT + 1)]
    user_weights = [1 / rank for rank in range(1, USER_COUNT + 1)]  # a few heavy users, a long tail
    messages = []
    for position, created_ms in enumerate(_created_times(rng, count, start_ms, end_ms)):
        model, provider, _, median = _weighted(rng, MODELS, [m[2] for m in MODELS])
        key = keys[0] if rng.random() < 0.7 or len(keys) == 1 else rng.choice(keys[1:])
        is_error = rng.random() < error_rate
        streaming = rng.random() < 0.6
        prompt = rng.choice(PROMPTS)
        version = 1 if rng.random() < V1_SHARE else 2
        input_tokens = max(5, int(rng.lognormvariate(math.log(350), 0.9)))
        if model in LONG_CONTEXT_MODELS and rng.random() < LONG_PROMPT_RATE:
            input_tokens = rng.randrange(120_000, 400_000)
        if is_error:
            error_type, code, status_code, text, _ = _weighted(rng, ERRORS, [e[4] for e in ERRORS])
            latency, input_tokens = _error_shape(rng, code, input_tokens)
            output_tokens = 0
            error: dict[str, Any] | None = {"type": error_type, "code": code, "message": text}
            response: dict[str, Any] | None = {"error": error}
        else:
            status_code = 200
            output_tokens = max(1, int(rng.lognormvariate(math.log(180), 1.0)))
            latency = max(40, int(rng.lognormvariate(math.log(median), 0.55) + output_tokens * 0.8))
            if rng.random() < SLOW_OUTLIER_RATE:
                latency *= rng.randrange(5, 21)
            error = None
        usage = (
            _token_parts(rng, model, provider, input_tokens, output_tokens)
            if version == 2 and not is_error
            else TokenUsage(input_tokens, output_tokens)
        )
        if not is_error:
            response = {
                "id": f"chatcmpl-{seed}x{position}",
                "object": "chat.completion",
                "model": model.split("/", 1)[1],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"(answer to: {prompt})"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": input_tokens,
                    "completion_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens,
                    "prompt_tokens_details": {"cached_tokens": usage.cached_input},
                    "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
                },
            }
        ttft = int(latency * rng.uniform(0.08, 0.35)) if streaming and not is_error else None
        message: dict[str, Any] = {
            "request_id": f"req_{seed}_{account_id[-6:]}_{position:07d}",
            "account_id": account_id,
            "api_key_id": key.api_key_id,
            "api_key_prefix": key.prefix,
            "model": model,
            "provider": provider,
            "endpoint": "/v1/chat/completions",
            "method": "POST",
            "status": "error" if is_error else "success",
            "status_code": status_code,
            "error": error,
            "created_at": _iso(created_ms),
            "completed_at": _iso(created_ms + latency),
            "time_to_first_token_ms": ttft,
            "latency_ms": latency,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "streaming": streaming,
            "user_agent": rng.choice(USER_AGENTS),
            "ip_address": f"203.0.113.{rng.randrange(1, 255)}",
            "resolution": {
                "gateway_type": rng.choice([1, 2, 2, 3]),
                "gateway_id": f"gw_{rng.randrange(1, 4):03d}",
                "connection_id": f"conn_{rng.randrange(16**6):06x}",
            },
            "request": {
                "model": model,
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": prompt},
                ],
                "temperature": round(rng.choice([0, 0.2, 0.7, 1.0]), 1),
                "max_tokens": rng.choice([100, 256, 1024]),
                "stream": streaming,
            },
            "response": response,
        }
        if version == 2:
            message.update(
                version=2,
                cached_input_tokens=usage.cached_input,
                cache_creation_input_tokens=usage.cache_creation_input,
                reasoning_tokens=usage.reasoning,
                metadata={
                    "feature": _weighted(rng, [f[0] for f in FEATURES], [f[1] for f in FEATURES]),
                    "environment": _weighted(rng, [e[0] for e in ENVIRONMENTS], [e[1] for e in ENVIRONMENTS]),
                },
            )
            if rng.random() >= NO_USER_RATE:
                message["user"] = _weighted(rng, users, user_weights)
        gateway_prices = _gateway_prices(model, provider, input_tokens)
        if gateway_prices is not None and (is_error or rng.random() < gateway_cost_rate):
            # A failed request: billed nothing. A success the gateway bills itself: its negotiated prices.
            message["cost"] = _gateway_cost(usage, gateway_prices, billed=not is_error, version=version)
        messages.append(message)
    return messages
