"""Deployed process definitions (read-only: BPMN files come from the spec folders, never the API)."""
from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.schemas import DefinitionOut
from runtime.deployment import deployed_definitions

router = APIRouter(prefix="/process-definitions", tags=["process definitions"])


@router.get("", response_model=list[DefinitionOut], summary="Deployed processes, newest version first")
def list_definitions(session: SessionDep, _user: CurrentUser, all_versions: bool = False):
    return deployed_definitions(session, all_versions)
