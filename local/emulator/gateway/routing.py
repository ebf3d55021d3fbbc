"""Match a request path to a template route the way API Gateway REST does: static segments win over
``{param}`` segments, and path parameters are URL-decoded."""

from __future__ import annotations

from urllib.parse import unquote

from local.stack.template import Route


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _path_match(pattern_path: str, requested: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(rank, path parameters) when the resource path matches: static segments rank before ``{param}``."""
    pattern = _segments(pattern_path)
    if len(pattern) != len(requested):
        return None
    params: dict[str, str] = {}
    rank: list[int] = []
    for expected, actual in zip(pattern, requested, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            params[expected[1:-1]] = unquote(actual)
            rank.append(1)
        elif expected == actual:
            rank.append(0)
        else:
            return None
    return tuple(rank), params


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``method`` on ``path``: API Gateway picks the resource first (the most specific
    path), then the resource's method, or its ``ANY`` when it has no such method; None when the chosen
    resource serves neither (a less specific resource is not tried)."""
    requested = _segments(path)
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for route in routes:
        matched = _path_match(route.path, requested)
        if matched is not None and (best is None or matched[0] < best[0]):
            best = (matched[0], route.path, matched[1])
    if best is None:
        return None
    _, resource, params = best
    on_resource = {route.method: route for route in routes if route.path == resource}
    chosen = on_resource.get(method.upper()) or on_resource.get("ANY")
    return (chosen, params) if chosen is not None else None


def path_exists(routes: list[Route], path: str) -> bool:
    """Whether any method serves this path (API Gateway answers 403/404 differently otherwise)."""
    return any(match_route([route], route.method, path) for route in routes)
