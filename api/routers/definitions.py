from fastapi import APIRouter
from sqlalchemy import select

from api.deps import CurrentUser, SessionDep
from api.schemas import DefinitionOut
from runtime.models import ProcessDefinition

router = APIRouter(prefix="/process-definitions", tags=["process definitions"])


@router.get("", response_model=list[DefinitionOut], summary="Deployed processes, newest version first")
def list_definitions(session: SessionDep, _user: CurrentUser, all_versions: bool = False):
    query = select(ProcessDefinition).order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())
    if not all_versions:
        query = query.where(ProcessDefinition.is_latest.is_(True))
    return list(session.scalars(query))
