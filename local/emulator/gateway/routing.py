"""Match a request path to a template route the way API Gateway REST does: static segments win over
``{param}`` segments, and path parameters are URL-decoded."""

from __future__ import annotations

from urllib.parse import unquote

from local.stack.template import Route


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    requested = _segments(path)
    best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        pattern = _segments(route.path)
        if len(pattern) != len(requested):
            continue
        params: dict[str, str] = {}
        rank: list[int] = []
        for expected, actual in zip(pattern, requested, strict=True):
            if expected.startswith("{") and expected.endswith("}"):
                params[expected[1:-1]] = unquote(actual)
                rank.append(1)
            elif expected == actual:
                rank.append(0)
            else:
                break
        else:
            if best is None or tuple(rank) < best[0]:
                best = (tuple(rank), route, params)
    return (best[1], best[2]) if best else None


def path_exists(routes: list[Route], path: str) -> bool:
    """Whether any method serves this path (API Gateway answers 403/404 differently otherwise)."""
    return any(match_route([route], route.method, path) for route in routes)
