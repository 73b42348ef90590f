"""Storages: where this system's servers record, their health and their space."""

from typing import Any

from fastapi import APIRouter

from vigil.api import fanout
from vigil.api.access import CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.common import changes_of
from vigil.api.schemas.storages import (
    Rebuilt,
    StorageCreate,
    StorageList,
    StorageOut,
    StorageUpdate,
    storage_out,
)
from vigil.media.storage.models import Storage


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/storages", tags=["storages"])
    pool = ctx.media.storages

    async def out(storages: list[Storage]) -> list[StorageOut]:
        return await _out(ctx, storages)

    @api.get("")
    async def list_storages(caller: CallerDep) -> StorageList:
        """Every storage of the system, with its health and use as its own server sees them
        (each server answers for its own; one offline leaves its storages `unknown`)."""
        gathered = await fanout.everywhere(ctx, "storages", {})
        told = {told["id"]: StorageOut.model_validate(told)
                for answer in gathered.answers.values() for told in answer["storages"]}  # fmt: skip
        storages = [told.get(s.id) or storage_out(s, None, {}) for s in ctx.storages.all()]
        return StorageList(storages=storages, partial=bool(gathered.missing),
                           missing_servers=gathered.missing)  # fmt: skip

    @api.post("", status_code=201)
    async def add_storage(body: StorageCreate, caller: CallerDep) -> StorageOut:
        fields = body.model_dump()
        fields["server_id"] = fields["server_id"] or ctx.system.server_id
        storage = await ctx.storages.add(caller.actor, fields)
        await pool.check(only={storage.id})  # its health in the answer
        return (await out([storage]))[0]

    @api.get("/{storage_id}")
    async def get_storage(storage_id: str, caller: CallerDep) -> StorageOut:
        return (await out([ctx.storages.require(storage_id)]))[0]

    @api.patch("/{storage_id}")
    async def update_storage(storage_id: str, body: StorageUpdate, caller: CallerDep) -> StorageOut:
        changes: dict[str, Any] = changes_of(body)
        if changes.get("reserve_mib") == "auto":
            changes["reserve_mib"] = None
        storage = await ctx.storages.update(caller.actor, storage_id, changes)
        await pool.check(only={storage_id})
        return (await out([storage]))[0]

    @api.delete("/{storage_id}", status_code=204)
    async def delete_storage(storage_id: str, caller: CallerDep) -> None:
        await ctx.storages.delete(caller.actor, storage_id)
        await pool.check(only=())  # gone from the pool: its recorders move on

    @api.post("/{storage_id}/rebuild")
    async def rebuild_index(storage_id: str, caller: CallerDep) -> Rebuilt:
        """Make the storage's part of the archive index again from its files."""
        result = await ctx.storages.rebuild(caller.actor, storage_id)
        return Rebuilt(added=result.added, removed=result.removed, recovered=result.recovered)

    return api


async def _out(ctx: ApiContext, storages: list[Storage]) -> list[StorageOut]:
    """Storages as this server knows them: its own with their health and use."""
    usage = await ctx.media.local.usage()
    answers = []
    for storage in storages:
        active = ctx.media.storages.get(storage.id)
        health = active.health if active is not None else None
        answers.append(storage_out(storage, health, usage.get(storage.id, {})))
    return answers


@fanout.answers("storages")
async def storages_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    own = [s for s in ctx.storages.all() if s.record.server_id == ctx.system.server_id]
    return {"storages": [s.model_dump(mode="json") for s in await _out(ctx, own)]}
