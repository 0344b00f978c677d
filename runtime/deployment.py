"""Deploy the .bpmn/.dmn files (and the form schemas they use) from the configured folders.

BPMN files are code (script tasks run Python), so they come only from these folders,
never through the API. Each process is versioned by the hash of its own BPMN file plus
the shared DMN tables and form schemas; a running instance keeps the version it began with.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel.db import DEPLOY_LOCK, lock_for_startup
from kernel.errors import SpecError
from runtime.engine import ProcessSpec
from runtime.models import Deployment, ProcessDefinition
from runtime.runtime import ProcessRuntime

SPEC_SUFFIXES = (".bpmn", ".dmn", ".json")


def collect_files(folders: list[Path]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise SpecError(str(folder), "(folder)", "process folder does not exist")
        for path in sorted(folder.rglob("*")):
            if path.suffix in SPEC_SUFFIXES and path.is_file():
                name = path.relative_to(folder).as_posix()
                if name in files:
                    raise SpecError(str(path), "(file)", f"a file named {name!r} is deployed from another folder too")
                files[name] = path.read_bytes()
    return files


def _digest(parts: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, content in sorted(parts):
        h.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return h.hexdigest()


def _refuse_starts_on_reserved_messages(runtime: ProcessRuntime, bundle: dict[str, ProcessSpec]) -> None:
    """A message of a business record (`offer_reply`: the customer's link or mail reply) belongs to
    the record's own process: another model may not start on it, else an answer the record's process
    is not waiting for would start that model instead of being refused."""
    for key, spec in bundle.items():
        reserved = sorted(spec.starts & runtime.domain_messages)
        if reserved and key not in runtime.domain_processes:
            raise SpecError(spec.spec.file or key, f"process {key}",
                            f"its message start event catches {reserved[0]!r}, a message of Kontor's own records "
                            "(from the mail intake or the customer's link); start it on a message of its own")


def deploy(session: Session, runtime: ProcessRuntime, folders: list[Path]) -> list[ProcessDefinition]:
    """Parse every file (a broken one raises SpecError naming file, element and reason) and
    register a new version for each process whose content changed."""
    files = collect_files(folders)
    bundle = runtime.engine.parse_bundle(files)
    _refuse_starts_on_reserved_messages(runtime, bundle)
    lock_for_startup(session, DEPLOY_LOCK)  # API and workers starting together deploy one after another
    bundle_hash = _digest(list(files.items()))
    deployment = session.scalar(select(Deployment).where(Deployment.bundle_hash == bundle_hash))
    if deployment is None:
        deployment = Deployment(bundle_hash=bundle_hash, files={k: v.decode() for k, v in files.items()})
        session.add(deployment)
        session.flush()
    runtime.remember_bundle(deployment.id, bundle)

    shared = [(n, c) for n, c in files.items() if not n.endswith(".bpmn")]
    definitions = []
    for process_id, process in sorted(bundle.items()):
        source = _source_file(process, files)
        version_hash = _digest(shared + [(source, files[source])])
        existing = session.scalar(select(ProcessDefinition).where(
            ProcessDefinition.process_key == process_id, ProcessDefinition.version_hash == version_hash))
        if existing is None:
            latest_version = session.scalar(select(ProcessDefinition.version).where(
                ProcessDefinition.process_key == process_id).order_by(ProcessDefinition.version.desc()).limit(1))
            session.execute(update(ProcessDefinition).where(ProcessDefinition.process_key == process_id)
                            .values(is_latest=False))
            existing = ProcessDefinition(process_key=process_id, name=process.name, version=(latest_version or 0) + 1,
                                         version_hash=version_hash, source_file=source,
                                         deployment_id=deployment.id, is_latest=True)
            session.add(existing)
        elif not existing.is_latest:
            session.execute(update(ProcessDefinition).where(ProcessDefinition.process_key == process_id)
                            .values(is_latest=False))
            existing.is_latest = True
        definitions.append(existing)
    session.flush()
    runtime.forget_latest_versions()
    return definitions


def _source_file(process: ProcessSpec, files: dict[str, bytes]) -> str:
    file: str = process.spec.file  # (SpiffWorkflow's spec: the file it was parsed from)
    if file in files:
        return file
    for name in files:
        if name.endswith(".bpmn") and f'id="{process.process_id}"'.encode() in files[name]:
            return name
    raise SpecError(str(file), process.process_id, "cannot tell which file defines this process")


def deployed_definitions(session: Session, all_versions: bool = False) -> list[ProcessDefinition]:
    """Deployed processes by key, newest version first; only each key's latest unless all are asked for."""
    query = select(ProcessDefinition).order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())
    if not all_versions:
        query = query.where(ProcessDefinition.is_latest.is_(True))
    return list(session.scalars(query))
