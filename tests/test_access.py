"""The role × action table: each role may do what the one below may, and the rest is refused."""

from __future__ import annotations

import pytest

from pipeline.access import LEAST_ROLE, Action, Actor, Role, allowed_actions, require
from pipeline.errors import PermissionDenied

EDITOR_ONLY = {
    Action.VIEW,
    Action.COMPOSE,
    Action.EDIT,
    Action.PREVIEW,
    Action.TEST_COPY,
    Action.IMPORT,
    Action.UNSUBSCRIBE,
}
APPROVER_ADDS = {
    Action.APPROVE,
    Action.SCHEDULE,
    Action.SEND,
    Action.CANCEL,
    Action.SUPPRESS,
    Action.EXPORT,
}


def test_every_action_has_a_least_role() -> None:
    assert set(LEAST_ROLE) == set(Action)


def test_roles_build_on_each_other() -> None:
    assert set(allowed_actions(Role.EDITOR)) == EDITOR_ONLY
    assert set(allowed_actions(Role.APPROVER)) == EDITOR_ONLY | APPROVER_ADDS
    assert set(allowed_actions(Role.ADMIN)) == set(Action)


@pytest.mark.parametrize("action", sorted(APPROVER_ADDS))
def test_an_editor_is_refused_with_the_role_it_needs(action: Action) -> None:
    editor = Actor("anna@example.org", Role.EDITOR)
    with pytest.raises(PermissionDenied, match="needs the role approver") as refused:
        require(editor, action)
    assert refused.value.action == action.value
    require(Actor("bea@example.org", Role.APPROVER), action)
