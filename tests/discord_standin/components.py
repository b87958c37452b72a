"""Message components as Discord checks and stores them: action rows (type 1) of buttons (type 2).

Rules (https://discord.com/developers/docs/components/reference): a message without the
IS_COMPONENTS_V2 flag holds at most 5 action rows at the top level, each with 1 to 5 buttons; a
button has a style from 1 to 6 and a label of at most 80 characters; styles 1-4 need a custom_id
of 1 to 100 characters and no url; a link button (style 5) needs a url of at most 512 characters
and no custom_id; custom_ids are unique within the message, disabled buttons included. Discord
stores every component with a numeric `id`, numbering the ones sent without one 1, 2, 3... in
document order and skipping the ids the message already uses.

Select menus, premium buttons and components v2 are not emulated: they are refused as such
(see `NotEmulated`) rather than accepted without their rules.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from .errors import Json, NotEmulated, Path, error_tree, merge_trees

ACTION_ROW, BUTTON = 1, 2
SELECT_MENUS = (3, 5, 6, 7, 8)
LINK_STYLE, PREMIUM_STYLE = 5, 6
IS_COMPONENTS_V2 = 1 << 15
MAX_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_LABEL = 80
MAX_CUSTOM_ID = 100
MAX_URL = 512


def component_problems(components: object, *, flags: int = 0, where: Path = ()) -> Json:
    """Discord's `errors` tree for a message's `components` (at `where` in the body), or {}."""
    path = (*where, "components")
    if flags & IS_COMPONENTS_V2:
        raise NotEmulated("components v2 (message flag IS_COMPONENTS_V2)")
    if not isinstance(components, list):
        return error_tree(path, "BASE_TYPE_ARRAY", "Must be an array.")
    if len(components) > MAX_ROWS:
        return error_tree(path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ROWS} or fewer in length.")
    errors: Json = {}
    seen_custom_ids: set[str] = set()
    for row_index, row in enumerate(components):
        row_path = (*path, row_index)
        if not isinstance(row, dict) or row.get("type") != ACTION_ROW:
            # Without components v2 only action rows may stand at the top level.
            merge_trees(
                errors,
                error_tree(
                    (*row_path, "type"),
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (1,).',
                ),
            )
            continue
        children = row.get("components")
        if not isinstance(children, list) or not 1 <= len(children) <= MAX_BUTTONS_PER_ROW:
            merge_trees(
                errors,
                error_tree(
                    (*row_path, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between 1 and {MAX_BUTTONS_PER_ROW} in length.",
                ),
            )
            continue
        for index, child in enumerate(children):
            child_path = (*row_path, "components", index)
            kind = child.get("type") if isinstance(child, dict) else None
            if kind in SELECT_MENUS:
                raise NotEmulated("select menus")
            if kind != BUTTON:
                merge_trees(
                    errors,
                    error_tree(
                        (*child_path, "type"),
                        "UNION_TYPE_CHOICES",
                        'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
                    ),
                )
                continue
            for problem in _button_problems(child, child_path, seen_custom_ids):
                merge_trees(errors, problem)
    return errors


def _button_problems(button: Json, path: Path, seen: set[str]) -> Iterator[Json]:
    style = button.get("style")
    if not isinstance(style, int) or isinstance(style, bool) or not 1 <= style <= PREMIUM_STYLE:
        yield error_tree(
            (*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}."
        )
        return
    if style == PREMIUM_STYLE:
        raise NotEmulated("premium buttons (style 6)")
    label = button.get("label")
    if label is not None and not isinstance(label, str):
        yield error_tree((*path, "label"), "BASE_TYPE_STRING", "Must be a string.")
    elif label is not None and len(label) > MAX_LABEL:
        yield error_tree(
            (*path, "label"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_LABEL} or fewer in length."
        )
    custom_id, url = button.get("custom_id"), button.get("url")
    if style == LINK_STYLE:
        if custom_id is not None:
            yield error_tree(
                (*path, "custom_id"),
                "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
                "A custom id and url cannot both be specified",
            )
        if not isinstance(url, str) or not url:
            yield error_tree((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        elif len(url) > MAX_URL:
            yield error_tree(
                (*path, "url"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_URL} or fewer in length."
            )
        return
    if url is not None:
        yield error_tree(
            (*path, "url"),
            "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
            "A custom id and url cannot both be specified",
        )
    if custom_id is None:
        yield error_tree(
            (*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required"
        )
    elif not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
        yield error_tree(
            (*path, "custom_id"),
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {MAX_CUSTOM_ID} in length.",
        )
    elif custom_id in seen:
        yield error_tree(
            (*path, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id was already specified",
        )
    else:
        seen.add(custom_id)


def stored_components(components: list[Json]) -> list[Json]:
    """The components as Discord stores and returns them: nulls dropped, every one with an `id`."""
    stored: list[Json] = [_without_nulls(row) for row in copy.deepcopy(components)]
    used = {c["id"] for c in walk(stored) if isinstance(c.get("id"), int) and c["id"] > 0}
    next_id = 1
    for component in walk(stored):
        if not component.get("id"):  # absent, or 0, which Discord treats as absent
            while next_id in used:
                next_id += 1
            component["id"] = next_id
            used.add(next_id)
    return stored


def walk(components: list[Json]) -> Iterator[Json]:
    """Every component, each row (or a modal's label) before its children, in order."""
    for component in components:
        yield component
        inner = component.get("component")  # a label holds one component, not a list
        yield from walk([inner] if isinstance(inner, dict) else [])
        yield from walk(component.get("components") or [])


def find_button(components: list[Json], custom_id: str) -> Json | None:
    """The button with `custom_id` among a message's components, or None."""
    for component in walk(components):
        if component.get("type") == BUTTON and component.get("custom_id") == custom_id:
            return component
    return None


def _without_nulls(component: Any) -> Any:
    if isinstance(component, dict):
        return {k: _without_nulls(v) for k, v in component.items() if v is not None}
    if isinstance(component, list):
        return [_without_nulls(item) for item in component]
    return component
