"""Modals as Discord checks them, and what a person's submission of one sends the bot.

A bot answers a slash command or a button click with a modal (interaction callback type 9) as
its first and only response; Discord's client shows it to the person who acted, and their
submission comes back as a new interaction, MODAL_SUBMIT (type 5), whose `data` has the modal's
`custom_id` and each text input's `value`, nested as the modal nested it.

Rules (https://discord.com/developers/docs/components/reference, .../interactions/receiving-and-
responding): a modal has a `custom_id` of 1 to 100 characters, a `title` of 1 to 45, and 1 to 5
top-level components. Each is a Label (type 18: a `label` of 1 to 45 characters, an optional
`description` of at most 100, and one `component`) holding a text input, or, as discord.py still
may send, a deprecated action row (type 1) holding exactly one text input, which then needs its
own `label` (1 to 45). A text input (type 4) has a `custom_id` of 1 to 100 characters, unique in
the modal, a `style` of 1 (short) or 2 (paragraph), `min_length` 0 to 4000, `max_length` 1 to
4000 (not below `min_length`), a `placeholder` of at most 100 and a `value` of at most 4000
characters. The client only lets a person submit values within the lengths, with every required
input filled, once. Discord numbers the components it stores (see components.py).

Select menus, file uploads and text displays in modals are not emulated: refused as such.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .components import stored_components, walk
from .errors import Json, NotEmulated, Path, error_tree, merge_trees

ACTION_ROW, TEXT_INPUT, LABEL = 1, 4, 18
SHORT, PARAGRAPH = 1, 2
MAX_CUSTOM_ID = 100
MAX_TITLE = 45
MAX_LABEL = 45
MAX_DESCRIPTION = 100
MAX_PLACEHOLDER = 100
MAX_TEXT = 4000
MAX_COMPONENTS = 5
_NOT_EMULATED = {3: "select menus", 5: "select menus", 6: "select menus", 7: "select menus"}
_NOT_EMULATED |= {8: "select menus", 10: "text displays", 19: "file uploads"}


class SubmissionRefused(ValueError):
    """Discord's client would not let the person submit these values; the message says why."""


def modal_problems(modal: object, where: Path = ("data",)) -> Json:
    """Discord's `errors` tree for a modal callback's `data`, or {} when Discord accepts it."""
    if not isinstance(modal, dict):
        return error_tree(
            where, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"
        )
    errors: Json = {}
    for key, most in (("custom_id", MAX_CUSTOM_ID), ("title", MAX_TITLE)):
        merge_trees(errors, _text_problem(modal.get(key), (*where, key), 1, most))
    components = modal.get("components")
    path = (*where, "components")
    if not isinstance(components, list) or not 1 <= len(components) <= MAX_COMPONENTS:
        return merge_trees(
            errors,
            error_tree(
                path, "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_COMPONENTS} in length."
            ),
        )
    seen: set[str] = set()
    for index, component in enumerate(components):
        for problem in _top_level_problems(component, (*path, index), seen):
            merge_trees(errors, problem)
    return errors


