"""Deployed process definitions (read-only: BPMN files come from the spec folders, never the API)."""
from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.schemas import DefinitionOut
from runtime.clients import definitions_for_client

router = APIRouter(prefix="/process-definitions", tags=["process definitions"])


@router.get("", response_model=list[DefinitionOut], summary="Deployed processes, newest version first")
def list_definitions(session: SessionDep, user: CurrentUser, all_versions: bool = False):
    return definitions_for_client(session, user, all_versions)