def _top_level_problems(component: object, path: Path, seen: set[str]) -> Iterator[Json]:
    kind = component.get("type") if isinstance(component, dict) else None
    if kind in _NOT_EMULATED:
        raise NotEmulated(f"{_NOT_EMULATED[kind]} in modals")
    if kind == LABEL:
        assert isinstance(component, dict)
        yield _text_problem(component.get("label"), (*path, "label"), 1, MAX_LABEL)
        if component.get("description") is not None:
            yield _text_problem(
                component.get("description"), (*path, "description"), 0, MAX_DESCRIPTION
            )
        yield from _text_input_problems(component.get("component"), (*path, "component"), seen)
        return
    if kind == ACTION_ROW:
        assert isinstance(component, dict)
        children = component.get("components")
        if not isinstance(children, list) or len(children) != 1:
            yield error_tree(
                (*path, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1 in length."
            )
            return
        child_path = (*path, "components", 0)
        child = children[0]
        yield _text_problem(
            child.get("label") if isinstance(child, dict) else None,
            (*child_path, "label"),
            1,
            MAX_LABEL,
        )
        yield from _text_input_problems(child, child_path, seen)
        return
    yield error_tree(
        (*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1, 18).'
    )


def _text_input_problems(component: object, path: Path, seen: set[str]) -> Iterator[Json]:
    kind = component.get("type") if isinstance(component, dict) else None
    if kind in _NOT_EMULATED:
        raise NotEmulated(f"{_NOT_EMULATED[kind]} in modals")
    if kind != TEXT_INPUT or not isinstance(component, dict):
        yield error_tree(
            (*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (4,).'
        )
        return
    custom_id = component.get("custom_id")
    yield _text_problem(custom_id, (*path, "custom_id"), 1, MAX_CUSTOM_ID)
    if isinstance(custom_id, str):
        if custom_id in seen:
            yield error_tree(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id was already specified",
            )
        seen.add(custom_id)
    if component.get("style") not in (SHORT, PARAGRAPH):
        yield error_tree((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    low, high = component.get("min_length"), component.get("max_length")
    yield _number_problem(low, (*path, "min_length"), 0)
    yield _number_problem(high, (*path, "max_length"), 1)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield error_tree(
            (*path, "min_length"),
            "TEXT_INPUT_LENGTH_INVALID",
            "min_length must be less than or equal to max_length",
        )
    if component.get("placeholder") is not None:
        yield _text_problem(component["placeholder"], (*path, "placeholder"), 0, MAX_PLACEHOLDER)
    if component.get("value") is not None:
        yield _text_problem(component["value"], (*path, "value"), 0, MAX_TEXT)


def _text_problem(value: object, path: Path, least: int, most: int) -> Json:
    if not isinstance(value, str):
        return error_tree(path, "BASE_TYPE_REQUIRED", "This field is required")
    if not least <= len(value) <= most:
        return error_tree(
            path, "BASE_TYPE_BAD_LENGTH", f"Must be between {least} and {most} in length."
        )
    return {}


def _number_problem(value: object, path: Path, least: int) -> Json:
    if value is None:
        return {}
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= MAX_TEXT:
        return error_tree(path, "NUMBER_TYPE_MAX", f"Value must be between {least} and {MAX_TEXT}.")
    return {}


def stored_modal(modal: Json) -> Json:
    """The modal as Discord keeps it while it is open: its components numbered."""
    return {**modal, "components": stored_components(modal["components"])}


def text_inputs(modal: Json) -> list[Json]:
    """The modal's text inputs, in order."""
    return [c for c in walk(modal["components"]) if c.get("type") == TEXT_INPUT]


def submission_components(modal: Json, values: Mapping[str, str]) -> list[Json]:
    """`data.components` of the MODAL_SUBMIT for a person who typed `values` (by the inputs'
    custom_id) into `modal` (as stored); SubmissionRefused where the client would not send it.

    Each text input comes back with its `type`, `id`, `custom_id` and `value`, inside a Label
    (`component`) or an action row (`components`) as the modal had it.
    """
    inputs = {c["custom_id"]: c for c in text_inputs(modal)}
    unknown = set(values) - set(inputs)
    if unknown:
        raise SubmissionRefused(f"the modal has no text input {sorted(unknown)}")
    for custom_id, text_input in inputs.items():
        value = values.get(custom_id, text_input.get("value") or "")
        if text_input.get("required", True) and not value:
            raise SubmissionRefused(f"text input {custom_id!r} is required")
        low, high = text_input.get("min_length") or 0, text_input.get("max_length") or MAX_TEXT
        if value and not low <= len(value) <= high:
            raise SubmissionRefused(
                f"{len(value)} characters in {custom_id!r}, which takes {low} to {high}"
            )
        if text_input.get("style") == SHORT and "\n" in value:
            raise SubmissionRefused(f"{custom_id!r} is one line: the client types no line break")

    def submitted(text_input: Json) -> Json:
        custom_id = text_input["custom_id"]
        value = values.get(custom_id, text_input.get("value") or "")
        return {"type": TEXT_INPUT, "id": text_input["id"], "custom_id": custom_id, "value": value}

    sent = []
    for component in modal["components"]:
        if component["type"] == LABEL:
            inner = submitted(component["component"])
            sent.append({"type": LABEL, "id": component["id"], "component": inner})
        else:
            inner = submitted(component["components"][0])
            sent.append({"type": ACTION_ROW, "id": component["id"], "components": [inner]})
    return sent
